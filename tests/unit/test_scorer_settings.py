"""The scorer's settings: its batch size is its consumer's, whatever the common default."""

from __future__ import annotations

import pytest

from services.scorer.settings import ScorerSettings


def test_the_scorer_consumes_batches_of_its_own_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUMER_MAX_RECORDS", "500")  # every other stage's
    assert ScorerSettings().batching().consumer_max_records == 2000
    monkeypatch.setenv("SCORER_BATCH_SIZE", "750")
    settings = ScorerSettings()
    assert settings.consumer_max_records == 500
    assert settings.batching().consumer_max_records == 750


def test_a_batch_size_below_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORER_BATCH_SIZE", "0")
    with pytest.raises(ValueError, match="batch_size"):
        ScorerSettings()
