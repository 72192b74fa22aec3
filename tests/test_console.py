"""The console without a browser: its store (memory and SQLite alike), sign-in, CSRF,
roles, decisions, releases, appeals, the audit export, hostile text in every page, the
docs page, and the first-hour fixes of the command line."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import T0, engine, message
from spimguard import operations
from spimguard.cli import app as cli_app
from spimguard.cli.common import plain_help
from spimguard.engine import Engine
from spimguard.errors import BadInput
from spimguard.server import create_app
from spimguard.server.console import auth
from spimguard.server.console.conformance import check_console
from spimguard.server.console.memory import MemoryConsole
from spimguard.server.console.records import (
    ConsoleStore,
)
from spimguard.server.console.sqlite import SQLiteConsole

PASSWORD = "correct horse battery"
SPAM = "WINNER!! claim your FREE prize now, call 09061701461 {}"
HOSTILE = ['<script>alert("x")</script>', '<img src=x onerror="alert(1)">',
           '<a href="javascript:alert(1)">x</a>', "\u202egnp.exe", "y" * 65_000]


@pytest.fixture(params=["memory", "sqlite", "postgres", "postgres under a locale"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConsoleStore]:
    if request.param.startswith("postgres"):
        from postgres_harness import database
        from spimguard.server.console.postgres import PostgresConsole

        # ICU's "en", as a database made under en_US.UTF-8 (Debian's initdb default).
        with database(request.getfixturevalue("postgres_server"), upgraded=True,
                      icu_locale="en" if "locale" in request.param else "") as url:
            made: ConsoleStore = PostgresConsole(url)
            yield made
            made.close()
        return
    made = MemoryConsole() if request.param == "memory" else SQLiteConsole.open(tmp_path)
    yield made
    made.close()


def test_every_console_store_conforms(store: ConsoleStore) -> None:
    check_console(store)


def test_nodes_sharing_postgres_share_one_console(postgres_url: str) -> None:
    """A login on one node is valid on the other, and releases written by both at once
    get one gapless cursor sequence (an IM server polling ``after=`` misses none)."""
    from concurrent.futures import ThreadPoolExecutor

    from spimguard.server.console.postgres import PostgresConsole

    nodes = [PostgresConsole(postgres_url, pool_size=8) for _ in range(2)]
    try:
        nodes[0].save_operator(auth.new_operator("dana", "admin", PASSWORD))
        token, session = auth.open_session(nodes[0], "dana", time.time())
        assert auth.current(nodes[1], token, time.time()) == session

        def release(i: int) -> bool:
            node = nodes[i % 2]
            node.audit(float(i), "dana", "decide.ham", f"m{i}")
            return node.save_release(f"m{i % 150}", "alice", ["bob"], None, "dana", float(i))

        with ThreadPoolExecutor(16) as pool:
            saved = list(pool.map(release, range(300)))
        assert sum(saved) == 150, "each message is released once"
        assert [r.seq for r in nodes[1].releases(limit=1000)] == list(range(1, 151))
        assert sorted(e.seq for e in nodes[0].audit_log(limit=1000)) == list(range(1, 301))
    finally:
        for node in nodes:
            node.close()


def test_passwords_are_argon2id_and_bounded() -> None:
    operator = auth.new_operator("dana", "viewer", PASSWORD)
    assert operator.password_hash.startswith("$argon2id$")
    assert auth.verify(operator, PASSWORD) and not auth.verify(operator, PASSWORD + "!")
    assert not auth.verify(None, PASSWORD)
    assert not auth.verify(operator, "x" * 10_000)
    for bad in (("dana", "root", PASSWORD), ("dana", "viewer", "short"),
                ("<b>", "viewer", PASSWORD)):
        with pytest.raises(BadInput, match=r"role|password|name"):
            auth.new_operator(*bad)


def _attacked(keep_text: bool = True) -> Engine:
    judge = engine(api_token="tok", records={"keep_text": keep_text})
    cfg = judge.config
    for i in range(24):  # one text from many accounts: a cluster, held
        judge.process(message(cfg, f"m{i}", HOSTILE[i % 4] if i < 4 else f"u{i}",
                              [f"r{i}"], SPAM.format(HOSTILE[i % len(HOSTILE)]), T0 + i))
    return judge


def _client(judge: Engine, role: str = "admin") -> tuple[TestClient, MemoryConsole]:
    store = MemoryConsole()
    store.save_operator(auth.new_operator("dana", role, PASSWORD))
    client = TestClient(create_app(judge, store))
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    answer = client.post("/console/login", data={"name": "dana", "password": PASSWORD,
                                                 "csrf": csrf, "next": "/console/queue"})
    assert answer.status_code == 200 and answer.url.path == "/console/queue"
    return client, store


def _csrf(client: TestClient, path: str = "/console/queue") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)[1]  # type: ignore[index]


def test_every_page_renders_hostile_text_inert() -> None:
    client, _ = _client(_attacked())
    pages = ["/console/", "/console/queue", "/console/accounts?q=%3Cscript",
             "/console/campaigns", "/console/reports", "/console/lists", "/console/system",
             "/console/audit", "/console/account?id=" + "%3Cscript%3Ealert(%22x%22)%3C/script%3E"]
    campaign = re.search(r'campaign\?id=([^"&]+)"', client.get("/console/queue").text)
    assert campaign
    pages.append("/console/campaign?id=" + campaign[1])
    operation = re.search(r'campaign\?id=(op-[^"&]+)"', client.get("/console/campaigns").text)
    assert operation
    pages.append("/console/campaign?id=" + operation[1])
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        assert 'href="javascript:' not in page.text.lower(), path
        assert "script-src 'self'" in page.headers["content-security-policy"]
    queue = client.get("/console/queue").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in queue
    assert "\u202e" in queue and "y" * 65_000 in queue  # kept as text, isolated by CSS


def test_operations_have_a_page_evidence_a_status_and_cluster_decisions() -> None:
    """An operation (campaigns linked by infrastructure) is read, exported, given a status
    and decided on like a campaign, over all its campaigns' messages."""
    judge = _attacked()
    client, store = _client(judge)
    listing = client.get("/console/campaigns").text
    found = re.search(r'campaign\?id=(op-[^"&]+)"', listing)
    assert found and 'id="operations"' in listing
    op = found[1]
    page = client.get(f"/console/campaign?id={op}")
    assert page.status_code == 200 and "<h1>Operation" in page.text
    assert "Its campaigns:" in page.text
    zipped = client.get(f"/console/campaign/evidence?id={op}")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"
    client.post("/console/campaign/status", data={
        "campaign": op, "status": "reported to registrar", "csrf": _csrf(client)})
    assert store.campaign_statuses()[op].status == "reported to registrar"
    held = {m.id for c in operations.find(judge.records, op)["campaigns"]  # type: ignore[index]
            for m in judge.records.campaign_messages(c) if m.action in ("hold", "block")}
    client.post("/console/decide", data={"campaign": op, "label": "spam",
                                         "csrf": _csrf(client)})
    assert held and {d.message_id for d in store.decisions(0.0)} == held, "the operation's"
    assert [e.action for e in store.audit_log(3)] == [
        "decide.cluster.spam", "decide.spam", "decide.spam"]


def test_login_cookie_flags_limits_and_logout() -> None:
    judge = _attacked()
    client, store = _client(judge)
    cookie = next(c for c in client.cookies.jar if c.name == auth.COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure
    assert store.audit_log()[0].action == "login"
    client.post("/console/logout", data={"csrf": _csrf(client)})
    assert client.get("/console/queue").url.path == "/console/login"
    assert store.audit_log()[0].action == "logout"

    behind_tls = TestClient(create_app(judge, store), base_url="https://console.example")
    csrf = re.search(r'name="csrf" value="([^"]+)"',
                     behind_tls.get("/console/login").text)[1]  # type: ignore[index]
    answer = behind_tls.post("/console/login", data={"name": "dana", "password": PASSWORD,
                                                     "csrf": csrf}, follow_redirects=False)
    assert "secure" in answer.headers["set-cookie"].lower()
    assert "samesite=strict" in answer.headers["set-cookie"].lower()

    stranger = TestClient(create_app(judge, store))
    for _ in range(auth.LoginLimiter.attempts):
        csrf = re.search(r'name="csrf" value="([^"]+)"',
                         stranger.get("/console/login").text)[1]  # type: ignore[index]
        assert stranger.post("/console/login", data={"name": "dana", "password": "guess",
                                                     "csrf": csrf}).status_code == 401
    csrf = re.search(r'name="csrf" value="([^"]+)"',
                     stranger.get("/console/login").text)[1]  # type: ignore[index]
    refused = stranger.post("/console/login", data={"name": "dana", "password": PASSWORD,
                                                    "csrf": csrf})
    assert refused.status_code == 429  # even the right password, until the window passes
    other_node = TestClient(create_app(judge, store))  # another node on the same store
    csrf = re.search(r'name="csrf" value="([^"]+)"',
                     other_node.get("/console/login").text)[1]  # type: ignore[index]
    assert other_node.post("/console/login", data={"name": "dana", "password": PASSWORD,
                                                   "csrf": csrf}).status_code == 429


def test_actions_need_the_csrf_token_and_the_role() -> None:
    judge = _attacked()
    client, store = _client(judge)
    forged = client.post("/console/decide", data={"message_id": "m5", "label": "ham"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert store.decisions(0.0) == [] and store.releases() == []
    viewer, _ = _client(judge, role="viewer")
    refused = viewer.post("/console/decide", data={"message_id": "m5", "label": "ham",
                                                   "csrf": _csrf(viewer)})
    assert refused.status_code == 403 and "moderator" in refused.text
    moderator, _ = _client(judge, role="moderator")
    lists = moderator.post("/console/lists/block/add", data={
        "entries": "evil.example", "csrf": _csrf(moderator)})
    assert lists.status_code == 403 and "admin" in lists.text


def test_decisions_release_restore_and_are_audited() -> None:
    judge = _attacked()
    client, store = _client(judge)
    api = {"Authorization": "Bearer tok"}
    csrf = _csrf(client)
    answer = client.post("/console/decide", data={
        "message_id": "m7", "label": "ham", "why": "a friend", "csrf": csrf,
        "back": "//evil.example/phish"})  # not a console path: the queue instead
    assert answer.url.path == "/console/queue" and "done=decided" in str(answer.url)
    releases = client.get("/v1/releases", headers=api).json()
    assert [r["message_id"] for r in releases["releases"]] == ["m7"]
    assert releases["releases"][0]["released_at"].endswith("Z")
    assert client.get("/v1/releases?after=1", headers=api).json() == {"releases": [],
                                                                      "cursor": 1}
    assert client.get("/v1/releases?after=-1", headers=api).status_code == 422
    assert client.get("/v1/releases").status_code == 401
    # The learning path saw an operator's report on the message.
    assert [r.reporter for r in judge.records.reports("m7")] == ["operator:dana"]
    campaign = re.search(r'campaign\?id=([^"&]+)"', client.get("/console/queue").text)[1]  # type: ignore[index]
    client.post("/console/decide", data={"campaign": campaign, "label": "spam",
                                         "why": "one campaign", "csrf": csrf})
    actions = [e.action for e in store.audit_log()]
    assert actions[0] == "decide.cluster.spam" and "decide.ham" in actions
    spam = [d for d in store.decisions(0.0) if d.label == "spam"]
    assert len(spam) >= 2 and all(d.operator == "dana" for d in spam)
    overview = client.get("/console/").text
    assert "1 released as ham" in overview
    export = client.get("/console/audit/export?format=csv").text
    assert export.splitlines()[0] == "seq,time,operator,action,target,why,detail"
    assert "one campaign" in export


def test_audit_export_keeps_formulas_out_of_spreadsheets() -> None:
    client, _ = _client(_attacked())
    client.post("/console/account/note", data={"account": "=HYPERLINK(\"http://x\")",
                                               "text": "@SUM(1)", "csrf": _csrf(client)})
    client.post("/console/account/note", data={"account": "'=1+1", "text": "x",
                                               "csrf": _csrf(client)})
    export = client.get("/console/audit/export").text
    assert "'=HYPERLINK" in export and ",=HYPERLINK" not in export
    # As in evidence bundles (``evidence.inert``): a leading quote always means "one was
    # added", so a cell that began with one gets another (the console had its own copy).
    assert "''=1+1" in export


def test_appeals_are_kept_once_and_shown_with_the_message() -> None:
    judge = _attacked()
    client, store = _client(judge)
    appeal = {"type": "appeal", "id": "ap1", "ts": T0 + 100, "account": "u9",
              "message_id": "m9", "text": "<b>it was me</b>"}
    for _ in range(2):
        answer = client.post("/v1/events", json={"events": [appeal]},
                             headers={"Authorization": "Bearer tok"})
        assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "accepted"
    assert len(store.appeals()) == 1
    page = client.get("/console/reports").text
    assert "&lt;b&gt;it was me&lt;/b&gt;" in page and "CONTENT_SPAM" in page
    too_long = {**appeal, "id": "ap2", "text": "x" * (70 * 1024)}
    assert client.post("/v1/events", json={"events": [too_long]},
                       headers={"Authorization": "Bearer tok"}).status_code == 413


def test_reports_show_the_reporters_trust_from_the_trust_model() -> None:
    """A reporter's trust is the trust model's own figure: it rises once an operator
    agrees with its report."""
    judge = _attacked()
    client, _ = _client(judge)
    report = {"type": "report", "id": "rep1", "ts": T0 + 50, "reporter": "r9",
              "message_id": "m9", "label": "spam"}
    assert client.post("/v1/events", json={"events": [report]},
                       headers={"Authorization": "Bearer tok"}).status_code == 200
    page = client.get("/console/reports").text
    assert 'title="record 0 agreed, 0 overturned, a new account">0.30<' in page, page
    client.post("/console/decide", data={"message_id": "m9", "label": "spam",
                                         "csrf": _csrf(client)})
    assert 'title="record 1 agreed, 0 overturned, a new account">0.40<' in client.get(
        "/console/reports").text


def test_a_retried_event_counts_once_in_metrics() -> None:
    judge = engine(api_token="tok")
    client = TestClient(create_app(judge, MemoryConsole()))
    headers = {"Authorization": "Bearer tok"}
    event = {"type": "message", "id": "r1", "ts": T0, "sender": "a", "recipients": ["b"],
             "text": "hello"}
    for _ in range(3):
        client.post("/v1/check", json=event, headers=headers)
        client.post("/v1/events", json={"events": [event]}, headers=headers)
    metrics = client.get("/metrics").text
    assert 'spimguard_verdicts_total{action="deliver"} 1.0' in metrics
    assert 'spimguard_events_total{type="message"} 1.0' in metrics


def test_system_page_hides_secrets() -> None:
    judge = engine(api_token="secret-api-token", records={"evidence_key": "secret-key-1"},
                   storage={"backend": "memory", "redis_url": "redis://u:hunter2@db:6379/0"})
    client, _ = _client(judge)
    page = client.get("/console/system").text
    for secret in ("secret-api-token", "secret-key-1", "hunter2"):
        assert secret not in page
    assert "(hidden)" in page
    for backend in ("MemoryState", "MemoryRecords", "MemoryConsole"):  # every store answers
        assert re.search(backend + r": ok \(\d", page), (backend, page)


def test_docs_page_shows_fields_parameters_and_errors_not_refs() -> None:
    client = TestClient(create_app(engine(api_token="tok"), MemoryConsole()))
    page = client.get("/docs").text
    assert "$ref" not in page and "#/components" not in page
    for expected in ("recipients", "after (query)", "min_size (query)", "campaign (path)",
                     "account (path)", "/v1/releases", "422", "401", "404", "Example",
                     'id="schema-Verdict"', 'id="schema-Appeal"'):
        assert expected in page, expected


def test_campaign_listing_times_are_rfc3339() -> None:
    client = TestClient(create_app(_attacked(), MemoryConsole()))
    found = client.get("/v1/campaigns", headers={"Authorization": "Bearer tok"}).json()
    first = found["campaigns"][0]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", first["first_seen"])
    one = client.get(f"/v1/campaigns/{first['id']}",
                     headers={"Authorization": "Bearer tok"}).json()
    assert (one["last_seen"].endswith("Z") and one["domains"] == []) or (
        one["domains"][0]["first_seen"].endswith("Z"))


# -- the first hour of a new operator: the command line -------------------------------------

def test_help_screens_read_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    command = plain_help(typer.main.get_command(cli_app))
    for args in (["check"], ["evidence", "export"], ["simulate"], ["operators", "add"]):
        with pytest.raises(SystemExit):
            command.main([*args, "--help"], prog_name="spimguard")
        shown = capsys.readouterr().out
        assert "<bool>" not in shown and "<list[str]>" not in shown, args
        assert "{" not in shown.split("Usage:")[1].splitlines()[0], args
    with pytest.raises(SystemExit):
        command.main(["evidence", "export", "--help"], prog_name="spimguard")
    assert "Folder of the embedded database" in capsys.readouterr().out


def test_check_needs_a_recipient() -> None:
    result = CliRunner().invoke(cli_app, ["check", "hello"])
    assert result.exit_code == 2 and "--recipient" in result.output


def test_simulate_names_an_unknown_requirement_before_running() -> None:
    started = time.perf_counter()
    result = CliRunner().invoke(cli_app, ["simulate", "--users", "20", "--days", "1",
                                          "--require", "spim_stoped_share>=0.5"])
    assert result.exit_code == 2 and "spim_stoped_share" in result.output
    assert "spim_stopped_share" in result.output  # the known figures are listed
    assert "simulating" not in result.output and time.perf_counter() - started < 60


def test_simulate_keeps_its_data_and_confirms_requirements(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, [
        "simulate", "--scenario", "bots", "--users", "40", "--days", "1",
        "--data-dir", str(tmp_path / "sim"), "--require", "spim_stopped_share>=0.1"])
    assert result.exit_code == 0, result.output
    assert "requirements met: spim_stopped_share>=0.1" in result.output
    assert (tmp_path / "sim" / "spimguard.db").exists()


def test_operators_add_then_log_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(cli_app, ["operators", "add", "dana", "--role", "moderator",
                                          "--data-dir", str(data)],
                                input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and "added operator dana" in result.output, result.output
    listed = CliRunner().invoke(cli_app, ["operators", "list", "--data-dir", str(data)])
    assert re.search(r"dana\s+moderator", listed.output)
    store = SQLiteConsole.open(data)
    try:
        assert auth.verify(store.operator("dana"), PASSWORD)
        assert store.audit_log()[0].action == "operator.add"
    finally:
        store.close()



def test_lists_import_add_remove_with_who_changed_what() -> None:
    judge = engine(api_token="tok")
    client, store = _client(judge)
    csrf = _csrf(client, "/console/lists")
    hosts = b"0.0.0.0 evil.example\n0.0.0.0 b.example\n"
    answer = client.post("/console/lists/block/import", data={"kind": "hosts", "csrf": csrf,
                                                             "why": "feed"},
                         files={"file": ("hosts.txt", hosts)})
    assert answer.status_code == 200 and "done=listed" in str(answer.url)
    client.post("/console/lists/block/remove", data={"entries": "b.example", "csrf": csrf})
    page = client.get("/console/lists").text
    assert "evil.example" in page and "b.example" not in page.split("Who changed what")[0]
    assert [e.action for e in store.audit_log(action_prefix="lists.")] == [
        "lists.remove", "lists.import"]
    assert client.post("/console/lists/nope/add", data={
        "entries": "x.example", "csrf": csrf}).status_code == 404


def test_the_start_up_message_is_one_line_when_piped(tmp_path: Path) -> None:
    """Not a terminal: rich would wrap at 80 columns, cutting the data path in two."""
    from conftest import start_server

    folder = tmp_path / ("a-rather-long-folder-name-" * 3) / "data"
    folder.parent.mkdir()
    server = start_server(folder)
    try:
        lines = server.log.read_text().splitlines()
    finally:
        server.stop()
    assert any(line.startswith("spimguard serving on") and str(folder) in line
               for line in lines), lines
