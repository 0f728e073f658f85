"""Score documents as JSON, not JSONB.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

The scorer writes four documents per title it scores: its input (``scorer_inputs.payload``)
and, per window, the score's components (``trend_scores``, ``current_scores``) and the
published event (``current_scores.payload``). Nothing queries inside them; readers take
them whole. JSONB takes every document apart on the way in, JSON only checks it and keeps
its text: measured with COPY of 1 KB documents, 0.028 against 0.010 ms of Postgres CPU per
row. See ``trendkit.db.models._json_document``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, has the '{}' default)
DOCUMENTS = (
    ("scorer_inputs", "payload", False),
    ("trend_scores", "components", True),
    ("current_scores", "components", True),
    ("current_scores", "payload", True),
)


def _retype(to: str) -> None:
    for table, column, has_default in DOCUMENTS:
        if has_default:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')
        op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE {to} USING "{column}"::{to}')
        if has_default:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN \"{column}\" SET DEFAULT '{{}}'::{to}")


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")
