"""National identification numbers: Damm check digit, MA and QA profiles."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jisr.identity.register.nin import MoroccoNin, QatarNin, damm_check_digit, damm_valid

MA = MoroccoNin("BK")
QA = QatarNin()


class TestDamm:
    def test_known_vector(self) -> None:
        """The Damm check digit of 572 is 4, and 5724 validates."""
        assert damm_check_digit("572") == "4"
        assert damm_valid("5724")
        assert not damm_valid("5723")

    def test_non_digits_are_invalid(self) -> None:
        """Anything but ASCII digits never validates."""
        assert not damm_valid("57a4")
        assert not damm_valid("٥٧٢٤")


class TestMorocco:
    def test_format_and_parse(self) -> None:
        """A number is office letters, six digits and the check over A=10..Z=35 digits."""
        number = MA.format(123456, date_of_birth=date(2000, 1, 1), nationality="MA")
        assert number == "BK123456" + damm_check_digit("1120123456")
        assert MA.validate(number)
        assert MA.parse(number) == {"office": "BK", "serial": "123456", "check": number[-1]}

    @pytest.mark.parametrize("text", ["bk1234568", "BK12345", "B1234567", "BK1234569", ""])
    def test_malformed_refused(self, text: str) -> None:
        """Lower case, short, one-letter and wrong-check numbers are invalid."""
        assert not MA.validate(text)
        with pytest.raises(ValueError, match="not a valid MA"):
            MA.parse(text)

    def test_office_must_be_two_capitals(self) -> None:
        """A profile cannot be built for a malformed office code."""
        with pytest.raises(ValueError, match="two capital letters"):
            MoroccoNin("B1")

    def test_scope_is_the_office(self) -> None:
        """Each office numbers on its own counter."""
        assert MA.scope(date_of_birth=date(2000, 1, 1), nationality="FR") == "MA:BK"


class TestQatar:
    def test_format(self) -> None:
        """C YY NNN SSSS D: century, year, numeric nationality, serial, check digit."""
        number = QA.format(12, date_of_birth=date(1990, 3, 1), nationality="QA")
        assert number[:10] == "2906340012"
        assert QA.validate(number)
        assert QA.parse(number)["nationality"] == "634"

    def test_century_digit(self) -> None:
        """2000s births start with 3, 1880s with 1."""
        assert QA.format(1, date_of_birth=date(2005, 1, 1), nationality="MA")[:6] == "305504"
        assert QA.format(1, date_of_birth=date(1885, 1, 1), nationality="QA")[:3] == "185"

    def test_unknown_nationality_refused(self) -> None:
        """A nationality without a numeric code in the profile cannot be numbered."""
        with pytest.raises(ValueError, match="no numeric code"):
            QA.scope(date_of_birth=date(2000, 1, 1), nationality="ZZ")

    def test_serial_exhausted(self) -> None:
        """The four-digit serial runs out at 9999 rather than overflowing."""
        with pytest.raises(ValueError, match="no serial left"):
            QA.format(10_000, date_of_birth=date(2000, 1, 1), nationality="QA")


def _digit_positions(number: str) -> list[int]:
    return [i for i, char in enumerate(number) if char.isdigit()]


ma_numbers = st.builds(
    lambda office, serial: MoroccoNin(office).format(
        serial, date_of_birth=date(2000, 1, 1), nationality="MA"
    ),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.integers(0, 999_999),
)
qa_numbers = st.builds(
    lambda born, nationality, serial: QA.format(
        serial, date_of_birth=born, nationality=nationality
    ),
    st.dates(date(1880, 1, 1), date(2099, 12, 31)),
    st.sampled_from(sorted(QA.nationalities)),
    st.integers(0, 9_999),
)


def _valid(number: str) -> bool:
    return QA.validate(number) if number[0].isdigit() else MoroccoNin(number[:2]).validate(number)


@given(st.one_of(ma_numbers, qa_numbers), st.data())
def test_single_digit_substitution_detected(number: str, data: st.DataObject) -> None:
    """Changing any one digit of a valid number makes it invalid."""
    assert _valid(number)
    position = data.draw(st.sampled_from(_digit_positions(number)))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not _valid(number[:position] + digit + number[position + 1 :])


@given(st.one_of(ma_numbers, qa_numbers), st.data())
def test_adjacent_transposition_detected(number: str, data: st.DataObject) -> None:
    """Swapping two different adjacent digits of a valid number makes it invalid."""
    pairs = [
        i
        for i in _digit_positions(number)[:-1]
        if number[i + 1].isdigit() and number[i] != number[i + 1]
    ]
    if not pairs:
        return
    i = data.draw(st.sampled_from(pairs))
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert not _valid(swapped)
