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


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"content": {"application/json": media}}


def _param(name: str, where: str, description: str,
           schema: dict[str, Any] | None = None, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def _object(**properties: Any) -> dict[str, Any]:
    """An answer's schema from ``name=(type, description)`` pairs."""
    return {"type": "object", "properties": {
        name: {**({"type": kind} if isinstance(kind, str) else kind), "description": text}
        for name, (kind, text) in properties.items()}}


_MESSAGE = {"type": "message", "id": "m-1842", "ts": "2026-05-04T10:15:00Z", "sender": "alice",
            "recipients": ["bob", "carol"], "text": "hey, see http://ringtones.example",
            "session": "s-77", "client": {"id": "im-android", "ip": "198.51.100.7"}}
_SEALED_MESSAGE = {"type": "message", "id": "m-1843", "ts": "2026-05-04T10:15:04Z",
                   "sender": "alice", "recipients": ["dave"], "encrypted": True, "size": 412,
                   "session": "s-77", "client": {"id": "im-android", "ip": "198.51.100.7"},
                   "conversation": "!dm-alice-dave"}
_VERDICT = {"id": "m-1842", "action": "hold", "score": 7.4, "signals": [
    {"code": "BULK_NEAR_DUPLICATE", "score": 3.0,
     "detail": "the same text from 14 accounts to about 200 recipients"}],
    "campaign": "c-91", "account_action": {"action": "none", "account": "", "reason": "",
                                          "session": ""},
    "notice": {"recipient": None, "sender": "Your message was held for review."}}
_BATCH = {"events": [
    {"type": "login", "id": "l-1", "ts": 1790000000, "account": "alice", "session": "s-77",
     "ip": "198.51.100.7", "client": {"id": "im-android"}, "success": True},
    {"type": "appeal", "id": "a-1", "ts": 1790000600, "account": "alice",
     "message_id": "m-1842", "text": "this was for my brother"}]}
_RESULTS = {"results": [{"id": "l-1", "status": "accepted", "account_action": {
    "action": "none", "account": "", "reason": "", "session": ""}, "score": 0.0,
    "signals": []}, {"id": "a-1", "status": "accepted", "account_action": {
        "action": "none", "account": "", "reason": "", "session": ""}, "score": 0.0,
        "signals": []}]}
_ACCOUNT = _object(
    account=("string", "the account id"), risk=("string", "normal, elevated or high"),
    max_recent_score=("number", "highest score of its recent incidents"),
    restrictions=("object", "restrictions in force, by scope"),
    incidents=("array", "each restriction with its timeline (logins, contact reads, "
                        "messages and verdicts from an hour before)"),
    recent=("array", "its latest entries that were not plain deliveries"))
_RESTORED = _object(account=("string", "the account id"),
                    restored=("boolean", "whether any restriction was in force"))
_TIMES = "RFC 3339 (UTC)"
_CAMPAIGN_FIELDS = {
    "id": ("string", "the campaign id"), "first_seen": ("string", _TIMES),
    "last_seen": ("string", _TIMES), "messages": ("integer", "messages kept as evidence"),
    "recipients": ("integer", "distinct recipients"),
    "reports": ("integer", "user spam reports on its messages"),
    "actions": ("object", "messages by verdict action")}
_CAMPAIGNS = _object(campaigns=({"type": "array", "items": _object(
    **_CAMPAIGN_FIELDS, senders=("integer", "distinct senders"),
    domains=({"type": "array", "items": {"type": "string"}}, "top linked domains"))},
    "campaigns, most recent first"))
_CAMPAIGN = _object(
    **_CAMPAIGN_FIELDS, senders=({"type": "array", "items": {"type": "string"}}, "accounts"),
    sessions=("array", "per sending session: account, session, clients, ips, first, last, "
                       "messages"),
    domains=("array", "per domain: domain, first_seen, last_seen, messages"),
    phones=({"type": "array", "items": {"type": "string"}}, "phone numbers advertised"),
    handles=({"type": "array", "items": {"type": "string"}}, "@handles advertised"),
    short_codes=({"type": "array", "items": {"type": "string"}},
                 "short codes advertised, each with its keyword ('80888 TONES')"))
_RELEASES = _object(
    releases=({"type": "array", "items": _object(
        cursor=("integer", "this release's place: pass the last one as after="),
        message_id=("string", "the held message"), sender=("string", "its sender"),
        recipients=({"type": "array", "items": {"type": "string"}},
                    "its recipients, when kept (campaign evidence)"),
        text=({"type": ["string", "null"]}, "its text, when kept"),
        released_by=("string", "the operator, or \"challenge\": the sender's session passed "
                               "the owner's challenge, which answered the doubt that held "
                               "it"), released_at=("string", _TIMES))},
        "oldest first"),
    cursor=("integer", "the last cursor in this page (after= for the next)"))
_RELEASES_EXAMPLE = {"releases": [{"cursor": 7, "message_id": "m-1842", "sender": "alice",
                                   "recipients": ["bob"], "text": None,
                                   "released_by": "dana", "released_at": "2026-05-04T11:02:13Z"}],
                     "cursor": 7}


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
    # A message's text is "required unless encrypted", not a null default.
    components["Message"]["properties"]["text"].pop("default", None)
    components["Error"] = _ERROR
    errors = {"400": {"description": "malformed JSON", **_json(_ref("Error"))},
              "401": {"description": "missing or wrong bearer token", **_json(_ref("Error"))},
              "413": {"description": "over a size limit", **_json(_ref("Error"))},
              "408": {"description": "the body did not arrive in time", **_json(_ref("Error"))},
              "409": {"description": "an event id already used by another type or body",
                      **_json(_ref("Error"))},
              "422": {"description": "breaks the contract", **_json(_ref("Error"))},
              "503": {"description": "overloaded or a store is down: retry after "
                      "Retry-After seconds", **_json(_ref("Error"))}}
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    unauthorised = {"401": errors["401"]}
    account_param = [_param("account", "path", "an account id, as the IM server names it")]
    campaign_param = [_param("campaign", "path", "a campaign id (c-...), from GET /v1/campaigns")]
    not_found = {"404": {"description": "no such campaign", **_json(_ref("Error"))}}
    operation_param = [_param("operation", "path", "an operation id, from GET /v1/operations")]
    not_found_op = {"404": {"description": "no such operation", **_json(_ref("Error"))}}
    bad_query = {"422": {"description": "a query parameter is malformed",
                         **_json(_ref("Error"))}}
    results = {"type": "object", "properties": {"results": {"type": "array", "items": {
        "anyOf": [verdict, accepted]}, "description": "one per event, in order"}}}
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
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": message, "examples": {
                        "plain": {"value": _MESSAGE},
                        "encrypted": {"summary": "judged on metadata alone",
                                      "value": _SEALED_MESSAGE}}}}},
                "responses": {"200": {"description": "the verdict", **_json(verdict, _VERDICT)},
                              **errors}}},
            "/v1/events": {"post": {
                "summary": "Send a batch of events of any type, in time order",
                "security": secured, "requestBody": {"required": True, **_json(batch, _BATCH)},
                "responses": {"200": {"description": "one result per event, in order",
                                      **_json(results, _RESULTS)}, **errors}}},
            "/v1/accounts/{account}": {"get": {
                "summary": "An account's risk, restrictions in force and recent incidents",
                "security": secured, "parameters": account_param,
                "responses": {"200": {"description": "the account", **_json(_ACCOUNT)},
                              **unauthorised}}},
            "/v1/accounts/{account}/restore": {"post": {
                "summary": "Lift the account's restrictions (operator decision)",
                "security": secured, "parameters": account_param,
                "responses": {"200": {"description": "restrictions lifted (restored: whether "
                                      "any were in force)", **_json(_RESTORED)},
                              **unauthorised}}},
            "/v1/campaigns": {"get": {
                "summary": "Campaigns found (filters: since, min_size, domain)",
                "security": secured, "parameters": [
                    _param("since", "query", "campaigns active at or after this time "
                           "(Unix seconds)", {"type": "number", "default": 0}, False),
                    _param("min_size", "query", "at least this many messages",
                           {"type": "integer", "default": 1}, False),
                    _param("domain", "query", "only campaigns linking to this domain",
                           {"type": "string"}, False)],
                "responses": {"200": {"description": "the campaigns, most recent first",
                                      **_json(_CAMPAIGNS)}, **bad_query, **unauthorised}}},
            "/v1/campaigns/{campaign}": {"get": {
                "summary": "One campaign: times, sizes, senders, sessions, domains, contacts",
                "security": secured, "parameters": campaign_param,
                "responses": {"200": {"description": "the campaign", **_json(_CAMPAIGN)},
                              **not_found, **unauthorised}}},
            "/v1/campaigns/{campaign}/evidence": {"get": {
                "summary": "The campaign's evidence bundle (zip, with manifest and hash chain)",
                "security": secured, "parameters": campaign_param,
                "responses": {"200": {"description": "the bundle", "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                    **not_found, **unauthorised}}},
            "/v1/releases": {"get": {
                "summary": "Messages released after a hold (by an operator, or by the owner's "
                           "passed challenge), for the IM server to deliver (page with the "
                           "cursor of the last one seen)",
                "security": secured, "parameters": [
                    _param("after", "query", "the cursor of the last release already handled",
                           {"type": "integer", "minimum": 0, "default": 0}, False),
                    _param("limit", "query", "releases per page",
                           {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                           False)],
                "responses": {"200": {"description": "releases after the cursor, oldest first",
                                      **_json(_RELEASES, _RELEASES_EXAMPLE)},
                              "422": {"description": "after or limit out of range",
                                      **_json(_ref("Error"))},
                              **unauthorised}}},
            "/v1/operations": {"get": {
                "summary": "Operations: campaigns linked by shared infrastructure (domains, "
                           "networks, clients, sessions, phone numbers)",
                "security": secured, "parameters": [
                    _param("since", "query", "operations active at or after this time "
                           "(Unix seconds)", {"type": "number", "default": 0}, False)],
                "responses": {"200": {"description": "the operations",
                                      **_json({"type": "object"})},
                              **bad_query, **unauthorised}}},
            "/v1/operations/{operation}": {"get": {
                "summary": "One operation: its campaigns and what links them",
                "security": secured, "parameters": operation_param,
                "responses": {"200": {"description": "the operation",
                                      **_json({"type": "object"})},
                              **not_found_op, **unauthorised}}},
            "/v1/operations/{operation}/evidence": {"get": {
                "summary": "The operation's evidence bundle (zip, every campaign's records)",
                "security": secured, "parameters": operation_param,
                "responses": {"200": {"description": "the bundle", "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                    **not_found_op, **unauthorised}}},
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
