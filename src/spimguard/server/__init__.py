"""HTTP API (and, later, IM-server adapter endpoints and the operator console)."""

from .app import create_app

__all__ = ["create_app"]
