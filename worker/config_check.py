"""`ale-sync config check`: every setting, source, folder, service and sign-in provider checked at
once, each problem one line ("where: what is wrong"), so ops fix them all in one pass."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import redis
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from config.identifiers import sql_fullmatch
from config.identity_provider import provider_problems
from config.services import database_url, redis_client_url
from config.settings import Settings, SourceConfig
from config.sources import SecretMissing, SecretRef
from config.sources_file import SourcesFileError, read_sources_file
from models import District, IdentityProvider
from models.db import get_engine, transaction
from models.migrate import alembic_config, current_heads
from models.sign_in import provider_settings


def settings_problems() -> tuple[Settings | None, list[str]]:
    """The settings, or None and one line per wrong setting (not only the first)."""
    try:
        return Settings(), []
    except ValidationError as error:
        lines = [_line(item["loc"], item["msg"]) for item in error.errors()]
    # the file is read only once every other setting is right: read it here too, to name its problem
    named = os.environ.get("SIS_SOURCES_FILE")
    if named and not any(line.startswith("SIS_SOURCES_FILE") for line in lines):
        try:
            read_sources_file(Path(named), SourceConfig)
        except SourcesFileError as problem:
            lines.append(f"SIS_SOURCES_FILE: {problem}")
    return None, lines


def _line(where: tuple[int | str, ...], message: str) -> str:
    return f"{'.'.join(str(p) for p in where).upper()}: {message}" if where else message


def source_problems(source: SourceConfig) -> Iterator[str]:
    """What keeps one source from being read: a folder, a key file or a secret that is not there."""
    where = f"source {source.district}/{source.name}"
    if source.kind == "inbox" and source.inbox is not None:
        yield from (f"{where}: {p}" for p in _folder_problems(source.inbox, "inbox"))
    if source.api is not None:
        yield from (f"{where}: {p}" for p in _secret_problems(source.api.client_secret))
    if source.sftp is not None:
        if not os.access(source.sftp.key_file, os.R_OK):
            yield f"{where}: key file {source.sftp.key_file} cannot be read"
        if source.sftp.key_passphrase is not None:
            yield from (f"{where}: {p}" for p in _secret_problems(source.sftp.key_passphrase))


def _folder_problems(folder: Path, what: str) -> list[str]:
    if not folder.is_dir():
        return [f"{what} folder {folder} does not exist"]
    if not os.access(folder, os.R_OK | os.X_OK):
        return [f"{what} folder {folder} cannot be read by this user"]
    return []


def _secret_problems(secret: SecretRef) -> list[str]:
    try:
        secret.read()
    except SecretMissing as missing:
        return [str(missing)]
    return []


def archive_problems(settings: Settings) -> list[str]:
    """The archive folder must be writable (or creatable) by this user."""
    folder = settings.archive_dir
    if folder is None:
        return []
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK | os.X_OK):
        return [f"ARCHIVE_DIR: {folder} cannot be written by this user"]
    return []


def database_problems() -> tuple[Engine | None, list[str]]:
    """The database reachable and migrated to the newest revision."""
    try:
        engine = get_engine(database_url())
        heads = current_heads(engine)
    except (SQLAlchemyError, OSError) as error:
        return None, [f"DATABASE_URL: cannot connect ({type(error).__name__})"]
    newest = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if heads != newest:
        return engine, ["database: not at the newest revision; run `ale-sync db upgrade`"]
    return engine, []


def redis_problems() -> list[str]:
    try:
        client = redis.Redis.from_url(redis_client_url(), socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except (redis.RedisError, OSError) as error:
        return [f"REDIS_URL: cannot connect ({type(error).__name__})"]
    return []


def stored_problems(engine: Engine, settings: Settings) -> list[str]:
    """Sources for districts nobody provisioned, and each district's sign-in provider's problems."""
    with transaction(engine) as session:
        districts = set(session.scalars(select(District.id)))
        providers = [
            provider_settings(session, d) for d in session.scalars(select(IdentityProvider.district_id))
        ]
    lines = [
        f"source {s.district}/{s.name}: district {s.district} is not provisioned "
        f"(`ale-sync district add {s.district} --name ...`)"
        for s in settings.sis_sources
        if s.district not in districts
    ]
    for provider in providers:
        if provider is not None:
            lines += [f"sign-in of district {provider.district}: {p}" for p in provider_problems(provider)]
    return lines


def ssid_pattern_problems(engine: Engine, settings: Settings) -> list[str]:
    """The ingest applies SSID_PATTERN in Postgres: a pattern only Python's `re` reads is wrong."""
    pattern = sql_fullmatch("''", ":pattern")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"SELECT {pattern}"), {"pattern": settings.ssid_pattern})
    except DBAPIError:
        return ["SSID_PATTERN: Postgres cannot read this regular expression (keep to classes, groups, {n})"]
    return []


def all_problems() -> list[str]:
    """Every problem found, in the order ops would fix them: settings, sources, services, districts."""
    settings, problems = settings_problems()
    if settings is None:
        return problems
    for source in settings.sis_sources:
        problems += source_problems(source)
    problems += archive_problems(settings)
    engine, found = database_problems()
    problems += found + redis_problems()
    if engine is not None and not found:
        problems += ssid_pattern_problems(engine, settings) + stored_problems(engine, settings)
    return problems
