"""Model registry by name with a promotion log; the source's genres on titles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

* ``models.name``: what a model is for ("genres"); at most one production model per name
  (was: per kind, which let an XGBoost and a BERT model both be "in production").
* ``models.dataset_uri``: where its train/val/test split lives, so a promotion can compare
  two models on the same test split.
* ``model_promotions``: every promotion decision, gated or forced, with the figures.
* ``titles.genres``: the genres the source itself gives (TMDb's, mapped onto the
  taxonomy): the reference labels of training sets built from the database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "titles",
        sa.Column(
            "genres",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column("models", sa.Column("name", sa.Text(), server_default="genres", nullable=False))
    op.add_column("models", sa.Column("dataset_uri", sa.Text(), nullable=True))
    op.drop_index("uq_models_kind_production", table_name="models")
    op.create_index(
        "uq_models_name_production",
        "models",
        ["name"],
        unique=True,
        postgresql_where=sa.text("stage = 'production'"),
    )
    op.create_table(
        "model_promotions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("previous_version", sa.Text(), nullable=True),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("candidate_macro_f1", sa.Float(), nullable=True),
        sa.Column("production_macro_f1", sa.Float(), nullable=True),
        sa.Column("tolerance", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "decided_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_index("ix_model_promotions_name", "model_promotions", ["name", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_model_promotions_name", table_name="model_promotions")
    op.drop_table("model_promotions")
    op.drop_index("uq_models_name_production", table_name="models")
    op.create_index(
        "uq_models_kind_production",
        "models",
        ["kind"],
        unique=True,
        postgresql_where=sa.text("stage = 'production'"),
    )
    op.drop_column("models", "dataset_uri")
    op.drop_column("models", "name")
    op.drop_column("titles", "genres")
