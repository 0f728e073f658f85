"""Turn an observed title into an enriched one: content hash, provider call, event building.

No FastStream or FastAPI here: the handler decodes and publishes, this module decides.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from trendkit.contracts import (
    Enrichment,
    Provenance,
    TitleEnriched,
    TitleInfo,
    TitleObserved,
    derive_event_id,
    normalise_title,
)
from trendkit.taxonomy import (
    GENRE_KEYWORDS,
    LEXICON_VERSION,
    VIBE_KEYWORDS,
    VIBES,
    keyword_hits,
)

SUMMARY_LIMIT = 280


@dataclass(frozen=True)
class EnrichmentFailure:
    """A title the provider answered for, but not usably (even after one repair attempt).

    It is dead-lettered with both facts, so a person can see what the model said and why
    it was refused.
    """

    error: str  # the validation error, naming the field
    raw_answer: str  # what the model returned for this title, verbatim


class ProviderUnavailable(Exception):
    """The provider could not answer at all (timeouts, 5xx, 429 past its retries, refused).

    Unlike :class:`EnrichmentFailure` this says nothing about the titles: the router counts
    it against the circuit breaker and enriches the batch locally instead.
    """


@dataclass(frozen=True)
class Usage:
    """What one LLM request consumed, as the API's ``usage`` reported it, and its price."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class UsageSink(Protocol):
    """Where a paid provider reports each request's usage (the daily budget's ledger)."""

    async def record(self, usage: Usage) -> None:
        """Add one request's usage to today's spend."""
        ...


class EnrichmentProvider(Protocol):
    """Something that describes titles: an LLM, or the local fallback."""

    provider: str
    model: str
    version: str

    async def enrich(self, titles: Sequence[TitleObserved]) -> list[Enrichment | EnrichmentFailure]:
        """Return one result per title, in order; raise ProviderUnavailable if it cannot."""
        ...


def content_hash(title: TitleInfo) -> str:
    """Hash what the enrichment depends on, so unchanged inputs are never enriched twice."""
    basis = "|".join(
        (
            normalise_title(title.name),
            str(title.year or ""),
            title.media_type,
            title.overview.strip(),
        )
    )
    return hashlib.sha256(basis.encode()).hexdigest()


def cache_key(title: TitleInfo, provenance: Provenance) -> tuple[str, str, str]:
    """Return the durable cache key: content hash, prompt version, model."""
    return (content_hash(title), provenance.version, provenance.model)


def first_sentences(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """Cut text at a sentence boundary within the limit (a word boundary if it must)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    if out:
        return out
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def hype_from_observation(observed: TitleObserved) -> tuple[float, str]:
    """Estimate hype 0–100 from the chart position and the source's rank change."""
    rank = observed.observation.rank
    base = max(0.0, 100.0 - 2.0 * (rank - 1))
    change = observed.observation.signals.get("rank_change", 0.0)
    hype = min(100.0, max(0.0, base + 2.0 * change))
    reason = f"#{rank} on {observed.observation.source}"
    if change:
        reason += f", {'up' if change > 0 else 'down'} {abs(change):g}"
    return round(hype, 1), reason


class LexiconEnricher:
    """The local fallback: keyword lexicon for genres and vibes, the overview as summary."""

    provider = "local"
    model = "keyword-lexicon"
    version = LEXICON_VERSION
    cacheable = False  # cheaper to run again than to look up

    async def enrich(self, titles: Sequence[TitleObserved]) -> list[Enrichment | EnrichmentFailure]:
        """Describe each title without any model (it never fails)."""
        return [self.describe(t) for t in titles]

    def describe(self, observed: TitleObserved) -> Enrichment:
        """Describe one title."""
        title = observed.title
        text = f"{title.name}. {title.overview}"
        genre_hits = keyword_hits(text, GENRE_KEYWORDS)
        genres = sorted(genre_hits, key=lambda g: (-genre_hits[g], g))[:3] or ["Drama"]
        vibe_hits = keyword_hits(text, VIBE_KEYWORDS)
        vibes = sorted(vibe_hits, key=lambda v: (-vibe_hits[v], VIBES.index(v)))[:6]
        hype, reason = hype_from_observation(observed)
        summary = first_sentences(title.overview) or f"{title.name} ({title.year or 'n.d.'})"
        return Enrichment(
            summary=summary,
            vibe_tags=vibes,
            genres=genres,
            hype_score=hype,
            hype_reason=reason,
            provenance=Provenance(provider=self.provider, model=self.model, version=self.version),
        )


def to_enriched(observed: TitleObserved, enrichment: Enrichment) -> TitleEnriched:
    """Build the output event; its id depends only on the input and the enrichment's origin."""
    p = enrichment.provenance
    return TitleEnriched(
        event_id=derive_event_id(observed.event_id, "enricher", p.provider, p.model, p.version),
        title_id=observed.title_id,
        observed_at=observed.observed_at,
        source_event_id=observed.event_id,
        title=observed.title,
        observation=observed.observation,
        enrichment=enrichment,
    )
