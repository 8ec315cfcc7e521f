"""Schemathesis against the published OpenAPI schema: no server errors, every answer as documented."""

from __future__ import annotations

import warnings

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning

from admin.app import app
from tests.admin_support import World, add_student, build_world

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

pytestmark = [
    pytest.mark.slow,
    # Starlette asks for its httpx fork inside schemathesis' ASGI transport; behaviour is the same
    pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning"),
]


@pytest.fixture
def world(redis_url: str, committed_engine: Engine) -> World:
    world = build_world(committed_engine)
    # a few real records, so generated ids sometimes hit something
    add_student(committed_engine, first_name="Ava", last_name="Nguyen")
    add_student(
        committed_engine, sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678"
    )
    return world


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented(case: schemathesis.Case, world: World) -> None:
    case.call_and_validate(headers=world.auth("registrar"), checks=CHECKS)
