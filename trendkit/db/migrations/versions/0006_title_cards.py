"""A title's description once per title (``title_cards``), not in each window's row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

``current_scores.payload`` held, per window, the whole ``trends.scored`` event that last
carried it: three copies of every description (title, genres, summary, vibe tags), about
1.3 KB each, half of what Postgres spent on the scorer's writes to this table. Now the
row holds the window's score as its history row does (with ``event_id`` and
``previous_rank``), and ``title_cards`` the description of the title's latest event.

Upgrade takes both from the stored payloads (``TitleScored``: the window's entry of its
``windows``; schema version 1: the payload itself); downgrade writes them back as
version-1 payloads, which the readers of that revision take.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DESCRIPTION = ("title", "genres", "summary", "vibe_tags", "scored_by")


def _json_object(fields: Sequence[str], source: str) -> str:
    return "json_build_object(" + ", ".join(f"'{f}', {source}->'{f}'" for f in fields) + ")"


def upgrade() -> None:
    op.create_table(
        "title_cards",
        sa.Column("title_id", sa.Text(), nullable=False),
        sa.Column("description", sa.JSON(), server_default=sa.text("'{}'::json"), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("title_id", name=op.f("pk_title_cards")),
    )
    op.add_column("current_scores", sa.Column("event_id", sa.Text(), nullable=True))
    op.add_column("current_scores", sa.Column("previous_rank", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE current_scores AS c
        SET event_id = coalesce(s.score->>'event_id', c.title_id || ':' || c.window),
            previous_rank = (s.score->>'previous_rank')::int
        FROM (
            SELECT title_id, "window", coalesce(
                (SELECT w FROM json_array_elements(
                    CASE WHEN json_typeof(payload->'windows') = 'array'
                         THEN payload->'windows' ELSE '[]'::json END) AS w
                 WHERE w->>'window' = current_scores."window" LIMIT 1),
                payload) AS score
            FROM current_scores
        ) AS s
        WHERE s.title_id = c.title_id AND s."window" = c."window"
        """
    )
    op.execute(
        f"""
        INSERT INTO title_cards (title_id, description, scored_at)
        SELECT DISTINCT ON (title_id) title_id, {_json_object(DESCRIPTION, "payload")}, scored_at
        FROM current_scores
        ORDER BY title_id, scored_at DESC
        """
    )
    op.alter_column("current_scores", "event_id", nullable=False)
    op.drop_column("current_scores", "payload")


def downgrade() -> None:
    op.add_column(
        "current_scores",
        sa.Column("payload", sa.JSON(), server_default=sa.text("'{}'::json"), nullable=False),
    )
    item = ", ".join(
        [
            "'schema_version', 1",
            "'event_id', c.event_id",
            "'title_id', c.title_id",
            "'observed_at', c.scored_at",
            "'window', c.\"window\"",
            "'score', c.score",
            "'rank', c.rank",
            "'previous_rank', c.previous_rank",
            "'components', c.components",
            "'explanation', c.explanation",
            *(f"'{f}', t.description->'{f}'" for f in DESCRIPTION),
        ]
    )
    op.execute(
        f"""
        UPDATE current_scores AS c SET payload = json_build_object({item})
        FROM title_cards AS t WHERE t.title_id = c.title_id
        """
    )
    op.drop_column("current_scores", "previous_rank")
    op.drop_column("current_scores", "event_id")
    op.drop_table("title_cards")
