-- mod_spimguard: Prosody reports to spimguard and applies its verdicts.
--
-- Written for Prosody 0.12 (Debian's 0.12.3). Prosody runs each connection's
-- stanzas in an async runner, so the hooks below wait on spimguard's HTTP API
-- without blocking other connections; a timeout bounds each wait.
--
-- What the module reports (spimguard's HTTP contract, /v1/events and /v1/check):
--   session start (resource-bind)     -> login {account, session = resource,
--                                         client = the resource's leading word
--                                         ("Conversations.x1y2" -> "Conversations"), ip}
--   roster fetch (iq get jabber:iq:roster) -> contacts (the roster) + contacts_read
--   roster item removed               -> contacts (the roster now)
--   a message with anything a client renders (every <body> and <subject> in any
--   xml:lang, XHTML-IM, XEP-0066 OOB url/desc; see spimguard_content.lib.lua)
--                                     -> /v1/check, inline, for
--        chat, normal, headline and groupchat messages from local clients (pre-message/*),
--        and messages from other servers (s2s) to local users (message/bare, message/full):
--        deliver: unchanged; warn: delivered with a notice for the recipient;
--        hold/block: refused with a policy-violation error carrying the sender's notice
--   an end-to-end encrypted message (OMEMO, OpenPGP: XEP-0384, XEP-0373, XEP-0027)
--                                     -> /v1/check as above, with encrypted = true and the
--        ciphertext's size instead of a text (its <body> is only the fallback line)
--   XEP-0377 spam report (a <report/> inside a XEP-0191 <block/>)
--                                     -> report on the last message from that JID
-- Every value is clipped to the contract's bounds first (spimguard_content.lib.lua),
-- so no sender-controlled size can turn a check into a 4xx.
-- Account actions in a verdict:
--   suspend_sending (of this session, or of the account): its messages are refused
--   here from then on (spimguard also holds them, should the module restart);
--   challenge: the session is closed with a policy-violation stream error saying why.
--
-- No verdict (spimguard_fail_mode decides, and the log says why, with a running count):
--   4xx (but 408/429): a configuration or contract error (wrong token, a bound the
--     module does not know): logged at error level with the status, code and field;
--   5xx, 408, 429, timeout, connection failure: spimguard unavailable, logged as a warning.
--   "open" delivers the message unjudged, "closed" refuses it; any other value is an
--   error in the configuration and counts as "closed".
--
-- Configuration (global or per VirtualHost):
--   spimguard_url = "http://127.0.0.1:8080"
--   spimguard_token = "..."            -- the API token (SPIMGUARD_API_TOKEN)
--   spimguard_timeout = 2              -- seconds to wait for a verdict
--   spimguard_fail_mode = "open"       -- no verdict: "open" delivers, "closed" refuses
--   spimguard_warn_in_body = true      -- also prefix warned messages' bodies with the notice
--   spimguard_max_text_bytes = 65536   -- spimguard's [limits] max_text_bytes
--   spimguard_release_poll = 10        -- seconds between polls of GET /v1/releases
--   spimguard_release_days = 7         -- how long a refused message waits for a release
-- Messages an operator releases are delivered: see spimguard_releases.lib.lua.

local http = require "net.http";
local async = require "util.async";
local json = require "util.json";
local array = require "util.array";
local st = require "util.stanza";
local id = require "util.id";
local time = require "util.time";
local jid_bare, jid_resource = require "util.jid".bare, require "util.jid".resource;
local content = module:require "spimguard_content";
local fit, rendered_parts, joined = content.fit, content.rendered_parts, content.joined;
local text_in, sealed_size = content.text_in, content.sealed_size;
local releases = module:require "spimguard_releases";

local base_url = module:get_option_string("spimguard_url", "http://127.0.0.1:8080"):gsub("/+$", "");
local token = module:get_option_string("spimguard_token", "");
local timeout = module:get_option_number("spimguard_timeout", 2);
local fail_mode = module:get_option_string("spimguard_fail_mode", "open");
local warn_in_body = module:get_option_boolean("spimguard_warn_in_body", true);
local max_text = module:get_option_number("spimguard_max_text_bytes", 64 * 1024);

local NOTICE_NS = "urn:spimguard:notice:0";
local XHTML_IM = "http://jabber.org/protocol/xhtml-im";
local MAX_CONTACTS = 10000;  -- events.py Limits.max_contacts
local REMEMBERED = 10000;  -- (reporter, sender) pairs remembered for spam reports

local suspended_sessions, suspended_accounts = {}, {};
local last_message, remembered = {}, 0;  -- reporter -> sender -> spimguard message id
local failures = { contract = 0; unavailable = 0 };
local failure_metric = module:metric("counter", "failures", "",
	"spimguard requests that got no verdict: contract (4xx) or unavailable", { "kind" });

if token == "" then
	module:log("error", "spimguard_token is not set: spimguard will refuse the requests");
end
if fail_mode ~= "open" and fail_mode ~= "closed" then
	module:log("error", "spimguard_fail_mode = %q is neither \"open\" nor \"closed\": "
		.. "messages without a verdict are refused", fail_mode);
	fail_mode = "closed";
end

local function account_of(session)
	return session.username .. "@" .. session.host;
end

local function client_of(resource)
	return (resource or ""):match("^[%a][%w_]*") or "";
end

local function text_of(value)
	return type(value) == "string" and value or nil;
end

-- Why a request got no verdict, and whether the module or its configuration is at
-- fault ("contract": a 4xx other than 408/429) or spimguard is ("unavailable").
local function classify(status, body)
	if status == "timeout" then return "unavailable", ("no answer within %gs"):format(timeout); end
	if status == 0 then return "unavailable", "cannot connect: " .. tostring(body); end
	if status == 200 then return "contract", "an answer that is not a JSON object"; end
	local decoded = type(body) == "string" and json.decode(body) or nil;
	local err = type(decoded) == "table" and type(decoded.error) == "table" and decoded.error or {};
	local detail = ("HTTP %s, code %s, field %s: %s"):format(tostring(status),
		text_of(err.code) or "-", text_of(err.field) or "-", text_of(err.message) or "")
		:gsub("%c", " ");  -- whatever answers at that URL writes one log line, no more
	detail = content.utf8_prefix(detail, 400);
	if type(status) == "number" and status >= 400 and status < 500 and status ~= 408 and status ~= 429 then
		return "contract", detail;
	end
	return "unavailable", detail;
end

-- Log and count a request that got no verdict; `consequence` says what happens now.
local function failed(path, status, body, consequence)
	local kind, detail = classify(status, body);
	failures[kind] = failures[kind] + 1;
	failure_metric:with_labels(kind):add(1);
	if kind == "contract" then
		module:log("error", "spimguard %s failed: %s; a configuration or contract error "
			.. "(check spimguard_url, spimguard_token and the module's version; %d so far); %s",
			path, detail, failures.contract, consequence);
	else
		module:log("warn", "spimguard %s failed: %s (%d so far); %s",
			path, detail, failures.unavailable, consequence);
	end
end

-- POST a JSON payload; inside an async runner wait (bounded) for the answer.
-- Returns the decoded answer, or nil after logging why there is none.
local function post(path, payload, consequence)
	consequence = consequence or "the events are lost";
	local options = {
		method = "POST"; body = json.encode(payload);
		headers = { ["Content-Type"] = "application/json"; ["Authorization"] = "Bearer " .. token };
	};
	if not async.ready() then  -- not in a runner (e.g. a roster change from elsewhere): don't wait
		http.request(base_url .. path, options, function (answer, status)
			if status ~= 200 then failed(path, status, answer, consequence); end
		end);
		return nil;
	end
	local wait, done = async.waiter();
	local finished, answer, status = false, nil, nil;
	http.request(base_url .. path, options, function (response, code)
		if finished then return; end
		finished, answer, status = true, response, code;
		done();
	end);
	module:add_timer(timeout, function ()
		if finished then return; end
		finished, status = true, "timeout";
		done();
	end);
	wait();
	local decoded = status == 200 and json.decode(answer) or nil;
	if type(decoded) ~= "table" then
		failed(path, status, answer, consequence);
		return nil;
	end
	return decoded;
end

local function event(kind, fields)
	fields.type, fields.id, fields.ts = kind, "xmpp-" .. id.medium(), time.now();
	return fields;
end

-- The roster's contacts (but `except`), each fitted, at most MAX_CONTACTS in JID order.
local function contacts_of(roster, except)
	local contacts = array();
	for contact in pairs(roster or {}) do
		if contact and contact ~= except then contacts:push(contact); end
	end
	contacts:sort();
	local fitted = array();
	for i = 1, math.min(#contacts, MAX_CONTACTS) do fitted:push(fit(contacts[i])); end
	return fitted;
end

local function close_session(session, text)
	session:close({ condition = "policy-violation"; text = text });
end

-- The session of `session`'s account that spimguard calls `scope` (a fitted resource).
local function session_named(session, scope)
	local user = prosody.hosts[session.host].sessions[session.username];
	for resource, candidate in pairs(user and user.sessions or {}) do
		if fit(resource) == scope then return candidate; end
	end
end

-- Apply an account action to the sessions it names.
local function apply_action(session, action)
	if type(action) ~= "table" or action.action == nil or action.action == "none" then return; end
	local account = account_of(session);
	local scope = text_of(action.session) or "";
	if action.action == "suspend_sending" then
		if scope == "" then suspended_accounts[account] = true;
		else suspended_sessions[account .. "/" .. scope] = true; end
	elseif action.action == "challenge" then
		local target = scope == "" and session or session_named(session, scope);
		if target then
			module:add_timer(0, function ()  -- after the current stanza is answered
				close_session(target, "spimguard: " .. (text_of(action.reason) or "unusual activity")
					.. ". Sign in again from an official app and change your password.");
			end);
		end
	end
end

-- The fitted session id of a local session (the contract's session is its resource).
local function session_id_of(session)
	return fit(session.resource);
end

-- Session start: a login.
module:hook("resource-bind", function (ev)
	local session = ev.session;
	local ip = fit(session.ip);
	local answer = post("/v1/events", { events = array {
		event("login", { account = fit(account_of(session)); session = session_id_of(session); ip = ip;
			client = { id = fit(client_of(session.resource)); ip = ip } }) } });
	if answer and type(answer.results) == "table" and answer.results[1] then
		apply_action(session, answer.results[1].account_action);
	end
end);

-- Roster fetch: the contact list as it is, and that this session read it.
module:hook("iq/self/jabber:iq:roster:query", function (ev)
	local session, stanza = ev.origin, ev.stanza;
	if stanza.attr.type ~= "get" or session.type ~= "c2s" then return; end
	local contacts = contacts_of(session.roster);
	local account = fit(account_of(session));
	local answer = post("/v1/events", { events = array {
		event("contacts", { account = account; contacts = contacts });
		event("contacts_read", { account = account; session = session_id_of(session);
			count = #contacts }) } });
	if answer and type(answer.results) == "table" and answer.results[2] then
		apply_action(session, answer.results[2].account_action);
	end
end, 10);  -- before mod_roster answers it

module:hook("roster-item-removed", function (ev)
	local username, roster = ev.username, ev.roster;
	if not (username and roster) then return; end
	post("/v1/events", { events = array {
		event("contacts", { account = fit(username .. "@" .. module.host);
			contacts = contacts_of(roster, ev.jid) }) } });
end);

-- Refuse a message: an error to a local sender or to the remote server's sender; a
-- group chat broadcast from another server is dropped silently instead (an error
-- back to a room can make it remove the local occupant).
local function refuse(origin, stanza, text)
	local reply = st.error_reply(stanza, "cancel", "policy-violation", text);
	if origin.type == "c2s" then origin.send(reply);
	elseif stanza.attr.type ~= "groupchat" then module:send(reply); end
	return true;
end

-- A warned message shows the notice wherever a client may look: a <notice/> element,
-- and (warn_in_body) every body prefixed, XHTML-IM removed so no client shows an
-- unwarned rich version instead.
local function annotate(stanza, notice)
	stanza:tag("notice", { xmlns = NOTICE_NS; type = "warn" }):text(notice):up();
	if not warn_in_body then return; end
	stanza:maptags(function (tag)
		if tag.name == "html" and tag.attr.xmlns == XHTML_IM then return nil; end
		if tag.name == "body" and tag.attr.xmlns == nil then
			return st.stanza("body", tag.attr):text("[" .. notice .. "]\n" .. text_in(tag));
		end
		return tag;
	end);
end

local function remember(reporter, sender, message_id)
	local seen = last_message[reporter];
	if not seen then
		if remembered >= REMEMBERED then last_message, remembered = {}, 0; end
		seen = {}; last_message[reporter] = seen; remembered = remembered + 1;
	end
	seen[sender] = message_id;
end

local UNJUDGED = {
	open = "the message is delivered unjudged (spimguard_fail_mode = \"open\")";
	closed = "the message is refused (spimguard_fail_mode = \"closed\")";
};

-- Judge one message. `who` names its sender: {sender, session, ip, origin_session};
-- the recipient and conversation come from the stanza.
local function judge(ev, who)
	local origin, stanza = ev.origin, ev.stanza;
	local kind = stanza.attr.type or "normal";
	if kind == "error" then return; end  -- bounces carry back the sender's own text; never answered
	local size = sealed_size(stanza);  -- OMEMO or OpenPGP: judged on metadata alone
	local parts = size and {} or rendered_parts(stanza);
	if not size and #parts == 0 then return; end
	local session = who.local_session;
	if session and (suspended_accounts[who.sender]
			or suspended_sessions[who.sender .. "/" .. fit(session.resource)]) then
		return refuse(origin, stanza, "Sending from this session is suspended: it was "
			.. "sending spam. If this wasn't you, change your password now.");
	end
	local recipient = jid_bare(stanza.attr.to) or who.sender;
	local conversation = "";
	if kind == "groupchat" then  -- a room: its bare JID on either side of the room
		conversation = session and recipient or jid_bare(stanza.attr.from) or "";
	end
	local message_id = "xmpp-" .. id.medium();
	local verdict = post("/v1/check", {
		type = "message"; id = message_id; ts = time.now(); sender = fit(who.sender);
		recipients = array { fit(recipient) }; text = not size and joined(parts, max_text) or nil;
		encrypted = size and true or nil; size = size;
		session = fit(who.session); conversation = fit(conversation);
		client = { id = fit(client_of(who.session)); ip = fit(who.ip) };
	}, UNJUDGED[fail_mode]);
	if not verdict then
		if fail_mode == "closed" then
			return refuse(origin, stanza, "Spam checking is unavailable; try again later.");
		end
		return;  -- "open": delivered unjudged, and the log says so
	end
	if kind ~= "groupchat" then remember(recipient, who.sender, message_id); end
	if session then apply_action(session, verdict.account_action); end
	local notice = type(verdict.notice) == "table" and verdict.notice or {};
	if verdict.action == "hold" or verdict.action == "block" then
		releases.keep(message_id, stanza);  -- for an operator's release (spimguard_releases)
		return refuse(origin, stanza, text_of(notice.sender) or "Not delivered: this looks like spam.");
	end
	if verdict.action == "warn" and text_of(notice.recipient) then
		annotate(stanza, notice.recipient);
	end
end

-- Every message from a local client, before it is routed anywhere (to a local user,
-- a room, or another server).
local function from_client(ev)
	local origin = ev.origin;
	if origin.type ~= "c2s" then return; end
	return judge(ev, { sender = account_of(origin); session = origin.resource; ip = origin.ip or "";
		local_session = origin });
end

-- Every message another server delivers to a local user (local clients' messages
-- were judged in from_client). In a room's broadcast the sender is the occupant.
local function from_server(ev)
	local origin, stanza = ev.origin, ev.stanza;
	if not (origin.type or ""):match("^s2s") then return; end
	local from = stanza.attr.from or "";
	local sender = stanza.attr.type == "groupchat" and from or jid_bare(from) or from;
	return judge(ev, { sender = sender; session = jid_resource(from) or ""; ip = "" });
end

module:hook("pre-message/bare", from_client, 500);
module:hook("pre-message/full", from_client, 500);
module:hook("message/bare", from_server, 500);
module:hook("message/full", from_server, 500);

-- XEP-0377: a spam report rides on a XEP-0191 block request.
module:hook("iq-set/self/urn:xmpp:blocking:block", function (ev)
	local origin, stanza = ev.origin, ev.stanza;
	local reporter = account_of(origin);
	local reports = array();
	for item in stanza.tags[1]:childtags("item") do
		local reported = jid_bare(item.attr.jid or "");
		local report = item:get_child("report", "urn:xmpp:reporting:1")
			or item:get_child("report", "urn:xmpp:reporting:0");
		local seen = last_message[reporter];
		if reported and report and seen and seen[reported] then
			reports:push(event("report", { reporter = fit(reporter); message_id = seen[reported];
				label = "spam"; text = joined({ report:get_child_text("text", "urn:xmpp:reporting:1")
					or "" }, max_text) }));
		end
	end
	if #reports > 0 then post("/v1/events", { events = reports }); end
end, 10);  -- before mod_blocklist handles the block itself

-- An operator's release lifts the sender's restrictions: forget the module's suspensions.
local function lifted(account)
	suspended_accounts[account] = nil;
	for key in pairs(suspended_sessions) do
		if key:sub(1, #account + 1) == account .. "/" then suspended_sessions[key] = nil; end
	end
end

releases.start({ base_url = base_url; token = token; failed = failed; lifted = lifted });

module:log("info", "reporting to spimguard at %s (timeout %gs, fail %s)", base_url, timeout, fail_mode);
