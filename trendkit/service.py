"""Wiring shared by the stage services: settings → broker, database, stage, ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from trendkit.broker import ensure_topics, make_broker
from trendkit.contracts import PIPELINE_TOPICS
from trendkit.db.database import Database
from trendkit.publish import BatchPublisher
from trendkit.runtime import build_app, prepare_database
from trendkit.settings import CommonSettings
from trendkit.stage import BatchStage, StageMetrics


@dataclass
class ServiceContext:
    """The resources one service process holds, built at wiring time."""

    service: str
    settings: CommonSettings
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    broker: KafkaBroker = field(init=False)
    publisher: BatchPublisher = field(init=False)
    db: Database = field(init=False)
    metrics: StageMetrics = field(init=False)
    stages: list[BatchStage[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.broker = make_broker(self.settings, service=self.service, registry=self.registry)
        self.publisher = BatchPublisher(self.settings, service=self.service)
        self.db = Database(self.settings.database_url, service=self.service)
        self.metrics = StageMetrics(self.registry)

    def stage(self, **kwargs: Any) -> BatchStage[Any]:
        """Build a batch stage on this service's broker, publisher, settings and metrics."""
        stage: BatchStage[Any] = BatchStage(
            broker=self.broker,
            publisher=self.publisher,
            settings=self.settings,
            service=self.service,
            metrics=self.metrics,
            **kwargs,
        )
        self.stages.append(stage)
        return stage

    def app(
        self,
        extra: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> AsgiFastStream:
        """Build the ASGI app whose lifespan migrates, creates topics and opens the database."""

        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            await prepare_database(self.settings)
            await ensure_topics(self.settings, PIPELINE_TOPICS)
            await self.db.open()
            await self.publisher.start()
            ticking = [asyncio.create_task(s.run_ticks()) for s in self.stages if s.tick]
            try:
                if extra is None:
                    yield
                else:
                    async with extra():
                        yield
            finally:
                for task in ticking:
                    task.cancel()
                await asyncio.gather(*ticking, return_exceptions=True)
                await self.publisher.stop()
                await self.db.close()

        async def drain_stages() -> None:
            for stage in self.stages:
                await stage.drain()

        return build_app(
            broker=self.broker,
            registry=self.registry,
            lifespan=lifespan,
            on_shutdown=[drain_stages],
        )
