"""Features of a title for the tree model: hashed TF-IDF n-grams and a little metadata.

Why not scikit-learn's ``TfidfVectorizer``: its analysers run a Python loop per token, which
caps a model at ≈15,000 titles/s on one core for word 1–2-grams (≈3,000/s with character
n-grams), and the project asks for more than 20,000. Here every n-gram of a batch is
hashed at once with numpy: a polynomial hash over the batch's code points, read off prefix
sums, so a batch costs a handful of array operations whatever its size. Training keeps the
most frequent hash buckets (``max_features``, ``min_df``) with their idf; that state is two
arrays per block in an ``.npz`` (no pickle), plus the parameters as JSON.

Each block is TF-IDF as usual: sublinear term frequency, smoothed idf, unit L2 rows.
Blocks: word 1–2-grams of title + overview, words of the title alone (its own idf, so a
word in a title weighs apart from the same word in an overview), the character n-grams at
each word's edges (its first 4 and 6 and last 3 characters: ``affixes``), and optionally
every character 2–5-gram inside words (better on rare words and non-Latin scripts, but
≈4× slower than all the other blocks together).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from services.classifier.artifact import ArtifactError
from services.classifier.data import TitleText

FEATURES_FILE = "features.npz"
FEATURES_CONFIG = "features.json"
BUCKET_BITS = 22  # 4M buckets: few collisions among the ~10⁵–10⁶ n-grams of a corpus
MAX_CHARS = 2000  # longer texts are cut: their tail adds little and costs linearly
CHUNK = 4096  # titles hashed at once: bounds memory on large batches
PREFIXES = (4, 6)  # the affix block: each word's first 4 and 6 characters…
SUFFIXES = (3,)  # …and its last 3

_PRIME = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2**64
_PRIME_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads hashes over the buckets
_SPACE = np.uint64(1)  # code points are stored +1, so no character hashes as 0
_BIGRAM_SALT = np.uint64(0xB16A)
_DIGIT = re.compile(r"\d")
HASHING = 2  # bump when the hashing or normalising changes: old vocabularies then mismatch

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
CSR: TypeAlias = sparse.csr_matrix


@dataclass(frozen=True)
class FeatureParams:
    """How many n-grams each block keeps; ``…_max_features=0`` leaves a block out."""

    word_max_features: int = 50_000
    word_min_df: int = 2
    title_max_features: int = 20_000
    title_min_df: int = 2
    char_max_features: int = 0
    char_min_df: int = 3
    affix_max_features: int = 0  # >0 adds the affix block
    affix_min_df: int = 2


@dataclass(frozen=True)
class _Codes:
    """A batch of normalised texts as one array of code points, with what hashing needs."""

    codes: U64  # 1 for the space between words, else lower-cased code point + 1
    prefix: U64  # prefix[i] = Σ codes[k]·P^k over k < i
    inverse: U64  # P^-i
    bounds: I64  # where each text starts in ``codes``
    n_docs: int
    docs: I64  # the text of each position: a lookup, 3× cheaper than searching ``bounds``

    def doc(self, positions: I64) -> I64:
        """Return the text of the word character at each position."""
        found: I64 = self.docs[positions]
        return found


def _fold(char: str) -> int:
    """Return the code point a character hashes as: lower-cased, or 0 outside words."""
    # letters, digits and combining marks (Devanagari or Thai vowel signs) of any script
    if not (char.isalnum() or unicodedata.category(char).startswith("M")):
        return 0
    lower = char.lower()
    return ord(lower) if len(lower) == 1 else ord(char)


@functools.cache
def _fold_table() -> NDArray[np.uint32]:
    """Return ``_fold`` of every code point of the Basic Multilingual Plane."""
    return np.fromiter((_fold(chr(i)) for i in range(0x10000)), dtype=np.uint32, count=0x10000)


def _codes(texts: Sequence[str]) -> _Codes:
    """Lower-case, turn every run of non-word characters into one space, and index it.

    The texts are joined with NUL between them and handled as one array (a Python loop
    per text or per character would cost more than all the hashing); one table lookup
    per character lower-cases it or marks it as a separator.
    """
    cut = [t[:MAX_CHARS] for t in texts]
    joined = "\0".join(cut)
    if joined.count("\0") != len(texts) - 1:  # NUL inside a text would split it in two
        cut = [t.replace("\0", " ") for t in cut]
        joined = "\0".join(cut)
    raw = np.frombuffer(f"\0{joined}\0".encode("utf-32-le"), dtype=np.uint32)
    folded = _fold_table()[np.minimum(raw, 0xFFFF)]  # U+FFFF is no character: 0
    for i in np.flatnonzero(raw > 0xFFFF):  # emoji and rare scripts: few, so one by one
        folded[i] = _fold(chr(int(raw[i])))
    word = folded > 0
    keep = word.copy()
    keep[1:] |= word[:-1]  # the first non-word character after a word stays, as the space
    keep[0] = True
    codes = folded[keep].astype(np.uint64) + np.uint64(1)
    separators = np.cumsum([0] + [len(t) + 1 for t in cut])
    bounds = np.searchsorted(np.flatnonzero(keep), separators[:-1])
    size = len(codes)
    powers, inverse = _powers(1 << max(size, 1).bit_length())
    prefix = np.zeros(size + 1, dtype=np.uint64)
    np.cumsum(codes * powers[:size], out=prefix[1:])
    docs = np.repeat(np.arange(len(texts)), np.diff(np.append(bounds, size)))
    return _Codes(codes, prefix, inverse[:size], bounds, len(texts), docs)


@functools.lru_cache(maxsize=2)
def _powers(size: int) -> tuple[U64, U64]:
    """Return P^i and P^-i for i < size (uint64 arithmetic wraps: hashes are mod 2**64)."""
    powers = np.cumprod(np.full(size, _PRIME), dtype=np.uint64) * _PRIME_INVERSE
    inverse = np.cumprod(np.full(size, _PRIME_INVERSE), dtype=np.uint64) * _PRIME
    powers.flags.writeable = inverse.flags.writeable = False  # shared between calls
    return powers, inverse


def _segments(batch: _Codes, start: I64, stop: I64) -> U64:
    """Hash the characters [start, stop) of each pair; the same text hashes the same anywhere."""
    hashes: U64 = (batch.prefix[stop] - batch.prefix[start]) * batch.inverse[start]
    return hashes


def word_ngrams(batch: _Codes, bigrams: bool = True) -> tuple[U64, I64]:
    """Return the hash and text index of every word (and pair of adjacent words)."""
    space = batch.codes == _SPACE
    start = np.flatnonzero(space[:-1] & ~space[1:]) + 1
    stop = np.flatnonzero(~space[:-1] & space[1:]) + 1
    words = _segments(batch, start, stop)
    doc = batch.doc(start)
    if not bigrams or len(words) < 2:
        return words, doc
    same = doc[1:] == doc[:-1]
    pairs = (words[:-1] * _MIX + words[1:]) ^ _BIGRAM_SALT
    return np.concatenate([words, pairs[same]]), np.concatenate([doc, doc[:-1][same]])


def affixes(
    batch: _Codes, prefixes: Sequence[int] = PREFIXES, suffixes: Sequence[int] = SUFFIXES
) -> tuple[U64, I64]:
    """Return the hash and text index of each word's first and last few characters.

    The character n-grams that sit at a word's edges (``murder``, ``murderous`` and
    ``murders`` share ``murd`` and ``murder``; ``-ess``, ``-ist`` and ``-ing`` tell their own
    story): a few per word, where ``char_ngrams`` makes a dozen, so the block costs about
    what the words cost. A word shorter than a length gives itself.
    """
    space = batch.codes == _SPACE
    start = np.flatnonzero(space[:-1] & ~space[1:]) + 1
    stop = np.flatnonzero(~space[:-1] & space[1:]) + 1
    doc = batch.doc(start)
    hashes = [
        _segments(batch, start, np.minimum(stop, start + n)) ^ np.uint64(n << 8) for n in prefixes
    ]
    hashes += [
        _segments(batch, np.maximum(start, stop - n), stop) ^ np.uint64(n << 16) for n in suffixes
    ]
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(hashes), np.tile(doc, len(hashes))


def char_ngrams(batch: _Codes, low: int = 2, high: int = 5) -> tuple[U64, I64]:
    """Return the hash and text index of every character n-gram inside a space-padded word.

    As scikit-learn's ``char_wb``: an n-gram may start or end with the space around a word,
    never hold one inside, so none spans two words (or two texts).
    """
    if low < 2:
        raise ValueError(f"character n-grams start at 2, not {low}")
    space = batch.codes == _SPACE
    size = len(batch.codes)
    hashes, docs = [], []
    no_inner_space = np.ones(max(size - 1, 0), dtype=bool)  # 2-grams have no inside
    for n in range(2, high + 1):
        count = size - n + 1
        if count <= 0:
            break
        if n > 2:
            no_inner_space = no_inner_space[:count] & ~space[n - 2 : n - 2 + count]
        if n < low:
            continue
        valid = no_inner_space
        if n == 2:  # the one n-gram with no inside: two spaces
            valid = valid & ~(space[:count] & space[1 : count + 1])
        start = np.flatnonzero(valid)
        hashes.append(_segments(batch, start, start + n) ^ np.uint64(n))
        docs.append(batch.doc(start + space[start]))  # a leading space: the word's text
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(hashes), np.concatenate(docs)


def _radix_sort(keys: I64, top: int) -> I64:
    """Return ``keys`` (each in [0, ``top``)) sorted: a stable sort per 16 bits, lowest first.

    numpy sorts 16-bit integers by radix, in linear time: two such passes over the
    (text, column) keys of a batch cost a third of ``np.unique`` on them (the sort that
    dominates a character block, ~10⁶ n-grams per 1,000 titles).
    """
    if top <= 1 << 16:
        return np.sort(keys.astype(np.uint16), kind="stable").astype(np.int64)
    order = np.argsort(keys.astype(np.uint16), kind="stable")  # astype keeps the low 16 bits
    shift = 16
    while top > 1 << shift:
        digit = (keys[order] >> shift).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    ordered: I64 = keys[order]
    return ordered


def _buckets(hashes: U64) -> I64:
    return ((hashes * _MIX) >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)


class HashedTfidf:
    """One TF-IDF block: the kept hash buckets, in column order, and their idf."""

    def __init__(self, buckets: I64, idf: NDArray[np.float32]) -> None:
        self.buckets = buckets
        self.idf = idf
        self._column = np.full(1 << BUCKET_BITS, -1, dtype=np.int32)
        self._column[buckets] = np.arange(len(buckets), dtype=np.int32)

    @property
    def size(self) -> int:
        """Return the number of columns."""
        return len(self.buckets)

    @staticmethod
    def document_frequency(hashes: U64, doc: I64) -> tuple[I64, I64]:
        """Return the buckets these n-grams fall in, and how many texts hold each."""
        pairs = np.unique((doc << BUCKET_BITS) | _buckets(hashes))
        buckets, counts = np.unique(pairs & ((1 << BUCKET_BITS) - 1), return_counts=True)
        return buckets, counts

    @classmethod
    def fit(
        cls, counted: Sequence[tuple[I64, I64]], n_docs: int, *, min_df: int, max_features: int
    ) -> HashedTfidf:
        """Keep the ``max_features`` buckets in most texts (at least ``min_df``) of all batches."""
        buckets, where = np.unique(np.concatenate([b for b, _ in counted]), return_inverse=True)
        df = np.bincount(where, weights=np.concatenate([c for _, c in counted])).astype(np.int64)
        kept = np.flatnonzero(df >= min_df)
        if len(kept) > max_features:
            kept = np.sort(kept[np.argsort(-df[kept], kind="stable")[:max_features]])
        idf = (np.log((1 + n_docs) / (1 + df[kept])) + 1).astype(np.float32)
        return cls(buckets[kept], idf)

    def transform(self, hashes: U64, doc: I64, n_docs: int) -> CSR:
        """Return the (texts × columns) TF-IDF matrix of these n-grams."""
        column = self._column[_buckets(hashes)]
        known = column >= 0
        width = max(self.size, 1)
        # one sort of (text, column) keys counts every term and orders the rows: faster
        # than scipy's coordinate-to-CSR conversion, which does the same and checks
        keys = _radix_sort(doc[known] * width + column[known], n_docs * width)
        starts = np.flatnonzero(np.diff(keys, prepend=-1))  # keys are ≥ 0: the first starts
        counts = np.diff(starts, append=len(keys))
        rows, columns = np.divmod(keys[starts], width)
        values = (1 + np.log(counts)) * self.idf[columns]  # sublinear: 5 mentions ≠ 5× evidence
        norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=n_docs))
        values /= norms[rows]  # a row with a value has a norm above 0
        indptr = np.searchsorted(rows, np.arange(n_docs + 1))
        return sparse.csr_matrix(
            (values.astype(np.float32), columns.astype(np.int32), indptr),
            shape=(n_docs, self.size),
        )


META = (
    "is_tv",
    "year_known",
    "year",
    "overview_length",
    "overview_empty",
    "title_length",
    "title_has_digit",
    "title_has_colon",
)


def _meta(titles: Sequence[TitleText]) -> NDArray[np.float32]:
    """Return what the words miss: format, era, how much is said, sequel-like titles."""
    years = np.array([t.year if t.year is not None else np.nan for t in titles], dtype=float)
    known = ~np.isnan(years)
    chars = np.array([len(t.overview) for t in titles], dtype=float)
    columns = (
        [t.media_type == "tv" for t in titles],
        known,
        np.where(known, np.clip((years - 2000) / 25, -4, 2), 0.0),
        np.log1p(chars) / 8,
        chars == 0,
        [len(t.title) / 30 for t in titles],
        [_DIGIT.search(t.title) is not None for t in titles],
        [":" in t.title for t in titles],
    )
    return np.column_stack([np.asarray(c, dtype=np.float32) for c in columns])


def _text(title: TitleText) -> str:
    return f"{title.title} {title.overview}"


def _block_ngrams(
    name: str, titles: Sequence[TitleText], text: _Codes | None = None
) -> tuple[U64, I64]:
    """Return the n-grams of one block; ``text``: the titles' ``_codes`` of ``_text``, if made."""
    if name == "title_words":
        return word_ngrams(_codes([t.title for t in titles]), bigrams=False)
    batch = text if text is not None else _codes([_text(t) for t in titles])
    if name == "text_words":
        return word_ngrams(batch)
    return affixes(batch) if name == "text_affixes" else char_ngrams(batch)


class TitleFeaturiser:
    """Turns titles into one sparse float32 row each: the TF-IDF blocks, then ``META``."""

    def __init__(self, params: FeatureParams, blocks: dict[str, HashedTfidf]) -> None:
        self.params = params
        self.blocks = blocks
        self.slices: dict[str, slice] = {}
        start = 0
        for name, block in blocks.items():
            self.slices[name] = slice(start, start + block.size)
            start += block.size
        self.slices["meta"] = slice(start, start + len(META))
        self.width = start + len(META)

    @staticmethod
    def _limits(params: FeatureParams) -> dict[str, tuple[int, int]]:
        """Return (min_df, max_features) of each block these parameters ask for."""
        limits = {
            "text_words": (params.word_min_df, params.word_max_features),
            "title_words": (params.title_min_df, params.title_max_features),
        }
        if params.char_max_features > 0:
            limits["text_chars"] = (params.char_min_df, params.char_max_features)
        if params.affix_max_features > 0:
            limits["text_affixes"] = (params.affix_min_df, params.affix_max_features)
        return limits

    @classmethod
    def fit(cls, titles: Sequence[TitleText], params: FeatureParams | None = None) -> Self:
        """Learn each block's vocabulary and idf from training titles."""
        if not titles:
            raise ValueError("a featuriser needs titles to learn from")
        params = params or FeatureParams()
        blocks = {}
        for name, (min_df, max_features) in cls._limits(params).items():
            counted = [
                HashedTfidf.document_frequency(*_block_ngrams(name, titles[i : i + CHUNK]))
                for i in range(0, len(titles), CHUNK)
            ]
            blocks[name] = HashedTfidf.fit(
                counted, len(titles), min_df=min_df, max_features=max_features
            )
        return cls(params, blocks)

    def transform_blocks(self, titles: Sequence[TitleText]) -> dict[str, CSR]:
        """Return each block's (titles × block columns) matrix, ``meta`` last."""
        parts: dict[str, list[CSR]] = {name: [] for name in self.slices}
        for i in range(0, max(len(titles), 1), CHUNK):
            part = titles[i : i + CHUNK]
            text = _codes([_text(t) for t in part])  # shared by every block of the text
            for name, block in self.blocks.items():
                parts[name].append(block.transform(*_block_ngrams(name, part, text), len(part)))
            parts["meta"].append(sparse.csr_matrix(_meta(part)))
        return {
            name: chunks[0] if len(chunks) == 1 else sparse.vstack(chunks, format="csr")
            for name, chunks in parts.items()
        }

    def transform(self, titles: Sequence[TitleText]) -> CSR:
        """Return the (titles × ``width``) feature matrix, blocks side by side."""
        blocks = list(self.transform_blocks(titles).values())
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def save(self, directory: Path) -> None:
        """Write ``features.npz`` (buckets and idf of each block) and ``features.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for name, block in self.blocks.items():
            arrays[f"{name}.buckets"] = block.buckets
            arrays[f"{name}.idf"] = block.idf
        np.savez_compressed(directory / FEATURES_FILE, **arrays)
        config = {
            "params": asdict(self.params),
            "hashing": HASHING,
            "bucket_bits": BUCKET_BITS,
            "meta": list(META),
        }
        (directory / FEATURES_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read what ``save`` wrote; refuse files from another hashing or metadata scheme."""
        try:
            config = json.loads((directory / FEATURES_CONFIG).read_text())
            params = FeatureParams(**config["params"])
            with np.load(directory / FEATURES_FILE, allow_pickle=False) as arrays:
                blocks = {
                    name: HashedTfidf(arrays[f"{name}.buckets"], arrays[f"{name}.idf"])
                    for name in cls._limits(params)
                }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{directory}: unreadable features: {exc}") from exc
        scheme = (config.get("hashing"), config.get("bucket_bits"), config.get("meta"))
        if scheme != (HASHING, BUCKET_BITS, list(META)):
            raise ArtifactError(f"{directory}: features made by another version of the code")
        return cls(params, blocks)
