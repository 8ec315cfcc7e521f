"""Keeps student PII (names, SSID, Other ID, birth date) out of every log line.

Three layers, because one is never enough: values under PII-looking keys are masked;
every remaining string is scrubbed of SSID-shaped numbers and dates; exceptions are
reduced to their type and frames (messages of driver and library errors often quote
row values), except errors that declare their message safe.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from typing import Any

MASK = "[redacted]"

PII_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "middle_name",
        "given_name",
        "family_name",
        "preferred_name",
        "name",
        "full_name",
        "student_name",
        "givenname",
        "familyname",
        "middlename",
        "ssid",
        "other_id",
        "otherid",
        "identifier",
        "user_ids",
        "userids",
        "sis_identifier",
        "birth_date",
        "birthdate",
        "dob",
        "date_of_birth",
        "email",
        "phone",
        "sms",
        "username",
        "query",
        "q",
        "row",
        "raw",
        "values",
        "params",
        "parameters",
        "args",
        "kwargs",
    }
)

# 6+ digit runs (SSIDs, local student numbers) and calendar dates; record ids in logs are
# passed as ints, which are never scrubbed.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{6,}(?![0-9A-Za-z])")
_DATE = re.compile(
    r"\b(19|20)[0-9]{2}[-/.][01]?[0-9][-/.][0-3]?[0-9]\b|\b[01]?[0-9]/[0-3]?[0-9]/(19|20)[0-9]{2}\b"
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


class SafeMessage:
    """Mixin for our own errors whose message names only ids, codes and counts."""


def scrub_text(text: str) -> str:
    text = _EMAIL.sub(MASK, text)
    text = _DATE.sub(MASK, text)
    return _DIGIT_RUN.sub(MASK, text)


def scrub_value(key: str, value: Any) -> Any:
    if key.lower() in PII_KEYS:
        return MASK
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {str(k): scrub_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub_value("", v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return scrub_text(type(value).__name__)


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """Type, frames and (only for SafeMessage errors) the message: never row values."""
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames]
    out: dict[str, Any] = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "frames": where}
    if isinstance(exc, SafeMessage):
        out["message"] = scrub_text(str(exc))
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        out["cause"] = f"{type(cause).__module__}.{type(cause).__qualname__}"
    return out


def _exc_from(value: Any) -> BaseException | None:
    if isinstance(value, BaseException):
        return value
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value[1]
    return None


_SAFE_ARG = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+"  # dotted names: tasks, modules
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # task ids
    r"|[A-Z]+|https?|[0-9.:]+|/[A-Za-z0-9_./-]*|[a-z]+://[^@\s]*)$"  # methods, numbers, paths, hosts
)


def _safe_arg(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    return scrub_text(text) if _SAFE_ARG.match(text) else MASK


def rebuild_foreign_message(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Library records: re-format the message with every argument not shaped like an id masked."""
    record = event.get("_record")
    args = event.pop("positional_args", None)
    if record is None or not args:
        return event
    try:
        if isinstance(args, Mapping):
            safe: Any = {k: _safe_arg(v) for k, v in args.items()}
        else:
            safe = tuple(_safe_arg(v) for v in args)
        event["event"] = str(record.msg) % safe
    except (TypeError, ValueError, KeyError):
        event["event"] = str(record.msg)
    return event


def redact_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: the last word before rendering."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in ("exc_info", "exception"):
            exc = sys.exc_info()[1] if value is True else _exc_from(value)
            if exc is not None:
                out["error"] = describe_exception(exc)
            elif isinstance(value, str) and key == "exception":
                # an already-rendered traceback from a foreign record: keep only its last line's type
                last = value.strip().splitlines()[-1] if value.strip() else ""
                out["error"] = {"type": last.split(":", 1)[0]}
            continue
        if key == "stack_info":
            continue
        if key in {"_record", "_from_structlog"}:
            out[key] = value
            continue
        out[key] = scrub_value(key, value)
    return out
