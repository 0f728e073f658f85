"""Entry point: ``python -m services.classifier`` (titles.enriched → titles.classified)."""

from faststream.asgi import AsgiFastStream

from services.classifier.domain import KeywordBaselineModel
from services.classifier.handlers import ClassifyTitles
from services.classifier.settings import ClassifierSettings
from trendkit.contracts import TITLES_ENRICHED, TitleEnriched
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "classifier"


def create_app(settings: ClassifierSettings) -> AsgiFastStream:
    """Wire the classifier: one batch stage over titles.enriched."""
    ctx = ServiceContext(SERVICE, settings)
    ctx.stage(
        input_topic=TITLES_ENRICHED,
        input_model=TitleEnriched,
        handler=ClassifyTitles(ctx.db, KeywordBaselineModel()),
    ).subscribe()
    return ctx.app()


def main() -> None:
    """Run the classifier until stopped."""
    settings = ClassifierSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
