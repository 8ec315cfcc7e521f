"""The settings of the two sources ale-sync reads itself: a OneRoster REST API and an SFTP drop.

Secrets are never settings values: a setting names the environment variable or the file that
holds one, and the secret is read only when a connection needs it (and never logged).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from config.redaction import SafeMessage


class SecretMissing(SafeMessage, Exception):
    """A secret's environment variable or file is not there; the message names where, never a value."""


class SecretRef(BaseModel):
    """Where a secret lives: an environment variable or a file (e.g. a mounted Docker/Kubernetes secret)."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError('give the secret as {"env": "NAME"} or {"file": "/path"}, exactly one')
        return self

    def read(self) -> str:
        """The secret itself, read now."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise SecretMissing(f"the environment variable {self.env} holding a source's secret is unset")
            return value
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").strip()
        except OSError:
            raise SecretMissing(f"the secret file {self.file} cannot be read") from None


class OneRosterApiConfig(BaseModel):
    """A OneRoster 1.1 / 1.2 REST endpoint read with OAuth 2.0 client credentials."""

    # the service's base, ending in /ims/oneroster/v1p1 or /ims/oneroster/rostering/v1p2
    base_url: str
    version: Literal["1.1", "1.2"] = "1.2"
    token_url: str
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    scopes: list[str] = Field(default_factory=list)  # sent space-separated; none sent when empty
    # RFC 6749 lets a client send its credentials as HTTP Basic (most SIS) or in the form body
    token_auth: Literal["basic", "body"] = "basic"  # noqa: S105 (a method, not a secret)
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 1_000
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0
    # attempts per request before the read gives up (429, 503, timeouts, resets)
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    # the first backoff's ceiling; it doubles each attempt (full jitter, capped at a minute)
    retry_backoff_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    # a server asking to wait longer than this ends the read; the next pull tries again
    max_retry_after_seconds: Annotated[float, Field(ge=0, le=3_600)] = 300.0
    # whole reads started again when the data changed under the read
    read_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    # a delta asks for records changed since the watermark minus this much
    delta_overlap_seconds: Annotated[int, Field(ge=0, le=86_400)] = 600
    read_demographics: bool = True
    sort: str | None = None  # e.g. "sourcedId", for servers whose default order is not stable

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/")


class SftpConfig(BaseModel):
    """A folder on an SFTP server where the SIS (or a rostering vendor) drops nightly deliveries."""

    host: str = Field(min_length=1)
    port: Annotated[int, Field(ge=1, le=65_535)] = 22
    username: str = Field(min_length=1)
    key_file: Path
    key_passphrase: SecretRef | None = None
    # the server's public host keys as in known_hosts ("ssh-ed25519 AAAA..."); any other is refused
    host_keys: list[str] = Field(min_length=1)
    remote_dir: str = "."
    pattern: str = "*.zip"
    # after a delivery is registered, move it on the server into this folder; unset: never touch it
    move_processed_to: str | None = None
    # a file modified less than this long ago may still be being written: left for the next pull
    settle_seconds: Annotated[int, Field(ge=0, le=86_400)] = 60
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0

    @field_validator("host_keys")
    @classmethod
    def _key_lines(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if len(key.split()) < 2:
                raise ValueError('each host key is "<type> <base64>", as ssh-keyscan prints it')
        return keys


SourceKind = Literal["inbox", "oneroster-api", "sftp"]
