# ruff: noqa: RUF001 - Arabic letters and Arabic-Indic digits are meant, not look-alikes
"""Hijri (Umm al-Qura) rendering of Gregorian dates."""

from __future__ import annotations

import datetime

import pytest

from jisr.identity.register.calendar import (
    FIRST_DATE,
    LAST_DATE,
    HijriDate,
    format_hijri,
    to_gregorian,
    to_hijri,
)


class TestToHijri:
    @pytest.mark.parametrize(
        ("gregorian", "hijri"),
        [
            # Published facts, independent of the library: Saudi Arabia (Umm al-Qura) began
            # Ramadan 1445 on Monday 11 March 2024, celebrated Eid al-Fitr (1 Shawwal) on
            # Wednesday 10 April 2024, and began 1445 on Wednesday 19 July 2023.
            (datetime.date(2024, 3, 11), HijriDate(1445, 9, 1)),
            (datetime.date(2024, 4, 10), HijriDate(1445, 10, 1)),
            (datetime.date(2023, 7, 19), HijriDate(1445, 1, 1)),
        ],
    )
    def test_known_conversions(self, gregorian: datetime.date, hijri: HijriDate) -> None:
        """Well-known first days of Hijri months convert exactly."""
        assert to_hijri(gregorian) == hijri

    def test_day_before_a_month_starts_is_in_the_previous_month(self) -> None:
        """10 March 2024 is the last day of Sha'ban 1445 (a 29- or 30-day month)."""
        before = to_hijri(datetime.date(2024, 3, 10))
        assert before is not None
        assert (before.year, before.month) == (1445, 8)
        assert before.day in (29, 30)

    def test_round_trip(self) -> None:
        """Every 97th day of the table converts back to the same Gregorian date."""
        day = FIRST_DATE
        while day <= LAST_DATE:
            hijri = to_hijri(day)
            assert hijri is not None
            assert to_gregorian(hijri) == day
            day += datetime.timedelta(days=97)

    def test_range_edges_are_inside(self) -> None:
        """The table's first and last days are 1 Muharram 1343 and 30 Dhu al-Hijjah 1500."""
        assert to_hijri(FIRST_DATE) == HijriDate(1343, 1, 1)
        assert to_hijri(LAST_DATE) == HijriDate(1500, 12, 30)

    @pytest.mark.parametrize(
        "outside",
        [
            FIRST_DATE - datetime.timedelta(days=1),
            LAST_DATE + datetime.timedelta(days=1),
            datetime.date(1880, 1, 1),
            datetime.date(2100, 1, 1),
        ],
    )
    def test_outside_the_table_is_none(self, outside: datetime.date) -> None:
        """Dates the Umm al-Qura table does not cover have no Hijri rendering."""
        assert to_hijri(outside) is None


class TestFormatHijri:
    RAMADAN_15 = HijriDate(1445, 9, 15)

    def test_arabic(self) -> None:
        """Arabic: Arabic month name, Arabic-Indic digits, the هـ era sign."""
        assert format_hijri(self.RAMADAN_15, "ar") == "١٥ رمضان ١٤٤٥ هـ"

    def test_arabic_uses_no_western_digits(self) -> None:
        """No ASCII digit survives in the Arabic rendering."""
        text = format_hijri(HijriDate(1400, 12, 30), "ar")
        assert text == "٣٠ ذو الحجة ١٤٠٠ هـ"
        assert not any(c.isascii() and c.isdigit() for c in text)

    def test_english(self) -> None:
        """English: transliterated month name and AH."""
        assert format_hijri(self.RAMADAN_15, "en") == "15 Ramadan 1445 AH"
        assert format_hijri(HijriDate(1445, 1, 1), "en") == "1 Muharram 1445 AH"

    def test_french(self) -> None:
        """French: lower-case French month name and H."""
        assert format_hijri(self.RAMADAN_15, "fr") == "15 ramadan 1445 H"
        assert format_hijri(HijriDate(1445, 8, 3), "fr") == "3 chaabane 1445 H"

    def test_amazigh_falls_back_to_arabic_script(self) -> None:
        """zgh: no reliable Tifinagh month names, so the Arabic rendering is used."""
        assert format_hijri(self.RAMADAN_15, "zgh") == format_hijri(self.RAMADAN_15, "ar")

    def test_every_month_has_a_name_in_every_locale(self) -> None:
        """Twelve distinct month names per locale."""
        for locale in ("ar", "en", "fr"):
            names = {format_hijri(HijriDate(1445, m, 1), locale) for m in range(1, 13)}
            assert len(names) == 12

    def test_unknown_locale_is_refused(self) -> None:
        """A locale outside ar, en, fr, zgh is an error, not a silent fallback."""
        with pytest.raises(ValueError, match="unknown locale"):
            format_hijri(self.RAMADAN_15, "de")  # type: ignore[arg-type]

    def test_bad_month_is_refused(self) -> None:
        """Month 13 does not exist."""
        with pytest.raises(ValueError, match="1-12"):
            format_hijri(HijriDate(1445, 13, 1), "en")
