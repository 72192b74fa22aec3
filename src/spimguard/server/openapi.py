"""The OpenAPI document, generated from the same msgspec types that validate requests."""

from __future__ import annotations

from typing import Any

import msgspec

from .. import __version__
from ..events import Accepted, Batch, EventTime, Message, Verdict

_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"},
    "field": {"type": ["string", "null"]}}}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _schema_hook(kind: type) -> dict[str, Any]:
    if kind is EventTime:
        return {"anyOf": [{"type": "string", "format": "date-time"},
                          {"type": "number", "minimum": 0}],
                "description": "event time: RFC 3339 with an offset, or Unix seconds"}
    raise NotImplementedError(kind)


def document() -> dict[str, Any]:
    (message, batch, verdict, accepted), components = msgspec.json.schema_components(
        [Message, Batch, Verdict, Accepted], schema_hook=_schema_hook,
        ref_template="#/components/schemas/{name}")
    components["Error"] = _ERROR
    errors = {"400": {"description": "malformed JSON", **_json(_ref("Error"))},
              "401": {"description": "missing or wrong bearer token", **_json(_ref("Error"))},
              "413": {"description": "over a size limit", **_json(_ref("Error"))},
              "422": {"description": "breaks the contract", **_json(_ref("Error"))},
              "409": {"description": "an event id already used by another type or body",
                      **_json(_ref("Error"))},
              "503": {"description": "a store is down (storage.fail_mode = closed)",
                      **_json(_ref("Error"))}}
    secured = [{"bearer": []}]
    account_param = [{"name": "account", "in": "path", "required": True,
                      "schema": {"type": "string"}}]
    results = {"type": "object", "properties": {"results": {"type": "array", "items": {
        "anyOf": [verdict, accepted]}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "spimguard", "version": __version__,
                 "description": "Anti-spim verdicts for instant-messaging platforms."},
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/v1/check": {"post": {
                "summary": "Judge one message", "security": secured,
                "requestBody": {"required": True, **_json(message)},
                "responses": {"200": {"description": "the verdict", **_json(verdict)},
                              **errors}}},
            "/v1/events": {"post": {
                "summary": "Send a batch of events of any type, in time order",
                "security": secured, "requestBody": {"required": True, **_json(batch)},
                "responses": {"200": {"description": "one result per event, in order",
                                      **_json(results)}, **errors}}},
            "/v1/accounts/{account}": {"get": {
                "summary": "An account's risk, restrictions in force and recent incidents",
                "security": secured, "parameters": account_param,
                "responses": {"200": {"description": "the account"}}}},
            "/v1/accounts/{account}/restore": {"post": {
                "summary": "Lift the account's restrictions (operator decision)",
                "security": secured, "parameters": account_param,
                "responses": {"200": {"description": "restrictions lifted"}}}},
            "/v1/campaigns": {"get": {
                "summary": "Campaigns found (filters: since, min_size, domain)",
                "security": secured, "responses": {"200": {"description": "the campaigns"}}}},
            "/v1/campaigns/{campaign}": {"get": {
                "summary": "One campaign: times, sizes, senders, sessions, domains, contacts",
                "security": secured, "responses": {"200": {"description": "the campaign"}}}},
            "/v1/campaigns/{campaign}/evidence": {"get": {
                "summary": "The campaign's evidence bundle (zip, with manifest and hash chain)",
                "security": secured, "responses": {"200": {"description": "application/zip"}}}},
            "/healthz": {"get": {"summary": "Ready: every store takes work (no auth)",
                                 "responses": {"200": {"description": "ready"},
                                               "503": {"description": "a store is down"}}}},
            "/livez": {"get": {"summary": "The process answers (no auth)",
                               "responses": {"200": {"description": "alive"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (no auth)",
                                 "responses": {"200": {"description": "text format"}}}},
        },
    }
