"""The IdP's duplicate check uses the cross-script name matcher unless told otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from jisr.config import IdpSettings
from jisr.identity.app import name_matcher_of
from jisr.identity.register import DuplicatePerson, PopulationRegister
from tests.identity.register.conftest import RECORDED, RegisterFactory, birth

# Same person, written differently in both scripts: Default (exact after normalisation)
# sees two persons; the cross-script matcher sees Youssef/Youcef and الإدريسي/إدريسي.
FIRST: dict[str, Any] = {
    "given_name": {"arab": "يوسف", "latn": "Youssef"},
    "family_name": {"arab": "الإدريسي", "latn": "El Idrissi"},
}
SECOND: dict[str, Any] = {
    "given_name": {"arab": "يوسف", "latn": "Youcef"},
    "family_name": {"arab": "إدريسي", "latn": "Idrissi"},
}


def _register(make_register: RegisterFactory, matcher: str) -> PopulationRegister:
    settings = IdpSettings(name_matcher=matcher)  # type: ignore[arg-type]
    return make_register(matcher=name_matcher_of(settings))


async def test_cross_script_matcher_refuses_a_differently_spelt_duplicate(
    make_register: RegisterFactory,
) -> None:
    register = _register(make_register, "cross-script")
    await register.enrol(birth(**FIRST), **RECORDED)
    with pytest.raises(DuplicatePerson):
        await register.enrol(birth(**SECOND), **RECORDED)


async def test_exact_matcher_enrols_it_as_another_person(make_register: RegisterFactory) -> None:
    register = _register(make_register, "exact")
    first = await register.enrol(birth(**FIRST), **RECORDED)
    second = await register.enrol(birth(**SECOND), **RECORDED)
    assert first.nin != second.nin
