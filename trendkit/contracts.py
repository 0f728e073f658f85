"""The contract between services: one pydantic model per topic, topic names beside them.

Every service imports this module; no service redeclares a message. Events are named in
the past tense. The Kafka message key is always ``title_id`` so that every event of one
title lands on one partition, in order.

Derived events get a deterministic ``event_id`` (:func:`derive_event_id`), so republishing
the same input yields the same output and downstream upserts stay idempotent.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

# --- topics -------------------------------------------------------------------------

TITLES_RAW = "titles.raw"
TITLES_ENRICHED = "titles.enriched"
TITLES_CLASSIFIED = "titles.classified"
TRENDS_SCORED = "trends.scored"
PIPELINE_TOPICS = (TITLES_RAW, TITLES_ENRICHED, TITLES_CLASSIFIED, TRENDS_SCORED)
DLQ_SUFFIX = ".dlq"


def dlq_topic(topic: str) -> str:
    """Name the dead-letter twin of a topic."""
    return f"{topic}{DLQ_SUFFIX}"


# --- shared field types -------------------------------------------------------------

MediaType = Literal["movie", "tv"]
Window = Literal["live", "day", "week"]
WINDOWS: tuple[Window, ...] = ("live", "day", "week")

_TITLE_ID = re.compile(r"^(tmdb:(movie|tv):\d+|title:(movie|tv):[0-9a-f]{16})$")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
"""A timezone-aware datetime, normalised to UTC (naive datetimes are rejected)."""


def _check_title_id(value: str) -> str:
    if not _TITLE_ID.match(value):
        raise ValueError(
            "title_id must look like 'tmdb:movie:603', 'tmdb:tv:1396' or "
            f"'title:movie:<16 hex>', got {value!r}"
        )
    return value


TitleId = Annotated[str, AfterValidator(_check_title_id)]


def normalise_title(title: str) -> str:
    """Fold a title for identity: case, accents, punctuation, a trailing ', The'."""
    # Drop accents but keep every script's letters: folding to ASCII would turn a title
    # written in, say, Japanese into "" and give all of them one id.
    decomposed = unicodedata.normalize("NFKD", title)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()
    folded = re.sub(r"\s*\(\d{4}\)\s*$", "", folded)  # "The Matrix (1999)"
    folded = re.sub(r"^(.*),\s*(the|a|an)$", r"\2 \1", folded)  # "Matrix, The"
    folded = re.sub(r"[\W_]+", " ", folded)
    return " ".join(folded.split())


def make_title_id(
    *, media_type: MediaType, tmdb_id: int | None = None, title: str = "", year: int | None = None
) -> str:
    """Return the stable id of a title: the TMDb id when known, else a hash of its identity."""
    if tmdb_id is not None:
        return f"tmdb:{media_type}:{tmdb_id}"
    basis = f"{normalise_title(title)}|{year or ''}|{media_type}"
    return f"title:{media_type}:{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


_EVENT_NAMESPACE = uuid.UUID("6f1c2d8e-31a5-4c55-9a8e-2b7d0c1f9e42")
_NAMESPACE_BYTES = _EVENT_NAMESPACE.bytes


def derive_event_id(*parts: str) -> str:
    """Return a deterministic event id from the input event id and what derived it.

    The UUID version 5 of the joined parts in our namespace (RFC 9562), built here
    rather than by ``uuid.uuid5``, whose ``UUID`` object costs more to make than the
    hash: every stage derives one id per output, the scorer three per title.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "|".join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- building blocks ----------------------------------------------------------------


class Contract(BaseModel):
    """Base for every payload: strict about unknown fields and immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(Contract):
    """Who derived a field: the provider, the model, and the prompt or model version."""

    provider: str = Field(min_length=1, examples=["openai", "local-minilm", "xgboost"])
    model: str = Field(min_length=1)
    version: str = Field(min_length=1, description="prompt version or model version")


class TitleInfo(Contract):
    """What a title is, as the scraper resolved it."""

    name: str = Field(min_length=1, max_length=500)
    media_type: MediaType
    year: int | None = Field(default=None, ge=1870, le=2100)
    overview: str = Field(default="", max_length=5000)
    tmdb_id: int | None = Field(default=None, ge=1)
    poster_url: str | None = None
    genres: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="the source's own genres (TMDb's), mapped onto the project's taxonomy",
    )


class Observation(Contract):
    """One title seen at one rank on one source: the raw fact everything else builds on."""

    source: str = Field(min_length=1, max_length=64, examples=["tmdb_trending_day"])
    rank: int = Field(ge=1, le=10_000)
    url: str | None = None
    signals: dict[str, float] = Field(
        default_factory=dict, description="the source's own numbers: gross, rank change…"
    )


class Enrichment(Contract):
    """What the LLM (or the local fallback) said about a title."""

    summary: str = Field(max_length=280)
    vibe_tags: list[str] = Field(default_factory=list, max_length=6)
    free_tags: list[str] = Field(default_factory=list, max_length=12)
    genres: list[str] = Field(default_factory=list)
    hype_score: float = Field(ge=0, le=100)
    hype_reason: str = Field(default="", max_length=200)
    audience: str | None = None
    provenance: Provenance


class Classification(Contract):
    """Genre probabilities from our own model, stamped with its version."""

    probabilities: dict[str, float]
    genres: list[str] = Field(description="labels above their decision threshold")
    provenance: Provenance

    @field_validator("probabilities")
    @classmethod
    def _probabilities_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for label, p in value.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"probability of {label!r} must be within [0, 1], got {p}")
        return value


class ScoreComponents(Contract):
    """The parts a trend score is made of, so the UI can say why a title trends."""

    sources: dict[str, float] = Field(default_factory=dict, description="points per source")
    agreement: float = 0.0
    velocity: float = 0.0
    hype: float = 0.0
    decay: float = Field(default=1.0, description="multiplier applied for time since seen")
    raw: float = Field(default=0.0, description="the score before normalisation")


class Event(Contract):
    """Fields every event carries."""

    schema_version: Literal[1] = 1
    event_id: str = Field(min_length=8, max_length=64)
    title_id: TitleId
    observed_at: UtcDatetime = Field(description="event time: when the source showed it")

    @property
    def key(self) -> bytes:
        """Return the Kafka message key."""
        return self.title_id.encode()


# --- one model per topic ------------------------------------------------------------


class TitleObserved(Event):
    """``titles.raw``: the scraper saw a title on a source."""

    title: TitleInfo
    observation: Observation
    scraped_by: Provenance


class TitleEnriched(Event):
    """``titles.enriched``: the enricher described the title."""

    source_event_id: str
    title: TitleInfo
    observation: Observation
    enrichment: Enrichment


class TitleClassified(Event):
    """``titles.classified``: the classifier gave genre probabilities."""

    source_event_id: str
    title: TitleInfo
    observation: Observation
    enrichment: Enrichment
    classification: Classification


class ScoreInWindow(Contract):
    """A title's score in one window: what a ranking item and a scored event share."""

    window: Window
    score: float = Field(ge=0, le=100)
    rank: int = Field(ge=1)
    previous_rank: int | None = None
    components: ScoreComponents
    explanation: str = Field(default="", description="one sentence: why it is trending")


class TitleDescription(Contract):
    """What describes a scored title: what a ranking item and a scored event share."""

    title: TitleInfo
    genres: list[str] = Field(default_factory=list)
    summary: str = ""
    vibe_tags: list[str] = Field(default_factory=list)
    scored_by: Provenance


def _fields_of(value: BaseModel, model: type[BaseModel]) -> dict[str, Any]:
    """Return ``value``'s values of ``model``'s fields (a part it shares with ``model``)."""
    return {name: getattr(value, name) for name in model.model_fields}


class TrendScored(Event, ScoreInWindow, TitleDescription):
    """A title's score in one window: an item of a ranking, as the api serves it.

    Not a topic's message: ``trends.scored`` carries :class:`TitleScored`, one event per
    title and scoring instant with every window that moved; :meth:`TitleScored.items`
    unfolds it into these. The history keeps one row per item, keyed by its ``event_id``.
    """


class WindowScore(ScoreInWindow):
    """A title's new score in one window, inside a :class:`TitleScored` event."""

    event_id: str = Field(
        min_length=8, max_length=64, description="this score's own id (the history's key)"
    )


def _one_per_window(value: list[WindowScore]) -> list[WindowScore]:
    windows = [w.window for w in value]
    if len(set(windows)) != len(windows):
        raise ValueError(f"each window may appear once, got {windows}")
    return value


class TitleScored(Event, TitleDescription):
    """``trends.scored``: a title's score changed meaningfully in one window or more.

    One event per title and scoring instant, carrying only the windows that moved: what
    describes the title (name, genres, summary…) travels once, not once per window.
    Schema version 2: version 1 was one event per window (:class:`TrendScored`'s fields).
    """

    schema_version: Literal[2] = 2  # type: ignore[assignment]
    windows: Annotated[list[WindowScore], AfterValidator(_one_per_window)] = Field(
        min_length=1, max_length=len(WINDOWS)
    )

    @staticmethod
    def derive_id(windows: Sequence[WindowScore]) -> str:
        """Return the event's id: derived from its windows' ids, which fix the title, the
        instant and every score in it."""
        return derive_event_id(*(w.event_id for w in windows))

    def item(self, score: WindowScore) -> TrendScored:
        """Return one of the event's windows as a ranking item (no validation: its parts
        were validated, and the api unfolds every event it follows)."""
        return TrendScored.model_construct(
            title_id=self.title_id,
            observed_at=self.observed_at,
            **dict(score),
            **_fields_of(self, TitleDescription),
        )

    def items(self) -> list[TrendScored]:
        """Return every window of the event as a ranking item."""
        return [self.item(score) for score in self.windows]

    @classmethod
    def of(cls, items: Sequence[TrendScored]) -> TitleScored:
        """Fold ranking items of one title and instant into one event (the inverse of
        :meth:`items`); the first item gives the title's description."""
        if not items:
            raise ValueError("a TitleScored event needs at least one item")
        first = items[0]
        if any(i.title_id != first.title_id or i.observed_at != first.observed_at for i in items):
            raise ValueError("a TitleScored event holds one title at one instant")
        windows = [WindowScore.model_validate(_fields_of(i, WindowScore)) for i in items]
        return cls(
            event_id=cls.derive_id(windows),
            title_id=first.title_id,
            observed_at=first.observed_at,
            windows=windows,
            **_fields_of(first, TitleDescription),
        )


class DeadLetter(Contract):
    """``<topic>.dlq``: a message that could not be processed, kept whole with the reason."""

    schema_version: Literal[1] = 1
    topic: str
    partition: int
    offset: int
    key: str | None = Field(description="original key, latin-1 decoded")
    value: str = Field(description="original bytes, base64")
    headers: dict[str, str] = Field(default_factory=dict, description="values base64")
    error: str
    error_type: str
    service: str
    attempts: int = Field(ge=1)
    failed_at: UtcDatetime
    context: dict[str, str] = Field(
        default_factory=dict,
        description="what else explains the failure, e.g. the LLM's raw answer",
    )


TOPIC_MODELS: dict[str, type[Event]] = {
    TITLES_RAW: TitleObserved,
    TITLES_ENRICHED: TitleEnriched,
    TITLES_CLASSIFIED: TitleClassified,
    TRENDS_SCORED: TitleScored,
}


def now_utc() -> datetime:
    """Return the current time in UTC (one place, so tests can reason about it)."""
    return datetime.now(UTC)


def describe_validation_error(error: Any) -> str:
    """Render a pydantic ValidationError as 'field.path: message; ...'."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "<payload>"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
