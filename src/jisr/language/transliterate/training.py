"""Rebuild the Arabizi model from the language data, reproducibly (fixed seed).

1. Training pairs: every Arabic-script Darija sentence of the ``train`` split (``ary_Arab``)
   is romanised :data:`SAMPLES` times by :mod:`~jisr.language.transliterate.romanise`; a
   Latin character 5-gram trained on the MIT-licensed DODa Arabizi sentences (``ary_Latn``,
   train split) keeps the :data:`KEPT` most natural-looking spellings of each sentence.
   Sentences written by the public (tweets, Tatoeba) count :data:`USER_WEIGHT` times; the
   Modern Standard Arabic train split (``arb_Arab``) is romanised once per sentence.
2. The joint-sequence trigram is counted over the aligned units of those pairs, and the word
   bigram over the Arabic words of the same sentences.
3. The word-bigram weight and the unseen-word score are chosen by character error rate,
   weighted 2:1 over ``model/dev_pairs.tsv`` — 90 Arabizi sentences with their Arabic
   spelling, written for this project (licence-clean, human-written; everyday requests to
   an administration) — and the ``dev`` split romanised the same way with another seed.

No DODa Arabic-script text (the CC BY-NC release) is read here: it is for evaluation only.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path

from rich.progress import Progress

from jisr.language.corpus import Split, data_root, read_lines, sentences
from jisr.language.transliterate.arabic import ARABIC_LETTER, strip_diacritics
from jisr.language.transliterate.arabizi import UNIT_SEP, ArabiziModel, Weights
from jisr.language.transliterate.ngram import BOUNDARY, NgramModel
from jisr.language.transliterate.romanise import Unit, romanise_sentence
from jisr.language.transliterate.scoring import error_rates

__all__ = [
    "KEPT",
    "SAMPLES",
    "SEED",
    "USER_WEIGHT",
    "darija",
    "handwritten_pairs",
    "make_pairs",
    "train_arabizi",
]

SEED = 20_241_129
SAMPLES = 6
KEPT = 3
USER_WEIGHT = 3
JOINT_ORDER = 3
DEV_PAIRS = "dev_pairs.tsv"
_TUNING_SENTENCES = 300
_GRID = [(lm, unseen) for lm in (0.2, 0.35, 0.5) for unseen in (-7.0, -9.0, -12.0, -15.0)]
_ARABIC_WORD = re.compile(f"{ARABIC_LETTER}+")

Pair = tuple[str, str, list[list[Unit]]]


def train_arabizi(data: Path | None, out: Path, *, seed: int = SEED) -> Path:
    """Train on ``data`` (the folder holding SOURCES.md), tune, save into ``out``; return
    the model file's path. Shows a Rich progress bar."""
    with Progress() as progress:
        task = progress.add_task("arabizi: Latin model", total=5)
        latin = latin_model(data)
        progress.update(task, advance=1, description="arabizi: training pairs")
        rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
        train = make_pairs(darija("train", data), latin, rng)
        train += vocabulary_pairs(data, rng)
        progress.update(task, advance=1, description="arabizi: joint and word models")
        model = fit(train)
        progress.update(task, advance=1, description="arabizi: tuning on dev")
        dev = make_pairs(darija("dev", data), latin, random.Random(seed + 1))  # noqa: S311 - sampling, not secrets
        tune(model, [(latin, arabic) for arabic, latin, _ in dev[::KEPT][:_TUNING_SENTENCES]])
        progress.update(task, advance=1, description="arabizi: saving")
        path = model.save(out)
        progress.update(task, advance=1, description="arabizi: done")
    return path


def darija(split: Split, data: Path | None) -> list[str]:
    """The Arabic-script Darija of ``split``; sentences written by the public (tweets,
    Tatoeba) come :data:`USER_WEIGHT` times, since citizens write like them, not like the
    professional NLLB-Seed translation of Wikipedia."""
    root = data_root(data) / "ary_Arab"
    public = {
        line for path in root.glob("*.txt") if "nllb" not in path.name for line in read_lines(path)
    }
    found = sentences("ary_Arab", split, data)
    return [s for s in found for _ in range(USER_WEIGHT if s in public else 1)]


def latin_model(data: Path | None) -> NgramModel:
    """A character 5-gram over the MIT-era DODa Arabizi sentences of the train split."""
    return NgramModel.train(5, (list(line) for line in sentences("ary_Latn", "train", data)))


def make_pairs(arabic: list[str], latin: NgramModel, rng: random.Random) -> list[Pair]:
    """(Arabic, Arabizi, units) triples: the :data:`KEPT` best of :data:`SAMPLES`
    romanisations of each sentence, ranked by per-character Latin log-probability."""
    pairs: list[Pair] = []
    for sentence in arabic:
        drawn = [romanise_sentence(sentence, rng) for _ in range(SAMPLES)]
        drawn.sort(key=lambda sample: -_naturalness(latin, sample[0]))
        pairs.extend((target, text, units) for text, target, units in drawn[:KEPT])
    return pairs


def vocabulary_pairs(data: Path | None, rng: random.Random) -> list[Pair]:
    """One romanisation of each Modern Standard Arabic sentence of the train split.

    Darija borrows most of its nouns from MSA with the same spelling (مدرسة, طبيب, سلام), and
    the Darija corpus is small, so MSA widens the vocabulary and the spelling knowledge; it
    comes once per sentence against :data:`KEPT` times :data:`USER_WEIGHT` for Darija."""
    pairs: list[Pair] = []
    for sentence in sentences("arb_Arab", "train", data):
        text, target, units = romanise_sentence(sentence, rng)
        pairs.append((target, text, units))
    return pairs


def _naturalness(latin: NgramModel, text: str) -> float:
    """Mean character log-probability of ``text`` under the Latin model."""
    history = [BOUNDARY] * (latin.order - 1)
    total = 0.0
    for char in text:
        total += latin.logprob(char, history)
        history.append(char)
    return total / max(len(text), 1)


def fit(pairs: list[Pair]) -> ArabiziModel:
    """The joint-sequence trigram over the units of ``pairs`` and the word bigram over their
    Arabic side."""
    joint = NgramModel.train(JOINT_ORDER, _unit_sequences(pairs)).prune(2)
    words = NgramModel.train(2, (arabic_words(arabic) for arabic, _, _ in pairs))
    return ArabiziModel(joint, words, Weights())


def _unit_sequences(pairs: list[Pair]) -> Iterator[list[str]]:
    """Each romanised word as a sequence of unit tokens ``latin<TAB>arabic``."""
    for _, _, words in pairs:
        for units in words:
            if units:
                yield [f"{latin}{UNIT_SEP}{arabic}" for latin, arabic in units]


def arabic_words(sentence: str) -> list[str]:
    """The Arabic words of ``sentence`` without diacritics, as the decoder spells them."""
    return _ARABIC_WORD.findall(strip_diacritics(sentence))


def handwritten_pairs() -> list[tuple[str, str]]:
    """The human-written (Arabizi, Arabic) development pairs shipped with the model."""
    text = resources.files(__package__).joinpath("model", DEV_PAIRS).read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line.strip())
    return [(latin, arabic) for latin, arabic in rows]


def tune(model: ArabiziModel, dev: list[tuple[str, str]]) -> Weights:
    """Set the weights with the lowest CER over the handwritten pairs (weight 2: written
    by people, the target) and synthetic ``dev`` (Arabizi, Arabic) pairs (weight 1: many,
    but in the spelling of the corpus); return them."""
    handwritten = handwritten_pairs()
    best: tuple[float, Weights] | None = None
    for word_lm, unseen in _GRID:
        model.weights = replace(model.weights, word_lm=word_lm, unseen_word=unseen)
        cer = (2 * _cer(model, handwritten) + _cer(model, dev)) / 3
        if best is None or cer < best[0]:
            best = (cer, model.weights)
    assert best is not None
    model.weights = best[1]
    return best[1]


def _cer(model: ArabiziModel, pairs: list[tuple[str, str]]) -> float:
    """The character error rate of ``model`` on (Arabizi, Arabic) ``pairs``."""
    hypotheses = [model.transliterate(latin) for latin, _ in pairs]
    return error_rates([arabic for _, arabic in pairs], hypotheses).cer
