"""A test peer: a small OneRoster REST server (1.2 rostering binding, and 1.1) that serves generated
students of any size and injects the faults real servers show. Not part of the product.

    python -m tests.peers.oneroster_peer --students 1000     # prints "PORT <n>" once listening

Endpoints: POST /oauth/token (client credentials, HTTP Basic or form body);
GET {/ims/oneroster/rostering/v1p2, /ims/oneroster/v1p1}/{students, users, orgs, demographics}
with limit/offset paging (X-Total-Count and Link headers), `filter=dateLastModified>'...'`, and
/students/{sourcedId}. Tests drive it over HTTP: POST /_peer/reset, /_peer/faults, /_peer/change.

Student i is computed from i alone (no list is held), so a million students cost no memory.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import socket
import struct
import sys
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

CLIENT_ID = "ale-sync-test"
CLIENT_SECRET = "peer-secret-not-for-production"
BASE_TIME = "2026-11-01T00:00:00.000Z"
PREFIXES = {"/ims/oneroster/rostering/v1p2": "1.2", "/ims/oneroster/v1p1": "1.1"}
SCHOOLS = 7
DISTRICT = "17001"
GIVEN = ["Ana", "Ben", "Carla", "Dmitri", "Esi", "Farah", "Gus", "Hana", "Ivan", "José", "Zoë",
         "Seán", "Ana-Maria", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Sofía", "Björn"]  # fmt: skip
FAMILY = ["Nguyen", "Smith", "O'Brien", "García", "Lee", "Okafor", "Kowalski", "Haddad", "Nguyễn",
          "García-López", "St. John", "de la Cruz", "Johnson", "Müller", "Øster", "Van der Berg"]  # fmt: skip
GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]


def sourced_id(index: int) -> str:
    return f"stu-{index:07d}"


def ssid(index: int) -> str:
    return str(1_000_000_000 + (index * 7919) % 8_999_999_999)


def student(index: int, version: str, base: str = "") -> dict[str, Any]:
    """Student INDEX as the API sends it (1.1 or 1.2 shape)."""
    school = f"sch-{index % SCHOOLS}"
    ref = {"href": f"{base}/orgs/{school}", "sourcedId": school, "type": "org"}
    record: dict[str, Any] = {
        "sourcedId": sourced_id(index),
        "status": "active",
        "dateLastModified": BASE_TIME,
        "metadata": {"ps.state_id": ssid(index)},
        "username": f"s{index}",
        "userIds": [{"type": "SSID", "identifier": ssid(index)}, {"type": "LDAP", "identifier": f"s{index}"}],
        "enabledUser": True if version == "1.2" else "true",
        "givenName": GIVEN[(index * 7) % len(GIVEN)],
        "familyName": FAMILY[(index * 13) % len(FAMILY)],
        "middleName": GIVEN[(index * 3) % len(GIVEN)] if index % 2 else "",
        "identifier": str(100_000 + index),
        "email": "",
        "grades": [GRADES[index % len(GRADES)]],
    }
    if version == "1.2":
        record["roles"] = [{"roleType": "primary", "role": "student", "org": ref}]
        record["primaryOrg"] = ref
    else:
        record["role"] = "student"
        record["orgs"] = [ref]
    return record


_GIVEN_JSON = [json.dumps(n, ensure_ascii=False) for n in GIVEN]
_FAMILY_JSON = [json.dumps(n, ensure_ascii=False) for n in FAMILY]


def student_text(index: int, version: str, base: str) -> str:
    """`student(index, version, base)` as JSON, written out directly: a million records an hour's
    bench would otherwise spend most of its time in the peer's json.dumps."""
    sid, state_id, school = sourced_id(index), ssid(index), f"sch-{index % SCHOOLS}"
    ref = f'{{"href": "{base}/orgs/{school}", "sourcedId": "{school}", "type": "org"}}'
    middle = _GIVEN_JSON[(index * 3) % len(GIVEN)] if index % 2 else '""'
    if version == "1.2":
        placement = (
            f'"roles": [{{"roleType": "primary", "role": "student", "org": {ref}}}], "primaryOrg": {ref}'
        )
        enabled = "true"
    else:
        placement, enabled = f'"role": "student", "orgs": [{ref}]', '"true"'
    return (
        f'{{"sourcedId": "{sid}", "status": "active", "dateLastModified": "{BASE_TIME}", '
        f'"metadata": {{"ps.state_id": "{state_id}"}}, "username": "s{index}", '
        f'"userIds": [{{"type": "SSID", "identifier": "{state_id}"}}, '
        f'{{"type": "LDAP", "identifier": "s{index}"}}], '
        f'"enabledUser": {enabled}, "givenName": {_GIVEN_JSON[(index * 7) % len(GIVEN)]}, '
        f'"familyName": {_FAMILY_JSON[(index * 13) % len(FAMILY)]}, "middleName": {middle}, '
        f'"identifier": "{100_000 + index}", "email": "", '
        f'"grades": ["{GRADES[index % len(GRADES)]}"], {placement}}}'
    )


def demographics_text(index: int) -> str:
    """`demographics(index)` as JSON, written out directly."""
    record = demographics(index)
    return (
        f'{{"sourcedId": "{record["sourcedId"]}", "status": "active", "dateLastModified": "{BASE_TIME}", '
        f'"birthDate": "{record["birthDate"]}", "sex": "{record["sex"]}"}}'
    )


def demographics(index: int) -> dict[str, Any]:
    birth = f"{2008 + index % 14}-{1 + index % 12:02d}-{1 + index % 28:02d}"
    return {
        "sourcedId": sourced_id(index),
        "status": "active",
        "dateLastModified": BASE_TIME,
        "birthDate": birth,
        "sex": "female" if index % 2 else "male",
    }


def orgs(base: str = "") -> list[dict[str, Any]]:
    district = {"sourcedId": f"dist-{DISTRICT}", "status": "active", "dateLastModified": BASE_TIME,
                "name": f"District {DISTRICT}", "type": "district", "identifier": DISTRICT}  # fmt: skip
    schools = [
        {"sourcedId": f"sch-{s}", "status": "active", "dateLastModified": BASE_TIME, "name": f"School {s}",
         "type": "school", "identifier": f"{DISTRICT}{s}",
         "parent": {"href": f"{base}/orgs/dist-{DISTRICT}", "sourcedId": f"dist-{DISTRICT}", "type": "org"}}
        for s in range(SCHOOLS)
    ]  # fmt: skip
    return [district, *schools]


class Roster:
    """The peer's data: N generated students, with the changes tests made (edits, deletions, new ones)."""

    def __init__(self, students: int) -> None:
        self.students = students
        self.edits: dict[str, dict[str, Any]] = {}  # sourcedId -> fields sent instead
        self.demographic_edits: dict[str, dict[str, Any]] = {}
        self.front: list[int] = []  # new students listed before all others (indexes past N)

    def changed(self) -> bool:
        return bool(self.edits or self.demographic_edits or self.front)

    def order(self) -> list[int]:
        return [*self.front, *range(self.students)]

    def user(self, index: int, version: str, base: str) -> dict[str, Any]:
        record = student(index, version, base)
        record.update(self.edits.get(record["sourcedId"], {}))
        return record

    def demographic(self, index: int) -> dict[str, Any]:
        record = demographics(index)
        record.update(self.demographic_edits.get(record["sourcedId"], {}))
        return record


class Faults:
    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        spec = spec or {}
        self.spec = spec
        self.rules: list[dict[str, Any]] = [dict(r) for r in spec.get("rules", [])]
        self.served: dict[str, int] = {}
        self.lock = threading.Lock()

    def take(self, collection: str, offset: int) -> tuple[int, list[dict[str, Any]]]:
        """This request's number for COLLECTION (1-based) and the fault rules it triggers: a rule names
        the request's `page` (its number) or its `offset` (every request at it, `times` times)."""
        with self.lock:
            page = self.served[collection] = self.served.get(collection, 0) + 1
            fired = []
            for rule in self.rules:
                if rule.get("collection", "students") != collection or rule.get("times", 1) <= 0:
                    continue
                at = rule.get("offset", offset) == offset and rule.get("page", page) == page
                if at or rule.get("every"):
                    rule["times"] = rule.get("times", 1) - 1
                    fired.append(rule)
            return page, fired


class Peer:
    def __init__(self, students: int) -> None:
        self.roster = Roster(students)
        self.faults = Faults()
        self.tokens: dict[str, list[float]] = {}  # token -> [expires at, requests left]
        self.requests: list[str] = []  # "GET /path?query" of every data request, for tests to read
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave together (flushed after each request)
    server: PeerServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    # ---- control ----------------------------------------------------------------------------

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        peer = self.server.peer
        if path == "/oauth/token":
            self._token(body)
        elif path == "/_peer/reset":
            spec = json.loads(body or b"{}")
            self.server.peer = Peer(int(spec.get("students", peer.roster.students)))
            self.server.rendered.clear()
            self._json(200, {"ok": True})
        elif path == "/_peer/faults":
            peer.faults = Faults(json.loads(body))
            self._json(200, {"ok": True})
        elif path == "/_peer/change":
            self._change(json.loads(body))
        elif path == "/_peer/requests":
            self._json(200, {"requests": peer.requests})
        else:
            self._json(404, {"error": "no such endpoint"})

    def _change(self, change: dict[str, Any]) -> None:
        roster = self.server.peer.roster
        at = change.get("at", BASE_TIME)
        for sid, fields in change.get("users", {}).items():
            roster.edits.setdefault(sid, {}).update({**fields, "dateLastModified": at})
        for sid, fields in change.get("demographics", {}).items():
            roster.demographic_edits.setdefault(sid, {}).update({**fields, "dateLastModified": at})
        for _ in range(change.get("new_at_front", 0)):
            roster.front.append(roster.students + 1000 + len(roster.front))
        self._json(200, {"ok": True})

    def _token(self, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        client = (form.get("client_id"), form.get("client_secret"))
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            pair = base64.b64decode(header[6:]).decode().split(":", 1)
            client = (pair[0], pair[1] if len(pair) > 1 else "")
        if client != (CLIENT_ID, CLIENT_SECRET) or form.get("grant_type") != "client_credentials":
            self._json(401, {"error": "invalid_client"})
            return
        peer = self.server.peer
        lifetime = float(peer.faults.spec.get("token_seconds", 3600))
        token = uuid.uuid4().hex
        with peer.lock:
            peer.tokens[token] = [
                time.monotonic() + lifetime,
                float(peer.faults.spec.get("token_requests", 1e12)),
            ]
        self._json(200, {"access_token": token, "token_type": "bearer", "expires_in": int(lifetime)})

    # ---- data -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        prefix = next((p for p in PREFIXES if parts.path.startswith(p + "/")), None)
        if prefix is None:
            self._json(404, {"error": "not found"})
            return
        peer = self.server.peer
        with peer.lock:
            peer.requests.append(self.path)
        if not self._authorised(peer):
            self._json(401, {"imsx_codeMajor": "failure", "imsx_description": "token expired"})
            return
        rest = parts.path[len(prefix) + 1 :].split("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        collection = "students" if rest[0] == "users" else rest[0]
        if len(rest) == 2 and collection == "students":
            self._one_student(peer, PREFIXES[prefix], prefix, unquote(rest[1]))
            return
        if collection not in ("students", "orgs", "demographics"):
            self._json(404, {"error": "not found"})
            return
        page, fired = peer.faults.take(collection, int(query.get("offset", 0)))
        for rule in fired:
            if self._fault(rule):
                return
        self._page(peer, PREFIXES[prefix], prefix, collection, query, page)

    def _authorised(self, peer: Peer) -> bool:
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with peer.lock:
            grant = peer.tokens.get(token)
            if grant is None or grant[0] < time.monotonic() or grant[1] <= 0:
                return False
            grant[1] -= 1
        return True

    def _fault(self, rule: dict[str, Any]) -> bool:
        """Act out a fault; True when it took the place of the answer."""
        kind = rule["kind"]
        if kind == "status":
            headers = {"Retry-After": str(rule["retry_after"])} if "retry_after" in rule else {}
            self._json(int(rule["code"]), {"error": "try later"}, headers)
            return True
        if kind == "delay":
            time.sleep(float(rule["seconds"]))
            return False
        if kind == "reset":
            # RST instead of an answer: SO_LINGER with a zero timeout, then close
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return True
        if kind == "new_at_front":  # a record added before the reader's offset once this page is served
            roster = self.server.peer.roster
            roster.front.append(roster.students + 1000 + len(roster.front))
            return False
        return False

    def _one_student(self, peer: Peer, version: str, prefix: str, sid: str) -> None:
        match = re.fullmatch(r"stu-(\d{7})", sid)
        index = int(match.group(1)) if match else -1
        if not 0 <= index < peer.roster.students:
            self._json(404, {"error": "not found"})
            return
        self._json(200, {"user": peer.roster.user(index, version, self._base(prefix))})

    def _page(
        self, peer: Peer, version: str, prefix: str, collection: str, query: dict[str, str], page: int
    ) -> None:
        spec = peer.faults.spec
        base = self._base(prefix)
        items = self._collection(peer, version, base, collection, query.get("filter"))
        total = len(items)
        limit = min(int(query.get("limit", 100)), int(spec.get("cap_limit", 10**9)))
        offset = int(query.get("offset", 0))
        served = total - int(spec.get("drop", 0)) if collection == "students" else total
        indexes = range(offset, min(offset + limit, served))
        plain = isinstance(items, _Lazy) and not (spec.get("missing") or spec.get("malformed"))
        rendered = self.server.rendered.get((prefix, collection, offset, limit)) if plain else None
        if rendered is not None:
            body = rendered
        elif plain and collection == "students":
            body = (
                '{"users": [' + ", ".join(student_text(i, version, base) for i in indexes) + "]}"
            ).encode()
        elif plain:
            body = ('{"demographics": [' + ", ".join(demographics_text(i) for i in indexes) + "]}").encode()
        else:
            body = self._encode(collection, [items[i] for i in indexes], spec)
        headers = {}
        if spec.get("total", True):
            headers["X-Total-Count"] = str(total)
        if spec.get("link", False):
            headers["Link"] = self._links(prefix, collection, query, offset, limit, total)
        self._send(200, body, headers)

    def _collection(self, peer: Peer, version: str, base: str, collection: str, filter_: str | None) -> Any:
        roster = peer.roster
        if collection == "orgs":
            return orgs(base)
        make = (lambda i: roster.user(i, version, base)) if collection == "students" else roster.demographic
        if filter_ is None and not roster.changed():
            return _Lazy(roster.students, make)
        items = [make(i) for i in roster.order() if collection == "students" or i < roster.students]
        if filter_:
            match = re.fullmatch(r"dateLastModified(>=?)'([^']+)'", filter_)
            if match is None:
                return items
            since = _time(match.group(2))
            inclusive = match.group(1) == ">="
            items = [r for r in items if _time(r["dateLastModified"]) > since
                     or (inclusive and _time(r["dateLastModified"]) == since)]  # fmt: skip
        return items

    def _encode(self, collection: str, chunk: list[dict[str, Any]], spec: dict[str, Any]) -> bytes:
        key = "users" if collection == "students" else collection
        missing = spec.get("missing", {})
        broken = set(spec.get("malformed", []))
        parts = []
        for record in chunk:
            sid = record.get("sourcedId")
            sent = {k: v for k, v in record.items() if k != missing[sid]} if sid in missing else record
            text = json.dumps(sent, ensure_ascii=False)
            if sid in broken and collection == "students":
                # an unescaped quote inside a name, as a server that builds JSON by hand sends it
                text = text.replace(
                    f'"familyName": "{record.get("familyName", "")}"', '"familyName": "O"Hara"'
                )
            parts.append(text)
        return ('{"' + key + '": [' + ", ".join(parts) + "]}").encode()

    def _links(
        self, prefix: str, collection: str, query: dict[str, str], offset: int, limit: int, total: int
    ) -> str:
        url = f"http://{self.headers.get('Host')}{prefix}/{collection}"
        links = []
        if offset + limit < total:
            links.append(
                f'<{url}?{urlencode({**query, "limit": limit, "offset": offset + limit})}>; rel="next"'
            )
        last = max(0, (total - 1) // max(limit, 1) * limit)
        links.append(f'<{url}?{urlencode({**query, "limit": limit, "offset": last})}>; rel="last"')
        return ", ".join(links)

    def _base(self, prefix: str) -> str:
        return f"http://{self.headers.get('Host')}{prefix}"

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), headers or {})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client went away (it timed out)


class _Lazy:
    """A read-only sequence of N records made on demand."""

    def __init__(self, count: int, make: Any) -> None:
        self.count = count
        self.make = make

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.make(index)  # type: ignore[no-any-return]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class PeerServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], students: int) -> None:
        super().__init__(address, Handler)
        self.peer = Peer(students)
        # (prefix, collection, offset, limit) -> page body, made before serving (--render-pages)
        self.rendered: dict[tuple[str, str, int, int], bytes] = {}

    def render_pages(self, limit: int) -> None:
        """Make every 1.2 students and demographics page of LIMIT records now, so serving them costs
        this process next to nothing: a stand-in for a SIS on another machine, whose work is not
        done on the reader's cores."""
        prefix = "/ims/oneroster/rostering/v1p2"
        base = f"http://127.0.0.1:{self.server_address[1]}{prefix}"
        for offset in range(0, self.peer.roster.students, limit):
            indexes = range(offset, min(offset + limit, self.peer.roster.students))
            students = ", ".join(student_text(i, "1.2", base) for i in indexes)
            self.rendered[(prefix, "students", offset, limit)] = ('{"users": [' + students + "]}").encode()
            born = ", ".join(demographics_text(i) for i in indexes)
            self.rendered[(prefix, "demographics", offset, limit)] = (
                '{"demographics": [' + born + "]}"
            ).encode()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a reset or timed-out connection is part of the test


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--render-pages", type=int, metavar="LIMIT", help="make the 1.2 pages of LIMIT first")
    args = parser.parse_args()
    server = PeerServer(("127.0.0.1", args.port), args.students)
    if args.render_pages:
        server.render_pages(args.render_pages)
    print(f"PORT {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.2)
    sys.exit(0)


if __name__ == "__main__":
    main()
