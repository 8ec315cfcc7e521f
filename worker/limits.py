"""Task time limits, nested under the broker's visibility timeout (one place for all three).

soft limit (raises inside the task, so its transaction rolls back) < hard limit (the pool
kills the process) < visibility timeout (Redis hands an unacknowledged message to another
worker). Were the visibility timeout the shorter, a long ingest still running would be
delivered to a second worker.
"""

from __future__ import annotations

from config.settings import get_settings

VISIBILITY_TIMEOUT_SECONDS = get_settings().broker_visibility_timeout_seconds

# a bulk file of 1,000,000 rows takes minutes; nothing should take longer than this
INGEST_TIME_LIMIT = min(35 * 60, int(VISIBILITY_TIMEOUT_SECONDS * 0.8))
INGEST_SOFT_TIME_LIMIT = int(INGEST_TIME_LIMIT * 0.9)
# everything else (pull, match, publish) is seconds of work
TASK_TIME_LIMIT = min(11 * 60, int(VISIBILITY_TIMEOUT_SECONDS * 0.8))
TASK_SOFT_TIME_LIMIT = int(TASK_TIME_LIMIT * 0.9)
