"""Drain a backlog of classified titles with the scorer alone; compare batch sizes.

    python -m bench.scorer_drain [--titles 20000] [--batch-sizes 500,2000] [--reps 3]

In ``bench.pipeline``'s flood the scorer is the stage the last titles wait on, but every
stage, the broker and Postgres share the two cores, so its figures move with everything
else (±15 % between runs of the same code). This isolates the scorer: the enricher and
classifier fill ``titles.classified`` once; then, per run, the scorer service (a real
process, on the embedded Tansu and Postgres) starts on a fresh copy of that backlog with
empty scorer tables, and the clock runs from its first ``trends.scored`` event to the
last title's. Runs of each ``SCORER_BATCH_SIZE`` alternate, so a slow moment of the
machine falls on all of them. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text

from bench.common import CpuMeter, exit_cleanly_on_sigterm
from bench.pipeline import (
    STALLED_S,
    bench_stack,
    flooding_producer,
    open_reader,
    per_title_ms,
    services_env,
    then_next_chart,
    title_id_of,
    wait_assigned,
)
from stack.supervisor import Supervisor
from trendkit.contracts import TITLES_CLASSIFIED, TITLES_RAW, TRENDS_SCORED
from trendkit.db.database import Database

PARTITIONS = 2
SCORER_TABLES = "scorer_inputs, trend_scores, current_scores, scorer_state"
Backlog = list[ConsumerRecord[bytes, bytes]]


async def fill(bootstrap: str, prefix: str, n: int) -> tuple[set[str], Backlog]:
    """Send n titles through the enricher and classifier; return their ids and the output."""
    keyed = [(p, title_id_of(p)) for p in then_next_chart(n, "drain")]
    reader = await open_reader(bootstrap, f"{prefix}{TITLES_CLASSIFIED}", f"{prefix}bench-fill")
    await wait_assigned(reader)
    producer = await flooding_producer(bootstrap)
    for p, title_id in keyed:
        await producer.send(f"{prefix}{TITLES_RAW}", p, key=title_id.encode())
    await producer.flush()
    await producer.stop()
    backlog: Backlog = []
    while len(backlog) < len(keyed):
        for records in (await reader.getmany(timeout_ms=200)).values():
            backlog.extend(records)
    await reader.stop()
    return {title_id for _, title_id in keyed[:n]}, backlog


async def fresh_backlog(bootstrap: str, prefix: str, backlog: Backlog, db: Database) -> None:
    """Copy the backlog into a new prefix's topic (same partitions) and empty the tables."""
    async with db.transaction() as session:
        await session.execute(text(f"TRUNCATE {SCORER_TABLES}"))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{prefix}{TITLES_CLASSIFIED}", PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = await flooding_producer(bootstrap)
    for r in backlog:
        await producer.send(
            f"{prefix}{TITLES_CLASSIFIED}",
            r.value,
            key=r.key,
            partition=r.partition,
            headers=list(r.headers),
        )
    await producer.flush()
    await producer.stop()


async def drain(bootstrap: str, prefix: str, want: set[str], meter: CpuMeter) -> float:
    """Read trends.scored until every wanted title came; return the seconds from the first
    event on. ``meter`` starts counting at the first event too."""
    reader = await open_reader(bootstrap, f"{prefix}{TRENDS_SCORED}", f"{prefix}bench-drain")
    seen: set[str] = set()
    first: float | None = None
    progressed = time.perf_counter()
    while not want <= seen and time.perf_counter() - progressed < STALLED_S:
        for records in (await reader.getmany(timeout_ms=100)).values():
            if first is None:
                first = time.perf_counter()
                meter.restart()
            seen.update(r.key.decode() for r in records if r.key)
            progressed = time.perf_counter()
    ended = time.perf_counter()
    await reader.stop()
    if first is None or not want <= seen:
        raise RuntimeError(f"only {len(want & seen)}/{len(want)} titles were scored")
    return ended - first


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--titles", type=int, default=20_000)
    parser.add_argument("--batch-sizes", default="500,2000", help="SCORER_BATCH_SIZE values")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    exit_cleanly_on_sigterm()
    runs: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
    with bench_stack() as (root, stack, bootstrap):
        env = services_env(stack, PARTITIONS)
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        upstream = Supervisor(
            env={**env, "TOPIC_PREFIX": prefix},
            root=root,
            services=("enricher", "classifier"),
        )
        upstream.start()
        try:
            upstream.wait_healthy(timeout=120)
            time.sleep(8)  # let the consumer groups finish joining
            print(f"filling titles.classified with {args.titles} titles…")
            want, backlog = asyncio.run(fill(bootstrap, prefix, args.titles))
        finally:
            upstream.stop()
        db = Database(env["DATABASE_URL"], service="bench")
        for rep in range(args.reps):
            for size in sizes:
                run_prefix = f"bench{uuid.uuid4().hex[:6]}."
                asyncio.run(_fresh(bootstrap, run_prefix, backlog, db))
                scorer = Supervisor(
                    env={**env, "TOPIC_PREFIX": run_prefix, "SCORER_BATCH_SIZE": str(size)},
                    root=root,
                    services=("scorer",),
                )
                scorer.start()
                try:
                    scorer.wait_healthy(timeout=120)  # its topics exist from then on
                    meter = CpuMeter({"scorer": scorer.processes["scorer"].popen.pid})
                    seconds = asyncio.run(drain(bootstrap, run_prefix, want, meter))
                    cpu_ms = per_title_ms(meter.spent(), args.titles)["scorer"]
                finally:
                    scorer.stop()
                runs[size].append((args.titles / seconds, cpu_ms))
                print(
                    f"  run {rep + 1}, batches of {size}: {args.titles / seconds:,.0f} "
                    f"titles/s, scorer CPU {cpu_ms:.3f} ms per title"
                )
    summary = {
        str(size): {
            "titles_per_s": round(statistics.fmean(r for r, _ in results), 1),
            "scorer_cpu_ms_per_title": round(statistics.fmean(c for _, c in results), 3),
            "runs": [round(r, 1) for r, _ in results],
        }
        for size, results in runs.items()
    }
    for label, figures in summary.items():
        print(
            f"batches of {label}: {figures['titles_per_s']:,.0f} titles/s (mean of "
            f"{args.reps}), {figures['scorer_cpu_ms_per_title']:.3f} ms of CPU per title"
        )
    print(json.dumps({"titles": args.titles, "partitions": PARTITIONS, "batch_sizes": summary}))


async def _fresh(bootstrap: str, prefix: str, backlog: Backlog, db: Database) -> None:
    await db.open()
    try:
        await fresh_backlog(bootstrap, prefix, backlog, db)
    finally:
        await db.close()


if __name__ == "__main__":
    main()
