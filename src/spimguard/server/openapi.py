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


_MATRIX_CALLBACKS = ["ping", "check_event_for_spam", "user_may_invite",
                     "federated_user_may_invite", "user_may_join_room", "check_login_for_spam"]
_MATRIX_BODY = {"type": "object", "properties": {
    "id": {"type": "string"},
    "event": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["m.room.message", "m.room.member", "m.sticker",
                                            "m.room.encrypted", "m.room.name"]},
        "event_id": {"type": "string"}, "sender": {"type": "string"},
        "room_id": {"type": "string"}, "state_key": {"type": "string"},
        "origin_server_ts": {"type": "integer"},
        "content": {"type": "object", "properties": {
            "msgtype": {"type": "string"}, "body": {"type": "string"},
            "format": {"type": "string"}, "formatted_body": {"type": "string"},
            "membership": {"type": "string",
                           "enum": ["join", "leave", "ban", "invite", "knock"]}}}},
        "required": ["type", "sender", "room_id"]},
    "inviter": {"type": "string"}, "invitee": {"type": "string"},
    "room_id": {"type": "string"}, "user": {"type": "string"}, "room": {"type": "string"},
    "user_id": {"type": "string"}, "device_id": {"type": ["string", "null"]},
    "request_info": {"type": "array", "items": {"type": "array", "items": {
        "type": ["string", "null"]}, "minItems": 2, "maxItems": 2}}}}


def _matrix(prefix: str) -> dict[str, Any]:
    """The synapse-http-antispam callbacks (their own bearer token, Matrix errors)."""
    matrix_error = {"type": "object", "properties": {"errcode": {"type": "string"},
                                                      "error": {"type": "string"}}}
    return {f"{prefix.rstrip('/')}/{{callback}}": {"post": {
        "summary": "A Synapse spam-checker callback, forwarded by synapse-http-antispam",
        "security": [{"matrix": []}],
        "parameters": [{"name": "callback", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": _MATRIX_CALLBACKS}}],
        "requestBody": {"required": True, **_json(_MATRIX_BODY)},
        "responses": {"200": {"description": "allowed", **_json({"type": "object"})},
                      "400": {"description": "malformed callback", **_json(matrix_error)},
                      "401": {"description": "wrong token", **_json(matrix_error)},
                      "403": {"description": "refused as spam", **_json(matrix_error)},
                      "503": {"description": "cannot judge (fail_mode closed)",
                              **_json(matrix_error)}}}}}


def document(matrix_prefix: str | None = None) -> dict[str, Any]:
    """The OpenAPI document; ``matrix_prefix`` adds the Matrix callbacks when enabled."""
    (message, batch, verdict, accepted), components = msgspec.json.schema_components(
        [Message, Batch, Verdict, Accepted], schema_hook=_schema_hook,
        ref_template="#/components/schemas/{name}")
    components["Error"] = _ERROR
    unauthorised = {"401": {"description": "missing or wrong bearer token",
                            **_json(_ref("Error"))}}
    errors = {"400": {"description": "malformed JSON", **_json(_ref("Error"))},
              **unauthorised,
              "408": {"description": "the body did not arrive in time", **_json(_ref("Error"))},
              "413": {"description": "over a size limit", **_json(_ref("Error"))},
              "422": {"description": "breaks the contract", **_json(_ref("Error"))},
              "409": {"description": "an event id already used by another type or body",
                      **_json(_ref("Error"))},
              "503": {"description": "overloaded or a store is down: retry after "
                      "Retry-After seconds", **_json(_ref("Error"))}}
    not_found = {"404": {"description": "no such campaign", **_json(_ref("Error"))}}
    campaign_param = [{"name": "campaign", "in": "path", "required": True,
                       "schema": {"type": "string"}}]
    listing_params = [
        {"name": "since", "in": "query", "schema": {"type": "number"},
         "description": "only campaigns active since this Unix time"},
        {"name": "min_size", "in": "query", "schema": {"type": "integer"},
         "description": "only campaigns of at least this many messages"},
        {"name": "domain", "in": "query", "schema": {"type": "string"},
         "description": "only campaigns linking to this domain"}]
    bad_query = {"422": {"description": "a filter is not a number", **_json(_ref("Error"))}}
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
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "matrix": {"type": "http", "scheme": "bearer"}}},
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
                "responses": {"200": {"description": "the account",
                                      **_json({"type": "object"})}, **unauthorised}}},
            "/v1/accounts/{account}/restore": {"post": {
                "summary": "Lift the account's restrictions (operator decision)",
                "security": secured, "parameters": account_param,
                "responses": {"200": {"description": "restrictions lifted",
                                      **_json({"type": "object"})}, **unauthorised}}},
            "/v1/campaigns": {"get": {
                "summary": "Campaigns found (filters: since, min_size, domain)",
                "security": secured, "parameters": listing_params,
                "responses": {"200": {"description": "the campaigns",
                                      **_json({"type": "object"})},
                              **unauthorised, **bad_query}}},
            "/v1/campaigns/{campaign}": {"get": {
                "summary": "One campaign: times, sizes, senders, sessions, domains, contacts",
                "security": secured, "parameters": campaign_param,
                "responses": {"200": {"description": "the campaign",
                                      **_json({"type": "object"})},
                              **unauthorised, **not_found}}},
            "/v1/campaigns/{campaign}/evidence": {"get": {
                "summary": "The campaign's evidence bundle (zip, with manifest and hash chain)",
                "security": secured, "parameters": campaign_param,
                "responses": {"200": {"description": "the bundle", "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                              **unauthorised, **not_found}}},
            "/healthz": {"get": {"summary": "Ready: every store takes work (no auth)",
                                 "responses": {"200": {"description": "ready"},
                                               "503": {"description": "a store is down"}}}},
            "/livez": {"get": {"summary": "The process answers (no auth)",
                               "responses": {"200": {"description": "alive"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (no auth)",
                                 "responses": {"200": {"description": "text format"}}}},
            **(_matrix(matrix_prefix) if matrix_prefix else {}),
        },
    }
