"""NameIndex: build, top-k search across scripts, save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jisr.language.names import NameIndex, NameIndexError, score

NAMES = [
    "محمد العلوي",
    "محمود العلوي",
    "Mohamed Alaoui",
    "يوسف الإدريسي",
    "Karima Bennani",
    "كريم بناني",
    "Hassan Tazi",
    "حسين التازي",
    "Hamad bin Khalifa Al Thani",
    "فاطمة الزهراء بناني",
    "Mohamed Alaoui",  # a duplicate: indexed once
    "   ",  # blank: not indexed
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex.build(NAMES)


def test_distinct_non_blank_names_are_indexed(index: NameIndex) -> None:
    """Duplicates and blank lines are dropped; names keep their build order."""
    assert len(index) == 10
    assert index.name(0) == "محمد العلوي"
    assert index.vocabulary_size > 0 and index.nbytes > 0


def test_latin_query_finds_the_arabic_name_first(index: NameIndex) -> None:
    """Youssef El Idrissi finds يوسف الإدريسي, scored as score() does."""
    hits = index.search("Youssef El Idrissi", k=3)
    assert hits[0].name == "يوسف الإدريسي"
    assert hits[0].score == score("Youssef El Idrissi", "يوسف الإدريسي")


def test_results_are_best_first_and_limited(index: NameIndex) -> None:
    """At most k results, scores descending; the exact variant beats the near miss."""
    hits = index.search("Mohamed Alaoui", k=4)
    assert len(hits) <= 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    names = [h.name for h in hits]
    assert names.index("محمد العلوي") < names.index("محمود العلوي")


def test_arabic_query_with_other_order_finds_latin(index: NameIndex) -> None:
    """Order-free: التازي حسن still ranks Hassan Tazi above Hussein's Arabic record."""
    names = [h.name for h in index.search("التازي حسن", k=2)]
    assert names[0] == "Hassan Tazi"


def test_empty_query_and_zero_k_give_nothing(index: NameIndex) -> None:
    """A query without letters, or k = 0, returns no result."""
    assert index.search("--") == []
    assert index.search("Mohamed", k=0) == []


def test_save_load_round_trip(index: NameIndex, tmp_path: Path) -> None:
    """A loaded index answers exactly as the one saved."""
    path = tmp_path / "names.npz"
    index.save(path)
    loaded = NameIndex.load(path)
    assert len(loaded) == len(index)
    for query in ("Karima Bennani", "محمد", "Al-Thani Hamad"):
        assert loaded.search(query, k=5) == index.search(query, k=5)


def test_unreadable_or_foreign_files_are_refused(tmp_path: Path) -> None:
    """A missing file, a non-npz file and another npz are ``index_invalid`` errors."""
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an index")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    for path in (tmp_path / "missing.npz", garbage, foreign):
        with pytest.raises(NameIndexError) as caught:
            NameIndex.load(path)
        assert caught.value.code == "index_invalid"


def test_empty_index_searches_to_nothing() -> None:
    """An index of no names is valid and finds nothing."""
    assert NameIndex.build([]).search("Mohamed") == []


@pytest.mark.parametrize(
    "query", ["Mohamed Alaoui", "العلوي محمد", "Hamad Al Thani", "Fatima Zahra Bennani", "Tazi"]
)
def test_search_scores_are_pair_scores(index: NameIndex, query: str) -> None:
    """Every hit's score is score(query, name), to rounding, whatever the token counts."""
    for hit in index.search(query, k=10):
        assert hit.score == pytest.approx(score(query, hit.name), abs=1e-3)


def test_damaged_index_is_refused(index: NameIndex, tmp_path: Path) -> None:
    """An index whose ids point outside its arrays is refused at load, not at search."""
    path = tmp_path / "names.npz"
    index.save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["postings"] = arrays["postings"] + len(index)
    np.savez(path, **arrays)
    with pytest.raises(NameIndexError, match="damaged"):
        NameIndex.load(path)


def test_build_reports_progress_of_every_name_read() -> None:
    """progress() is told of every name read, blank and duplicate ones included."""
    seen: list[int] = []
    NameIndex.build(NAMES, progress=seen.append)
    assert sum(seen) == len(NAMES)


def test_compound_written_as_one_word_is_cut_to_search(index: NameIndex) -> None:
    """``Fatimazahra Bennani`` finds فاطمة الزهراء بناني, scored as score() does."""
    hits = index.search("Fatimazahra Bennani", k=3)
    assert hits[0].name == "فاطمة الزهراء بناني"
    assert hits[0].score == score("Fatimazahra Bennani", "فاطمة الزهراء بناني")


def test_similarity_cache_is_bounded_and_safe(
    index: NameIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a one-row cache, multi-token queries still answer as with a large one."""
    expected = [index.search(q) for q in ("Mohamed Alaoui", "Hamad Al Thani", "Mohamed Alaoui")]
    monkeypatch.setattr("jisr.language.names.index._CACHED_KEYS", 1)
    small = NameIndex.build(NAMES)
    assert [small.search(q) for q in ("Mohamed Alaoui", "Hamad Al Thani", "Mohamed Alaoui")] == (
        expected
    )


def test_loosely_near_family_name_still_blocks_among_many_near_names() -> None:
    """A family name only loosely near its indexed rendering (ابركان, ``Abarchane``)
    still brings the name in when more than k names hold tokens near to two query tokens
    (a father's name makes them score lower)."""
    givens, fathers = ("Mohamed", "Mohammed", "Muhammad", "محمد"), ("Ali", "Omar", "Hassan")
    crowd = [f"{given} {father} Berkane" for given in givens for father in fathers]
    index = NameIndex.build([*crowd, "Mohamed Abarchane"])
    hits = index.search("محمد ابركان", k=10)
    assert hits[0].name == "Mohamed Abarchane"
    assert hits[0].score == score("محمد ابركان", "Mohamed Abarchane")
