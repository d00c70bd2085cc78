"""The finder tests share one real encoder per test module (loading it takes seconds)."""

from __future__ import annotations

import pytest

from jisr.language.finder import ServiceFinder


@pytest.fixture(scope="module")
def finder() -> ServiceFinder:
    """A finder over the shipped catalogue with the real encoder and normalisers."""
    return ServiceFinder()
