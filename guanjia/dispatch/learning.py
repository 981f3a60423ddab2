"""The routing pipeline (pure scikit-learn, no database): texts in, labels out.

Two TF-IDF views of a text are joined: character 1–3-grams (Chinese needs no segmenter for these, and
they survive typos and unusual compounds) and jieba words through guanjia.core.search.words, the
project's one segmenter (they carry terms such as 营业执照 whole). A multinomial logistic regression
over both gives probabilities, and its coefficients say which words of a text drove each label.
"""

from __future__ import annotations

import io
import json
import pickle
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn
from django.utils.translation import gettext as _
from scipy.special import expit, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from guanjia.core import search

ALGORITHM = "TF-IDF (char_wb 1-3 + jieba words) + logistic regression"
CHAR_FEATURES = 300_000
WORD_FEATURES = 100_000
# Chosen by cross-validation on guanjia/appeals/data/appeals_zh.csv (department label, 5 folds, 0.54
# accuracy against 0.50 for the defaults): balanced weights keep the small departments (燃气公司,
# 通信管理办) from being swallowed by the large ones; terms seen in a single appeal only are mostly names,
# dates and amounts that teach nothing (MIN_DF); jieba words at half the weight of the character n-grams,
# which already contain them.
C = 3.0
CLASS_WEIGHT = "balanced"
MIN_DF = 2
WORDS_WEIGHT = 0.5
# Below this many texts a term repeated in two of them is too rare a thing to ask for.
MIN_DF_FROM = 50

_MAGIC = b"GJRM1\n"
_READABLE = re.compile(r"^\w+$")


class ModelOutdated(ValueError):
    """A stored pipeline pickled by another scikit-learn version (or not ours): retrain instead."""


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
    # Classes with fewer samples than folds cannot be stratified: left out, with their sample counts.
    skipped: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Ranked:
    label: str
    confidence: float  # probability, 0..1
    words: tuple[str, ...]  # the words of the text that drove this label most, strongest first


def jieba_words(text: str) -> list[str]:
    """The word analyzer of the pipeline: a module-level function, so that a fitted pipeline pickles."""
    return search.words(text)


def build_pipeline(*, seed: int = 0, min_df: int = MIN_DF) -> Any:
    """A fresh, unfitted pipeline (char n-gram TF-IDF + jieba words TF-IDF → linear model)."""
    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 3),
                    sublinear_tf=True,
                    max_features=CHAR_FEATURES,
                    min_df=min_df,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer=jieba_words,
                    sublinear_tf=True,
                    max_features=WORD_FEATURES,
                    min_df=min_df,
                ),
            ),
        ],
        transformer_weights={"chars": 1.0, "words": WORDS_WEIGHT},
    )
    # newton-cg: the same optimum as lbfgs, reached in a few Hessian steps instead of hundreds of
    # L-BFGS updates over (classes × features) coefficients, which dominate the fit on large vocabularies.
    model = LogisticRegression(
        C=C, class_weight=CLASS_WEIGHT, solver="newton-cg", max_iter=500, random_state=seed
    )
    return Pipeline([("features", features), ("model", model)])


def fit(texts: Sequence[str], labels: Sequence[str], *, seed: int = 0) -> Any:
    """The pipeline fitted on the texts."""
    if len(texts) != len(labels):
        raise ValueError(
            _("文本与类别的数量不一致：%(texts)d 条文本，%(labels)d 个类别标签。")
            % {
                "texts": len(texts),
                "labels": len(labels),
            }
        )
    if len(set(labels)) < 2:
        raise ValueError(_("训练样本至少需要两个不同的类别。"))
    return _fitted(list(texts), list(labels), seed)


def _fitted(texts: list[str], labels: list[str], seed: int) -> Any:
    pipeline = build_pipeline(seed=seed, min_df=MIN_DF if len(texts) >= MIN_DF_FROM else 1)
    pipeline.fit(texts, labels)
    return pipeline


def score(pipeline: Any, texts: Sequence[str], labels: Sequence[str]) -> tuple[float, float]:
    """(accuracy, macro-F1) of a fitted pipeline on labelled texts."""
    if not texts:
        raise ValueError(_("没有可评估的样本。"))
    predicted = pipeline.predict(list(texts))
    truth = list(labels)
    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, average="macro", zero_division=0)),
    )


def rank(pipeline: Any, text: str, *, top: int = 3, words: int = 5) -> list[Ranked]:
    """The `top` most likely labels for one text, with the words that drove each."""
    features: FeatureUnion = pipeline.named_steps["features"]
    model: LogisticRegression = pipeline.named_steps["model"]
    columns, values, terms = _vector(features, text)
    coefficients = model.coef_[:, columns]
    decision = coefficients @ values + model.intercept_
    if model.coef_.shape[0] == 1:  # two classes: one row of coefficients, for classes_[1]
        coefficients = np.vstack([-coefficients[0], coefficients[0]])
        probabilities = np.array([expit(-decision[0]), expit(decision[0])])
    else:
        probabilities = softmax(decision)
    classes = model.classes_
    # Highest probability first; ties by label, so that the order is the same on every run.
    order = sorted(range(len(classes)), key=lambda i: (-probabilities[i], str(classes[i])))[:top]
    lowered = text.lower()
    return [
        Ranked(
            label=str(classes[i]),
            confidence=float(probabilities[i]),
            words=_drivers(terms, values * coefficients[i], lowered, words),
        )
        for i in order
    ]


def _vector(features: FeatureUnion, text: str) -> tuple[np.ndarray, np.ndarray, list[tuple[str, bool]]]:
    """The text's row of the feature matrix as (columns, values), with each column's term as a readable
    string and whether it is a jieba word.

    The same numbers as features.transform([text]) (counts, 1 + log, × idf, L2 per vectorizer), computed
    from the text's own terms: a suggestion is asked for one text at a time, and scikit-learn's
    per-call overhead of building sparse matrices would cost several times the arithmetic."""
    columns: list[np.ndarray] = []
    values: list[np.ndarray] = []
    terms: list[tuple[str, bool]] = []
    scales = features.transformer_weights or {}
    offset = 0
    for name, vectorizer in features.transformer_list:
        vocabulary = vectorizer.vocabulary_
        counts = Counter(term for term in vectorizer.build_analyzer()(text) if term in vocabulary)
        if counts:
            index = np.fromiter((vocabulary[term] for term in counts), dtype=np.intp, count=len(counts))
            weight = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if vectorizer.sublinear_tf:
                weight = np.log(weight) + 1.0
            if vectorizer.use_idf:
                weight *= vectorizer.idf_[index]
            norm = np.linalg.norm(weight)
            if vectorizer.norm == "l2" and norm > 0:
                weight /= norm
            weight *= scales.get(name, 1.0)
            columns.append(index + offset)
            values.append(weight)
            terms.extend((term.strip(), name == "words") for term in counts)
        offset += len(vocabulary)
    if not columns:
        return np.zeros(0, dtype=np.intp), np.zeros(0), []
    return np.concatenate(columns), np.concatenate(values), terms


def _drivers(
    terms: list[tuple[str, bool]], contributions: np.ndarray, lowered: str, limit: int
) -> tuple[str, ...]:
    """The strongest readable features for one label: jieba words (two characters or more) first, then
    character n-grams that are not part of a word already chosen; each a substring of the text."""
    if limit <= 0:
        return ()
    candidates = sorted(
        (-float(contributions[i]), term, is_word)
        for i, (term, is_word) in enumerate(terms)
        if contributions[i] > 0 and _READABLE.match(term) and term in lowered
    )
    chosen: list[str] = []
    for want_word in (True, False):
        for _weight, term, is_word in candidates:
            if len(chosen) >= limit:
                return tuple(chosen)
            if is_word != want_word or (is_word and len(term) < 2):
                continue
            if any(term in other or other in term for other in chosen):
                continue
            chosen.append(term)
    return tuple(chosen)


def cross_validate(
    texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, seed: int = 0
) -> Evaluation:
    """Stratified k-fold cross-validation of the same pipeline; deterministic for a seed."""
    if folds < 2:
        raise ValueError(_("折数至少为 2（当前为 %(folds)d）。") % {"folds": folds})
    if len(texts) != len(labels):
        raise ValueError(_("文本与类别的数量不一致。"))
    counts = Counter(labels)
    skipped = sorted(
        ((label, count) for label, count in counts.items() if count < folds),
        key=lambda pair: (-pair[1], pair[0]),
    )
    left_out = {label for label, _count in skipped}
    kept = [(text, label) for text, label in zip(texts, labels, strict=True) if label not in left_out]
    if len(counts) - len(skipped) < 2:
        raise ValueError(
            _("样本数不少于折数（%(folds)d）的类别不足两个，无法做分层交叉验证。") % {"folds": folds}
        )
    x = np.array([text for text, _label in kept], dtype=object)
    y = np.array([label for _text, label in kept], dtype=object)
    predicted = np.empty(len(y), dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        pipeline = _fitted(x[train].tolist(), y[train].tolist(), seed)
        predicted[test] = pipeline.predict(x[test].tolist())
    truth = y.tolist()
    guesses = predicted.tolist()
    names = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guesses, labels=names, zero_division=0
    )
    classes = [
        ClassScore(
            label=name,
            precision=float(precision[i]),
            recall=float(recall[i]),
            f1=float(f1[i]),
            support=int(support[i]),
        )
        for i, name in enumerate(names)
    ]
    classes.sort(key=lambda c: (-c.support, c.label))
    return Evaluation(
        accuracy=float(accuracy_score(truth, guesses)),
        macro_f1=float(f1_score(truth, guesses, labels=names, average="macro", zero_division=0)),
        classes=classes,
        samples=len(truth),
        folds=folds,
        skipped=skipped,
    )


def dump(pipeline: Any) -> bytes:
    """The fitted pipeline as bytes for RoutingModel.blob: a header naming the scikit-learn version, then
    the pickle."""
    header = json.dumps({"sklearn": sklearn.__version__}).encode() + b"\n"
    return _MAGIC + header + pickle.dumps(pipeline, protocol=5)


def load(blob: bytes | memoryview) -> Any:
    """The pipeline of a blob written by dump(); ModelOutdated when it was pickled by another
    scikit-learn version (its internals may differ), so the caller falls back and retrains. Takes the
    memoryview PostgreSQL gives for a BinaryField as well."""
    # Unpickling runs code of the pickle's choosing: blobs come only from our own database
    # (RoutingModel.blob, written by dump()), never from uploads or other systems.
    stream = io.BytesIO(bytes(blob))
    if stream.read(len(_MAGIC)) != _MAGIC:
        raise ModelOutdated(_("分派模型的格式无法识别，需要重新训练。"))
    try:
        header = json.loads(stream.readline())
        version = header["sklearn"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelOutdated(_("分派模型的格式无法识别，需要重新训练。")) from exc
    if version != sklearn.__version__:
        raise ModelOutdated(
            _("分派模型由 scikit-learn %(old)s 训练，当前为 %(new)s，需要重新训练。")
            % {"old": version, "new": sklearn.__version__}
        )
    return pickle.load(stream)  # noqa: S301 - our own blob, see above
