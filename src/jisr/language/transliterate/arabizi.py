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
from jisr.language.transliterate.ngram import BOUNDARY, NgramModel

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
        self._chunks: dict[str, list[str]] = {}
        for unit in joint.to_json()["counts"].get("", {}):
            if unit != BOUNDARY:
                self._chunks.setdefault(unit.split(UNIT_SEP)[0], []).append(unit)
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
        """The best Arabic spellings of one Latin word with their joint log-probabilities."""
        beams: list[list[tuple[float, tuple[str, ...], str]]] = [[] for _ in range(len(word) + 1)]
        beams[0].append((0.0, (BOUNDARY, BOUNDARY), ""))
        for start in range(len(word)):
            beams[start] = heapq.nlargest(self.weights.beam, beams[start])
            for score, history, arabic in beams[start]:
                for end, unit, logprob in self._expansions(word, start, history):
                    output = unit.split(UNIT_SEP)[1] if unit else word[start]
                    beams[end].append((score + logprob, (history[-1], unit), arabic + output))
        finals: dict[str, float] = {}
        for score, history, arabic in beams[len(word)]:
            total = score + self.joint.logprob(BOUNDARY, history)
            finals[arabic] = max(total, finals.get(arabic, total))
        best = heapq.nlargest(self.weights.candidates, finals.items(), key=lambda item: item[1])
        return tuple(best)

    def _expansions(
        self, word: str, start: int, history: tuple[str, ...]
    ) -> list[tuple[int, str, float]]:
        """Every unit that can spell ``word`` from ``start`` on, with its log-probability;
        an unknown character is copied with a fixed penalty so that a path always exists."""
        found: list[tuple[int, str, float]] = []
        for size in range(1, min(_MAX_CHUNK, len(word) - start) + 1):
            for unit in self._chunks.get(word[start : start + size], ()):
                found.append((start + size, unit, self.joint.logprob(unit, history)))
        if not found:
            found.append((start + 1, "", _UNKNOWN_CHAR))
        return found


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
