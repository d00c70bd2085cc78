# ruff: noqa: RUF002 - Arabic letters and Arabic-Indic digits are meant, not look-alikes
"""A Gregorian date of birth rendered in the Hijri calendar (Umm al-Qura).

The register stores dates of birth in the Gregorian calendar; this module only renders
them. Conversion is the ``hijridate`` package's Umm al-Qura table, the calendar Saudi
Arabia publishes and Qatar's civil documents follow. The table covers Gregorian
1924-08-01 … 2077-11-16 (Hijri 1 Muharram 1343 … 30 Dhu al-Hijjah 1500); outside it there
is no Umm al-Qura date and :func:`to_hijri` returns ``None`` rather than an estimate.

Locales of :func:`format_hijri`:

* ``ar``: Arabic month names, Arabic-Indic digits, ``هـ`` (``١٥ رمضان ١٤٤٥ هـ``).
* ``en``: transliterated month names as ``hijridate`` spells them, ``AH``
  (``15 Ramadan 1445 AH``).
* ``fr``: month names as French usage writes them (lower case, French Wikipedia's
  *Calendrier hégirien*), ``H`` (``15 ramadan 1445 H``).
* ``zgh``: no Tifinagh names of the Hijri months could be sourced reliably, so Standard
  Moroccan Amazigh gets the Arabic-script rendering, exactly as ``ar``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Final, Literal

from hijridate import Gregorian, Hijri

__all__ = ["FIRST_DATE", "LAST_DATE", "HijriDate", "Locale", "format_hijri", "to_hijri"]

Locale = Literal["ar", "en", "fr", "zgh"]

FIRST_DATE: Final = datetime.date(1924, 8, 1)
"""The first Gregorian date the Umm al-Qura table covers (1 Muharram 1343)."""
LAST_DATE: Final = datetime.date(2077, 11, 16)
"""The last Gregorian date the Umm al-Qura table covers (30 Dhu al-Hijjah 1500)."""

_MONTHS_AR: Final = (
    "محرم",
    "صفر",
    "ربيع الأول",
    "ربيع الثاني",
    "جمادى الأولى",
    "جمادى الآخرة",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذو الحجة",
)
_MONTHS_EN: Final = (
    "Muharram",
    "Safar",
    "Rabi' al-Awwal",
    "Rabi' al-Thani",
    "Jumada al-Ula",
    "Jumada al-Akhirah",
    "Rajab",
    "Sha'ban",
    "Ramadan",
    "Shawwal",
    "Dhu al-Qa'dah",
    "Dhu al-Hijjah",
)
_MONTHS_FR: Final = (
    "mouharram",
    "safar",
    "rabia al awal",
    "rabia ath-thani",
    "joumada al oula",
    "joumada ath-thania",
    "rajab",
    "chaabane",
    "ramadan",
    "chawwal",
    "dhou al qi'da",
    "dhou al-hijja",
)
_ARABIC_INDIC: Final = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass(frozen=True, slots=True)
class HijriDate:
    """A day of the Umm al-Qura calendar; ``month`` counts from 1 (Muharram)."""

    year: int
    month: int
    day: int


def to_hijri(date: datetime.date) -> HijriDate | None:
    """The Umm al-Qura date of ``date``, or ``None`` outside ``FIRST_DATE … LAST_DATE``."""
    if not FIRST_DATE <= date <= LAST_DATE:
        return None
    hijri = Gregorian(date.year, date.month, date.day).to_hijri()
    return HijriDate(hijri.year, hijri.month, hijri.day)


def to_gregorian(hijri: HijriDate) -> datetime.date:
    """The Gregorian date of an Umm al-Qura date (``to_hijri`` read backwards)."""
    return Hijri(hijri.year, hijri.month, hijri.day).to_gregorian()


def format_hijri(hijri: HijriDate, locale: Locale) -> str:
    """``hijri`` as a reader of ``locale`` writes it: day, month name, year, era."""
    if not 1 <= hijri.month <= 12:
        raise ValueError(f"Hijri month must be 1-12, got {hijri.month}")
    if locale in ("ar", "zgh"):
        text = f"{hijri.day} {_MONTHS_AR[hijri.month - 1]} {hijri.year} هـ"
        return text.translate(_ARABIC_INDIC)
    if locale == "en":
        return f"{hijri.day} {_MONTHS_EN[hijri.month - 1]} {hijri.year} AH"
    if locale == "fr":
        return f"{hijri.day} {_MONTHS_FR[hijri.month - 1]} {hijri.year} H"
    raise ValueError(f"unknown locale {locale!r}; expected one of ar, en, fr, zgh")
