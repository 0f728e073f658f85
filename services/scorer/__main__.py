"""Entry point: ``python -m services.scorer`` (titles.classified → trends.scored)."""

from faststream.asgi import AsgiFastStream

from services.scorer.archive import ScoreArchive
from services.scorer.handlers import ScorerMetrics, ScoreTitles
from services.scorer.settings import ScorerSettings
from trendkit.contracts import TITLES_CLASSIFIED, TitleClassified
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "scorer"


def create_app(settings: ScorerSettings) -> AsgiFastStream:
    """Wire the scorer: one partition-aware batch stage over titles.classified, and a tick."""
    settings = settings.batching()
    ctx = ServiceContext(SERVICE, settings)
    stage = ctx.stage(
        input_topic=TITLES_CLASSIFIED,
        input_model=TitleClassified,
        handler=(
            handler := ScoreTitles(
                ScoreArchive(ctx.db, scorer=settings.topic(SERVICE)),
                settings.scoring_params(),
                settings.clock_policy(),
                ScorerMetrics(ctx.registry),
            )
        ),
        partitioned=True,
    )
    stage.every(settings.tick_s, handler.tick)
    stage.subscribe()
    return ctx.app()


def main() -> None:
    """Run the scorer until stopped."""
    settings = ScorerSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
