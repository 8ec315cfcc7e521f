"""A OneRoster collection read page by page with `limit` and `offset`.

The server may cap `limit` below what was asked: the next offset is where the records received
end, never offset + limit. When it sends `Link: <...>; rel="next"` that link is followed (and a
Link without `next` ends the read); otherwise `X-Total-Count` tells where the collection ends,
and without either an empty page does. A total that changes between pages means the data
changed under the read.

The next page is fetched (and parsed) on a thread of its own while the caller writes the
current one, so the server's time and ours overlap; at most two pages wait, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from worker.sources.errors import SourceUnavailable
from worker.sources.oneroster_api.records import Malformed, page_records
from worker.sources.oneroster_api.session import ApiSession

# a collection of more records than this is taken for a server looping on its pages
MAX_RECORDS = 20_000_000
AHEAD = 2  # pages fetched ahead of the one being written


class DataChanged(Exception):
    """The server's data changed during the read (a total moved, a record came twice): read again."""


@dataclass
class CollectionTally:
    """What the read of one collection saw, for the ledger (`batches show`)."""

    pages: int = 0
    records: int = 0
    malformed: int = 0
    server_total: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "pages": self.pages,
            "records": self.records,
            "malformed": self.malformed,
            "server_total": self.server_total,
        }


@dataclass(frozen=True)
class Page:
    records: list[Any]
    malformed: list[Malformed] = field(default_factory=list)


def read_collection(
    http: ApiSession, url: str, key: str, params: dict[str, str], tally: CollectionTally
) -> Iterator[Page]:
    """Every page of the collection at URL (records under KEY), counted into TALLY."""
    pages: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    fetcher = threading.Thread(
        target=_fetch_all,
        args=(_pages(http, url, key, params, tally), pages, stop),
        daemon=True,
        name="oneroster-pages",
    )
    fetcher.start()
    try:
        while (item := pages.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while fetcher.is_alive():
            _drain(pages)
            fetcher.join(timeout=0.1)


def _drain(pages: queue.Queue[Any]) -> None:
    try:
        while True:
            pages.get_nowait()
    except queue.Empty:
        return


def _fetch_all(
    source: Iterator[Page], pages: queue.Queue[Page | BaseException | None], stop: threading.Event
) -> None:
    try:
        for page in source:
            if stop.is_set():
                return
            pages.put(page)
        pages.put(None)
    except BaseException as error:  # handed to the reading thread, which raises it
        pages.put(error)


def _pages(
    http: ApiSession, url: str, key: str, params: dict[str, str], tally: CollectionTally
) -> Iterator[Page]:
    limit = http.config.page_size
    next_url: str | None = url
    query: dict[str, Any] | None = {**params, "limit": limit, "offset": 0}
    offset = 0
    while next_url is not None:
        response = http.get(next_url, query)
        parsed = page_records(response.content, key)
        if parsed is None:
            raise SourceUnavailable("not_a_page", f"{url} answered something that is not a {key} page")
        page = Page(*parsed)
        _check_total(tally, response.headers.get("X-Total-Count"))
        received = len(page.records) + len(page.malformed)
        tally.pages += 1
        tally.records += received
        tally.malformed += len(page.malformed)
        if tally.records > MAX_RECORDS:
            raise SourceUnavailable("endless_collection", f"{url} sent pages past {MAX_RECORDS} records")
        yield page
        offset += received
        next_url, query = _next(response, url, {**params, "limit": limit, "offset": offset}, received, tally)


def _check_total(tally: CollectionTally, header: str | None) -> None:
    if header is None or not header.strip().isdigit():
        return
    total = int(header)
    if tally.server_total is None:
        tally.server_total = total
    elif total != tally.server_total:
        raise DataChanged(f"X-Total-Count moved from {tally.server_total} to {total} during the read")


def _next(
    response: Any, url: str, query: dict[str, Any], received: int, tally: CollectionTally
) -> tuple[str | None, dict[str, Any] | None]:
    """The next request (URL and QUERY, which holds the next offset), or (None, None) at the end."""
    if received == 0:
        return None, None
    if "link" in response.headers:
        link = response.links.get("next", {}).get("url")
        return (urljoin(str(response.url), link), None) if link else (None, None)
    if tally.server_total is not None and query["offset"] >= tally.server_total:
        return None, None
    return url, query
