"""Cross-script person-name matching: Arabic ⇄ Latin (French and English conventions).

    name_key(name)          the phonetic key both scripts map to (:mod:`.keys`)
    score(a, b)             how alike two names are, in [0, 1], any script, any order
    match(a, b)             ``score(a, b) >= THRESHOLD``
    NameIndex               top-k search among millions of names; build, save, load
    CrossScriptNameMatcher  the register's ``NameMatcher`` (duplicate check)
    NameIndexError          an index file that cannot be used (:mod:`.errors`)

See docs/language-names.md.
"""

from jisr.language.names.errors import NameIndexError
from jisr.language.names.index import NameHit, NameIndex
from jisr.language.names.keys import name_key
from jisr.language.names.matcher import CrossScriptNameMatcher
from jisr.language.names.scoring import THRESHOLD, match, score

__all__ = [
    "THRESHOLD",
    "CrossScriptNameMatcher",
    "NameHit",
    "NameIndex",
    "NameIndexError",
    "match",
    "name_key",
    "score",
]
