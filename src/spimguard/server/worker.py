"""The app of one worker process of ``spimguard serve --workers N``.

uvicorn starts each worker by importing this factory, so the settings travel in
the environment (``SPIMGUARD_CONFIG``, ``SPIMGUARD_API_TOKEN``, ``SPIMGUARD__...``)
that ``serve`` checked before starting them: every worker opens its own engine
on the shared Redis and PostgreSQL.
"""

from __future__ import annotations

from starlette.applications import Starlette

from ..config import load
from ..engine import open_engine
from .app import create_app


def app() -> Starlette:
    return create_app(open_engine(load()))
