"""Hybrid ranking: vector similarity and FTS5 BM25, plus recency, frequency, success, same database.

Candidates come from both channels (the vector index's nearest and FTS5's best matches); each
gets six signals in [0, 1] and a weighted sum with the weights from settings:

- ``vector``: cosine similarity of the query's embedding and the statement's (negative -> 0);
- ``text``: BM25 of the query's words in the statement, divided by the best in the set. FTS5
  finds the lexical candidates (newest statements with a rare query word, newest with any) and
  gives document frequencies (counted up to a cap, so a word in every statement costs no more
  than one in a thousand); the BM25 formula is then applied to the candidates' texts, so one
  search costs the same at 10,000 entries or 1,000,000;
- ``recency``: ``0.5 ** (age / half_life)`` of the statement's last run;
- ``frequency``: runs of the statement's shape (fingerprint), log-scaled, saturating at 100;
- ``success``: the shape's success rate (0.5 when unknown, e.g. imported history);
- ``same_db``: 1 when the shown run was on the session's database.

>>> fts_query("customers who paid by card in 2024")
'"customers" OR "paid" OR "card" OR "2024"'
>>> terms("SELECT order_items.qty FROM order_items")
['order', 'items', 'qty']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from aishell.engine.config import MemorySettings
from aishell.engine.memory.store import Candidate

MIN_RELEVANCE = 0.12
"""A candidate needs this much vector similarity or text match to be shown at all."""
SIGNALS = ("vector", "text", "recency", "frequency", "success", "same_db")

_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset(
    "a an the of for to in on at by with and or not all any who which what that this these those me my i we "
    "our show list find get give is are was were be been do does did how many much query queries statement "
    "select from where".split()
)


@dataclass(slots=True)
class SearchHit:
    """One remembered statement, with the run shown and why it ranked where it did.

    ``started_at`` is epoch seconds of the run shown (on the current database when there is one);
    ``success`` is None when unknown (imported history); ``signals`` has a score in [0, 1] for
    each of :data:`SIGNALS`, and ``score`` is their weighted sum.
    """

    text: str
    database: str
    started_at: float
    duration_ms: float | None
    rows: int | None
    success: bool | None
    error: str | None
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    id: int = 0
    """The statement's id in the store (for ``Memory.forget``)."""
    fingerprint: str = ""
    runs: int = 0
    """How many times this exact text ran."""
    tables: tuple[str, ...] = ()
    schema: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "database": self.database,
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "rows": self.rows,
            "success": self.success,
            "error": self.error,
            "score": round(self.score, 6),
            "signals": {k: round(v, 6) for k, v in self.signals.items()},
            "id": self.id,
            "fingerprint": self.fingerprint,
            "runs": self.runs,
            "tables": list(self.tables),
        }


def terms(text: str, *, max_terms: int = 12) -> list[str]:
    """The query's words as FTS5 sees them (split on non-alphanumerics, lower case), stop words
    dropped unless nothing else is left, each once."""
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in words if w not in _STOP and len(w) > 1] or [w for w in words if len(w) > 1]
    return list(dict.fromkeys(kept))[:max_terms]


def fts_query(text: str, *, max_terms: int = 12) -> str | None:
    """An FTS5 MATCH expression: the query's words OR-ed, stop words dropped (kept if nothing else)."""
    found = terms(text, max_terms=max_terms)
    return " OR ".join(f'"{w}"' for w in found) if found else None


def bm25(query_terms: list[str], docs: dict[int, str], doc_freq: dict[str, int], total: int,
         *, k1: float = 1.2, b: float = 0.75) -> dict[int, float]:
    """BM25 of ``query_terms`` in each document of ``docs`` (id -> text); words are compared
    stemmed, as FTS5's porter tokenizer compares them. Only documents with a match are returned."""
    from aishell.engine.memory.embed import stem

    wanted = {stem(t): t for t in query_terms}
    idf = {
        stem(t): math.log(1.0 + (total - doc_freq.get(t, 0) + 0.5) / (doc_freq.get(t, 0) + 0.5))
        for t in query_terms
    }
    tokenized = {i: [stem(w.lower()) for w in _WORD.findall(text)] for i, text in docs.items()}
    avg = (sum(len(t) for t in tokenized.values()) / len(tokenized)) if tokenized else 1.0
    scores: dict[int, float] = {}
    for i, words in tokenized.items():
        counts: dict[str, int] = {}
        for w in words:
            if w in wanted:
                counts[w] = counts.get(w, 0) + 1
        if not counts:
            continue
        norm = k1 * (1 - b + b * len(words) / max(avg, 1.0))
        scores[i] = sum(idf[w] * tf * (k1 + 1) / (tf + norm) for w, tf in counts.items())
    return scores


def rank(
    candidates: Iterable[Candidate],
    *,
    vector_scores: dict[int, float],
    text_scores: dict[int, float],
    database: str,
    now: float,
    settings: MemorySettings,
    limit: int,
) -> list[SearchHit]:
    """Score every candidate and return the best ``limit``, highest score first, one a
    fingerprint (the best-scoring statement of each shape stands for the others)."""
    best_text = max(text_scores.values(), default=0.0)
    half_life = max(settings.half_life_days, 1e-6) * 86400.0
    weights = {
        "vector": settings.weight_vector,
        "text": settings.weight_text,
        "recency": settings.weight_recency,
        "frequency": settings.weight_frequency,
        "success": settings.weight_success,
        "same_db": settings.weight_same_db,
    }
    hits: list[SearchHit] = []
    for c in candidates:
        known = c.shape_successes + c.shape_failures
        lexical = text_scores.get(c.id)
        signals = {
            "vector": max(0.0, min(1.0, vector_scores.get(c.id, 0.0))),
            "text": (lexical / best_text) if lexical is not None and best_text > 0 else 0.0,
            "recency": 0.5 ** (max(0.0, now - c.last_seen) / half_life),
            "frequency": min(1.0, math.log1p(max(c.shape_runs, 0)) / math.log1p(100)),
            "success": (c.shape_successes / known) if known else 0.5,
            "same_db": 1.0 if database and c.database == database else 0.0,
        }
        if (vector_scores or text_scores) and max(signals["vector"], signals["text"]) < MIN_RELEVANCE:
            continue  # matched nothing the user asked for: recency alone is not a hit
        score = sum(weights[k] * v for k, v in signals.items())
        hits.append(
            SearchHit(
                text=c.text, database=c.database, started_at=c.started_at, duration_ms=c.duration_ms,
                rows=c.rows, success=c.success, error=c.error, score=score, signals=signals, id=c.id,
                fingerprint=c.fingerprint, runs=c.runs, tables=c.tables, schema=c.schema,
            )
        )
    hits.sort(key=lambda h: (-h.score, -h.started_at, h.id))
    shown: list[SearchHit] = []
    shapes: set[str] = set()
    for hit in hits:  # one hit a shape: runs differing only in literals are one line
        if hit.fingerprint in shapes:
            continue
        shapes.add(hit.fingerprint)
        shown.append(hit)
        if len(shown) == limit:
            break
    return shown
