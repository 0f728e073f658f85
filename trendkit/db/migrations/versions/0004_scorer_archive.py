"""The scorer's archive of inputs and its watermark.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

* ``scorer_inputs``: every observation the scorer was given (the whole event), and the
  clock ticks it applied; late arrivals are kept too, flagged. The scorer rebuilds its
  state from here on start-up, and ``trending replay`` recomputes scores from here.
* ``scorer_state``: how far the watermark has released inputs, per scorer group.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scorer_inputs",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("title_id", sa.Text(), nullable=True),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_scorer_inputs")),
    )
    op.create_index(
        op.f("ix_scorer_inputs_observed_at_event_id"),
        "scorer_inputs",
        ["observed_at", "event_id"],
    )
    op.create_table(
        "scorer_state",
        sa.Column("scorer", sa.Text(), nullable=False),
        sa.Column("released_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("scorer", name=op.f("pk_scorer_state")),
    )


def downgrade() -> None:
    op.drop_table("scorer_state")
    op.drop_index(op.f("ix_scorer_inputs_observed_at_event_id"), table_name="scorer_inputs")
    op.drop_table("scorer_inputs")
