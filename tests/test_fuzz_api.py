"""Schemathesis against /openapi.json: every endpoint, generated valid and invalid input,
and not one 5xx. In-process (ASGI), a bounded number of examples, derandomised, so a
run is deterministic and takes seconds."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from starlette.applications import Starlette

from conftest import TOKEN
from spimguard import load_config
from spimguard.engine import Engine, build_detectors
from spimguard.records.memory import MemoryRecords
from spimguard.server import create_app
from spimguard.state.memory import MemoryState

MX_TOKEN = "matrix-fuzz-secret"
CONFIG = load_config(environ={}, api_token=TOKEN, storage={"backend": "memory"},
                     matrix={"enabled": True, "token": MX_TOKEN})
DETECTORS, DISABLED = build_detectors(CONFIG)  # built once; what they learn lives in state


def _app() -> Starlette:
    """The service on empty stores (its detectors relearn from them: nothing)."""
    return create_app(Engine(CONFIG, MemoryState(), MemoryRecords(), DETECTORS, DISABLED))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())
schema.config.generation.update(modes=list(GenerationMode))


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx(case: schemathesis.Case) -> None:
    token = MX_TOKEN if case.path.startswith("/matrix/") else TOKEN
    # A fresh service per example: an example's outcome never depends on earlier ones.
    response = case.call(headers={"Authorization": f"Bearer {token}"}, app=_app())
    case.validate_response(response, checks=[not_a_server_error])
