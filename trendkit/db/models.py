"""Declarative models of every table; Alembic migrations own the schema, these mirror it.

Event tables (observations, enrichments, classifications, trend_scores) carry ``title_id``
without a foreign key on purpose: each service writes its own tables from its own topic,
and a foreign key would make one service's write wait on another's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

# Fixed constraint names keep Alembic's autogenerate and downgrades stable across databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

Json = dict[str, Any]
MODEL_STAGES = ("candidate", "production", "archived")


def _tz(*, default_now: bool = False, nullable: bool = False) -> MappedColumn[Any]:
    """Return a timestamptz column, defaulting to the database's now() when asked."""
    return mapped_column(
        DateTime(timezone=True),
        nullable=nullable,
        server_default=func.now() if default_now else None,
    )


def _json() -> MappedColumn[Any]:
    """Return a JSONB column defaulting to an empty object."""
    return mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))


def _json_document(*, nullable: bool = False) -> MappedColumn[Any]:
    """Return a JSON (not JSONB) column: for documents written per score and read whole.

    JSONB takes apart every document it stores; JSON only checks it and keeps the text.
    The scorer writes four such documents per title it scores (its input, and three
    scores with their components), nothing queries inside them, and the readers take
    them whole. Measured on this machine (COPY of 1 KB documents): Postgres spent
    0.028 ms of CPU per row as JSONB, 0.010 ms as JSON.
    """
    if nullable:
        return mapped_column(JSON, nullable=True)
    return mapped_column(JSON, nullable=False, server_default=text("'{}'::json"))


def _tags() -> MappedColumn[Any]:
    """Return a text[] column defaulting to an empty array."""
    return mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))


class Base(DeclarativeBase):
    """Base of every model; shares the one MetaData that Alembic compares against."""

    metadata = metadata


class Title(Base):
    """A movie or show, resolved once by the scraper."""

    __tablename__ = "titles"

    title_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(8))
    year: Mapped[int | None] = mapped_column(Integer)
    overview: Mapped[str] = mapped_column(Text, server_default="")
    tmdb_id: Mapped[int | None] = mapped_column(Integer)
    poster_url: Mapped[str | None] = mapped_column(Text)
    # The source's own genres (TMDb's, mapped onto the taxonomy): training labels.
    genres: Mapped[list[str]] = _tags()
    first_seen_at: Mapped[datetime] = _tz()
    last_seen_at: Mapped[datetime] = _tz()
    updated_at: Mapped[datetime] = _tz(default_now=True)


class TitleAlias(Base):
    """A spelling of a title ("Matrix, The") keyed by normalised title|year|media_type."""

    __tablename__ = "title_aliases"

    alias_key: Mapped[str] = mapped_column(Text, primary_key=True)
    title_id: Mapped[str] = mapped_column(
        Text, ForeignKey("titles.title_id", ondelete="CASCADE"), index=True
    )
    alias: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _tz(default_now=True)


class ObservationRow(Base):
    """One title seen at one rank on one source; append-only."""

    __tablename__ = "observations"
    __table_args__ = (
        Index(None, "title_id", "observed_at"),
        Index(None, "source", "observed_at"),
    )

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    title_id: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    rank: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    signals: Mapped[Json] = _json()
    observed_at: Mapped[datetime] = _tz()
    ingested_at: Mapped[datetime] = _tz(default_now=True)


class EnrichmentRow(Base):
    """What an LLM said about some title content under one prompt version and model."""

    __tablename__ = "enrichments"

    content_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    prompt_version: Mapped[str] = mapped_column(Text, primary_key=True)
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    provider: Mapped[str] = mapped_column(Text)
    # The title the enrichment was first made for; identical content may serve several.
    title_id: Mapped[str] = mapped_column(Text, index=True)
    summary: Mapped[str] = mapped_column(Text)
    vibe_tags: Mapped[list[str]] = _tags()
    free_tags: Mapped[list[str]] = _tags()
    genres: Mapped[list[str]] = _tags()
    hype_score: Mapped[float] = mapped_column(Float)
    hype_reason: Mapped[str] = mapped_column(Text, server_default="")
    audience: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _tz(default_now=True)


class LlmUsage(Base):
    """What the LLM cost on one UTC day for one model: the ledger of the daily budget."""

    __tablename__ = "llm_usage"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, server_default="0")
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cost_usd: Mapped[float] = mapped_column(Float, server_default="0")
    updated_at: Mapped[datetime] = _tz(default_now=True)


class ClassificationRow(Base):
    """Genre probabilities for one enriched event, stamped with the model version."""

    __tablename__ = "classifications"
    __table_args__ = (Index(None, "title_id", "created_at"),)

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    title_id: Mapped[str] = mapped_column(Text)
    model_version: Mapped[str] = mapped_column(Text, index=True)
    probabilities: Mapped[Json] = _json()
    genres: Mapped[list[str]] = _tags()
    created_at: Mapped[datetime] = _tz(default_now=True)


class TrendScoreRow(Base):
    """One published score of a title in one window: the history behind the chart."""

    __tablename__ = "trend_scores"
    __table_args__ = (Index(None, "title_id", "window", "scored_at"),)

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    title_id: Mapped[str] = mapped_column(Text)
    window: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    components: Mapped[Json] = _json_document()
    explanation: Mapped[str] = mapped_column(Text, server_default="")
    scored_at: Mapped[datetime] = _tz()
    created_at: Mapped[datetime] = _tz(default_now=True)


class CurrentScore(Base):
    """The latest score of a title per window; the api builds its start-up snapshot here.

    The row is the window's latest ``trend_scores`` row; what describes the title is in
    ``title_cards``, once per title (it was each window's copy of the whole event: three
    copies of every description, half of what Postgres spent on this table).
    """

    __tablename__ = "current_scores"
    __table_args__ = (Index(None, "window", "rank"),)

    title_id: Mapped[str] = mapped_column(Text, primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    event_id: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    components: Mapped[Json] = _json_document()
    explanation: Mapped[str] = mapped_column(Text, server_default="")
    scored_at: Mapped[datetime] = _tz()
    updated_at: Mapped[datetime] = _tz(default_now=True)


SCORE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in CurrentScore.__table__.c if c.name in TrendScoreRow.__table__.c
)
"""A window's score as both score tables hold it: a ``current_scores`` row is the
window's latest ``trend_scores`` row, these columns of it."""


class TitleCard(Base):
    """What the UI shows of a scored title: the description its latest score carried.

    ``description``: the ``TitleDescription`` part of the last ``trends.scored`` event of
    the title (name and facts, genres, summary, vibe tags, who scored it).
    """

    __tablename__ = "title_cards"

    title_id: Mapped[str] = mapped_column(Text, primary_key=True)
    description: Mapped[Json] = _json_document()
    scored_at: Mapped[datetime] = _tz()
    updated_at: Mapped[datetime] = _tz(default_now=True)


class ModelVersion(Base):
    """A trained model in the registry; at most one production model per name."""

    __tablename__ = "models"
    __table_args__ = (
        CheckConstraint(f"stage IN {MODEL_STAGES!r}", name="stage_known"),
        # Promotion archives the old production model first, in the same transaction.
        Index(
            "uq_models_name_production",
            "name",
            unique=True,
            postgresql_where=text("stage = 'production'"),
        ),
    )

    version: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, server_default="genres")
    kind: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16), server_default="candidate")
    metrics: Mapped[Json] = _json()
    data_card_hash: Mapped[str | None] = mapped_column(Text)
    dataset_uri: Mapped[str | None] = mapped_column(Text)
    params: Mapped[Json] = _json()
    artifact_uri: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _tz(default_now=True)
    promoted_at: Mapped[datetime | None] = _tz(nullable=True)


class ModelPromotion(Base):
    """One promotion decision: who was asked for, what the gate saw, what it decided."""

    __tablename__ = "model_promotions"
    __table_args__ = (Index("ix_model_promotions_name", "name", "decided_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text)
    previous_version: Mapped[str | None] = mapped_column(Text)
    promoted: Mapped[bool] = mapped_column(Boolean)
    forced: Mapped[bool] = mapped_column(Boolean)
    candidate_macro_f1: Mapped[float | None] = mapped_column(Float)
    production_macro_f1: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = _tz(default_now=True)


class DriftReport(Base):
    """One drift run: its verdict, the full report, and where the rendered copy lives."""

    __tablename__ = "drift_reports"
    __table_args__ = (Index(None, "ran_at"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    ran_at: Mapped[datetime] = _tz(default_now=True)
    model_version: Mapped[str | None] = mapped_column(Text)
    report: Mapped[Json] = _json()
    verdict: Mapped[str] = mapped_column(String(16))
    report_uri: Mapped[str | None] = mapped_column(Text)


class ProcessedEvent(Base):
    """A consumer's record of an event it handled, where no natural key makes writes idempotent."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    processed_at: Mapped[datetime] = _tz(default_now=True)


class ScorerInput(Base):
    """Everything the scorer was given, in event time: its archive for restarts and replays.

    Observations carry the whole ``TitleClassified`` event; clock ticks (event time moving
    on with no observation) have no title and no payload. ``late``: arrived after the
    watermark had passed it, so it was archived but not applied.
    """

    __tablename__ = "scorer_inputs"
    __table_args__ = (Index(None, "observed_at", "event_id"),)

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    title_id: Mapped[str | None] = mapped_column(Text)
    partition: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime] = _tz()
    late: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    payload: Mapped[Json | None] = _json_document(nullable=True)
    received_at: Mapped[datetime] = _tz(default_now=True)


class ScorerState(Base):
    """How far the scorer's watermark has released inputs (one row per scorer group)."""

    __tablename__ = "scorer_state"

    scorer: Mapped[str] = mapped_column(Text, primary_key=True)
    released_before: Mapped[datetime | None] = _tz(nullable=True)
    updated_at: Mapped[datetime] = _tz(default_now=True)
