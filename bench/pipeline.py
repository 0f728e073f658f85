"""Push titles through every stage on the embedded stack; print throughput and latency.

    python -m bench.pipeline [--titles 20000] [--rate 500] [--seconds 20]

Three measurements in one run, on the same broker:

1. end-to-end latency at a fixed rate: titles sent at ``--rate`` per second for
   ``--seconds``; latency = first ``trends.scored`` event of a title − its send time;
2. sustained end-to-end throughput: N distinct titles written to ``titles.raw`` as fast as
   possible; the clock stops when every one of them has come out on ``trends.scored``;
3. the peer: a raw aiokafka consume → produce hop (no validation, no database).

During the throughput run it also counts the CPU each process spends per title (each
service, the broker, Postgres with its backends, Redis, this process): on two shared
cores, that is where the titles/s go.

The services run as real processes (enricher, classifier, scorer), as in production.
The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from bench.common import CpuMeter, exit_cleanly_on_sigterm, percentile
from stack import Stack
from stack.supervisor import Supervisor
from trendkit.broker import MAX_BATCH_BYTES
from trendkit.contracts import (
    TITLES_RAW,
    TRENDS_SCORED,
    MediaType,
    Observation,
    Provenance,
    TitleInfo,
    TitleObserved,
    make_title_id,
    now_utc,
)
from trendkit.db import migrate
from trendkit.settings import CommonSettings

STAGES = ("enricher", "classifier", "scorer")
STALLED_S = 60.0
CHART = 20


def observations(n: int, tag: str) -> list[bytes]:
    """Return n encoded observations of distinct titles (about 400 bytes each).

    They come as scrapers make them: charts of ``CHART`` titles (a TMDb trending page),
    each chart from one source at one ``observed_at``, one millisecond per title apart.
    """
    start = now_utc() - timedelta(hours=1)
    provenance = Provenance(provider="bench", model="synthetic", version="1")
    out = []
    for i in range(n):
        name = f"Bench {tag} {i}"
        media: MediaType = "movie" if i % 3 else "tv"
        chart, rank = divmod(i, CHART)
        event = TitleObserved(
            event_id=str(uuid.uuid4()),
            title_id=make_title_id(media_type=media, title=name, year=2025),
            observed_at=start + timedelta(milliseconds=chart * CHART),
            title=TitleInfo(
                name=name,
                media_type=media,
                year=2025,
                overview="A detective returns to a haunted town where a heist went wrong.",
            ),
            observation=Observation(source=f"source_{chart % 3}", rank=rank + 1),
            scraped_by=provenance,
        )
        out.append(event.model_dump_json().encode())
    return out


def then_next_chart(n: int, tag: str) -> list[bytes]:
    """Return n observations (:func:`observations`), then one more whole chart after them.

    The chart that follows is sent, not counted. The scorer applies a chart once every
    partition has moved past it, which in a live stream the next scrape does; the last
    chart of a stream waits until the partitions count as idle (3 s): that is the end of
    a stream, not its throughput or latency.
    """
    return observations(-(-n // CHART) * CHART + CHART, tag)


def title_id_of(value: bytes) -> str:
    """Return the ``title_id`` of an encoded event."""
    return str(json.loads(value)["title_id"])


async def open_reader(
    bootstrap: str, topic: str, group: str, *, start: str = "earliest"
) -> AIOKafkaConsumer:
    """Return a started consumer of ``topic`` that reads large batches and commits nothing."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset=start,
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        fetch_max_wait_ms=20,
        max_poll_records=5000,
    )
    await consumer.start()
    return consumer


async def flooding_producer(bootstrap: str) -> AIOKafkaProducer:
    """Return a started producer for sending as fast as possible, in large record batches."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=MAX_BATCH_BYTES
    )
    await producer.start()
    return producer


async def wait_assigned(consumer: AIOKafkaConsumer) -> None:
    """Wait until the consumer has its partitions and knows where it starts reading."""
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for tp in consumer.assignment():
        await consumer.position(tp)  # resolve the starting offset before anything is sent


def scorer_late_events(metrics_url: str) -> float:
    """Return the scorer's count of observations that arrived behind its watermark."""
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "trending_scorer_late_events_total":
                return float(sample.value)
    return 0.0


async def measure_throughput(
    bootstrap: str, prefix: str, n: int, scorer_metrics: str, meter: CpuMeter
) -> float:
    """Send n titles at full speed; return titles/s until the last one is scored.

    One more chart follows them, not counted (:func:`then_next_chart`; without it, seen:
    the last 1 % of the titles took 2.9 s of 21.7).

    Fails, rather than waiting on, when nothing new has come out for a minute (saying how
    many observations the scorer found late: those are archived, never scored). ``meter``
    starts counting with the clock, once the titles to send are made.
    """
    keyed = [(p, title_id_of(p)) for p in then_next_chart(n, "tp")]
    want = {title_id for _, title_id in keyed[:n]}
    reader = await open_reader(bootstrap, f"{prefix}{TRENDS_SCORED}", f"{prefix}bench-tp")
    await wait_assigned(reader)
    producer = await flooding_producer(bootstrap)
    meter.restart()
    began = time.perf_counter()
    for p, title_id in keyed:
        await producer.send(f"{prefix}{TITLES_RAW}", p, key=title_id.encode())
    await producer.flush()
    seen: set[str] = set()
    progressed = began
    while not want <= seen and time.perf_counter() - progressed < STALLED_S:
        for records in (await reader.getmany(timeout_ms=200)).values():
            # Every event is keyed by its title: read the key, not the JSON (the reader
            # shares the two cores with the pipeline and must not be what limits it).
            seen.update(r.key.decode() for r in records if r.key)
            progressed = time.perf_counter()
    elapsed = time.perf_counter() - began
    await producer.stop()
    await reader.stop()
    if not want <= seen:
        raise RuntimeError(
            f"only {len(want & seen)}/{n} titles came out; nothing new for {STALLED_S:g} s "
            f"(the scorer counts {scorer_late_events(scorer_metrics):g} late observations)"
        )
    return n / elapsed


async def measure_latency(
    bootstrap: str, prefix: str, rate: float, seconds: float, meter: CpuMeter
) -> list[float]:
    """Send titles at a fixed rate; return each one's send → scored latency in ms.

    They leave as scrapers send them: a chart of ``CHART`` titles at once (a scraper
    publishes a page's observations together), one chart every ``CHART / rate`` seconds.
    Sending the titles one by one, 2 ms apart, made one produce request per title, a
    load no source makes (seen: the broker's CPU per title ×1.3, this process's ×2).
    """
    n = int(rate * seconds)
    # Start at the end: the throughput run left tens of thousands of events behind, and
    # reading those first would be counted as latency. (On Tansu "latest" may replay up
    # to one old record batch; only titles sent here are counted.)
    reader = await open_reader(
        bootstrap, f"{prefix}{TRENDS_SCORED}", f"{prefix}bench-lat", start="latest"
    )
    await wait_assigned(reader)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=1)
    await producer.start()
    sent_at: dict[str, float] = {}
    latencies: dict[str, float] = {}

    async def read() -> None:
        while len(latencies) < n:
            for records in (await reader.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for r in records:
                    tid = r.key.decode() if r.key else ""
                    if tid in sent_at and tid not in latencies:
                        latencies[tid] = (now - sent_at[tid]) * 1000

    reading = asyncio.create_task(read())
    keyed = [(p, title_id_of(p)) for p in then_next_chart(n, "lat")]
    meter.restart()
    began = time.perf_counter()
    for first in range(0, len(keyed), CHART):
        due = began + first / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter()
        for i, (p, tid) in enumerate(keyed[first : first + CHART], start=first):
            if i < n:  # counted; the chart after them is not
                sent_at[tid] = now
            await producer.send(f"{prefix}{TITLES_RAW}", p, key=tid.encode())
    try:
        await asyncio.wait_for(reading, timeout=120)
    except TimeoutError:
        print(f"  latency: {len(latencies)}/{n} titles came out in time", file=sys.stderr)
    await producer.stop()
    await reader.stop()
    return list(latencies.values())


async def measure_raw_hop(bootstrap: str, n: int, partitions: int) -> float:
    """The peer: aiokafka consume → produce between two topics, batched; return msg/s."""
    prefix = f"raw{uuid.uuid4().hex[:6]}."
    source, sink = f"{prefix}in", f"{prefix}out"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(t, partitions, 1) for t in (source, sink)])
    await admin.close()
    payloads = observations(n, "raw")
    producer = await flooding_producer(bootstrap)
    for p in payloads:
        await producer.send(source, p, key=title_id_of(p).encode())
    await producer.flush()
    consumer = await open_reader(bootstrap, source, f"{prefix}hop")
    await wait_assigned(consumer)
    moved = 0
    began = time.perf_counter()
    while moved < n:
        for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
            for r in records:
                await producer.send(sink, r.value, key=r.key)
            moved += len(records)
        await producer.flush()
        await consumer.commit()
    elapsed = time.perf_counter() - began
    await consumer.stop()
    await producer.stop()
    return n / elapsed


@contextlib.contextmanager
def bench_stack() -> Iterator[tuple[Path, Stack, str]]:
    """Start the embedded stack, migrated, in a temporary folder; yield the folder, the
    stack and its bootstrap servers. Everything is stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="trending-bench-") as tmp:
        root = Path(tmp)
        with Stack(root / "stack", redis=True) as stack:
            assert stack.database_url
            assert stack.kafka_bootstrap_servers
            migrate.upgrade_sync(stack.database_url)
            yield root, stack, stack.kafka_bootstrap_servers


def services_env(stack: Stack, partitions: int) -> dict[str, str]:
    """Return the environment the benchmarked services run with on ``stack``."""
    return {
        **stack.env(),
        "TOPIC_PARTITIONS": str(partitions),
        "LOG_LEVEL": "WARNING",
        # The skeleton's figures are of the pipeline, not of a model: the keyword enricher
        # costs next to nothing (bench/enricher_genres.py measures MiniLM).
        "ENRICHER_PROVIDER": "lexicon",
        # One producer writes every partition in event-time order, so the scorer's
        # per-partition watermark needs no allowance for disorder; the default 30 s is a
        # hold-back for real scrapers, not a cost of the pipeline.
        "SCORER_LATENESS_S": "0",
    }


def per_title_ms(spent: dict[str, float], titles: int) -> dict[str, float]:
    """Return CPU milliseconds per title for each process."""
    return {k: round(v * 1000 / max(titles, 1), 3) for k, v in spent.items()}


def describe_cpu(cpu_ms: dict[str, float]) -> str:
    """Return the total and each process's share, the largest first."""
    parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu_ms.items(), key=lambda kv: -kv[1]))
    return f"{sum(cpu_ms.values()):.2f} ms ({parts})"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--titles", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--partitions",
        type=int,
        default=CommonSettings.model_fields["topic_partitions"].default,
        help="of every topic (default: the services' default, TOPIC_PARTITIONS)",
    )
    args = parser.parse_args(argv)
    exit_cleanly_on_sigterm()

    with bench_stack() as (root, stack, bootstrap):
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        env = {**services_env(stack, args.partitions), "TOPIC_PREFIX": prefix}
        supervisor = Supervisor(env=env, root=root, services=STAGES)
        supervisor.start()
        try:
            supervisor.wait_healthy(timeout=120)
            time.sleep(8)  # let every consumer group finish joining
            # Latency first: right after a flood, Postgres and the broker are still
            # catching up (seen: p99 ×3 in the first seconds), which is a measure of
            # recovery, not of latency at a steady 500 titles/s.
            meter = CpuMeter(
                {name: supervisor.processes[name].popen.pid for name in STAGES}
                | stack.pids()
                | {"bench": os.getpid()},
                alone=frozenset({"bench"}),
            )
            print(f"latency: {args.rate:g} titles/s for {args.seconds:g} s…")
            lat = asyncio.run(measure_latency(bootstrap, prefix, args.rate, args.seconds, meter))
            # Until the last title came out: at a steady rate, where the two cores go.
            cpu_at_rate = per_title_ms(meter.spent(), len(lat))
            print(f"  CPU per title at {args.rate:g}/s: {describe_cpu(cpu_at_rate)}")
            print(f"throughput: {args.titles} titles through {len(STAGES)} stages…")
            scorer_metrics = f"http://127.0.0.1:{supervisor.processes['scorer'].port}/metrics"
            titles_per_s = asyncio.run(
                measure_throughput(bootstrap, prefix, args.titles, scorer_metrics, meter)
            )
            cpu_ms = per_title_ms(meter.spent(), args.titles)
            print(f"  {titles_per_s:,.0f} titles/s end to end")
            print(f"  CPU per title: {describe_cpu(cpu_ms)}")
        finally:
            supervisor.stop()
        print(f"raw aiokafka hop: {args.titles} messages…")
        raw_hop = asyncio.run(measure_raw_hop(bootstrap, args.titles, args.partitions))
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    print(
        f"  end-to-end latency at {args.rate:g}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(mean {statistics.fmean(lat):.1f} ms, n={len(lat)})"
    )
    print(f"  raw hop {raw_hop:,.0f} msg/s; pipeline/raw ratio {titles_per_s / raw_hop:.3f}")
    print(
        json.dumps(
            {
                "titles_per_s": round(titles_per_s, 1),
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "raw_hop_per_s": round(raw_hop, 1),
                "cpu_ms_per_title": cpu_ms,
                "cpu_ms_per_title_at_rate": cpu_at_rate,
                "ratio_to_raw_hop": round(titles_per_s / raw_hop, 4),
                "titles": args.titles,
                "rate": args.rate,
                "latency_samples": len(lat),
                "stages": list(STAGES),
                "partitions": args.partitions,
            }
        )
    )


if __name__ == "__main__":
    main()
