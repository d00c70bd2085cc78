"""The register's ``NameMatcher`` across scripts (``jisr.identity.register.matching``).

Two records designate the same names if their full names (given then family) score at
least the threshold in one pair of their renderings. When both records hold a script,
renderings in that script are compared (the best of them decides): a registrar's Arabic
is more telling than anyone's transliteration of it, and comparing across scripts as well
would only add chances of a false match (Mahmoud against محمد). Across scripts is for
records without a common script, as an Arabic-only civil-status extract and a Latin-only
passport record. The full name is compared order-free, so a given and family name
entered in each other's fields still match.
"""

from __future__ import annotations

from itertools import product

from jisr.identity.register.matching import PersonNames
from jisr.language.names.scoring import THRESHOLD, score

__all__ = ["CrossScriptNameMatcher"]


class CrossScriptNameMatcher:
    """``NameMatcher``: same person names if the best rendering pair scores ≥ ``threshold``."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold

    def same_person_names(self, a: PersonNames, b: PersonNames) -> bool:
        """Whether ``a`` and ``b`` are the same names, in whichever scripts both hold."""
        return self.best_score(a, b) >= self.threshold

    def best_score(self, a: PersonNames, b: PersonNames) -> float:
        """The best score over the compared renderings (0 if either record has none)."""
        ours, theirs = _renderings(a), _renderings(b)
        common = ours.keys() & theirs.keys()
        if common:
            pairs = [(ours[script], theirs[script]) for script in common]
        else:
            pairs = list(product(ours.values(), theirs.values()))
        return max((score(x, y) for x, y in pairs), default=0.0)


def _renderings(names: PersonNames) -> dict[str, str]:
    """The full names a record holds, by script (a part may be missing)."""
    found = {}
    for script in ("arab", "latn", "tfng"):
        parts = [getattr(names.given_name, script), getattr(names.family_name, script)]
        full = " ".join(part.strip() for part in parts if part and part.strip())
        if full:
            found[script] = full
    return found
