"""Where a batch's delivery came from, as `ale-sync batches show` prints it."""

from __future__ import annotations

from typing import Any


def origin_lines(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines saying where the delivery came from: source, file or API read, watermark,
    pages and counts, and where the archived copy is."""
    origin: dict[str, Any] = row.get("provenance") or {}
    if origin.get("source_kind") == "replay":
        lines = [("replay of", f"batch {origin.get('replay_of')}")]
        origin = origin.get("original") or {}
    else:
        lines = []
    kind = origin.get("source_kind", "file")
    lines.append(("received", f"{kind} source {row['source']}"))
    if kind == "oneroster-api":
        lines += _api_lines(origin)
    elif kind == "sftp":
        lines.append(("from", f"sftp://{origin.get('host')}{origin.get('file')}"))
        lines.append(("remote file", f"{origin.get('size')} bytes, modified {origin.get('modified')}"))
    elif origin.get("file"):
        lines.append(("from", str(origin["file"])))
    lines.append(("archive", row.get("archive_path") or "not kept (past the retention period)"))
    return lines


def _api_lines(origin: dict[str, Any]) -> list[tuple[str, str]]:
    collections: dict[str, dict[str, Any]] = origin.get("collections") or {}
    pages = ", ".join(f"{name} {c['pages']}" for name, c in collections.items())
    counts = ", ".join(
        f"{name} {c['records']}"
        + (f" of {c['server_total']}" if c.get("server_total") is not None else "")
        + (f" ({c['malformed']} malformed)" if c.get("malformed") else "")
        for name, c in collections.items()
    )
    return [
        ("from", f"{origin.get('base_url')} (OneRoster {origin.get('api_version')})"),
        ("read", f"{origin.get('read')}" + (f", {origin['filter']}" if origin.get("filter") else "")),
        ("watermark", str(origin.get("watermark") or "none (the server sent no dateLastModified)")),
        ("pages", pages),
        ("records", counts),
        ("requests", _requests(origin)),
    ]


def _requests(origin: dict[str, Any]) -> str:
    return (
        f"{origin.get('requests')} ({origin.get('retries')} retried, {origin.get('tokens')} tokens, "
        f"{origin.get('attempts')} read attempts, {origin.get('seconds')} s)"
    )
