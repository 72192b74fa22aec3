"""The console's routes: pages (GET, any operator) and actions (POST, by role, with CSRF).

viewer reads everything; moderator also decides on messages, restores accounts,
writes notes and sets campaign status; admin also changes the operator lists.
Every action goes to the audit log: who, when, what, why.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ... import evidence, lists
from ...engine import Engine
from ...errors import BadInput
from ...state.ops import FOREVER, Remove, Touch
from ..wire import rooted
from . import auth, views
from .decisions import Label, apply_operator_decision
from .records import CAMPAIGN_STATUSES, CampaignStatus, ConsoleStore, Note, Session
from .web import Web, back, console_target, here, secure, text

MAX_IMPORT = 16 * 1024 * 1024  # bytes of one uploaded list file

# A page's values for its template, or a response in their place (a redirect, a 404).
Build = Callable[[Request], "dict[str, Any] | Response"]
Act = Callable[[Request, Session, FormData], Response]


def routes(engine: Engine, store: ConsoleStore) -> list[BaseRoute]:
    limits = engine.config.limits
    web = Web.create(store, limits.max_body_bytes, limits.body_timeout)

    def page(name: str, role: auth.Role = "viewer"
             ) -> Callable[[Build], Callable[[Request], Response]]:
        """A GET page: the session checked, then ``build(request)`` gives its values. A plain
        function: Starlette runs it in a worker thread, so a slow or unreachable store
        (PostgreSQL) never holds up the event loop that answers the API."""
        def wrap(build: Build) -> Callable[[Request], Response]:
            def handler(request: Request) -> Response:
                session = web.session(request)
                refused = web.deny(request, session, role)
                if refused is not None:
                    return refused
                values = build(request)
                if isinstance(values, Response):
                    return values
                return web.render(request, name, session, csrf=session.csrf if session else "",
                                  **values)
            return handler
        return wrap

    def action(role: auth.Role, max_files: int = 0
               ) -> Callable[[Act], Callable[[Request], Awaitable[Response]]]:
        """A POST: ``act(request, session, form)`` once the role and CSRF token are checked;
        the store work in worker threads, the body read on the event loop."""
        def wrap(act: Act) -> Callable[[Request], Awaitable[Response]]:
            async def handler(request: Request) -> Response:
                admitted = await run_in_threadpool(web.admit, request, role)
                if isinstance(admitted, Response):
                    return admitted
                form = await web.form(request, max_files)
                return await run_in_threadpool(web.checked, request, admitted, form, act)
            return handler
        return wrap

    # -- sign in and out ------------------------------------------------------------------
    def login_page(request: Request, status: int = 200, error: str = "",
                   target: str = "") -> Response:
        """The login form, with a fresh CSRF token in the form and in its own cookie."""
        token = secrets.token_urlsafe(32)
        response = web.render(request, "login.html", None, status, csrf=token, error=error,
                              next=target or rooted(request.scope, "/console/"))
        response.set_cookie(auth.LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure(request), path=rooted(request.scope, "/console/login"))
        return response

    async def login_form(request: Request) -> Response:
        return login_page(request, target=request.query_params.get("next", "")[:500])

    async def login(request: Request) -> Response:
        form = await web.form(request)
        return await run_in_threadpool(signed_in, request, form)

    def signed_in(request: Request, form: FormData) -> Response:
        name = text(form, "name", 64)
        password = form.get("password", "")
        password = password if isinstance(password, str) else ""
        if not auth.csrf_ok(request.cookies.get(auth.LOGIN_COOKIE, ""), form.get("csrf")):
            return web.render(request, "login.html", None, 403, csrf="",
                              next=rooted(request.scope, "/console/"),
                              error="The login form was stale: reload the page.")
        address = request.client.host if request.client else ""
        keys = (f"name:{name}", f"address:{address}")
        now = time.time()
        if web.limiter.blocked(keys, now):
            store.audit(now, name, "login.refused", address, "", "too many failed logins")
            return web.render(request, "login.html", None, 429, csrf="",
                              next=rooted(request.scope, "/console/"),
                              error="Too many failed logins: wait 15 minutes.")
        operator = store.operator(name)
        if not auth.verify(operator, password):
            web.limiter.failed(keys, now)
            store.audit(now, name, "login.failed", address)
            return login_page(request, 401, "Wrong name or password.")
        web.limiter.succeeded(keys[0])
        token, _ = auth.open_session(store, name, now)
        store.audit(now, name, "login", address)
        response = RedirectResponse(console_target(request, text(form, "next", 500),
                                                   "/console/"), 303)
        response.set_cookie(auth.COOKIE, token, max_age=int(auth.SESSION_SECONDS),
                            httponly=True, samesite="strict", secure=secure(request),
                            path=rooted(request.scope, "/console"))
        response.delete_cookie(auth.LOGIN_COOKIE, path=rooted(request.scope, "/console/login"))
        return response

    @action("viewer")
    def logout(request: Request, session: Session, form: FormData) -> Response:
        store.drop_session(session.token_hash)
        store.audit(time.time(), session.operator, "logout", "")
        response = RedirectResponse(rooted(request.scope, "/console/login"), 303)
        response.delete_cookie(auth.COOKIE, path=rooted(request.scope, "/console"))
        return response

    # -- pages ----------------------------------------------------------------------------
    @page("overview.html")
    def overview(request: Request) -> dict[str, Any]:
        return views.overview(engine, store)

    @page("queue.html")
    def queue(request: Request) -> dict[str, Any]:
        q = request.query_params
        filters = {k: q.get(k, "")[:200] for k in ("action", "campaign", "account", "signal",
                                                   "pending")}
        return {**views.queue(engine, store, filters), "back": here(request) + (
            "?" + request.url.query if request.url.query else "")}

    @page("accounts.html")
    def accounts(request: Request) -> dict[str, Any]:
        query = request.query_params.get("q", "").strip()[:200]
        return {"q": query, "found": views.search_accounts(engine, query) if query else []}

    @page("account.html")
    def account(request: Request) -> dict[str, Any] | Response:
        name = request.query_params.get("id", "")[:512]
        if not name:
            return RedirectResponse(rooted(request.scope, "/console/accounts"), 303)
        return {"info": views.account(engine, store, name),
                "back": rooted(request.scope, "/console/account?" + urlencode({"id": name}))}

    @page("campaigns.html")
    def campaign_list(request: Request) -> dict[str, Any]:
        return {"campaigns": views.campaign_list(engine, store),
                "operations": views.operation_list(engine, store)}

    @page("campaign.html")
    def campaign(request: Request) -> dict[str, Any] | Response:
        cid = request.query_params.get("id", "")[:512]
        info = views.campaign(engine, store, cid)
        if info is None:
            return web.render(request, "error.html", web.session(request), 404,
                              message="No such campaign.")
        return {"c": info, "statuses": CAMPAIGN_STATUSES,
                "back": rooted(request.scope, "/console/campaign?" + urlencode({"id": cid}))}

    @page("reports.html")
    def reports(request: Request) -> dict[str, Any]:
        return {**views.reports(engine, store), "back": rooted(request.scope, "/console/reports"),
                "max_trust": engine.config.trust.max_record_weight}

    @page("lists.html")
    def list_page(request: Request) -> dict[str, Any]:
        return views.list_view(engine, store)

    @page("system.html")
    def system(request: Request) -> dict[str, Any]:
        return views.system(engine, store)

    @page("audit.html")
    def audit(request: Request) -> dict[str, Any]:
        return {"entries": store.audit_log(500)}

    def audit_export(request: Request) -> Response:
        session = web.session(request)
        refused = web.deny(request, session, "viewer")
        if refused is not None:
            return refused
        entries = store.audit_log(100_000)
        if request.query_params.get("format") == "json":
            return Response(msgspec.json.encode(entries), media_type="application/json",
                            headers={"Content-Disposition": 'attachment; filename="audit.json"'})
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["seq", "time", "operator", "action", "target", "why", "detail"])
        for e in entries:
            writer.writerow([e.seq, views.stamp(e.ts), *(evidence.inert(v) for v in (
                e.operator, e.action, e.target, e.why, e.detail))])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})

    def campaign_evidence(request: Request) -> Response:
        session = web.session(request)
        refused = web.deny(request, session, "viewer")
        if refused is not None:
            return refused
        assert session is not None
        cid = request.query_params.get("id", "")[:512]
        records, _ = views.scope(engine, cid)
        files = evidence.build(records, cid, engine.evidence_key)
        if files is None:
            return web.render(request, "error.html", session, 404, message="No such campaign.")
        store.audit(time.time(), session.operator, "campaign.evidence", cid)
        name = "".join(c for c in cid if c.isalnum() or c in "-_")[:64]
        return Response(evidence.zipped(files), media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="evidence-{name}.zip"'})

    # -- actions --------------------------------------------------------------------------
    @action("moderator")
    def decide(request: Request, session: Session, form: FormData) -> Response:
        label = text(form, "label", 10)
        why = text(form, "why", 2000)
        cluster = text(form, "campaign", 512)
        ids = [v for v in form.getlist("message_id") if isinstance(v, str) and v][:1000]
        if cluster:
            ids = views.cluster_messages(engine, cluster)
        # The form's word as typed: apply_operator_decision refuses any but 'spam' and 'ham'.
        outcome = apply_operator_decision(engine, store, session.operator, ids,
                                          cast(Label, label), why)
        if cluster:
            store.audit(time.time(), session.operator, f"decide.cluster.{label}", cluster, why,
                        f"{outcome.decided} messages, {outcome.released} released, "
                        f"{len(outcome.restored)} accounts restored")
        return back(request, form, "/console/queue", "decided")

    @action("moderator")
    def restore(request: Request, session: Session, form: FormData) -> Response:
        name = text(form, "account", 512, required=True)
        why = text(form, "why", 2000)
        lifted = engine.restore(name)
        store.audit(time.time(), session.operator, "account.restore", name, why,
                    "restrictions lifted" if lifted else "none in force")
        return back(request, form, "/console/account?" + urlencode({"id": name}),
                    "restored" if lifted else "nothing")

    @action("moderator")
    def note(request: Request, session: Session, form: FormData) -> Response:
        name = text(form, "account", 512, required=True)
        body = text(form, "text", 10_000, required=True)
        now = time.time()
        store.add_note(Note(name, now, session.operator, body))
        store.audit(now, session.operator, "account.note", name, "", body[:200])
        return back(request, form, "/console/account?" + urlencode({"id": name}), "noted")

    @action("moderator")
    def campaign_status(request: Request, session: Session, form: FormData) -> Response:
        cid = text(form, "campaign", 512, required=True)
        status = text(form, "status", 64)
        if status not in CAMPAIGN_STATUSES:
            raise BadInput(f"status is one of {', '.join(CAMPAIGN_STATUSES)}", field="status")
        now = time.time()
        store.set_campaign_status(CampaignStatus(cid, status, session.operator, now))
        store.audit(now, session.operator, "campaign.status", cid, text(form, "why", 2000),
                    status)
        return back(request, form, "/console/campaign?" + urlencode({"id": cid}), "status")

    @action("admin", max_files=1)
    def list_change(request: Request, session: Session, form: FormData) -> Response:
        name = request.path_params["name"]
        change = request.path_params["change"]
        if name not in lists.NAMES or change not in ("add", "remove", "import"):
            raise BadInput("no such list or change", field="name", status=404)
        kind = "sha256" if name == "sha256" else text(form, "kind", 20) or "domains"
        upload = form.get("file")
        if change == "import" and isinstance(upload, UploadFile):
            raw = upload.file.read(MAX_IMPORT + 1)
            if len(raw) > MAX_IMPORT:
                raise BadInput(f"the file exceeds {MAX_IMPORT} bytes", field="file", status=413)
            source = raw.decode("utf-8", errors="replace")
        else:
            source = text(form, "entries", 1_000_000, required=True)
        entries = lists.parse(source, kind)
        key = lists.key(name)
        write = Remove(key, tuple(entries)) if change == "remove" else Touch(
            key, tuple(entries), FOREVER, lists.MAX_ENTRIES)
        engine.write_state([write])
        store.audit(time.time(), session.operator, f"lists.{change}", name,
                    text(form, "why", 2000), f"{len(entries)} entries: "
                    + ", ".join(entries[:20]) + (" ..." if len(entries) > 20 else ""))
        return back(request, form, "/console/lists", "listed")

    async def home(request: Request) -> Response:
        return RedirectResponse(rooted(request.scope, "/console/"), 308)

    return [
        Route("/console", home),
        Route("/console/", overview),
        Route("/console/login", login_form, methods=["GET"]),
        Route("/console/login", login, methods=["POST"]),
        Route("/console/logout", logout, methods=["POST"]),
        Route("/console/queue", queue),
        Route("/console/decide", decide, methods=["POST"]),
        Route("/console/accounts", accounts),
        Route("/console/account", account),
        Route("/console/account/restore", restore, methods=["POST"]),
        Route("/console/account/note", note, methods=["POST"]),
        Route("/console/campaigns", campaign_list),
        Route("/console/campaign", campaign),
        Route("/console/campaign/status", campaign_status, methods=["POST"]),
        Route("/console/campaign/evidence", campaign_evidence),
        Route("/console/reports", reports),
        Route("/console/lists", list_page),
        Route("/console/lists/{name:str}/{change:str}", list_change, methods=["POST"]),
        Route("/console/system", system),
        Route("/console/audit", audit),
        Route("/console/audit/export", audit_export),
        Mount("/console/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="console-static"),
    ]
