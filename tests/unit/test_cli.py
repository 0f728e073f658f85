"""Command-line argument errors: exit 2 with a message naming the problem, before any I/O."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.main import app


def test_replay_rejects_a_date_it_cannot_read() -> None:
    result = CliRunner().invoke(app, ["replay", "--from", "yesterday-ish"])
    assert result.exit_code == 2
    assert "--from: 'yesterday-ish' is not an ISO date-time" in result.output


def test_replay_rejects_an_empty_span() -> None:
    result = CliRunner().invoke(
        app, ["replay", "--from", "2026-11-26T10:00Z", "--to", "2026-11-26T09:00Z"]
    )
    assert result.exit_code == 2
    assert "--to must be later than --from" in result.output
