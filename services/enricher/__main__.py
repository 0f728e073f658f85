"""Entry point: ``python -m services.enricher`` (titles.raw → titles.enriched)."""

from faststream.asgi import AsgiFastStream

from services.enricher.domain import LexiconEnricher
from services.enricher.handlers import EnrichTitles
from services.enricher.settings import EnricherSettings
from trendkit.contracts import TITLES_RAW, TitleObserved
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "enricher"


def create_app(settings: EnricherSettings) -> AsgiFastStream:
    """Wire the enricher: one batch stage over titles.raw."""
    ctx = ServiceContext(SERVICE, settings)
    ctx.stage(
        input_topic=TITLES_RAW,
        input_model=TitleObserved,
        handler=EnrichTitles(ctx.db, LexiconEnricher()),
    ).subscribe()
    return ctx.app()


def main() -> None:
    """Run the enricher until stopped."""
    settings = EnricherSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
