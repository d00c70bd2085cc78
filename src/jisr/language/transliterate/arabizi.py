"""Arabizi (Darija in Latin letters and digits) → Arabic script, with a learned model.

Two models, both trained by :mod:`jisr.language.transliterate.training` and shipped in
``model/arabizi.json.gz``:

* a joint-sequence model (Bisani & Ney 2008): a trigram over aligned (Latin chunk, Arabic
  chunk) units learned from romanised Arabic-script Darija. A beam search over each Latin
  word proposes its most probable Arabic spellings with their joint log-probabilities;
* a word bigram over the Arabic side of the training pairs (Darija, and MSA for its
  vocabulary), which reranks those
  candidates across the sentence (Viterbi), so that ``kan`` after ``ila`` and before a verb
  picks the spelling the corpus uses.

Arabic orthography writes no one-letter words: a one-letter proclitic typed apart
(``f rasek``, ``l dar``, ``o nta``) is joined to the next word (فراسك, لدار), and so is the
negation ``ma`` of a verb closed by ``-ch`` (``ma fhemtch`` → مافهمتش).
Only runs of Latin letters and digits holding at least one letter are transliterated;
numbers, punctuation, emoji and other scripts pass through. Arabic punctuation is used for
the comma, semicolon and question mark.
"""

from __future__ import annotations

import functools
import gzip
import heapq
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jisr.language.transliterate.errors import ModelMissing
from jisr.language.transliterate.ngram import BOUNDARY, NgramModel, remember

__all__ = ["MODEL_FILE", "ArabiziModel", "Weights", "arabizi_to_arabic", "load_model"]

MODEL_FILE = "arabizi.json.gz"
UNIT_SEP = "\t"
_TOKEN = re.compile(r"[A-Za-z0-9'\u00c0-\u024f]*[A-Za-z\u00c0-\u024f][A-Za-z0-9'\u00c0-\u024f]*")
_PUNCTUATION = str.maketrans({",": "،", ";": "؛", "?": "؟"})
_MAX_CHUNK = 4
_EMPHATIC_CAPITALS = frozenset("DHSTZ")
_NEGATION = frozenset({"ma", "me", "mat"})
_NEGATION_END = ("ch", "sh", "x")
_UNKNOWN_CHAR = -12.0  # log-penalty for copying a character the model never saw
_STEP_CACHE_SIZE = 200_000

# A search state: score, the last two units, the Arabic so far.
_Entry = tuple[float, tuple[str, str], str]
_Beam = list[_Entry]
# The ways to spell one chunk after a history: units, Arabic chunks, log-probabilities
# (shared with the n-gram model's cache) and the indices best first.
_Steps = tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...], tuple[int, ...]]
# The same at the end of a word: Arabic chunks, log-probabilities, and those of the end.
_LastSteps = tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]


@dataclass(frozen=True)
class Weights:
    """Search sizes and how the sentence score combines the models (the last two are tuned
    by :func:`jisr.language.transliterate.training.tune`)."""

    beam: int = 32
    candidates: int = 12
    word_lm: float = 0.5
    unseen_word: float = -4.0


class ArabiziModel:
    """The joint-sequence model, the word bigram and the weights that combine them."""

    def __init__(self, joint: NgramModel, words: NgramModel, weights: Weights) -> None:
        self.joint = joint
        self.words = words
        self.weights = weights
        self._chunks = _chunks(joint)
        self._step_cache: dict[tuple[tuple[str, str], str], _Steps] = {}
        self._last_step_cache: dict[tuple[tuple[str, str], str], _LastSteps] = {}
        self.candidates = functools.lru_cache(maxsize=50_000)(self._candidates)

    def to_json(self) -> dict[str, Any]:
        """The serialisable model, read back by :meth:`from_json`."""
        return {
            "format": "jisr-arabizi/1",
            "joint": self.joint.to_json(),
            "words": self.words.to_json(),
            "weights": self.weights.__dict__,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArabiziModel:
        """The model saved by :meth:`to_json`."""
        joint = NgramModel.from_json(data["joint"])
        words = NgramModel.from_json(data["words"])
        return cls(joint, words, Weights(**data["weights"]))

    def save(self, directory: Path) -> Path:
        """Write the model into ``directory`` and return the file's path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MODEL_FILE
        payload = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        path.write_bytes(gzip.compress(payload.encode("utf-8"), compresslevel=9, mtime=0))
        return path

    def transliterate(self, text: str) -> str:
        """Arabic-script Darija for Arabizi ``text``."""
        text = unicodedata.normalize("NFC", text)
        tokens = list(_TOKEN.finditer(text))
        choices = self._best_path([_case(token.group()) for token in tokens])
        pieces: list[str] = []
        last = 0
        for index, (token, choice) in enumerate(zip(tokens, choices, strict=True)):
            gap = text[last : token.start()]
            before = (tokens[index - 1].group(), choices[index - 1]) if index else ("", "")
            attached = gap == " " and _joins(before, token.group())
            pieces.append("" if attached else gap.translate(_PUNCTUATION))
            pieces.append(choice)
            last = token.end()
        pieces.append(text[last:].translate(_PUNCTUATION))
        return "".join(pieces)

    def _best_path(self, words: list[str]) -> list[str]:
        """Viterbi over each word's candidates under the word bigram (back-pointers, so a
        long text costs time linear in its length)."""
        columns: list[dict[str, tuple[float, str]]] = []
        previous = {BOUNDARY: 0.0}
        for word in words:
            column = {
                arabic: max(
                    (score + channel + self._word_score(arabic, before), before)
                    for before, score in previous.items()
                )
                for arabic, channel in self.candidates(word)
            }
            columns.append(column)
            previous = {arabic: score for arabic, (score, _) in column.items()}
        _, last = max(
            (score + self._word_score(BOUNDARY, before), before)
            for before, score in previous.items()
        )
        path: list[str] = []
        for column in reversed(columns):
            path.append(last)
            last = column[last][1]
        return path[::-1]

    def _word_score(self, word: str, before: str) -> float:
        """The weighted word-bigram log-probability, with a fixed score for unseen words."""
        if word != BOUNDARY and not self.words.known(word):
            return self.weights.unseen_word
        return self.weights.word_lm * self.words.logprob(word, [before])

    def _candidates(self, word: str) -> tuple[tuple[str, float], ...]:
        """The best Arabic spellings of one Latin word with their joint log-probabilities.

        A beam search over chunk boundaries. Spellings reach the end of the word in a fixed
        order (start, beam rank, chunk length, model order), which breaks ties in the final
        ``nlargest``; the partial ones are pruned early only where ``nlargest`` would drop
        them anyway (see :meth:`_extend`), so the result is the one of an exhaustive beam."""
        beams: list[_Beam] = [[] for _ in range(len(word) + 1)]
        floors: list[list[float]] = [[] for _ in range(len(word) + 1)]
        beams[0].append((0.0, (BOUNDARY, BOUNDARY), ""))
        finals: dict[str, float] = {}
        for start in range(len(word)):
            spans = self._spans(word, start)
            for entry in heapq.nlargest(self.weights.beam, beams[start]):
                for end, chunk in spans:
                    if end == len(word):
                        self._finish(entry, chunk, finals)
                    else:
                        self._extend(entry, chunk, beams[end], floors[end])
        best = heapq.nlargest(self.weights.candidates, finals.items(), key=lambda item: item[1])
        return tuple(best)

    def _spans(self, word: str, start: int) -> list[tuple[int, str]]:
        """Where each Latin chunk the model knows at ``start`` ends, shortest first; an
        unknown character is copied with a fixed penalty so that a path always exists."""
        spans = [
            (start + size, word[start : start + size])
            for size in range(1, min(_MAX_CHUNK, len(word) - start) + 1)
            if word[start : start + size] in self._chunks
        ]
        return spans or [(start + 1, word[start])]

    def _extend(self, entry: _Entry, chunk: str, beam: _Beam, floor: list[float]) -> None:
        """Add to ``beam`` the spellings of ``chunk`` after ``entry`` that can still be among
        its ``weights.beam`` best. ``floor`` holds the best scores added so far (a min-heap):
        one strictly below all of them is never kept by ``nlargest``, and since the steps
        come best first, neither is any step after it."""
        score, history, arabic = entry
        units, outputs, logprobs, best_first = self._steps(history, chunk)
        size = self.weights.beam
        for index in best_first:
            total = score + logprobs[index]
            if len(floor) < size:
                heapq.heappush(floor, total)
            elif total < floor[0]:
                break
            else:
                heapq.heappushpop(floor, total)
            beam.append((total, (history[1], units[index]), arabic + outputs[index]))

    def _finish(self, entry: _Entry, chunk: str, finals: dict[str, float]) -> None:
        """Record in ``finals`` each spelling that ends the word with ``chunk`` after
        ``entry``, keeping a spelling's best score (the steps come in model order, so that
        ties between spellings are broken as they always were)."""
        score, history, arabic = entry
        outputs, logprobs, endings = self._last_steps(history, chunk)
        for output, logprob, ending in zip(outputs, logprobs, endings, strict=True):
            total = score + logprob + ending
            spelling = arabic + output
            best = finals.get(spelling)
            if best is None or total > best:
                finals[spelling] = total

    def _steps(self, history: tuple[str, str], chunk: str) -> _Steps:
        """The units spelling ``chunk``, their Arabic chunks, their log-probabilities after
        ``history`` and their indices best first; kept per model, since the search meets
        the same (history, chunk) pairs over and over."""
        key = (history, chunk)
        steps = self._step_cache.get(key)
        if steps is None:
            units, outputs = self._spellings(chunk)
            logprobs = self._logprobs(units, history)
            best_first = tuple(sorted(range(len(units)), key=logprobs.__getitem__, reverse=True))
            steps = remember(
                self._step_cache, key, (units, outputs, logprobs, best_first), _STEP_CACHE_SIZE
            )
        return steps

    def _last_steps(self, history: tuple[str, str], chunk: str) -> _LastSteps:
        """For a chunk that ends the word: the Arabic chunks, their log-probabilities after
        ``history`` and those of the word boundary after each, in model order."""
        key = (history, chunk)
        steps = self._last_step_cache.get(key)
        if steps is None:
            units, outputs = self._spellings(chunk)
            endings = tuple(self.joint.logprob(BOUNDARY, (history[1], unit)) for unit in units)
            steps = (outputs, self._logprobs(units, history), endings)
            remember(self._last_step_cache, key, steps, _STEP_CACHE_SIZE)
        return steps

    def _spellings(self, chunk: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The units spelling ``chunk`` and their Arabic chunks, in model order; a chunk
        the model never saw is copied by the empty unit."""
        return self._chunks.get(chunk) or (("",), (chunk,))

    def _logprobs(self, units: tuple[str, ...], history: tuple[str, str]) -> tuple[float, ...]:
        """The joint log-probability of each unit after ``history``; the empty unit of a
        copied character costs a fixed penalty."""
        return (_UNKNOWN_CHAR,) if units == ("",) else self.joint.logprobs(units, history)


def _chunks(joint: NgramModel) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each Latin chunk's units and their Arabic chunks, in the model's order (which breaks
    ties between equally scored spellings)."""
    spellings: dict[str, list[tuple[str, str]]] = {}
    for unit in joint.to_json()["counts"].get("", {}):
        if unit != BOUNDARY:
            latin, arabic = unit.split(UNIT_SEP)[:2]
            spellings.setdefault(latin, []).append((unit, arabic))
    return {
        latin: (tuple(unit for unit, _ in pairs), tuple(arabic for _, arabic in pairs))
        for latin, pairs in spellings.items()
    }


def _joins(before: tuple[str, str], latin: str) -> bool:
    """Whether the word before (its Latin and its Arabic) is written joined to ``latin``:
    a one-letter proclitic, or the negation ``ma`` of a verb closed by ``-ch`` (ما…ش is
    one word in Arabic script: ``ma fhemtch`` → مافهمتش)."""
    typed, written = before
    if len(written) == 1:
        return True
    return typed.lower() in _NEGATION and latin.lower().endswith(_NEGATION_END) and len(latin) > 3


def _case(word: str) -> str:
    """A word in capitals (``SALAM``) is read in small letters; otherwise a capital D, H, S,
    T or Z may mark an emphatic (``Tbib``, ``9Sedti``) and is kept, other capitals are not."""
    if word.isupper() and len(word) > 1:
        return word.lower()
    return "".join(char if char in _EMPHATIC_CAPITALS else char.lower() for char in word)


@functools.cache
def load_model(directory: Path | None = None) -> ArabiziModel:
    """The model in ``directory``, by default the one shipped in this package."""
    try:
        if directory is None:
            data = resources.files(__package__).joinpath("model", MODEL_FILE).read_bytes()
        else:
            data = (directory / MODEL_FILE).read_bytes()
        return ArabiziModel.from_json(json.loads(gzip.decompress(data)))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelMissing(
            f"the Arabizi model could not be read ({exc}); rebuild it with "
            "`jisr lang train arabizi`"
        ) from exc


def arabizi_to_arabic(text: str) -> str:
    """Arabic-script Darija for Arabizi ``text`` with the shipped model."""
    return load_model().transliterate(text)
