"""One scrape cycle of one source: observe, resolve identities, archive, store, publish.

The order makes a crash halfway harmless: everything written is keyed deterministically
(observation event ids, archive keys from content and event ids, alias keys), so running
the cycle again writes the same rows and objects and publishes the same event ids.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.scraper.archive import archive_observations, archive_page
from services.scraper.fetch import PoliteFetcher
from services.scraper.identity import Resolution, TitleIndex, load_index, save_aliases
from services.scraper.parsers import PARSERS
from services.scraper.parsers.base import to_observed
from services.scraper.store import record_observations
from services.scraper.tmdb import TmdbSource
from trendkit.contracts import TITLES_RAW, Provenance, TitleObserved, derive_event_id
from trendkit.db.database import Database
from trendkit.objectstore import ObjectStore
from trendkit.publish import BatchPublisher, Outbound

log = logging.getLogger(__name__)


@dataclass
class Observed:
    """What one source showed: its observations and the raw bodies they came from."""

    observations: list[TitleObserved]
    pages: list[RawPage] = field(default_factory=list)


@dataclass(frozen=True)
class RawPage:
    """A fetched body, kept for the raw archive."""

    body: bytes
    fetched_at: datetime
    suffix: str = "html"


async def observe_html(
    source: str, url: str, fetcher: PoliteFetcher, observed_at: datetime
) -> Observed:
    """Fetch a configured chart page and parse it (an unchanged page observes nothing)."""
    result = await fetcher.fetch(url)
    if result.not_modified or result.body is None:
        # Not "everything dropped out": the chart is as it was, so nothing new is said.
        log.info("%s: %s not modified since the last cycle", source, url)
        return Observed([])
    entries = PARSERS[source].parse(result.body, base_url=result.url)
    provenance = Provenance(
        provider="html", model=source, version=hashlib.sha256(result.body).hexdigest()[:12]
    )
    observations = [
        to_observed(e, source=source, observed_at=observed_at, scraped_by=provenance)
        for e in entries
    ]
    return Observed(observations, [RawPage(result.body, result.fetched_at)])


async def observe_tmdb(
    source: TmdbSource, observed_at: datetime, bodies: Sequence[bytes] = ()
) -> Observed:
    """Observe TMDb's lists; ``bodies`` are the API answers collected meanwhile, to archive."""
    observations = await source.observe(observed_at)
    return Observed(observations, [RawPage(b, observed_at, "json") for b in bodies])


def resolve_identities(
    observations: Sequence[TitleObserved], index: TitleIndex
) -> tuple[list[TitleObserved], list[Resolution]]:
    """Give every observation the title id its title resolves to, across sources."""
    resolved: list[TitleObserved] = []
    resolutions: list[Resolution] = []
    for o in observations:
        r = index.resolve(o.title.name, o.title.year, o.title.media_type, o.title.tmdb_id)
        resolutions.append(r)
        if r.title_id != o.title_id:
            event_id = derive_event_id(
                o.observation.source,
                r.title_id,
                o.observed_at.isoformat(),
                str(o.observation.rank),
            )
            o = o.model_copy(update={"title_id": r.title_id, "event_id": event_id})
        resolved.append(o)
    return resolved, resolutions


async def store_and_publish(
    observed: Observed,
    *,
    source: str,
    db: Database,
    store: ObjectStore,
    publisher: BatchPublisher,
    observed_at: datetime,
) -> list[TitleObserved]:
    """Resolve, archive, store and publish one cycle's observations; return them."""
    index = await load_index(db)
    observations, resolutions = resolve_identities(observed.observations, index)
    for page in observed.pages:
        await archive_page(
            store, source=source, fetched_at=page.fetched_at, body=page.body, suffix=page.suffix
        )
    if not observations:
        return []
    await archive_observations(store, observations)
    await save_aliases(db, resolutions, seen_at=observed_at)
    await record_observations(db, observations)
    await publisher.publish([Outbound(TITLES_RAW, o) for o in observations])
    return observations
