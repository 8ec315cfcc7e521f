"""A OneRoster collection read page by page with `limit` and `offset`.

The server may cap `limit` below what was asked: the next offset is where the records received
end, never offset + limit. When it sends `Link: <...>; rel="next"` that link is followed (and a
Link without `next` ends the read); otherwise `X-Total-Count` tells where the collection ends,
and without either an empty page does. A total that changes between pages means the data
changed under the read.

Pages are fetched (and parsed) on threads of their own while the caller writes the current one,
so the server's time and ours overlap: with the total and the page size known after the first
page, two at once by offset; otherwise one ahead. At most three pages wait: memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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

    @property
    def size(self) -> int:
        """Records the page holds, read or not: where the next page starts."""
        return len(self.records) + len(self.malformed)


def read_collection(
    http: ApiSession, url: str, key: str, params: dict[str, str], tally: CollectionTally
) -> Iterator[Page]:
    """Every page of the collection at URL (records under KEY), counted into TALLY."""
    limit = http.config.page_size
    first, response = _fetch(http, url, {**params, "limit": limit, "offset": 0}, key)
    _count(tally, first, response)
    yield first
    size = first.size
    next_url, query = _next(response, url, {**params, "limit": limit, "offset": size}, size, tally)
    if next_url is None:
        return
    if query is not None and tally.server_total is not None:
        yield from _by_offsets(http, url, key, params, tally, size=size)
    else:
        yield from _ahead(_pages(http, key, tally, next_url, query))


def _by_offsets(
    http: ApiSession, url: str, key: str, params: dict[str, str], tally: CollectionTally, *, size: int
) -> Iterator[Page]:
    """With the total and the server's page size known (the first page's), the pages' offsets are
    known too: two are fetched at once, so one is parsed while the server makes the other. A page
    that holds other than the size (a server whose pages vary) sends the rest of the read the
    sequential way, from where that page ended."""
    total = tally.server_total or 0
    offsets = iter(range(size, total, size))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="oneroster-pages") as pool:
        window: deque[tuple[int, Future[tuple[Page, Any]]]] = deque()

        def submit() -> None:
            offset = next(offsets, None)
            if offset is not None:
                query = {**params, "limit": http.config.page_size, "offset": offset}
                window.append((offset, pool.submit(_fetch, http, url, query, key)))

        for _ in range(AHEAD + 1):
            submit()
        while window:
            offset, future = window.popleft()
            page, response = future.result()
            _count(tally, page, response)
            yield page
            if page.size != min(size, total - offset):
                for _, pending in window:
                    pending.cancel()
                rest = {**params, "limit": http.config.page_size, "offset": offset + page.size}
                yield from _ahead(_pages(http, key, tally, url, rest) if page.size else iter(()))
                return
            submit()


def _fetch(http: ApiSession, url: str, query: dict[str, Any] | None, key: str) -> tuple[Page, Any]:
    response = http.get(url, query)
    parsed = page_records(response.content, key)
    if parsed is None:
        raise SourceUnavailable("not_a_page", f"{url} answered something that is not a {key} page")
    return Page(*parsed), response


def _count(tally: CollectionTally, page: Page, response: Any) -> None:
    _check_total(tally, response.headers.get("X-Total-Count"))
    tally.pages += 1
    tally.records += page.size
    tally.malformed += len(page.malformed)
    if tally.records > MAX_RECORDS:
        raise SourceUnavailable("endless_collection", f"{response.url} sent pages past {MAX_RECORDS} records")


def _ahead(source: Iterator[Page]) -> Iterator[Page]:
    """SOURCE's pages, fetched on a thread of their own up to AHEAD pages before they are used."""
    pages: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    fetcher = threading.Thread(target=_fetch_all, args=(source, pages, stop), daemon=True)
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
    http: ApiSession, key: str, tally: CollectionTally, next_url: str | None, query: dict[str, Any] | None
) -> Iterator[Page]:
    """Pages one after the other from NEXT_URL (with QUERY, or as a Link gave it)."""
    url = next_url or ""
    while next_url is not None:
        page, response = _fetch(http, next_url, query, key)
        _count(tally, page, response)
        yield page
        offset = (query or {}).get("offset", 0) + page.size
        params = {k: v for k, v in (query or {}).items() if k not in ("limit", "offset")}
        following = {**params, "limit": http.config.page_size, "offset": offset}
        next_url, query = _next(response, url, following, page.size, tally)


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
