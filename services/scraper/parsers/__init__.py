"""Chart page parsers, one per page type, registered by source name."""

from __future__ import annotations

from services.scraper.parsers.base import (
    ChartEntry,
    GridLoadedElsewhere,
    LayoutError,
    Parser,
    to_observed,
)
from services.scraper.parsers.boxofficemojo import BoxOfficeMojoDaily
from services.scraper.parsers.imdb import ImdbMovieMeter
from services.scraper.parsers.letterboxd import LetterboxdPopular
from services.scraper.parsers.rottentomatoes import RottenTomatoesBrowse

PARSERS: dict[str, Parser] = {
    parser.name: parser
    for parser in (
        BoxOfficeMojoDaily(),
        ImdbMovieMeter(),
        RottenTomatoesBrowse(),
        LetterboxdPopular(),
    )
}

__all__ = ["PARSERS", "ChartEntry", "GridLoadedElsewhere", "LayoutError", "Parser", "to_observed"]
