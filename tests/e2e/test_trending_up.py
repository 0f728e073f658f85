"""`trending up` as a user runs it: the whole system as processes, the page, then Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from playwright.sync_api import sync_playwright

from stack.ports import free_port, port_is_free

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXTERNAL = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL")


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _wait_for(condition: Any, *, within: float, what: str, proc: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"trending up exited with {proc.returncode} while waiting for {what}"
            )
        try:
            result = condition()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")


def _dashboard_metrics() -> set[str]:
    """Every trending_* metric the alert rules and Grafana dashboards query."""
    files = [*(REPO / "deploy" / "prometheus").glob("*.yml")]
    files += (REPO / "deploy" / "grafana").rglob("*.json")
    names = {m for f in files for m in re.findall(r"trending_[a-z_]+", f.read_text())}
    # A histogram is declared once (HELP/TYPE) and queried as _bucket, _count or _sum.
    return {re.sub(r"_(bucket|count|sum)$", "", m) for m in names}


def _exported_metrics(root: Path) -> set[str]:
    """Every metric family the running services declare on their /metrics."""
    state = json.loads((root / "services.json").read_text())
    names: set[str] = set()
    for name, info in state["services"].items():
        url = f"http://127.0.0.1:{info['port']}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except OSError as exc:
            raise AssertionError(f"{name}: {url}: {exc}") from exc
        names.update(re.findall(r"^# (?:HELP|TYPE) (\S+)", text, flags=re.M))
    return names


def _our_pids(root: Path) -> dict[str, int]:
    """Return every process `trending up` started: services and stack components."""
    state = json.loads((root / "services.json").read_text())
    pids = {name: info["pid"] for name, info in state["services"].items()}
    for pid_file in (root / "stack").glob("*/*.pid"):
        pids[pid_file.stem] = json.loads(pid_file.read_text())["pid"]
    return pids


@pytest.fixture
def trending_up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """Run `trending up` on a free port in a fresh folder; always stop it afterwards."""
    port = free_port()
    root = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "up",
            "--root",
            str(root),
            "--port",
            str(port),
            "--speed",
            "3600",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc, port, root
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def test_trending_up_serves_bubbles_and_ctrl_c_leaves_nothing_behind(
    trending_up: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, root = trending_up
    base = f"http://127.0.0.1:{port}"
    seen: list[list[dict[str, Any]]] = []

    def led_by_number_one() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = _get_json(f"{base}/api/trends?window=day&limit=50")["items"]
        seen.append(items)
        # The api reads the scorer's partitions as they come: for a moment it may hold
        # half of one of the scorer's publications (the old leader at #2, the new one not
        # yet at #1). Every publication leaves a #1 (tests/unit/test_scoring.py).
        return items if items and items[0]["rank"] == 1 else None

    try:
        items = _wait_for(led_by_number_one, within=180, what="/api/trends led by a #1", proc=proc)
    except AssertionError as failure:
        last = [(i["rank"], i["title"]["name"]) for i in (seen or [[]])[-1][:5]]
        raise AssertionError(f"{failure}; the last top five: {last}") from None
    assert items[0]["explanation"]
    ready = _get_json(f"{base}/readyz")
    assert ready == {"ready": True, "checks": {"kafka": "ok", "postgres": "ok", "redis": "ok"}}
    pids = _our_pids(root)
    assert {"scraper", "enricher", "classifier", "scorer", "drift", "api"} <= set(pids)
    # Alerts and dashboards must not query a metric no service exports.
    assert _dashboard_metrics() - _exported_metrics(root) == set()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base)
            page.wait_for_function(
                "() => document.querySelectorAll('.bubble').length >= 5", timeout=60_000
            )
            status = page.locator("#status")
            status.wait_for(timeout=30_000)
            page.wait_for_function(
                "() => /live/i.test(document.getElementById('status').textContent)",
                timeout=30_000,
            )
            page.wait_for_timeout(3000)  # let the entering bubbles settle before the picture
            page.screenshot(path=str(root.parent / "bubbles.png"))
        finally:
            browser.close()

    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    still_running = {name: pid for name, pid in pids.items() if psutil.pid_exists(pid)}
    assert still_running == {}
    assert port_is_free(port)
    assert not (root / "services.json").exists()
