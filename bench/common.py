"""What several benchmarks share: percentiles, and a server run in a process of its own."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence

import psutil


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0–100) by nearest rank; NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def wait_healthy(port: int, server: subprocess.Popen[bytes], within: float = 60) -> None:
    """Wait until the server answers ``/healthz`` (or fail if it died first)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the bench server exited with code {server.returncode}")
        url = f"http://127.0.0.1:{port}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError("the bench server did not answer /healthz")


@contextlib.contextmanager
def server_process(module: str, port: int, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m <module> --serve <port> <args>`` until the block ends.

    Client and server in separate processes, as in production: they neither share an
    event loop nor a Python interpreter's lock. A SIGTERM to this process stops the
    server too (:func:`exit_cleanly_on_sigterm`).
    """
    exit_cleanly_on_sigterm()
    command = [sys.executable, "-m", module, "--serve", str(port), *args]
    server = subprocess.Popen(command)
    try:
        wait_healthy(port, server)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class CpuMeter:
    """CPU seconds spent by named processes between two readings.

    On a machine where every process shares two cores, CPU per unit of work says where
    the time goes, which wall-clock figures alone cannot. Each process is counted with its
    children (Postgres works in one backend process per connection), except those named
    in ``alone`` (the benchmark itself, whose children are everything else measured).
    """

    def __init__(self, pids: dict[str, int], alone: frozenset[str] = frozenset()) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.alone = alone
        self._start = self._read()

    def _read(self) -> dict[str, float]:
        spent: dict[str, float] = {}
        for name, proc in self.processes.items():
            total = 0.0
            with contextlib.suppress(psutil.NoSuchProcess):
                family = [] if name in self.alone else proc.children(recursive=True)
                for p in (proc, *family):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        times = p.cpu_times()
                        total += times.user + times.system
            spent[name] = total
        return spent

    def restart(self) -> None:
        """Start counting again from now."""
        self._start = self._read()

    def spent(self) -> dict[str, float]:
        """Return CPU seconds per process since the start (or the last restart)."""
        now = self._read()
        return {name: now[name] - self._start[name] for name in now}


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (``timeout``, ``kill``) into SystemExit, so that ``finally`` blocks and
    context managers stop the servers this process started instead of orphaning them."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
