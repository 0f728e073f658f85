"""Enrich titles with any OpenAI-compatible chat model, in batches, with retries and repair.

The client's own retries are off: every attempt goes through :meth:`OpenAIEnricher._complete`
so each one is counted in the metrics, and what is retried is decided in one place. Retried
are 429, 5xx, timeouts and dropped connections, with exponential backoff and full jitter,
honouring ``Retry-After``; any other 4xx raises :class:`ProviderUnavailable` at once.

An answer that fails validation gets exactly one repair request for the titles that
failed; titles still wrong after it become :class:`EnrichmentFailure` for the dead letters.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from openai import APIConnectionError, APIStatusError, APITimeoutError, AsyncOpenAI
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion

from services.enricher.answer import RESPONSE_FORMAT, Checked, check_answer
from services.enricher.domain import EnrichmentFailure, ProviderUnavailable, Usage, UsageSink
from services.enricher.metrics import EnricherMetrics
from services.enricher.prompting import Messages, Prompt, load_prompt
from services.enricher.settings import EnricherSettings
from trendkit.contracts import Enrichment, Provenance, TitleObserved

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0


class OpenAIEnricher:
    """An :class:`EnrichmentProvider` backed by ``chat.completions`` with a strict schema."""

    provider = "openai"

    def __init__(
        self,
        settings: EnricherSettings,
        *,
        metrics: EnricherMetrics,
        usage: UsageSink,
        sleep: Sleep = asyncio.sleep,
        prompt: Prompt | None = None,
    ) -> None:
        if settings.openai_api_key is None:
            raise ValueError("OPENAI_API_KEY is required for the openai provider")
        self.model = settings.model
        self._prompt = prompt if prompt is not None else load_prompt()
        self.version = self._prompt.version
        self._settings = settings
        self._metrics = metrics
        self._usage = usage
        self._sleep = sleep
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._client = AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.request_timeout_s,
            max_retries=0,
        )

    @property
    def provenance(self) -> Provenance:
        """Return the stamp every enrichment of this provider carries."""
        return Provenance(provider=self.provider, model=self.model, version=self.version)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def enrich(self, titles: Sequence[TitleObserved]) -> list[Enrichment | EnrichmentFailure]:
        """Describe titles in requests of ``batch_size``, at most ``concurrency`` at a time."""
        size = self._settings.batch_size
        batches = [titles[i : i + size] for i in range(0, len(titles), size)]
        answers = await _all_or_nothing([self._enrich_batch(b) for b in batches])
        return [result for batch in answers for result in batch]

    async def _enrich_batch(
        self, batch: Sequence[TitleObserved]
    ) -> list[Enrichment | EnrichmentFailure]:
        ids = list(range(len(batch)))
        messages = self._prompt.build_messages(batch)
        answer = await self._complete(messages)
        checked = check_answer(answer, ids)
        failed = _failed(checked)
        self._count("invalid" if failed else "ok")
        if failed:
            errors = [failure.error for failure in failed.values()]
            repair = self._prompt.build_repair_messages(messages, answer, errors, list(failed))
            repaired = check_answer(await self._complete(repair), list(failed))
            self._count("invalid" if _failed(repaired) else "repaired")
            checked.update(repaired)
        provenance = self.provenance
        return [
            r if isinstance(r, EnrichmentFailure) else r.to_enrichment(provenance)
            for r in (checked[i] for i in ids)
        ]

    async def _complete(self, messages: Messages) -> str:
        """Make one chat completion, retrying what may pass; return the answer's text."""
        # The slot is held through the backoff too: a struggling API gets fewer requests.
        async with self._slots:
            last = "no attempt"
            for attempt in range(self._settings.max_retries + 1):
                retry_after: float | None = None
                try:
                    response = await self._attempt(messages)
                except APITimeoutError:
                    last = self._count("timeout")
                except APIConnectionError:
                    last = self._count("connection_error")
                except APIStatusError as exc:
                    last = self._classify(exc)
                    retry_after = _retry_after_s(exc.response.headers)
                else:
                    await self._record_usage(response.usage)
                    return _text(response)
                if attempt == self._settings.max_retries:
                    break
                if retry_after is not None and retry_after > self._settings.max_retry_after_s:
                    raise ProviderUnavailable(
                        f"{self.model}: asked to wait {retry_after:g} s after {last}, more than "
                        f"the {self._settings.max_retry_after_s:g} s we honour"
                    )
                delay = _backoff_s(attempt, retry_after)
                log.info("LLM request: %s; retry %d in %.2f s", last, attempt + 1, delay)
                await self._sleep(delay)
            raise ProviderUnavailable(
                f"{self.model}: {self._settings.max_retries + 1} attempts failed; last: {last}"
            )

    async def _attempt(self, messages: Messages) -> ChatCompletion:
        """Send one request, timing it whatever its outcome."""
        started = time.monotonic()
        try:
            return await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                response_format=RESPONSE_FORMAT,
                temperature=0,
            )
        finally:
            self._metrics.llm_latency.labels(self.model).observe(time.monotonic() - started)

    def _classify(self, exc: APIStatusError) -> str:
        """Count a status error; raise at once unless asking again may help."""
        status = exc.status_code
        if status == 429:
            return self._count("rate_limited")
        if status >= 500:
            return self._count("server_error")
        self._count("client_error")
        raise ProviderUnavailable(f"{self.model}: HTTP {status}: {exc.message}") from exc

    def _count(self, outcome: str) -> str:
        self._metrics.llm_requests.labels(self.model, outcome).inc()
        return outcome

    async def _record_usage(self, usage: CompletionUsage | None) -> None:
        """Count tokens and money, and report them to the budget's ledger."""
        if usage is None:
            return
        price = self._settings.price(self.model)
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
        cost = (prompt * price.input + completion * price.output) / 1e6
        self._metrics.llm_tokens.labels(self.model, "prompt").inc(prompt)
        self._metrics.llm_tokens.labels(self.model, "completion").inc(completion)
        self._metrics.llm_cost.labels(self.model).inc(cost)
        await self._usage.record(
            Usage(
                model=self.model, prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost
            )
        )


def _text(response: ChatCompletion) -> str:
    """Return the answer's text; a refusal or an empty choice list reads as an empty answer."""
    if not response.choices:
        return ""
    return response.choices[0].message.content or ""


def _backoff_s(attempt: int, retry_after: float | None) -> float:
    """Full jitter spreads many workers' retries apart; a Retry-After is the floor."""
    delay = random.random() * min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0**attempt)
    return delay if retry_after is None else max(delay, retry_after)


def _failed(checked: Checked) -> dict[int, EnrichmentFailure]:
    return {i: r for i, r in checked.items() if isinstance(r, EnrichmentFailure)}


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Read ``Retry-After`` as seconds or as an HTTP date; None when absent or unreadable."""
    value = headers.get("retry-after")  # the client's Headers match names case-insensitively
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def _all_or_nothing(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Await all; on the first error cancel the rest and raise that error unwrapped."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
