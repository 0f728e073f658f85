"""Entry point: ``python -m services.scorer`` (titles.classified → trends.scored)."""

from faststream.asgi import AsgiFastStream

from services.scorer.handlers import ScoreTitles
from services.scorer.scoring import ScoringParams, TrendBoard
from services.scorer.settings import ScorerSettings
from trendkit.contracts import TITLES_CLASSIFIED, TitleClassified
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "scorer"


def create_app(settings: ScorerSettings) -> AsgiFastStream:
    """Wire the scorer: one batch stage over titles.classified."""
    ctx = ServiceContext(SERVICE, settings)
    params = ScoringParams(
        rank_scale=settings.rank_scale,
        min_score_change=settings.min_score_change,
        min_rank_change=settings.min_rank_change,
        publish_top_n=settings.publish_top_n,
        agreement_bonus=settings.agreement_bonus,
        velocity_weight=settings.velocity_weight,
        hype_weight=settings.hype_weight,
    ).time_scaled(settings.time_scale)
    ctx.stage(
        input_topic=TITLES_CLASSIFIED,
        input_model=TitleClassified,
        handler=ScoreTitles(ctx.db, TrendBoard(params)),
    ).subscribe()
    return ctx.app()


def main() -> None:
    """Run the scorer until stopped."""
    settings = ScorerSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
