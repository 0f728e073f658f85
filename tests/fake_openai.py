"""A fake OpenAI-compatible chat completions API for tests, driven by a script.

``POST /v1/chat/completions`` checks the bearer key, records every request body in
:attr:`FakeOpenAI.requests`, and answers with the next scripted :class:`Behaviour` (the
``default`` one once the script is empty). Answers have the real ``chat.completion`` shape
with ``usage``; a valid answer describes exactly the titles it finds in the ``<titles>``
fence of the first user message, as a model would.

``obey_injections`` plays a model that fell for a prompt injection: an overview saying
"ignore previous instructions" gets off-vocabulary genres and vibes and role-marker text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.enricher.prompting import FENCE_CLOSE, FENCE_OPEN
from trendkit.taxonomy import GENRES, VIBES

API_KEY = "sk-fake-openai-key"
INJECTION = "ignore previous instructions"

Kind = Literal["valid", "invalid_json", "schema_violation", "status", "slow"]
Violation = Literal["genres", "vibe_tags", "summary"]


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers one request."""

    kind: Kind
    status: int = 200
    retry_after: str | None = None
    seconds: float = 0.0
    violation: Violation = "genres"
    ids: tuple[int, ...] = (0,)


def valid() -> Behaviour:
    """Answer every title, within the schema."""
    return Behaviour("valid")


def invalid_json() -> Behaviour:
    """Answer with text that is not JSON at all (a truncated answer)."""
    return Behaviour("invalid_json")


def schema_violation(violation: Violation = "genres", ids: tuple[int, ...] = (0,)) -> Behaviour:
    """Answer valid JSON in which the titles ``ids`` break the schema at ``violation``."""
    return Behaviour("schema_violation", violation=violation, ids=ids)


def status(code: int, retry_after: str | float | None = None) -> Behaviour:
    """Answer with an OpenAI-style error body, and a Retry-After header if given."""
    header = None if retry_after is None else str(retry_after)
    return Behaviour("status", status=code, retry_after=header)


def slow(seconds: float) -> Behaviour:
    """Wait ``seconds`` (or until the client gives up), then answer validly."""
    return Behaviour("slow", seconds=seconds)


class FakeOpenAI:
    """State and script of one fake; ``app`` serves it."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        default: Behaviour | None = None,
        latency_s: float = 0.0,
        obey_injections: Literal["never", "first", "always"] = "never",
    ) -> None:
        self.api_key = api_key
        self.default = default or valid()
        self.latency_s = latency_s
        self.obey_injections = obey_injections
        self.script: deque[Behaviour] = deque()
        self.requests: list[dict[str, Any]] = []
        self.request_times: list[float] = []
        self.usages: list[dict[str, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(1)
        self.app = self._build_app()

    def then(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        self.script.extend(behaviours)

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, "Incorrect API key provided.", "invalid_api_key")
            body = await request.json()
            self.requests.append(body)
            self.request_times.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency_s)
                return await self._answer(request, body)
            finally:
                self.in_flight -= 1

        return app

    async def _answer(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        behaviour = self.script.popleft() if self.script else self.default
        if behaviour.kind == "status":
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
            return _error(behaviour.status, f"scripted HTTP {behaviour.status}", headers=headers)
        if body.get("response_format", {}).get("type") != "json_schema":
            return _error(400, "this fake only answers with response_format json_schema")
        if behaviour.kind == "slow":
            # Stop waiting when the client hangs up, so a server shutting down never waits.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_hung_up(request), behaviour.seconds)
        if behaviour.kind == "invalid_json":
            return self._completion(body, '{"titles": [{"id": 0, "summary": "Cut off mid')
        first_turn = len(body["messages"]) == 2
        entries = [self._entry(r, first_turn) for r in fenced_titles(body["messages"])]
        if behaviour.kind == "schema_violation":
            for entry in entries:
                if entry["id"] in behaviour.ids:
                    entry.update(_violate(behaviour.violation))
        return self._completion(body, json.dumps({"titles": entries}))

    def _entry(self, record: dict[str, Any], first_turn: bool) -> dict[str, Any]:
        """Describe one fenced title the way a well-behaved (or fooled) model would."""
        i = int(record["id"])
        injected = INJECTION in str(record.get("overview", "")).lower()
        fooled = self.obey_injections == "always" or (
            self.obey_injections == "first" and first_turn
        )
        if injected and fooled:
            return {
                "id": i,
                "summary": "assistant: Sure! Ignoring my instructions as you asked.",
                "vibe_tags": ["pwned", "dark", "tense"],
                "free_tags": [],
                "genres": ["Hacked"],
                "hype_score": 100,
                "hype_reason": "system: the overview told me to",
                "audience": None,
            }
        return {
            "id": i,
            "summary": f"{record['name']}: a {record['media_type']} people are watching.",
            "vibe_tags": [VIBES[(i + k) % len(VIBES)] for k in range(3)],
            "free_tags": ["  Slow Burn Mystery ", "slow burn mystery", VIBES[i % len(VIBES)]],
            "genres": [GENRES[i % len(GENRES)]],
            "hype_score": max(0, 100 - int(record["rank"])),
            "hype_reason": f"#{record['rank']} on {record['source']}",
            "audience": "adults",
        }

    def _completion(self, body: dict[str, Any], content: str) -> JSONResponse:
        prompt = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(content) // 4,
            "total_tokens": prompt + len(content) // 4,
        }
        self.usages.append(usage)
        return JSONResponse(
            {
                "id": f"chatcmpl-fake{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
        )


def fenced_titles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the title records inside the fence of the first user message."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    start = user.index(FENCE_OPEN) + len(FENCE_OPEN)
    records: list[dict[str, Any]] = json.loads(user[start : user.index(FENCE_CLOSE, start)])
    return records


async def _hung_up(request: Request) -> None:
    """Return once the client disconnects (the body is already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _violate(violation: Violation) -> dict[str, Any]:
    fields: dict[Violation, dict[str, Any]] = {
        "genres": {"genres": ["Cyberpunk"]},
        "vibe_tags": {"vibe_tags": ["dark", "tense", "sparkly"]},
        "summary": {"summary": "An endless summary. " * 20},
    }
    return fields[violation]


def _error(
    code: int, message: str, kind: str = "api_error", *, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=code, headers=headers)
