"""A person's names in Arabic, Latin and Tifinagh script: script checks and normalisation.

Script ranges are those of docs/identity.md: Arabic blocks (U+0600-06FF, 0750-077F,
08A0-08FF, FB50-FDFF, FE70-FEFF) plus space, hyphen and ZWNJ; Latin letters of Latin-1 and
Latin Extended-A/B plus space, hyphen and apostrophe; Tifinagh U+2D30-2D7F plus space and
hyphen. A name must contain at least one letter of its script.

Normalisation is what the duplicate check compares (:mod:`.matching`): spellings a
registrar may vary without meaning another person fold to the same key.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict

from jisr.identity.register.errors import Problem

__all__ = [
    "ScriptedName",
    "normalise_arabic",
    "normalise_latin",
    "normalise_tifinagh",
    "script_problems",
]

_ARABIC = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff \\-\u200c]+"
)
# ASCII and Latin-1 letters (not the multiplication and division signs), Latin Extended-A, -B.
_LATIN = re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f '\\-\u2019]+")
_TIFINAGH = re.compile("[\u2d30-\u2d7f \\-]+")
_SEPARATORS = frozenset(" -'\u2019\u200c")

_TATWEEL = "\u0640"
# Harakat and Qur'anic marks: fathatan … sukun, and the superscript alef.
_HARAKAT = re.compile("[\u064b-\u065f\u0670]")
# Alef with hamza above/below, with madda, wasla -> alef; teh marbuta -> heh;
# alef maksura -> yeh.
_ALEF, _HEH, _YEH = "\u0627", "\u0647", "\u064a"
_ARABIC_FOLDS = str.maketrans(
    {
        "\u0623": _ALEF,
        "\u0625": _ALEF,
        "\u0622": _ALEF,
        "\u0671": _ALEF,
        "\u0629": _HEH,
        "\u0649": _YEH,
    }
)
_SPACES = re.compile(r"\s+")


class ScriptedName(BaseModel):
    """One name (given or family) in each script; Arabic and Latin required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arab: str
    latn: str
    tfng: str | None = None

    def problems(self, prefix: str) -> list[Problem]:
        """Script problems of each part, named ``<prefix>.arab`` and so on."""
        found: list[Problem] = []
        for script, value in (("arab", self.arab), ("latn", self.latn), ("tfng", self.tfng)):
            if value is not None:
                found.extend(script_problems(f"{prefix}.{script}", script, value))
        return found


_PATTERNS = {"arab": _ARABIC, "latn": _LATIN, "tfng": _TIFINAGH}
_SCRIPT_NAMES = {"arab": "Arabic", "latn": "Latin", "tfng": "Tifinagh"}


def script_problems(field: str, script: str, value: str) -> list[Problem]:
    """Problems of ``value`` as a name in ``script`` (``arab``, ``latn``, ``tfng``)."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        return [Problem(field, "required", "the name is empty")]
    if _PATTERNS[script].fullmatch(text) is None:
        return [Problem(field, "script", f"only {_SCRIPT_NAMES[script]} script is allowed")]
    if all(char in _SEPARATORS for char in text):
        return [Problem(field, "script", "the name has no letter")]
    return []


def normalise_arabic(text: str) -> str:
    """Strip tatweel and harakat; fold the hamza/madda/wasla alefs to bare alef, teh marbuta
    to heh, alef maksura to yeh; hyphens as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFC", text).replace(_TATWEEL, "").replace("\u200c", "")
    text = _HARAKAT.sub("", text).translate(_ARABIC_FOLDS)
    return _SPACES.sub(" ", text.replace("-", " ")).strip()


def normalise_latin(text: str) -> str:
    """Casefold and strip accents; hyphens, spaces and apostrophes are dropped, so
    ``El-Amrani``, ``el amrani`` and ``Elamrani`` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in letters if c not in _SEPARATORS and not c.isspace())


def normalise_tifinagh(text: str) -> str:
    """NFC, no consonant joiner (U+2D7F), hyphens as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFC", text).replace("\u2d7f", "").replace("-", " ")
    return _SPACES.sub(" ", text).strip()
