"""An SFTP folder the SIS (or a rostering vendor) drops deliveries into, read with asyncssh.

The server's host key must be one of the pinned `host_keys`: an unknown or changed key ends the
connection before anything is sent. New files are those whose (name, size, time) the source has
not seen; each is downloaded whole into a private folder, then the ledger's checksum decides
whether it is a new delivery. Nothing on the server is ever deleted; with `move_processed_to`
set, a file is moved into that folder once its batch is registered.
"""

from __future__ import annotations

import asyncio
import fnmatch
import posixpath
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import structlog

from config.sources import SftpConfig
from worker.sources.archive import private_folder
from worker.sources.errors import SourceUnavailable

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    modified: int  # seconds since the epoch, as the server reports it


@dataclass(frozen=True)
class Downloaded:
    remote: RemoteFile
    path: Path  # the local copy, under its remote name


def download_new(config: SftpConfig, seen: Callable[[RemoteFile], bool], folder: Path) -> list[Downloaded]:
    """Download every matching file not SEEN yet (oldest name first) into FOLDER."""
    downloaded: list[Downloaded] = _run(config, _download(config, seen, folder))
    return downloaded


def move_processed(config: SftpConfig, names: list[str]) -> None:
    """Move NAMES into `move_processed_to` on the server (nothing is done when it is unset)."""
    if config.move_processed_to and names:
        _run(config, _move(config, names))


def _run(config: SftpConfig, work: Any) -> Any:
    where = f"sftp://{config.host}:{config.port}"
    try:
        return asyncio.run(work)
    except (asyncssh.HostKeyNotVerifiable, asyncssh.KeyExchangeFailed):
        # a key of another type than the pinned ones fails the key exchange itself
        raise _host_key_refused(where) from None
    except asyncssh.PermissionDenied:
        raise SourceUnavailable(
            "sftp_login_refused", f"{where} refused the login with the key file"
        ) from None
    except (OSError, asyncssh.Error) as error:
        # a server that has none of the pinned key types may hang up before the client reads why
        # (then the key exchange's failure arrives as a lost connection): ask which keys it has
        if isinstance(error, asyncssh.ConnectionLost) and asyncio.run(_presents_no_pinned_key(config)):
            raise _host_key_refused(where) from None
        raise SourceUnavailable("sftp_unavailable", f"{where} failed: {type(error).__name__}") from None


def _host_key_refused(where: str) -> SourceUnavailable:
    return SourceUnavailable(
        "host_key_refused", f"{where} did not present one of its pinned host_keys: refused"
    )


async def _presents_no_pinned_key(config: SftpConfig) -> bool:
    """The server answers with a host key, but with none of the pinned ones when asked for each
    pinned key's own type. False when it does not answer at all (then it is not the key)."""

    async def key(algorithms: list[str] | tuple[()]) -> asyncssh.SSHKey | None:
        try:
            return await asyncssh.get_server_host_key(
                config.host, config.port, server_host_key_algs=algorithms, config=[]
            )
        except (OSError, asyncssh.Error):
            return None

    if await key(()) is None:
        return False
    for pinned in (asyncssh.import_public_key(k) for k in config.host_keys):
        presented = await key([a.decode() for a in pinned.sig_algorithms])
        if presented is not None and presented.public_data == pinned.public_data:
            return False
    return True


def _connect(config: SftpConfig) -> Any:
    passphrase = config.key_passphrase.read() if config.key_passphrase else None
    trusted = [asyncssh.import_public_key(key) for key in config.host_keys]
    return asyncssh.connect(
        config.host,
        config.port,
        username=config.username,
        client_keys=[asyncssh.read_private_key(str(config.key_file), passphrase)],
        known_hosts=(trusted, [], []),
        agent_path=None,
        config=[],
        connect_timeout=config.timeout_seconds,
    )


async def _download(config: SftpConfig, seen: Callable[[RemoteFile], bool], folder: Path) -> list[Downloaded]:
    downloaded = []
    async with _connect(config) as connection, connection.start_sftp_client() as sftp:
        for remote in await _listing(config, sftp):
            if seen(remote):
                continue
            target = private_folder(folder / uuid.uuid4().hex) / remote.name
            await sftp.get(posixpath.join(config.remote_dir, remote.name), str(target))
            target.chmod(0o600)
            logger.info("sftp.downloaded", host=config.host, file=remote.name, size=remote.size)
            downloaded.append(Downloaded(remote, target))
    return downloaded


async def _listing(config: SftpConfig, sftp: Any) -> list[RemoteFile]:
    """Regular files matching the pattern that have settled, in name order."""
    settled_before = time.time() - config.settle_seconds
    files = []
    for entry in await sftp.readdir(config.remote_dir):
        attrs = entry.attrs
        regular = attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
        if not regular or not fnmatch.fnmatch(entry.filename, config.pattern):
            continue
        if (attrs.mtime or 0) > settled_before:
            continue
        files.append(RemoteFile(entry.filename, int(attrs.size or 0), int(attrs.mtime or 0)))
    return sorted(files, key=lambda f: f.name)


async def _move(config: SftpConfig, names: list[str]) -> None:
    assert config.move_processed_to is not None
    async with _connect(config) as connection, connection.start_sftp_client() as sftp:
        await sftp.makedirs(config.move_processed_to, exist_ok=True)
        for name in names:
            target = posixpath.join(config.move_processed_to, name)
            await sftp.rename(posixpath.join(config.remote_dir, name), target)
            logger.info("sftp.moved_processed", host=config.host, file=name)
