"""GET /metrics for Prometheus: counts and ages only, no student data (worker/metrics/).

When METRICS_TOKEN is set, a scrape must send it as a bearer token; the per-district counts are
no one's business but ops'.
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from config.settings import get_settings
from models.db import get_engine
from worker.metrics.exposition import metrics_text


def metrics(request: Request) -> Response:
    token = get_settings().metrics_token
    if token:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(sent.encode(), token.encode()):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return Response(metrics_text(get_engine()), media_type=CONTENT_TYPE_LATEST)
