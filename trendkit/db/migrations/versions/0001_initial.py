"""Create the initial schema: titles, events, scores, model registry, drift reports.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written out in full rather than imported from the models, so that this revision keeps
meaning the same schema whatever the models become later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "titles",
    "title_aliases",
    "observations",
    "enrichments",
    "classifications",
    "trend_scores",
    "current_scores",
    "models",
    "drift_reports",
    "processed_events",
)


def _tz(name: str, *, now: bool = False, nullable: bool = False) -> sa.Column[object]:
    default = sa.text("now()") if now else None
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def _jsonb(name: str) -> sa.Column[object]:
    return sa.Column(
        name,
        postgresql.JSONB(astext_type=sa.Text()),
        server_default=sa.text("'{}'::jsonb"),
        nullable=False,
    )


def _tags(name: str) -> sa.Column[object]:
    return sa.Column(
        name, postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
    )


def _text(name: str, *, nullable: bool = False, default: str | None = None) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), server_default=default, nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "titles",
        _text("title_id"),
        _text("name"),
        sa.Column("media_type", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        _text("overview", default=""),
        sa.Column("tmdb_id", sa.Integer(), nullable=True),
        _text("poster_url", nullable=True),
        _tz("first_seen_at"),
        _tz("last_seen_at"),
        _tz("updated_at", now=True),
        sa.PrimaryKeyConstraint("title_id", name=op.f("pk_titles")),
    )
    op.create_table(
        "title_aliases",
        _text("alias_key"),
        _text("title_id"),
        _text("alias"),
        _tz("created_at", now=True),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.title_id"],
            name=op.f("fk_title_aliases_title_id_titles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias_key", name=op.f("pk_title_aliases")),
    )
    op.create_index(op.f("ix_title_aliases_title_id"), "title_aliases", ["title_id"])

    op.create_table(
        "observations",
        _text("event_id"),
        _text("title_id"),
        _text("source"),
        sa.Column("rank", sa.Integer(), nullable=False),
        _text("url", nullable=True),
        _jsonb("signals"),
        _tz("observed_at"),
        _tz("ingested_at", now=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_observations")),
    )
    op.create_index(
        op.f("ix_observations_title_id_observed_at"), "observations", ["title_id", "observed_at"]
    )
    op.create_index(
        op.f("ix_observations_source_observed_at"), "observations", ["source", "observed_at"]
    )

    op.create_table(
        "enrichments",
        _text("content_hash"),
        _text("prompt_version"),
        _text("model"),
        _text("provider"),
        _text("title_id"),
        _text("summary"),
        _tags("vibe_tags"),
        _tags("free_tags"),
        _tags("genres"),
        sa.Column("hype_score", sa.Float(), nullable=False),
        _text("hype_reason", default=""),
        _text("audience", nullable=True),
        _tz("created_at", now=True),
        sa.PrimaryKeyConstraint(
            "content_hash", "prompt_version", "model", name=op.f("pk_enrichments")
        ),
    )
    op.create_index(op.f("ix_enrichments_title_id"), "enrichments", ["title_id"])

    op.create_table(
        "classifications",
        _text("event_id"),
        _text("title_id"),
        _text("model_version"),
        _jsonb("probabilities"),
        _tags("genres"),
        _tz("created_at", now=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_classifications")),
    )
    op.create_index(
        op.f("ix_classifications_title_id_created_at"),
        "classifications",
        ["title_id", "created_at"],
    )
    op.create_index(op.f("ix_classifications_model_version"), "classifications", ["model_version"])

    op.create_table(
        "trend_scores",
        _text("event_id"),
        _text("title_id"),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("previous_rank", sa.Integer(), nullable=True),
        _jsonb("components"),
        _text("explanation", default=""),
        _tz("scored_at"),
        _tz("created_at", now=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_trend_scores")),
    )
    op.create_index(
        op.f("ix_trend_scores_title_id_window_scored_at"),
        "trend_scores",
        ["title_id", "window", "scored_at"],
    )

    op.create_table(
        "current_scores",
        _text("title_id"),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        _jsonb("components"),
        _text("explanation", default=""),
        _jsonb("payload"),
        _tz("scored_at"),
        _tz("updated_at", now=True),
        sa.PrimaryKeyConstraint("title_id", "window", name=op.f("pk_current_scores")),
    )
    op.create_index(op.f("ix_current_scores_window_rank"), "current_scores", ["window", "rank"])

    op.create_table(
        "models",
        _text("version"),
        _text("kind"),
        sa.Column("stage", sa.String(length=16), server_default="candidate", nullable=False),
        _jsonb("metrics"),
        _text("data_card_hash", nullable=True),
        _jsonb("params"),
        _text("artifact_uri", nullable=True),
        _tz("created_at", now=True),
        _tz("promoted_at", nullable=True),
        sa.CheckConstraint(
            "stage IN ('candidate', 'production', 'archived')",
            name=op.f("ck_models_stage_known"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_models")),
    )
    op.create_index(
        "uq_models_kind_production",
        "models",
        ["kind"],
        unique=True,
        postgresql_where=sa.text("stage = 'production'"),
    )

    op.create_table(
        "drift_reports",
        _text("id"),
        _tz("ran_at", now=True),
        _text("model_version", nullable=True),
        _jsonb("report"),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        _text("report_uri", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_reports")),
    )
    op.create_index(op.f("ix_drift_reports_ran_at"), "drift_reports", ["ran_at"])

    op.create_table(
        "processed_events",
        _text("consumer"),
        _text("event_id"),
        _tz("processed_at", now=True),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed_events")),
    )


def downgrade() -> None:
    """Revert this revision; dropping a table drops its indexes too."""
    for table in reversed(TABLES):
        op.drop_table(table)
