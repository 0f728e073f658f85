"""The LLM's answer: its pydantic model, the strict JSON schema sent with each request, and
the per-title check that turns raw model text into answers or failures.

The schema only carries what strict structured outputs accept (enums, item counts, number
ranges); string lengths and role markers are checked here, on our side, because a model
behind an OpenAI-compatible endpoint may ignore the schema altogether.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from openai import Omit
from openai.lib import type_to_response_format_param
from openai.types.chat.completion_create_params import ResponseFormat
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.enricher.domain import SUMMARY_LIMIT, EnrichmentFailure
from trendkit.contracts import Enrichment, Provenance
from trendkit.taxonomy import GENRES, VIBES

if TYPE_CHECKING:
    # The vocabularies are data (trendkit.taxonomy), so the Literals are built at run time;
    # the type checker sees plain strings.
    Vibe = str
    Genre = str
else:
    Vibe = Literal[VIBES]
    Genre = Literal[GENRES]

REASON_LIMIT = 200
AUDIENCE_LIMIT = 80
FREE_TAG_LIMIT = 32

# Chat-template role markers and special tokens: in a summary they mean the model echoed
# or obeyed injected text, never that it described a title.
_ROLE_MARKER = re.compile(
    r"(^|\n)\s*(system|assistant|user|developer|tool)\s*:|<\|[a-z_]+\|>|\[/?INST\]", re.I
)


def _prose(value: str, limit: int, field: str) -> str:
    """Refuse role markers and text over ``limit``; fold whitespace to one line."""
    if _ROLE_MARKER.search(value):
        raise ValueError(f"{field} must describe the title, not contain chat role markers")
    folded = " ".join(value.split())
    if len(folded) > limit:
        raise ValueError(f"{field} must be at most {limit} characters, got {len(folded)}")
    return folded


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class TitleAnswer(BaseModel):
    """What the model says about one title of the request, named by its id."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(description="the id the title had in the request")
    summary: str = Field(
        description=f"at most {SUMMARY_LIMIT} characters, one or two sentences, no spoilers"
    )
    vibe_tags: list[Vibe] = Field(min_length=3, max_length=6, description="3 to 6 distinct vibes")
    free_tags: list[str] = Field(
        max_length=8, description=f"up to 8 short lowercase tags, {FREE_TAG_LIMIT} chars each"
    )
    genres: list[Genre] = Field(min_length=1, max_length=5, description="1 to 5 genres")
    hype_score: float = Field(ge=0, le=100, description="0 (nobody cares) to 100 (everywhere)")
    hype_reason: str = Field(description=f"one line, at most {REASON_LIMIT} characters")
    audience: str | None = Field(description="who it is for, in a few words; null if unclear")

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        folded = _prose(value, SUMMARY_LIMIT, "summary")
        if not folded:
            raise ValueError("summary must not be empty")
        return folded

    @field_validator("hype_reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _prose(value, REASON_LIMIT, "hype_reason")

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _prose(value, AUDIENCE_LIMIT, "audience") or None

    @field_validator("vibe_tags")
    @classmethod
    def _distinct_vibes(cls, value: list[str]) -> list[str]:
        distinct = _distinct(value)
        if len(distinct) < 3:
            raise ValueError(f"vibe_tags must hold at least 3 distinct vibes, got {len(distinct)}")
        return distinct

    @field_validator("genres")
    @classmethod
    def _distinct_genres(cls, value: list[str]) -> list[str]:
        return _distinct(value)

    @model_validator(mode="after")
    def _clean_free_tags(self) -> TitleAnswer:
        # Free tags are extras: a messy one is dropped rather than failing the title.
        taken = {v.casefold() for v in (*self.vibe_tags, *self.genres)}
        cleaned = (" ".join(tag.split()).casefold() for tag in self.free_tags)
        self.free_tags = _distinct(
            [t for t in cleaned if t and len(t) <= FREE_TAG_LIMIT and t not in taken]
        )
        return self

    def to_enrichment(self, provenance: Provenance) -> Enrichment:
        """Build the contract's enrichment from this answer."""
        return Enrichment(
            summary=self.summary,
            vibe_tags=list(self.vibe_tags),
            free_tags=self.free_tags,
            genres=list(self.genres),
            hype_score=self.hype_score,
            hype_reason=self.hype_reason,
            audience=self.audience,
            provenance=provenance,
        )


class BatchAnswer(BaseModel):
    """The whole answer to one request: one entry per title sent."""

    model_config = ConfigDict(extra="forbid")

    titles: list[TitleAnswer]


def _response_format() -> ResponseFormat:
    """Derive ``response_format`` with openai's own helper, as ``.parse()`` would send it."""
    param = type_to_response_format_param(BatchAnswer)
    assert not isinstance(param, Omit)  # only an omitted argument yields Omit
    return param


RESPONSE_FORMAT = _response_format()

Checked = dict[int, TitleAnswer | EnrichmentFailure]


def check_answer(text: str, ids: Sequence[int]) -> Checked:
    """Validate an answer title by title, so one bad title never fails its neighbours.

    Every id in ``ids`` gets an entry: its answer, or a failure naming the field and holding
    the raw JSON of that title (the whole answer when it cannot be split per title).
    """
    if not text.strip():
        failure = EnrichmentFailure(error="answer: empty (a refusal, or nothing)", raw_answer=text)
        return dict.fromkeys(ids, failure)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        error = f"answer: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        return dict.fromkeys(ids, EnrichmentFailure(error=error, raw_answer=text))
    items = body.get("titles") if isinstance(body, dict) else None
    if not isinstance(items, list):
        failure = EnrichmentFailure(error="titles: missing or not a list", raw_answer=text)
        return dict.fromkeys(ids, failure)
    by_id = _items_by_id(items, ids)
    checked: Checked = {}
    for i in ids:
        item = by_id.get(i)
        if item is None:
            checked[i] = EnrichmentFailure(
                error=f"titles[{i}]: missing from the answer", raw_answer=text
            )
            continue
        try:
            checked[i] = TitleAnswer.model_validate(item)
        except ValidationError as exc:
            checked[i] = EnrichmentFailure(
                error=_describe(exc, i), raw_answer=json.dumps(item, ensure_ascii=False)
            )
    return checked


def _describe(exc: ValidationError, i: int) -> str:
    """Name each failing field from the answer's root: ``titles[2].genres.0: ...``."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        parts.append(
            f"titles[{i}].{where}: {error['msg']}" if where else f"titles[{i}]: {error['msg']}"
        )
    return "; ".join(parts)


def _items_by_id(items: list[Any], ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Index the answer's entries by the ids we asked for; the first entry of an id wins."""
    wanted = set(ids)
    by_id: dict[int, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        i = item.get("id")
        if isinstance(i, int) and not isinstance(i, bool) and i in wanted:
            by_id.setdefault(i, item)
    return by_id
