"""The routing pipeline (pure scikit-learn, no database): texts in, labels out.

OWNER: helper A1. Interface fixed by the lead; bodies to be written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    macro_f1: float
    classes: list[ClassScore]
    samples: int
    folds: int


@dataclass(frozen=True)
class Ranked:
    label: str
    confidence: float  # probability, 0..1
    words: tuple[str, ...]  # the words of the text that drove this label most, strongest first


def build_pipeline(*, seed: int = 0) -> Any:
    """A fresh, unfitted pipeline (char n-gram TF-IDF + jieba words TF-IDF → linear model)."""
    raise NotImplementedError


def fit(texts: Sequence[str], labels: Sequence[str], *, seed: int = 0) -> Any:
    """The pipeline fitted on the texts."""
    raise NotImplementedError


def score(pipeline: Any, texts: Sequence[str], labels: Sequence[str]) -> tuple[float, float]:
    """(accuracy, macro-F1) of a fitted pipeline on labelled texts."""
    raise NotImplementedError


def rank(pipeline: Any, text: str, *, top: int = 3, words: int = 5) -> list[Ranked]:
    """The `top` most likely labels for one text, with the words that drove each."""
    raise NotImplementedError


def cross_validate(
    texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, seed: int = 0
) -> Evaluation:
    """Stratified k-fold cross-validation of the same pipeline; deterministic for a seed."""
    raise NotImplementedError


def dump(pipeline: Any) -> bytes:
    raise NotImplementedError


def load(blob: bytes) -> Any:
    raise NotImplementedError
