"""Run the six services as separate processes, prefix their logs, stop them all cleanly.

Used by ``trending up`` and by the end-to-end tests. Each service is started as
``python -m services.<name>`` with the stack's URLs in its environment and a port of its
own; its stdout and stderr are copied line by line to ours (prefixed) and to a log file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from stack.ports import free_port

log = logging.getLogger("stack.supervisor")

# Stopped in this order: sources first, so nothing new enters a draining pipeline.
SERVICES: tuple[str, ...] = ("scraper", "enricher", "classifier", "scorer", "drift", "api")
COLOURS = {"scraper": 36, "enricher": 35, "classifier": 33, "scorer": 32, "drift": 34, "api": 31}
REPO_ROOT = Path(__file__).resolve().parents[1]

Echo = Callable[[str], None]


@dataclass
class ServiceProcess:
    """One running service: its process, the port of its HTTP endpoints, its log."""

    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    pump: threading.Thread | None = None

    @property
    def health_url(self) -> str:
        """Return the URL that answers once the service is up."""
        return f"http://127.0.0.1:{self.port}/healthz"

    def alive(self) -> bool:
        """Say whether the process is still running."""
        return self.popen.poll() is None


def _coloured(name: str, tty: bool) -> str:
    label = f"{name:<10}|"
    return f"\x1b[{COLOURS.get(name, 37)}m{label}\x1b[0m" if tty else label


def _pump(stream: IO[bytes], name: str, log_file: IO[str], echo: Echo | None, tty: bool) -> None:
    prefix = _coloured(name, tty)
    with stream, log_file:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            log_file.write(line + "\n")
            log_file.flush()
            if echo is not None:
                echo(f"{prefix} {line}")


@dataclass
class Supervisor:
    """Start, watch and stop the services."""

    env: Mapping[str, str]
    root: Path
    services: Sequence[str] = SERVICES
    api_port: int = 8000
    echo: Echo | None = None
    extra_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self) -> None:
        """Start every service (the api on ``api_port``, the others on free ports)."""
        for name in self.services:
            self._spawn(name)
        self._write_state()

    def restart(self, name: str) -> None:
        """Start a service again whose process has exited (or stop it first)."""
        proc = self.processes[name]
        if proc.alive():
            _signal_group(proc.popen.pid, signal.SIGTERM)
            proc.popen.wait(15)
        self._spawn(name, port=proc.port)
        self._write_state()

    def _spawn(self, name: str, port: int | None = None) -> None:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        tty = sys.stdout.isatty()
        if port is None:
            port = self.api_port if name == "api" else free_port()
        env = {
            **os.environ,
            **self.env,
            "METRICS_PORT": str(port),
            "API_PORT": str(self.api_port),
            "PYTHONUNBUFFERED": "1",
            # The stack's launcher already migrated; skip the per-service check.
            "TRENDING_SKIP_MIGRATIONS": "1",
            **self.extra_env.get(name, {}),
        }
        log_path = logs / f"{name}.log"
        mode = "a" if name in self.processes else "w"
        popen = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Our own Ctrl-C must not reach the services before we stop them in order.
            start_new_session=True,
        )
        proc = ServiceProcess(name=name, port=port, popen=popen, log_path=log_path)
        assert popen.stdout is not None
        proc.pump = threading.Thread(
            target=_pump,
            args=(popen.stdout, name, log_path.open(mode), self.echo, tty),
            name=f"log-{name}",
            daemon=True,
        )
        proc.pump.start()
        self.processes[name] = proc

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until every service answers /healthz; raise naming the ones that do not."""
        deadline = time.monotonic() + timeout
        pending = dict(self.processes)
        while pending and time.monotonic() < deadline:
            for name, proc in list(pending.items()):
                if not proc.alive():
                    raise RuntimeError(
                        f"service {name} exited with code {proc.popen.returncode} during "
                        f"start-up; see {proc.log_path}:\n{_tail(proc.log_path)}"
                    )
                if _answers(proc.health_url):
                    del pending[name]
            time.sleep(0.2)
        if pending:
            raise TimeoutError(
                f"services not healthy after {timeout:.0f}s: {', '.join(sorted(pending))}"
            )

    def dead(self) -> list[str]:
        """Return the services whose process has exited."""
        return [n for n, p in self.processes.items() if not p.alive()]

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every service with SIGTERM (then SIGKILL), in pipeline order."""
        for proc in self.processes.values():
            if proc.alive():
                _signal_group(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.popen.wait(remaining)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", proc.name, timeout)
                _signal_group(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(5)
            if proc.pump is not None:
                proc.pump.join(2)
        self.processes.clear()
        self.state_path.unlink(missing_ok=True)

    @property
    def state_path(self) -> Path:
        """Return where ``trending status`` finds what runs."""
        return self.root / "services.json"

    def _write_state(self) -> None:
        state = {
            name: {"pid": p.popen.pid, "port": p.port, "log": str(p.log_path)}
            for name, p in self.processes.items()
        }
        self.state_path.write_text(json.dumps({"services": state, "env": dict(self.env)}, indent=2))


def read_state(root: Path) -> dict[str, Any] | None:
    """Return what the last ``trending up`` in this folder started, if it still runs."""
    path = root / "services.json"
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).send_signal(sig)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(200 <= response.status < 300)
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
