"""The database server's own log, as a test reads it: which file the server writes, found by
asking the server to log a marker and looking where it landed."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text


@dataclass
class ServerLog:
    path: Path

    def size(self) -> int:
        return self.path.stat().st_size

    def since(self, offset: int) -> str:
        with self.path.open("rb") as stream:
            stream.seek(offset)
            return stream.read().decode("utf-8", errors="replace")


def _candidates(engine: Engine) -> list[Path]:
    with engine.connect() as connection:
        current = connection.execute(text("SELECT pg_current_logfile()")).scalar_one_or_none()
        data_dir = connection.execute(text("SELECT current_setting('data_directory')")).scalar_one()
        major = connection.execute(
            text("SELECT current_setting('server_version_num')::int / 10000")
        ).scalar_one()
    paths = [Path(data_dir) / current] if current else []
    paths.append(Path(data_dir) / "log")  # the embedded server's (pgserver starts it with -l pgdata/log)
    paths += sorted(Path("/var/log/postgresql").glob(f"postgresql-{major}-*.log"))
    if os.environ.get("ALE_TEST_SERVER_LOG"):
        paths.insert(0, Path(os.environ["ALE_TEST_SERVER_LOG"]))
    return paths


def find_server_log(engine: Engine) -> ServerLog | None:
    """The log file the server behind ENGINE writes, if this process may read it."""
    marker = f"ale-log-probe-{uuid.uuid4().hex}"
    readable = []
    for path in _candidates(engine):
        try:
            readable.append((path, path.stat().st_size))
        except OSError:
            continue
    with engine.begin() as connection:
        connection.execute(text(f"DO $$ BEGIN RAISE LOG '{marker}'; END $$"))
    for _ in range(20):
        for path, offset in readable:
            try:
                if marker in ServerLog(path).since(offset):
                    return ServerLog(path)
            except OSError:
                continue
        time.sleep(0.1)
    return None
