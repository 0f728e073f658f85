"""A real Prometheus (Debian's package) scrapes a service and loads our alert rules; promtool
validates the rules and the configuration and runs the alert unit tests.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.ports import free_port
from tests.factories import title_classified
from tests.kafka_io import produce, services
from trendkit.contracts import TITLES_CLASSIFIED
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def _needs(binary: str) -> None:
    if not Path(binary).is_file():
        # `make test` and .ci/run install it: a missing binary is a broken setup, not a skip.
        pytest.fail(f"needs Debian's prometheus package ({binary}): run `make browser`")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    _needs(PROMTOOL)
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False, cwd=RULES
    )


def test_promtool_accepts_the_rules_and_the_configuration() -> None:
    rules = _promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS" in rules.stdout
    config = _promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_passes_its_promtool_unit_tests() -> None:
    result = _promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    names = {
        rule["alert"]
        for group in yaml.safe_load((RULES / "alerts.yml").read_text())["groups"]
        for rule in group["rules"]
    }
    exercised = {
        case["alertname"]
        for test in yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert names <= exercised, f"alerts without a promtool test: {sorted(names - exercised)}"


def _start(config: Path, url: str, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address={urllib.parse.urlparse(url).netloc}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def _eventually(url: str, check: Any, within: float = 60.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: Any = None
    while loop.time() < deadline:
        try:
            last = await asyncio.to_thread(_get, url)
            if check(last):
                return last
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url}: not as expected within {within:.0f} s; last answer {last}")


def _query(base: str, promql: str) -> str:
    return f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})


async def test_prometheus_scrapes_a_service_and_loads_the_alert_rules(
    settings: CommonSettings, tmp_path: Path
) -> None:
    _needs(PROMETHEUS)
    url, config = f"http://127.0.0.1:{free_port()}", tmp_path / "prometheus.yml"
    with services(settings, ("scorer",), tmp_path) as running:
        target = f"127.0.0.1:{running.processes['scorer'].port}"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(RULES / "alerts.yml")],
                    "scrape_configs": [
                        {"job_name": "scorer", "static_configs": [{"targets": [target]}]}
                    ],
                }
            )
        )
        server = _start(config, url, tmp_path / "tsdb")
        try:
            await _eventually(
                f"{url}/api/v1/targets",
                lambda body: [t["health"] for t in body["data"]["activeTargets"]] == ["up"],
            )
            await produce(settings, TITLES_CLASSIFIED, [title_classified(name="Scraped")])
            # The scorer's own counter, as Prometheus stored it from its /metrics.
            processed = await _eventually(
                _query(url, 'sum(trending_stage_processed_messages_total{job="scorer"})'),
                lambda body: (
                    body["data"]["result"] and float(body["data"]["result"][0]["value"][1]) >= 1
                ),
            )
            assert processed["status"] == "success"
            rules = await _eventually(
                f"{url}/api/v1/rules", lambda body: bool(body["data"]["groups"])
            )
            loaded = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
            assert {"TrendingServiceDown", "TrendingConsumerLagHigh"} <= loaded
            # Only the scorer runs here: the alert for missing services is pending or firing.
            alerts = await _eventually(
                f"{url}/api/v1/alerts",
                lambda body: any(
                    a["labels"]["alertname"] == "TrendingServiceMissing"
                    for a in body["data"]["alerts"]
                ),
            )
            assert alerts["status"] == "success"
        finally:
            server.terminate()
            server.wait(15)


def test_every_dashboard_is_valid_json_and_every_query_parses(tmp_path: Path) -> None:
    dashboards = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
    assert {d.stem for d in dashboards} >= {"pipeline", "llm", "ml"}
    rules: list[dict[str, str]] = []
    uids = set()
    for path in dashboards:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids, f"{path.name}: duplicate uid"
        uids.add(board["uid"])
        panels = [p for p in board["panels"] if p["type"] != "row"]
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"]), path.name
        for p in panels:
            assert p["targets"], f"{path.name}: panel {p['title']!r} queries nothing"
            for t in p["targets"]:
                # Grafana fills in its interval variables before Prometheus sees a query.
                expr = re.sub(r"\$__(rate_interval|interval|range)", "5m", t["expr"])
                record = f"check:{path.stem}:{p['id']}:{t['refId']}"
                rules.append({"record": record, "expr": expr})
    # promtool parses every query as PromQL by checking them as recording rules.
    check = tmp_path / "dashboard_queries.yml"
    check.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = _promtool("check", "rules", str(check))
    assert result.returncode == 0, result.stdout + result.stderr
