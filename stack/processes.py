"""Child processes: pid files, recognising our own leftovers, stopping, log tails, run-as user."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger("stack")

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Seconds of slack when comparing process start times (psutil derives them from clock ticks).
_CREATE_TIME_SLACK = 0.05


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file says about a child we started and about the process that started it."""

    component: str
    pid: int
    create_time: float
    exe: str
    cmdline: list[str]
    owner_pid: int
    owner_create_time: float

    def write(self, path: Path) -> None:
        """Write the record atomically as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> ProcessRecord | None:
        """Read a pid file; None when it is missing or unreadable."""
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            return cls(
                component=str(raw["component"]),
                pid=int(raw["pid"]),
                create_time=float(raw["create_time"]),
                exe=str(raw["exe"]),
                cmdline=[str(part) for part in raw["cmdline"]],
                owner_pid=int(raw["owner_pid"]),
                owner_create_time=float(raw["owner_create_time"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def live_process(self) -> psutil.Process | None:
        """Return the recorded child if that very process still runs, else None."""
        # pid + start time identify a process; the exe guards against a recycled pid whose
        # start time happens to match. The cmdline is not compared: redis-server rewrites it.
        proc = same_process(self.pid, self.create_time)
        if proc is None:
            return None
        with contextlib.suppress(psutil.Error, OSError):
            if os.path.realpath(proc.exe()) == os.path.realpath(self.exe):
                return proc
        return None

    def owner_alive(self) -> bool:
        """Return whether the launcher process that wrote the record still runs."""
        return same_process(self.owner_pid, self.owner_create_time) is not None


def same_process(pid: int, create_time: float) -> psutil.Process | None:
    """Return the process with this pid if it started at create_time, else None."""
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) > _CREATE_TIME_SLACK:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def record_for(component: str, pid: int, cmdline: list[str]) -> ProcessRecord:
    """Describe a freshly started child (running cmdline) and this launcher for its pid file."""
    me = psutil.Process()
    try:
        create_time = psutil.Process(pid).create_time()
    except psutil.Error:
        # It died at once (the wait for readiness reports why); nothing will match this record.
        create_time = 0.0
    return ProcessRecord(
        component=component,
        pid=pid,
        create_time=create_time,
        # The program, not what runs at this instant: a wrapper (setpriv) may not have exec'd yet.
        exe=os.path.realpath(cmdline[0]),
        cmdline=cmdline,
        owner_pid=me.pid,
        owner_create_time=me.create_time(),
    )


def _signal(proc: psutil.Process, sig: int) -> None:
    """Send a signal, ignoring a process that is already gone."""
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(sig)


def _gone(proc: psutil.Process) -> bool:
    """Return whether the process has exited (a zombie counts: it no longer runs anything)."""
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until the processes have exited; return those still running after timeout."""
    # Not psutil.wait_procs: a process that is not our child stays a zombie until its new
    # parent reaps it, and psutil would wait for that.
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [p for p in alive if not _gone(p)]
    return alive


def _wait(proc: psutil.Process, popen: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    """Wait for the process to exit; True when it did."""
    if popen is None:
        return not _wait_gone([proc], timeout)
    try:
        # Our own child: wait through Popen so that it is reaped and Popen knows.
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def stop_process(
    proc: psutil.Process,
    sig: int,
    timeout: float,
    popen: subprocess.Popen[bytes] | None = None,
) -> bool:
    """Stop a process and its descendants: sig, wait, then SIGKILL; True when it went gracefully."""
    try:
        # Remember the descendants now: once the parent is gone they can no longer be found.
        descendants = proc.children(recursive=True)
    except psutil.Error:
        descendants = []
    _signal(proc, sig)
    graceful = _wait(proc, popen, timeout)
    if not graceful:
        for target in (proc, *descendants):
            _signal(target, signal.SIGKILL)
        _wait(proc, popen, 5.0)
    # psutil checks pid + start time before signalling, so a recycled pid is never hit.
    for straggler in _wait_gone(descendants, 1.0 if graceful else 0.1):
        _signal(straggler, signal.SIGKILL)
    _wait_gone(descendants, 5.0)
    return graceful


def tail(path: Path, lines: int = 20) -> str:
    """Return the last lines of a log file without terminal colour codes."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            last = deque(fh, maxlen=lines)
    except OSError as exc:
        return f"(no log: {exc})"
    return _ANSI.sub("", "".join(last)).rstrip()


def rotate_log(path: Path) -> None:
    """Keep the previous run's log as <name>.log.1 so a new run starts with an empty log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.replace(path.with_name(path.name + ".1"))


@dataclass(frozen=True)
class RunAs:
    """A system user that child processes run as (PostgreSQL refuses to run as root)."""

    name: str
    uid: int
    gid: int
    # setpriv with CAP_DAC_READ_SEARCH: the user reaches our folder whatever the permissions
    # of the folders above it (pytest, run as root, resets /tmp/pytest-of-root to 0700 at
    # every session start, which would kill a server that is only allowed in through o+x).
    setpriv: str | None = None

    def wrap(self, cmd: list[str]) -> list[str]:
        """Return the command line that runs cmd as this user."""
        if self.setpriv is None:
            return cmd
        ids = ["--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups"]
        caps = ["--inh-caps", "+dac_read_search", "--ambient-caps", "+dac_read_search"]
        return [self.setpriv, *ids, *caps, "--", *cmd]

    def popen_kwargs(self) -> dict[str, Any]:
        """Return subprocess keyword arguments that switch to this user (without setpriv)."""
        if self.setpriv is not None:
            return {}
        # extra_groups=[] drops root's supplementary groups in the child.
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, *paths: Path) -> None:
        """Hand these paths (not recursively) to the user."""
        for path in paths:
            os.chown(path, self.uid, self.gid)

    def ensure_traversable(self, path: Path) -> None:
        """Give others execute (traverse only) permission on the path and its ancestors."""
        if self.setpriv is not None:
            return
        resolved = path.resolve()
        for parent in (resolved, *resolved.parents):
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                log.info("adding o+x to %s so that %s can reach %s", parent, self.name, path)
                parent.chmod(mode | stat.S_IXOTH)


def ensure_system_user(name: str) -> RunAs:
    """Return the system user, creating it (no home, no login shell) when missing."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        log.info("creating system user %s to run PostgreSQL (it refuses to run as root)", name)
        done = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            # A launcher running beside us may have created it first; useradd then fails.
            entry = pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(f"could not create user {name}: {done.stderr.strip()}") from None
    run_as = RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)
    setpriv = shutil.which("setpriv")
    if setpriv is not None and _can_grant_read_search(setpriv, run_as.uid, run_as.gid):
        run_as = dataclasses.replace(run_as, setpriv=setpriv)
    return run_as


@functools.cache
def _can_grant_read_search(setpriv: str, uid: int, gid: int) -> bool:
    """Return whether setpriv can run a program as uid:gid with CAP_DAC_READ_SEARCH here."""
    # Containers often drop the capability from the bounding set (or forbid ambient ones);
    # then we fall back to o+x on the folders above ours.
    trial = RunAs(name="trial", uid=uid, gid=gid, setpriv=setpriv).wrap(["true"])
    try:
        done = subprocess.run(trial, capture_output=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
