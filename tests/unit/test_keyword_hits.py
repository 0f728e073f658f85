"""keyword_hits finds what one longest-first alternation of the keywords finds."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from trendkit.taxonomy import GENRE_KEYWORDS, VIBE_KEYWORDS, Lexicon, keyword_hits

WORDS = sorted(
    {w for lexicon in (GENRE_KEYWORDS, VIBE_KEYWORDS) for ws in lexicon.values() for w in ws}
)


def _naive(text: str, lexicon: Lexicon) -> dict[str, int]:
    """The plain definition: at each word start, the longest keyword there counts."""
    labels: dict[str, list[str]] = {}
    for label, words in lexicon.items():
        for word in words:
            labels.setdefault(word, []).append(label)
    alternation = "|".join(re.escape(w) for w in sorted(labels, key=len, reverse=True))
    hits: dict[str, int] = {}
    for word in set(re.findall(rf"\b({alternation})", text.lower())):
        for label in labels[word]:
            hits[label] = hits.get(label, 0) + 1
    return hits


# Texts made of keywords cut short, extended, and joined: where a shorter keyword and a
# longer one that starts with it meet, the longer must win as before.
fragments = st.tuples(
    st.sampled_from(WORDS), st.integers(1, 20), st.sampled_from(["", "s", "ing", "-", " x"])
).map(lambda f: f[0][: f[1]] + f[2])
texts = st.lists(fragments, max_size=25).map(" ".join)


@given(texts, st.sampled_from([GENRE_KEYWORDS, VIBE_KEYWORDS]))
def test_keyword_hits_match_a_longest_first_alternation(text: str, lexicon: Lexicon) -> None:
    assert keyword_hits(text, lexicon) == _naive(text, lexicon)


def test_the_longest_keyword_at_a_word_start_wins() -> None:
    # Keywords that begin other keywords of another label: "family" (Drama) and
    # "family-friendly" (Family); "tea" (cozy) and "tearful" (emotional).
    assert keyword_hits("A family-friendly outing.", GENRE_KEYWORDS) == {"Family": 1}
    assert keyword_hits("A tearful goodbye.", VIBE_KEYWORDS) == {"emotional": 1}
    assert keyword_hits("Tea for a family.", GENRE_KEYWORDS) == {"Drama": 1}
    assert keyword_hits("Tea for a family.", VIBE_KEYWORDS) == {"cozy": 1, "heartwarming": 1}


def test_keyword_hits_counts_distinct_keywords_per_label() -> None:
    text = "A detective and a detective's partner solve a murder; a con artist falls for her."
    hits = keyword_hits(text, GENRE_KEYWORDS)
    assert hits["Crime"] == len(
        {"detective", "murder", "con artist"} & set(GENRE_KEYWORDS["Crime"])
    )
    assert hits["Crime"] >= 2
