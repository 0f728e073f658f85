"""Scoring throughput and coalescing, beside a scorer that recomputes everything per batch.

    python -m bench.scorer [--observations 50000] [--titles 1500] [--batch 500]

The stream imitates chart scrapes: four sources, each publishing its top 100 every 15
minutes of event time (staggered), over a universe of ``--titles`` titles whose
popularity drifts between scrapes (``--churn``: how much a chart moves per scrape).
Observations go through the scorer's core (event clock + board,
``services.scorer.engine``) in batches of ``--batch``, spread over six partitions, as
the service feeds them; serialising the updates to JSON is included (the service
publishes them), Postgres and Kafka are not (``bench.pipeline`` has those).

Figures: observations/s and updates published per 1,000 observations with the default
thresholds (an update is one window's new score; one ``trends.scored`` event carries a
title's updates of one instant); the updates the same scorer publishes with no
thresholds (every change: the coalescing is the ratio of the two); and the peer, which
rescores every title in every window and re-sorts after each batch (a scorer without the
incremental ranking), and counts every (score, rank) change per batch (it builds no
events, so its speed is an upper bound for that design). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from services.scorer.engine import ClockPolicy, Scorer
from services.scorer.scoring import ScoringParams, TitleState, contribution
from trendkit.contracts import (
    WINDOWS,
    Classification,
    Enrichment,
    Observation,
    Provenance,
    TitleClassified,
    TitleInfo,
    make_title_id,
)

SOURCES = ("tmdb_trending_day", "imdb_moviemeter", "netflix_top10", "letterboxd_popular")
CHART = 100
PARTITIONS = 6
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def chart_stream(n: int, titles: int, churn: float, seed: int = 11) -> list[TitleClassified]:
    """Return n observations: charts of the top 100 by drifting popularity."""
    rnd = random.Random(seed)
    provenance = Provenance(provider="bench", model="synthetic", version="1")
    popularity = [rnd.lognormvariate(0, 1) for _ in range(titles)]
    infos = [
        TitleInfo(name=f"Bench Title {i}", media_type="movie", year=2025, overview="A heist.")
        for i in range(titles)
    ]
    ids = [make_title_id(media_type="movie", title=t.name, year=2025) for t in infos]
    enrichment = Enrichment(
        summary="A heist.", genres=["Crime"], hype_score=50, provenance=provenance
    )
    classification = Classification(
        probabilities={"Crime": 0.9}, genres=["Crime"], provenance=provenance
    )
    out: list[TitleClassified] = []
    scrape = 0
    while len(out) < n:
        source = SOURCES[scrape % len(SOURCES)]
        at = T0 + timedelta(minutes=15 * scrape / len(SOURCES))
        popularity = [p * rnd.lognormvariate(0, churn / 2) for p in popularity]
        noisy = sorted(
            range(titles), key=lambda i: -popularity[i] * rnd.uniform(1 - churn, 1 + churn)
        )
        for rank, i in enumerate(noisy[:CHART], start=1):
            out.append(
                TitleClassified.model_construct(
                    event_id=str(uuid.UUID(int=rnd.getrandbits(128))),
                    title_id=ids[i],
                    observed_at=at,
                    source_event_id=str(uuid.UUID(int=rnd.getrandbits(128))),
                    title=infos[i],
                    observation=Observation(source=source, rank=rank),
                    enrichment=enrichment,
                    classification=classification,
                )
            )
        scrape += 1
    return out[:n]


def run_scorer(
    stream: Sequence[TitleClassified], batch: int, params: ScoringParams | None = None
) -> tuple[float, int]:
    """Feed the scorer's core in batches; return (seconds, updates published)."""
    scorer = Scorer(
        params or ScoringParams(),
        ClockPolicy(lateness=timedelta(minutes=1), partitions=tuple(range(PARTITIONS))),
    )
    updates = 0
    began = time.perf_counter()
    for start in range(0, len(stream), batch):
        chunk = [(hash(e.title_id) % PARTITIONS, e) for e in stream[start : start + batch]]
        step = scorer.accept(chunk, wall=0.0)
        updates += sum(len(o.windows) for o in step.outputs if o.model_dump_json())
    step = scorer.tick(wall=1e9, wall_time=T0)  # the end: release what waits
    updates += sum(len(o.windows) for o in step.outputs if o.model_dump_json())
    return time.perf_counter() - began, updates


def run_peer(stream: Sequence[TitleClassified], batch: int) -> tuple[float, int]:
    """Rescore every title in every window after each batch; publish any change."""
    params = ScoringParams()
    titles: dict[str, TitleState] = {}
    last: dict[tuple[str, str], tuple[float, int]] = {}
    updates = 0
    began = time.perf_counter()
    for start in range(0, len(stream), batch):
        chunk = sorted(stream[start : start + batch], key=lambda e: (e.observed_at, e.event_id))
        for e in chunk:
            state = titles.setdefault(e.title_id, TitleState(latest=e))
            state.fold(e)
        now = chunk[-1].observed_at
        for window in WINDOWS:
            scored = {
                t: c.raw for t, s in titles.items() if (c := contribution(params, window, s, now))
            }
            ranked = sorted(scored, key=lambda t: (-scored[t], t))
            top = scored[ranked[0]] if ranked else 1.0
            for rank, t in enumerate(ranked, start=1):
                now_score = (round(100 * scored[t] / top, 2), rank)
                if last.get((window, t)) != now_score:
                    last[(window, t)] = now_score
                    updates += 1
    return time.perf_counter() - began, updates


def main(argv: Sequence[str] | None = None) -> None:
    """Run both and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--observations", type=int, default=50_000)
    parser.add_argument("--titles", type=int, default=1_500)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--churn",
        type=float,
        default=0.05,
        help="popularity noise per scrape (0.05: charts move a few places; 0.3: reshuffled)",
    )
    args = parser.parse_args(argv)

    stream = chart_stream(args.observations, args.titles, args.churn)
    hours = (stream[-1].observed_at - stream[0].observed_at).total_seconds() / 3600
    print(
        f"{len(stream):,} observations of {args.titles:,} titles over {hours:.0f} h of event "
        f"time, batches of {args.batch}"
    )
    seconds, updates = run_scorer(stream, args.batch)
    every_change = ScoringParams(min_score_change=0, min_rank_change=1, rank_change_share=0)
    _, unfiltered = run_scorer(stream, args.batch, every_change)
    peer_seconds, peer_updates = run_peer(stream, args.batch)
    rate, peer_rate = len(stream) / seconds, len(stream) / peer_seconds
    per_k, peer_per_k = 1000 * updates / len(stream), 1000 * peer_updates / len(stream)
    print(f"  scorer: {rate:,.0f} observations/s, {per_k:.0f} updates per 1,000 observations")
    print(f"  peer (rescore all per batch): {peer_rate:,.0f} observations/s, {peer_per_k:.0f}")
    all_per_k = 1000 * unfiltered / len(stream)
    print(f"  the same scorer publishing every change: {all_per_k:.0f} updates per 1,000")
    print(f"  speed ratio {rate / peer_rate:.2f}, updates kept {per_k / all_per_k:.3f}")
    print(
        json.dumps(
            {
                "observations_per_s": round(rate, 1),
                "updates_per_1000": round(per_k, 1),
                "peer_observations_per_s": round(peer_rate, 1),
                "peer_updates_per_1000": round(peer_per_k, 1),
                "every_change_updates_per_1000": round(all_per_k, 1),
                "speed_ratio": round(rate / peer_rate, 2),
                "observations": len(stream),
                "titles": args.titles,
                "batch": args.batch,
                "churn": args.churn,
            }
        )
    )


if __name__ == "__main__":
    main()
