"""The SIS sources read from the file SIS_SOURCES_FILE names: TOML (`[[sources]]` tables) or JSON
(a list, or {"sources": [...]}), so no JSON has to be quoted inside an environment variable. The
same file may list the districts (`[[districts]]`) for `ale-sync district add --from`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class SourcesFileError(ValueError):
    """The file cannot be read or an entry is wrong; the message names the file and the entry."""


def read_sources_file(path: Path, model: type[M]) -> list[M]:
    """Every source the file lists, checked as SIS_SOURCES' entries are (MODEL: the source's settings)."""
    entries = _entries(path)
    sources = []
    for number, entry in enumerate(entries, 1):
        try:
            sources.append(model.model_validate(entry))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            raise SourcesFileError(
                f"{path}: source {number} ({_label(entry)}): {where}: {first['msg']}"
            ) from None
    return sources


def _entries(path: Path, key: str = "sources") -> list[Any]:
    parsed = _parsed(path)
    entries = parsed.get(key, None) if isinstance(parsed, dict) else parsed if key == "sources" else None
    if not isinstance(entries, list):
        raise SourcesFileError(f"{path}: expected a list of {key} (TOML: [[{key}]] tables)")
    return entries


def district_entries(path: Path) -> list[dict[str, str]]:
    """The file's `[[districts]]` tables (code, name, timezone), each a dict of strings."""
    entries = _entries(path, "districts")
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not {"code", "name"} <= entry.keys():
            raise SourcesFileError(f"{path}: district {number}: needs a code and a name")
    return [{k: str(v) for k, v in entry.items()} for entry in entries]


def _parsed(path: Path) -> Any:
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourcesFileError(f"{path}: cannot be read ({type(error).__name__})") from None
    try:
        parsed: Any = tomllib.loads(content) if path.suffix.lower() == ".toml" else json.loads(content)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise SourcesFileError(f"{path}: not valid {kind} ({error})") from None
    return parsed


def _label(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "not a table"
    return f"district {entry.get('district', '?')}, name {entry.get('name', '?')}"
