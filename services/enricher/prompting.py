"""The enrichment prompt: a versioned file, rendered into chat messages.

``prompts/enrich.md`` holds three parts split by ``--- user ---`` and ``--- repair ---``
lines: the system message, the user template and the repair template. The vocabularies are
rendered into the system part at load time, so they live only in ``trendkit.taxonomy``.

Scraped text is data, never instructions: titles travel as a JSON array inside a
``<titles>`` fence, and ``<``/``>`` inside it are JSON-escaped too, so no overview can close
the fence early, start a new role or pass itself off as our own words.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template
from typing import Any

from openai.types.chat import ChatCompletionMessageParam

from services.enricher.answer import RESPONSE_FORMAT
from trendkit.contracts import TitleObserved
from trendkit.taxonomy import GENRES, VIBES

PROMPT_FILE = files("services.enricher") / "prompts" / "enrich.md"
USER_MARKER = "--- user ---"
REPAIR_MARKER = "--- repair ---"
FENCE_OPEN = "<titles>"
FENCE_CLOSE = "</titles>"
_MARKER_LINE = re.compile(
    rf"^[ \t]*(?:{re.escape(USER_MARKER)}|{re.escape(REPAIR_MARKER)})[ \t]*$", re.M
)

Messages = list[ChatCompletionMessageParam]


@dataclass(frozen=True)
class Prompt:
    """The rendered prompt and its version (what the enrichment cache is keyed on)."""

    system: str
    user: Template
    repair: Template
    version: str

    def build_messages(
        self, titles: Sequence[TitleObserved], ids: Sequence[int] | None = None
    ) -> Messages:
        """Return the system and user messages asking to describe ``titles``.

        Each title carries an ``id`` (its index in the request unless ``ids`` says
        otherwise) that the answer must repeat.
        """
        ids = range(len(titles)) if ids is None else ids
        records = [_record(i, t) for i, t in zip(ids, titles, strict=True)]
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user.substitute(titles=fence(records))},
        ]

    def build_repair_messages(
        self, messages: Messages, previous_answer: str, errors: Sequence[str], ids: Sequence[int]
    ) -> Messages:
        """Continue a conversation: the model's previous answer, then what was wrong with it."""
        problems = "\n".join(f"- {e}" for e in errors)
        repair = self.repair.substitute(errors=problems, ids=json.dumps(list(ids)))
        return [
            *messages,
            {"role": "assistant", "content": previous_answer},
            {"role": "user", "content": repair},
        ]


def load_prompt(source: Traversable = PROMPT_FILE) -> Prompt:
    """Read the prompt file, render the vocabularies in, and stamp its version.

    The version hashes the file's bytes, the vocabularies and the answer schema: each of
    them changes what the model answers, so each must invalidate cached enrichments.
    """
    raw = source.read_bytes()
    system, user, repair = _split(raw.decode())
    basis = {"genres": GENRES, "vibes": VIBES, "response_format": RESPONSE_FORMAT}
    digest = hashlib.sha256(raw + b"\0" + json.dumps(basis, sort_keys=True).encode())
    vocabulary = {"vibes": ", ".join(VIBES), "genres": ", ".join(GENRES)}
    return Prompt(
        system=Template(system).substitute(vocabulary),
        user=Template(user),
        repair=Template(repair),
        version=digest.hexdigest()[:16],
    )


def fence(records: Sequence[dict[str, Any]]) -> str:
    """Render records as a JSON array, one per line, with ``<`` and ``>`` escaped."""
    lines = (
        json.dumps(r, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
        for r in records
    )
    return "[\n" + ",\n".join(lines) + "\n]"


def _record(i: int, observed: TitleObserved) -> dict[str, Any]:
    title, observation = observed.title, observed.observation
    return {
        "id": i,
        "name": title.name,
        "media_type": title.media_type,
        "year": title.year,
        "overview": title.overview,
        "source": observation.source,
        "rank": observation.rank,
    }


def _split(text: str) -> tuple[str, str, str]:
    """Split the file at its marker lines into system, user and repair parts."""
    markers = [m.strip() for m in _MARKER_LINE.findall(text)]
    if markers != [USER_MARKER, REPAIR_MARKER]:
        raise ValueError(
            f"the prompt file needs one {USER_MARKER!r} line, then one {REPAIR_MARKER!r} line"
        )
    system, user, repair = (part.strip() for part in _MARKER_LINE.split(text))
    return system, user, repair
