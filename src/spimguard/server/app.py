"""The HTTP API of the v1 contract on Starlette.

Every answer is JSON; an error is ``{"error": {"code", "message", "field"}}`` and
never a stack trace. Bodies are read with a size bound before they are parsed.
Nothing that waits for a store or the engine's lock runs on the event loop, so it
keeps reading requests (and answering ``/healthz``) through a long batch: messages,
batches, account views and restores go to the engine's own thread, where
concurrent /v1/check requests are judged and committed together (``grouping.py``);
record reads go to worker threads.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__, campaigns, evidence, operations
from ..engine import Engine
from ..errors import BadInput, RecordsUnavailable, StateUnavailable
from ..events import Appeal, Event, check_clock, decode_batch, decode_message, rfc3339
from . import docs as docs_page
from . import matrix, matrix_notices
from .challenges import after_challenges
from .console import ConsoleStore, SecurityHeaders, open_console
from .console import routes as console_routes
from .console.records import AppealEntry
from .grouping import RETRY_AFTER, GroupCommit, Overloaded
from .health import HealthProbe, degraded
from .metrics import Metrics
from .openapi import document
from .wire import (
    ASGIRoute,
    JSONAnswer,
    bearer_ok,
    header,
    read_body,
    receive_body,
    rooted,
    send_json,
)

log = logging.getLogger("spimguard.server")


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONAnswer:
    return JSONAnswer({"error": {"code": code, "message": message, "field": field}}, status)


class BearerGuard:
    """ASGI middleware: every ``/v1/`` request needs the configured bearer token. The path
    judged is the one the router routes (``root_path`` taken off): under a root path (a
    mount, uvicorn's ``--root-path``) the scope's path carries the prefix, and a guard
    reading it let every /v1/ route through without a token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def authorised(self, scope: Scope) -> bool:
        return bearer_ok(header(scope, b"authorization") or "", self.token)

    @staticmethod
    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        response = _error(401, "unauthorized", "missing or wrong bearer token")
        response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and get_route_path(scope).startswith("/v1/") and (
                not self.authorised(scope)):
            await self.refuse(scope, receive, send)
            return
        await self.app(scope, receive, send)


Handler = Callable[[Request, Exception], Awaitable[Response]]


class Express(Starlette):
    """Starlette, with ``POST /v1/check`` (the busiest route by far) answered before its
    middleware stack: the stack's five layers (the server-error catch, the bearer guard,
    the console's headers, the exception handlers, the router's scan) cost a check as much
    as decoding and queueing it, on the event loop that every request shares. The lane
    does what those layers did for this route: the same bearer check and 401, the same
    handlers for the same exceptions (an unhandled one answered 500 by ``crashed`` and
    raised on to the server, as ``ServerErrorMiddleware`` does). Any other method, path or
    ``root_path`` goes through the stack as before (a ``GET /v1/check`` still gets its
    405)."""

    lane: ASGIApp
    guard: BearerGuard
    handlers: dict[type[Exception], Handler]
    crashed: Handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"] == "/v1/check"
                and scope["method"] == "POST" and not scope.get("root_path")):
            await self.express(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def express(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.guard.authorised(scope):
            await self.guard.refuse(scope, receive, send)
            return
        try:
            await self.lane(scope, receive, send)
        except Exception as exc:
            handler = next((self.handlers[kind] for kind in type(exc).__mro__
                            if kind in self.handlers), None)
            response = await (handler or self.crashed)(Request(scope, receive), exc)
            await response(scope, receive, send)
            if handler is None:
                raise


def _keep_appeals(engine: Engine, console: ConsoleStore, batch: list[Event]) -> None:
    """Appeals go to the console's store: one a message (the first; a retry adds
    nothing), and only of a message the records hold as the appealing account's and
    stopped (held or blocked), as only that is an appeal. Any other was kept forever: an
    account's appeals under fresh ids, of any message id, 64 KiB each, grew the store
    without bound and pushed every other account's appeal off the console's latest 200
    (red team, session 24). After the batch's commit: its committed view holds the batch."""
    records = engine.records.committed()
    for event in batch:
        if isinstance(event, Appeal):
            entry = records.message(event.message_id)
            if (entry is not None and entry.account == event.account
                    and entry.action in ("hold", "block")):
                console.save_appeal(AppealEntry(event.message_id, event.ts, event.account,
                                                event.message_id, event.text))


class _FreezeSurvivors:
    """After each middle or full collection, freeze what it found alive (a ``gc.callbacks``
    entry while the server runs). A collection walks every tracked object of its
    generations and runs on whichever thread allocates at the time: on the event loop it
    stalls every request, on the engine's thread the batch in hand and the checks queued
    behind it. Past start-up, what survives a collection is mostly the caches' entries
    (held keys, models' rows), which reference counting frees when they are let go;
    walking them again finds nothing. Frozen, no later collection walks them. At start-up
    it freezes what start-up built (130 ms of CPU a full collection with it, ~10 ms
    without).

    Why after the middle ones too, not only the full ones (sessions 33-40): what the middle
    collections promoted piled up in the oldest generation until a full collection walked
    it, 15-36 ms of the engine's CPU in one pass, and it freed nothing (0 objects on
    ``tail.py``'s server run and 30,000 events judged in-process: ``tail41``). Freezing
    resets the collector's counts, so with it after every middle pass no full one comes.

    Why not after the young ones (``tail41`` froze there too, and took the middle passes'
    3-10 ms off as well): what a young pass finds alive includes every connection open at
    the time, and a closed connection is a reference cycle (asyncio's transport, its
    socket's wrapper, the loop's handle: ~430 bytes); frozen, a client that opens and drops
    connections as fast as it can kept ~100,000 of them (~47 MB) until the next walk
    (session 41's review, ``review41``). A middle pass finds alive only what is open at one
    of them, a tenth as often: ~40 bytes a connection.

    The price, and its bound: a reference cycle among frozen objects that later becomes
    garbage is not collected while frozen. So every ``walk_all_every``-th middle or full
    collection unfreezes instead, nothing is frozen until the next full collection (the
    collector's own rules bring it, as they would without freezing: ~190 passes of any
    generation later on 30,000 events in-process), and that one walks everything once and
    frees those cycles: what freezing can keep is the cycles that died in
    ``walk_all_every`` middle collections' time (~4.7 MB of closed connections at the
    fastest churn measured), for one long collection in that many (~150 ms of CPU with the
    caches full). 240: about as many passes of any generation (~2,400) as there were
    between two such walks when only full collections froze (16 full ones, ~150 passes
    each in the session's start run), so the walk is as rare as before. The count is the
    server's own, from its start-up collection (the first, which always freezes)."""

    walk_all_every = 240

    def __init__(self) -> None:
        self.passes = 0
        self.walking = False  # unfrozen, until a full collection has walked everything

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop":
            return
        generation = info["generation"]
        if self.walking:
            if generation == 2:
                self.walking = False
                gc.freeze()
            return
        if generation == 0:
            return
        self.passes += 1
        if self.passes % self.walk_all_every:
            gc.freeze()
        else:
            gc.unfreeze()
            self.walking = True


def create_app(engine: Engine, console: ConsoleStore | None = None) -> Express:
    """The API, the Matrix endpoints and the console (its store opened beside the records
    unless one is given)."""
    config = engine.config
    console = console if console is not None else open_console(config)
    limits = config.limits
    metrics = Metrics()
    templates = Environment(loader=PackageLoader("spimguard", "server/templates"),
                            autoescape=select_autoescape(["html"]))
    openapi = document(config.matrix.prefix if config.matrix.enabled else None)
    grouped = GroupCommit(engine, max_pending=limits.max_queued,
                          max_batches=max(1, limits.max_queued // 16), max_wait=limits.max_wait,
                          metrics=metrics)
    probe = HealthProbe(engine)
    # The GET endpoints' reads: what was committed, never waiting for the engine's batch.
    logged = engine.records.committed()

    async def body(request: Request) -> bytes:
        return await read_body(request, limits.max_body_bytes, limits.body_timeout)

    async def check(scope: Scope, receive: Receive, send: Send) -> None:
        """An ASGI app, not a Starlette endpoint: the busiest route makes no ``Request`` and
        no ``Response``, and is answered ahead of the middleware stack (``Express``); the
        route below serves it only where the lane does not (a ``root_path``)."""
        started = time.perf_counter()
        grouped.admit()
        message = decode_message(await receive_body(scope, receive, limits.max_body_bytes,
                                                    limits.body_timeout), limits)
        check_clock([message], limits, time.time())
        try:
            verdict, new = await grouped.judge_marked(message)
        except (StateUnavailable, RecordsUnavailable) as exc:
            if config.storage.fail_mode == "closed":
                raise
            log.error("delivered %r unjudged (fail_mode open): %s", message.id, exc)
            verdict, new = degraded(message.id), True
        if new:
            metrics.count(("message",), (verdict,))
        metrics.check_latency.observe(time.perf_counter() - started)
        await send_json(send, msgspec.json.encode(verdict))

    async def events(request: Request) -> Response:
        started = time.perf_counter()
        batch = decode_batch(await body(request), limits)
        check_clock(batch, limits, time.time(), prefix="events")
        fresh: list[bool] = []
        results = await grouped.batch(batch, fresh)
        await grouped.run(_keep_appeals, engine, console, batch)
        await grouped.run(after_challenges, engine, console, batch, results, fresh)
        new = [(type(e).__name__.lower(), r) for e, r, f in zip(batch, results, fresh,
                                                               strict=True) if f]
        metrics.count((kind for kind, _ in new), (r for _, r in new))
        metrics.events_latency.observe(time.perf_counter() - started)
        return JSONAnswer({"results": results})

    async def account(request: Request) -> Response:
        name = request.path_params["account"]
        return JSONAnswer(await grouped.run(engine.account, name))

    async def restore(request: Request) -> Response:
        """Committed before the answer; ordered with the check batches (``grouping``)."""
        name = request.path_params["account"]
        lifted = await grouped.run(engine.restore, name)
        return JSONAnswer({"account": name, "restored": lifted})

    async def campaign_list(request: Request) -> Response:
        query = request.query_params
        try:
            since = float(query.get("since", "0"))
            min_size = int(query.get("min_size", "1"))
        except ValueError:
            raise BadInput("since must be Unix seconds and min_size a whole number",
                           field="since/min_size") from None
        found = await run_in_threadpool(campaigns.listing, logged, since, min_size,
                                        query.get("domain", ""))
        return JSONAnswer({"campaigns": [campaigns.for_wire(c) for c in found]})

    async def campaign_one(request: Request) -> Response:
        info = await run_in_threadpool(campaigns.summary, logged,
                                       request.path_params["campaign"])
        if info is None:
            return _error(404, "not_found", "no such campaign")
        return JSONAnswer(campaigns.for_wire(info))

    async def campaign_evidence(request: Request) -> Response:
        campaign = request.path_params["campaign"]
        info = await run_in_threadpool(campaigns.summary, logged, campaign)
        if info is not None and info["shape"] == "sharing":  # people sharing: no spim evidence
            return _error(404, "not_found", "no such campaign: a cluster of people sharing")
        files = await run_in_threadpool(evidence.build, logged, campaign,
                                        engine.evidence_key)
        if files is None:
            return _error(404, "not_found", "no such campaign")
        name = "".join(c for c in campaign if c.isalnum() or c in "-_")[:64]
        return Response(evidence.zipped(files), media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="evidence-{name}.zip"'})

    async def operation_list(request: Request) -> Response:
        try:
            since = float(request.query_params.get("since", "0"))
        except ValueError:
            raise BadInput("since must be Unix seconds", field="since") from None
        found = await run_in_threadpool(operations.listing, logged, since,
                                        engine.config.official_clients)
        return JSONAnswer({"operations": found})

    async def _operation(request: Request) -> dict[str, Any] | None:
        return await run_in_threadpool(operations.find, logged,
                                       request.path_params["operation"],
                                       engine.config.official_clients)

    async def operation_one(request: Request) -> Response:
        info = await _operation(request)
        return JSONAnswer(info) if info else _error(404, "not_found", "no such operation")

    async def operation_evidence(request: Request) -> Response:
        info = await _operation(request)
        if info is None:
            return _error(404, "not_found", "no such operation")
        files = await run_in_threadpool(operations.bundle, logged, info,
                                        engine.evidence_key)
        if files is None:  # purged since it was found
            return _error(404, "not_found", "no such operation")
        name = "".join(c for c in info["id"] if c.isalnum() or c in "-_")[:64]
        return Response(evidence.zipped(files), media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="evidence-{name}.zip"'})

    async def releases(request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", "0"))
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            raise BadInput("after and limit must be whole numbers", field="after") from None
        if after < 0 or not 1 <= limit <= 1000:
            raise BadInput("after must be >= 0 and limit between 1 and 1000", field="limit")
        found = await run_in_threadpool(console.releases, after, limit)
        return JSONAnswer({"releases": [{
            "cursor": r.seq, "message_id": r.message_id, "sender": r.sender,
            "recipients": list(r.recipients), "text": r.text, "released_by": r.operator,
            "released_at": rfc3339(r.ts)} for r in found],
            "cursor": found[-1].seq if found else after})

    async def healthz(request: Request) -> Response:
        stores = await probe.stores()
        ok = all(v == "ok" for v in stores.values())
        return JSONAnswer({"status": "ok" if ok else "unavailable", "version": __version__,
                           "stores": stores, "disabled_detectors": engine.disabled},
                          200 if ok else 503)

    async def livez(request: Request) -> Response:
        return JSONAnswer({"status": "alive", "version": __version__})

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    async def openapi_json(request: Request) -> Response:
        """Under a root path the document names it as its server (OpenAPI's default server
        is ``/``, where a client behind the proxy's prefix finds nothing)."""
        root = rooted(request.scope, "")
        return JSONAnswer({**openapi, "servers": [{"url": root}]} if root else openapi)

    async def docs(request: Request) -> Response:
        page = templates.get_template("docs.html").render(
            version=__version__, description=openapi["info"]["description"],
            root=rooted(request.scope, ""), operations=docs_page.operations(openapi),
            schemas=docs_page.schemas(openapi))
        return HTMLResponse(page)

    async def bad_input(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadInput)
        metrics.rejected.labels(exc.code).inc()
        return JSONAnswer(exc.as_body(), exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.error("backend unavailable: %s", exc)
        response = _error(503, "unavailable", "storage is unavailable; retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    async def overloaded(request: Request, exc: Exception) -> Response:
        metrics.rejected.labels("overloaded").inc()
        response = _error(503, "overloaded", "too many requests are waiting; retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    async def gone(request: Request, exc: Exception) -> Response:
        """A client that left before its body was read: nothing to answer (uvicorn sends
        nothing to a closed connection) and nothing to log, as no server error happened;
        a traceback a connection let a client fill the log as fast as it could connect
        (``review41``). Counted, so an operator sees the rate."""
        metrics.rejected.labels("disconnected").inc()
        return Response(status_code=400)

    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return _error(500, "internal", "internal error; see the server log")

    routes = [
        Route("/v1/check", ASGIRoute(check), methods=["POST"]),
        Route("/v1/events", events, methods=["POST"]),
        Route("/v1/accounts/{account:str}", account, methods=["GET"]),
        Route("/v1/accounts/{account:str}/restore", restore, methods=["POST"]),
        Route("/v1/campaigns", campaign_list, methods=["GET"]),
        Route("/v1/campaigns/{campaign:str}", campaign_one, methods=["GET"]),
        Route("/v1/campaigns/{campaign:str}/evidence", campaign_evidence, methods=["GET"]),
        Route("/v1/operations", operation_list, methods=["GET"]),
        Route("/v1/operations/{operation:str}", operation_one, methods=["GET"]),
        Route("/v1/operations/{operation:str}/evidence", operation_evidence, methods=["GET"]),
        Route("/v1/releases", releases, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        *matrix.routes(engine, metrics),
        *console_routes(engine, console),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What start-up built (models, tables, routes) lives as long as the server, and so
        # does what each later middle or full collection finds alive (``_FreezeSurvivors``); this
        # first collection freezes start-up's.
        freezing = _FreezeSurvivors()
        gc.callbacks.append(freezing)
        gc.collect()
        async with matrix_notices.running(config.matrix, console):
            yield
        gc.callbacks.remove(freezing)
        gc.unfreeze()  # in a process that goes on (tests, embedding), it may be freed again
        grouped.close()
        engine.close()
        console.close()

    handlers: dict[type[Exception], Handler] = {
        BadInput: bad_input, HTTPException: http_error, StateUnavailable: unavailable,
        RecordsUnavailable: unavailable, Overloaded: overloaded, ClientDisconnect: gone}
    app = Express(routes=routes, lifespan=lifespan,
                  middleware=[Middleware(BearerGuard, token=config.api_token),
                              Middleware(SecurityHeaders)],
                  exception_handlers={**handlers, Exception: crashed})
    app.lane, app.guard = check, BearerGuard(app, config.api_token)
    app.handlers, app.crashed = handlers, crashed
    return app
