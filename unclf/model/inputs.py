"""What both stages read: documents parsed (in processes side by side), their document-grouped
folds, each paragraph's label, and their features gathered into :class:`Rows`."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import KFold
from tqdm import tqdm

from unclf.contracts import (
    check_document,
)
from unclf.documents import align_targets
from unclf.features import ParagraphWords, plain_tfidf
from unclf.segmenter import KINDS, ParsedDocument, parse_list
from unclf.workers import ending_with_this_process


@dataclass(frozen=True, slots=True)
class Rows:
    """What both stages read of a set of featurized documents, one row per paragraph:
    computed once and shared by every fold and, when several labels are learnt, every label."""

    texts: list[str]
    # The paragraphs' words, where a label's name is looked for.
    paragraph_words: ParagraphWords
    # Per row, the row of the heading it sits under (-1: none).
    headings: np.ndarray
    # One per scorer (see ``TargetSelector._scorer_plan``), then the plain TF-IDF's.
    views: list[sp.csr_matrix]
    words: sp.csr_matrix
    layout: np.ndarray
    offsets: np.ndarray
    lead_ins: np.ndarray
    kinds: np.ndarray


def parse_documents(
    texts: Iterable[str | ParsedDocument],
    progress: bool = False,
    total: int | None = None,
    n_jobs: int | None = None,
) -> Iterator[ParsedDocument]:
    """Parse what is not parsed yet, streaming; parsed documents pass through.

    With ``n_jobs`` other than 1, batches of texts are parsed in processes side by side: unlike
    a spaCy ``Doc``, a parsed document is a text and a few arrays, cheap to send back (the 136
    UPR reports in 2.5 s with two warm processes against 4.7 s in one, the same parse).
    """
    in_processes = n_jobs not in (None, 1)
    texts = iter(texts)
    batches = iter(lambda: list(islice(texts, 16 if in_processes else 64)), [])
    waiting: deque[list] = deque()  # batches sent to be parsed, in order
    bar = tqdm(
        total=total, desc="segmenting", unit="doc", disable=None if progress else True, leave=False
    )

    def unparsed() -> Iterator[list[str]]:
        for batch in batches:
            for item in batch:
                check_document(item)
            waiting.append(batch)
            raw = [t for t in batch if isinstance(t, str)]
            if raw:  # a batch parsed already waits for the next one sent, or for the end
                yield raw

    def ready(result: list[ParsedDocument] | None) -> Iterator[ParsedDocument]:
        """The waiting batches up to the one ``result`` answers (None: every one left)."""
        parsed = iter(result or [])
        while waiting:
            batch = waiting.popleft()
            answered = any(isinstance(item, str) for item in batch)
            yield from (next(parsed) if isinstance(item, str) else item for item in batch)
            bar.update(len(batch))
            if answered and result is not None:
                return

    if in_processes:
        with ending_with_this_process():
            results = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(parse_list)(raw) for raw in unparsed()
            )
    else:
        results = map(parse_list, unparsed())
    with bar:
        for result in results:
            yield from ready(result)
        yield from ready(None)


def text_characters(X: Iterable[str | ParsedDocument]) -> int:
    """The characters of the documents' texts, parsed or not: how much work they are."""
    return sum(len(x) if isinstance(x, str) else len(x.text) for x in X)


def text_groups(texts: Sequence[str]) -> tuple[np.ndarray, int]:
    """Each text's group, identical texts one group (numbered in order of first appearance),
    and the number of groups: a copy must share its original's fold."""
    group_of: dict[str, int] = {}
    groups = np.array([group_of.setdefault(t, len(group_of)) for t in texts], dtype=np.int64)
    return groups, len(group_of)


def document_folds(
    texts: Sequence[str], n_folds: int, seed: int | None = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded (train, test) document positions; identical texts are one group, in one fold, so
    that no document is scored by a model that was trained on its copy. Without copies, the
    folds of ``KFold(n_folds, shuffle=True, random_state=seed)``."""
    groups, n_groups = text_groups(texts)
    if n_folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {n_folds}")
    if n_groups < n_folds:
        raise ValueError(
            f"{n_folds} folds need at least {n_folds} distinct documents, got {n_groups}"
        )
    splits = []
    for train_groups, test_groups in KFold(n_folds, shuffle=True, random_state=seed).split(
        np.arange(n_groups)
    ):
        splits.append(
            (
                np.flatnonzero(np.isin(groups, train_groups)),
                np.flatnonzero(np.isin(groups, test_groups)),
            )
        )
    return splits


def fit_plain_tfidf(texts: list[str]) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    vectorizer = plain_tfidf()
    return vectorizer, vectorizer.fit_transform(texts)


def paragraph_labels(
    docs: Sequence[ParsedDocument], targets: Sequence[Sequence]
) -> tuple[np.ndarray, list[int]]:
    """1 for paragraphs that hold a target (``targets``: each document's ``(start, end)``
    pairs), all documents' rows in order; and the documents with a target in no paragraph.
    Shared by training and the benchmarks' label checks."""
    labels = []
    unheld_in = []
    for i, (doc, spans) in enumerate(zip(docs, targets, strict=True)):
        y = np.zeros(len(doc.paragraphs), dtype=np.int8)
        held, unheld = align_targets(doc.paragraphs, spans)
        y[held] = 1
        labels.append(y)
        if unheld:
            unheld_in.append(i)
    return (np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)), unheld_in


def labels_to_learn(
    docs: Sequence[ParsedDocument], targets: Sequence[Sequence]
) -> tuple[np.ndarray, list[int]]:
    """``paragraph_labels``, refusing a label that no paragraph holds."""
    labels, unheld = paragraph_labels(docs, targets)
    if labels.sum() == 0:
        raise ValueError("no paragraph holds a target: nothing to learn from")
    return labels, unheld


def kinds_of(doc: ParsedDocument) -> np.ndarray:
    """Each paragraph's kind, as its position in ``KINDS``."""
    return np.array([KINDS.index(p.kind) for p in doc.paragraphs], dtype=np.int64)
