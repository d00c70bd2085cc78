"""``POST /language/transliterate``: transliterate one text between two scripts.

Request ``{"text", "source", "target"}`` with ``language_Script`` labels; response
``{"text", "result"}``. Refusals are RFC 9457 problem documents: ``invalid_input`` (422)
for a missing field or an unacceptable text (empty, too large, binary), ``unsupported_pair``
(422) for a pair without a transliterator, ``model_missing`` (503) if the Arabizi model
cannot be read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jisr.language._http import checked_text
from jisr.language.transliterate import SUPPORTED_PAIRS, TransliterationError, transliterate
from jisr.problems import problem_doc

__all__ = ["TransliterateIn", "TransliterateOut", "router"]

_PAIRS = ", ".join(f"{source}→{target}" for source, target in SUPPORTED_PAIRS)

RESPONSES: dict[int | str, dict[str, Any]] = {
    422: problem_doc(
        "Bad input: `invalid_input` (`errors` names the field and rule: empty, too_large, "
        f"binary, invalid_utf8) or `unsupported_pair` (supported: {_PAIRS})."
    ),
    503: problem_doc("The Arabizi model cannot be read (`model_missing`)."),
}

router = APIRouter(responses=RESPONSES)


class TransliterateIn(BaseModel):
    """A text and the scripts to transliterate it between."""

    text: str = Field(description="The text, at most 100,000 UTF-8 bytes.")
    source: str = Field(description="Source label, e.g. `zgh_Tfng`, `ary_Latn`.")
    target: str = Field(description="Target label, e.g. `ber_Latn`, `ary_Arab`.")
    ascii_input: bool = Field(
        default=False, description="`ber_Latn→zgh_Tfng` only: also read gh, kh, 3, 7, D …"
    )


class TransliterateOut(BaseModel):
    """The text as given and its transliteration."""

    text: str
    result: str


@router.post("/language/transliterate", tags=["language"])
def transliterate_text(body: TransliterateIn) -> TransliterateOut:
    """Transliterate ``text`` from ``source`` to ``target``."""
    text = checked_text(body.text)
    try:
        result = transliterate(text, body.source, body.target, ascii_input=body.ascii_input)
    except TransliterationError as error:
        raise error.problem() from error
    return TransliterateOut(text=text, result=result)
