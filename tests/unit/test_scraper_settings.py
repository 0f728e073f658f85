"""The scraper's source settings: HTML off by default, TMDb lists validated by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.scraper.settings import ScraperSettings, tmdb_list_spec
from services.scraper.tmdb.source import source_name


def test_html_sources_are_off_by_default() -> None:
    assert ScraperSettings().html_sources == {}


def test_tmdb_lists_name_their_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPER_TMDB_LISTS", '["trending/tv/week", "popular/movie"]')
    lists = [tmdb_list_spec(t) for t in ScraperSettings().tmdb_lists]
    assert [source_name(s) for s in lists] == ["tmdb_trending_tv_week", "tmdb_popular_movie"]


@pytest.mark.parametrize("bad", ["trending/all", "popular/person", "top/movie/day", "x"])
def test_an_unknown_tmdb_list_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("SCRAPER_TMDB_LISTS", f'["{bad}"]')
    with pytest.raises(ValidationError, match="tmdb_lists"):
        ScraperSettings()


def test_an_empty_replay_file_disables_the_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPER_REPLAY_FILE", "")
    assert ScraperSettings().replay_file is None
