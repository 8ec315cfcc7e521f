"""One staff request's work, for the JSON API and the pages alike: a transaction around one staff
function, and for a change, the district's outbox events published once that transaction committed.

The events go out right after the answer (a background task), so the worker hears within seconds;
if Redis is down then, the beat's outbox sweep sends them later, so nothing is lost either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from fastapi import BackgroundTasks, Depends
from sqlalchemy.orm import Session

from admin.caller import Caller
from models.db import get_engine, transaction
from worker.outbox import publish_pending

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class StaffRequest:
    caller: Caller
    tasks: BackgroundTasks

    def read(
        self, action: Callable[Concatenate[Session, Caller, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`action(session, caller, ...)` in a transaction of its own, committed when it returns."""
        with transaction(get_engine()) as session:
            return action(session, self.caller, *args, **kwargs)

    def change(
        self, action: Callable[Concatenate[Session, Caller, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """As `read`; once committed, the events the change recorded are sent after the answer."""
        result = self.read(action, *args, **kwargs)
        self.tasks.add_task(publish_pending, district_id=self.caller.district_id)
        return result


def staff_request(who: Any) -> Any:
    """A dependency: the request's work for the caller that `who` (`api_staff` or `page_staff`) admits."""

    async def dependency(tasks: BackgroundTasks, caller: Caller = who) -> StaffRequest:  # no I/O: no thread
        return StaffRequest(caller, tasks)

    return Depends(dependency)
