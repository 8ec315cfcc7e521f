"""Celery settings, read lazily by `worker.celery_app` the first time the app needs them.

Time limits nest under the broker's visibility timeout: see worker/limits.py.
"""

from __future__ import annotations

from config.services import redis_url
from worker import schedule
from worker.limits import TASK_SOFT_TIME_LIMIT, TASK_TIME_LIMIT, VISIBILITY_TIMEOUT_SECONDS
from worker.routing import PRIORITY_STEPS

broker_url = redis_url()
broker_connection_retry_on_startup = True
broker_transport_options = {
    "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
    # fail fast when Redis is down: the outbox keeps the event and the sweep sends it later
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    # look for messages of killed workers (unacknowledged past the visibility timeout) every
    # 10 s instead of kombu's default of every 100 s; the scan is one indexed Redis query
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    # a list per step; workers take from the lowest step first (smallest districts: worker/routing.py)
    "priority_steps": PRIORITY_STEPS,
}
# publishing while Redis is down gives up after about a second: callers keep the event
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
# tasks report through the database and the logs; nothing reads Celery results
task_ignore_result = True
result_backend = None

# a message is acknowledged only after its task finished; a worker killed mid-task (OOM,
# SIGKILL, deploy) leaves it unacknowledged, so it is redelivered and the idempotent task
# runs again instead of being lost
task_acks_late = True
task_reject_on_worker_lost = True
# ingests run for minutes: a worker takes one message at a time, so a queued short task is
# never stuck behind a long one that another worker could have taken
worker_prefetch_multiplier = 1
# default limits for every task; ingest sets longer ones of its own (worker/tasks.py)
task_soft_time_limit = TASK_SOFT_TIME_LIMIT
task_time_limit = TASK_TIME_LIMIT
# when the broker connection drops, a running task finishes (its transaction is worth
# keeping); its message, no longer acknowledgeable, comes back later and finds the work done
worker_cancel_long_running_tasks_on_connection_loss = False
worker_hijack_root_logger = False
worker_send_task_events = False
task_default_queue = "ale_sync"

beat_schedule = schedule.beat_schedule()
beat_scheduler = "worker.schedule:SteadyRedBeatScheduler"
redbeat_redis_url = schedule.redbeat_redis_url(broker_url)
redbeat_redis_options = {"socket_connect_timeout": 3, "socket_timeout": 10}
redbeat_key_prefix = "ale_sync:redbeat"
# a beat that dies frees the lock after this many seconds; a second beat then takes over
redbeat_lock_timeout = 60
beat_max_loop_interval = 10
timezone = "UTC"
enable_utc = True
