"""Typed settings read from the environment (and an optional .env file), one place per fact."""

from __future__ import annotations

import ipaddress
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from pydantic import AnyHttpUrl, BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceParseError

from config.sources import OneRosterApiConfig, SftpConfig, SourceKind
from config.sources_file import SourcesFileError, read_sources_file


class IdentifierSource(BaseModel):
    """Where a source carries an identifier: a typed userIds entry, a column, or a metadata column."""

    kind: Literal["user_ids", "column", "none"] = "column"
    # user_ids: the type labels accepted in userIds ({SSID:0123456789}); column: the column name
    labels: list[str] = Field(default_factory=list)
    column: str = "identifier"


class SourceConfig(BaseModel):
    """One SIS source of one district: an inbox directory the puller lists for new deliveries, a
    OneRoster REST API it reads, or an SFTP folder it downloads from (docs/sources.md)."""

    district: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: SourceKind = "inbox"
    inbox: Path | None = None
    api: OneRosterApiConfig | None = None
    sftp: SftpConfig | None = None
    format: Literal["oneroster", "csv"] = "oneroster"
    ssid_from: IdentifierSource = Field(
        default_factory=lambda: IdentifierSource(kind="user_ids", labels=["SSID", "ssid", "StateID"])
    )
    other_id_from: IdentifierSource = Field(default_factory=lambda: IdentifierSource(kind="column"))
    # plain CSV only: our field name -> the export's column name
    column_map: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_has_its_settings(self) -> SourceConfig:
        needed = {"inbox": self.inbox, "oneroster-api": self.api, "sftp": self.sftp}
        if needed[self.kind] is None:
            block = {"inbox": "inbox", "oneroster-api": "api", "sftp": "sftp"}[self.kind]
            raise ValueError(f'a source of kind "{self.kind}" needs its "{block}" settings')
        if self.kind == "oneroster-api" and self.format != "oneroster":
            raise ValueError('a "oneroster-api" source reads OneRoster; its format cannot be "csv"')
        return self


# Washington's districts, the product's first users, keep Pacific time
DEFAULT_TIMEZONE = "America/Los_Angeles"


def timezone_problem(zone: str) -> str | None:
    """None for an IANA zone name this machine knows (America/Los_Angeles), else why not."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{zone!r} is not a time zone name like America/Los_Angeles"
    return None


class Settings(BaseSettings):
    """ale-sync settings. Every field can be set as an environment variable of the same name."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path | None = None  # embedded servers' home; default: the per-user data directory
    # the Redis database `ale-sync demo` uses on the configured (or embedded) server; tests use 1-14
    demo_redis_db: Annotated[int, Field(ge=1, le=15)] = 15
    # every delivery as received, by checksum (default: DATA_DIR/archive); a shared volume when
    # workers run on several machines
    archive_dir: Path | None = None
    archive_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 400

    sis_sources: list[SourceConfig] = Field(default_factory=list)
    # a TOML or JSON file of sources, added to SIS_SOURCES (config/sources_file.py)
    sis_sources_file: Path | None = None

    pull_interval_seconds: Annotated[int, Field(ge=10, le=86_400)] = 300
    outbox_sweep_seconds: Annotated[int, Field(ge=5, le=3_600)] = 30
    # Redis redelivers a message a killed worker never acknowledged after this long; task
    # time limits are derived from it so a running task is never handed out twice
    broker_visibility_timeout_seconds: Annotated[int, Field(ge=10, le=86_400)] = 3_600
    nightly_rematch_hour: Annotated[int, Field(ge=0, le=23)] = 2
    # a district's time zone when it names none (`districts.timezone`): its pause windows are read in it
    district_timezone: str = DEFAULT_TIMEZONE

    ssid_pattern: str = r"^[0-9]{10}$"
    deactivation_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.10

    # matching's thresholds, in bits of summed evidence (matching/core/evidence.py); the defaults
    # come from bench/linkage_quality.py (docs/matching.md, "Thresholds")
    match_link_weight: Annotated[float, Field(ge=0.0, le=60.0)] = 13.0
    match_suggest_names_weight: Annotated[float, Field(ge=-30.0, le=40.0)] = 3.0
    match_two_digit_ssid_weight: Annotated[float, Field(ge=0.0, le=60.0)] = 25.0
    match_possible_weight: Annotated[float, Field(ge=0.0, le=60.0)] = 22.0
    match_possible_margin: Annotated[float, Field(ge=0.0, le=30.0)] = 6.0
    # hold an id match whose given name agrees only as a nickname that the district's SIS carries
    # as a name of its own: no twin typed as Freddie links to Frederick's record, and a child typed
    # by such a nickname waits for one click (docs/matching.md, "Nicknames that are names of their own")
    match_hold_nicknames: bool = True
    # ... unless the SIS sent the id's record only after the created record was last saved and no
    # SIS record carries the names as typed: the id was typed for a child the SIS did not have yet
    # (docs/matching.md, "When the SIS sent the record")
    match_link_later_arrivals: bool = True

    # a delivery's files as read (a zip's members decompressed): each, all together, and how many
    # times its compressed size a zip member may grow. A 1,000,000-student users.csv is about
    # 150 MB and compresses about fivefold; a zip bomb grows a thousandfold
    delivery_max_file_bytes: Annotated[int, Field(ge=1 << 20)] = 2 << 30
    delivery_max_total_bytes: Annotated[int, Field(ge=1 << 20)] = 8 << 30
    delivery_max_ratio: Annotated[int, Field(ge=2, le=100_000)] = 100

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    session_secret: str | None = None
    cookie_secure: bool = True
    # staff page sessions end after this long without a request, and this long after sign-in
    session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    session_lifetime_hours: Annotated[int, Field(ge=1, le=7 * 24)] = 8
    # where staff reach the pages (https://ale.example.org); the district sign-in's return address
    # is built on it. Unset: taken from each request (fine for one host without a proxy)
    public_url: AnyHttpUrl | None = None
    # proxies whose X-Forwarded-For is believed (addresses or networks); empty: the socket's address
    trusted_proxies: list[str] = Field(default_factory=list)
    # `limits` notation, several joined by ";" (e.g. "30/minute;300/hour"); kept in Redis
    rate_limit_sign_in_per_address: str = "30/minute;300/hour"
    rate_limit_sign_in_per_staff: str = "10/minute;60/hour"
    rate_limit_requests_per_address: str = "1200/minute"
    rate_limit_requests_per_staff: str = "300/minute"

    @field_validator("sis_sources_file", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value

    # e-mail: the daily digest to registrars and secretaries, alerts to a district's ops address
    # (docs/operations.md, "Notifications"). No SMTP_HOST: nothing is sent
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65_535)] = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "ale-sync@localhost"
    # the hour (in UTC) the daily digest goes out, and how often held/failed batches are looked for
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 6
    notify_interval_seconds: Annotated[int, Field(ge=10, le=3_600)] = 60
    # a district whose SIS has delivered nothing for this many days raises an alert
    no_delivery_alert_days: Annotated[int, Field(ge=1, le=365)] = 3
    # a Prometheus scrape of /metrics must send this bearer token when it is set
    metrics_token: str | None = None
    # a worker-only host: the worker's main process serves its pool's process metrics here
    worker_metrics_port: Annotated[int | None, Field(ge=1, le=65_535)] = None

    @field_validator("ssid_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc.msg})") from None
        return value

    @field_validator("district_timezone")
    @classmethod
    def _zone_is_known(cls, value: str) -> str:
        problem = timezone_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or network") from None
        return value

    @field_validator(
        "rate_limit_sign_in_per_address",
        "rate_limit_sign_in_per_staff",
        "rate_limit_requests_per_address",
        "rate_limit_requests_per_staff",
    )
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("not a rate limit like 30/minute or 10/minute;100/hour") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_is_postgres(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql", "postgres")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "redis+socket://", "unix://")):
            raise ValueError("must be a redis:// or redis+socket:// URL")
        return value

    @model_validator(mode="after")
    def _sources_from_file(self) -> Settings:
        if self.sis_sources_file is not None:
            try:
                self.sis_sources = [
                    *self.sis_sources,
                    *read_sources_file(self.sis_sources_file, SourceConfig),
                ]
            except SourcesFileError as error:
                raise PydanticCustomError(
                    "sources_file", "SIS_SOURCES_FILE: {problem}", {"problem": str(error)}
                ) from None
        names = [(s.district, s.name) for s in self.sis_sources]
        repeated = sorted({f"{d}/{n}" for d, n in names if names.count((d, n)) > 1})
        if repeated:
            raise PydanticCustomError(
                "sources_repeated", "a source is named twice: {which}", {"which": ", ".join(repeated)}
            )
        return self

    def ssid_regex(self) -> re.Pattern[str]:
        """The pattern as config/identifiers.py applies it (ASCII classes, like Postgres's)."""
        return re.compile(self.ssid_pattern, re.ASCII)

    def sources_for(self, district: str | None = None) -> list[SourceConfig]:
        return [s for s in self.sis_sources if district is None or s.district == district]


class SettingsError(SystemExit):
    """A wrong setting: the process stops at start with one line naming it."""


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if not where:
        return f"ale-sync: invalid settings: {first['msg']}"
    return f"ale-sync: invalid setting {where.upper()}: {first['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a wrong one prints one clear line and exits with status 2."""
    try:
        return Settings()
    except ValidationError as error:
        print(_one_line(error), file=sys.stderr)
        raise SettingsError(2) from None
    except SourceParseError as error:
        field = re.search(r'field "(\w+)"', str(error))
        name = field.group(1).upper() if field else "settings"
        print(f"ale-sync: invalid setting {name}: not valid JSON", file=sys.stderr)
        raise SettingsError(2) from None
