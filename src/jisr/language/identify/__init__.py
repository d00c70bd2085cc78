"""Language and script identification for what citizens write to the administration.

    from jisr.language.identify import identify
    identify("salam, je voudrais l'acte de naissance dyal weldi")
    # Identification(label='fra_Latn', scores={...}, spans=(ary_Latn, fra_Latn, ary_Latn))

Labels: ``arb_Arab`` (Modern Standard Arabic), ``ary_Arab`` (Moroccan Darija in Arabic
script), ``ary_Latn`` (Darija in Latin script, "Arabizi"), ``afb_Arab`` (Gulf Arabic),
``zgh_Tfng`` (Standard Moroccan Amazigh in Tifinagh), ``ber_Latn`` (Amazigh in Latin
script), ``fra_Latn``, ``eng_Latn``, and ``und`` when unsure.

    features      normalisation, words, character n-grams
    model         the shipped model file and batch scoring (NumPy only)
    calibration   softmax, temperature scaling, ECE
    spans         per-span labels for code-switched text (Viterbi)
    identifier    Identification, Span, identify, identify_many
    training      ``jisr lang train identify`` (scikit-learn)
    evaluation    precision, recall, F1, confusion matrix
    command       the CLI commands;  routes   ``POST /language/identify``

See ``docs/language-identify.md`` and ``model/MODEL_CARD.md``.
"""

from jisr.language.identify.identifier import (
    UNDETERMINED,
    Identification,
    Span,
    identify,
    identify_many,
)
from jisr.language.identify.model import Model, ModelFormatError, default_model, load_model

__all__ = [
    "UNDETERMINED",
    "Identification",
    "Model",
    "ModelFormatError",
    "Span",
    "default_model",
    "identify",
    "identify_many",
    "load_model",
]
