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
--   chat message with a <body>        -> /v1/check, inline:
--        deliver: unchanged; warn: delivered with a notice for the recipient;
--        hold/block: refused with a policy-violation error carrying the sender's notice
--   XEP-0377 spam report (a <report/> inside a XEP-0191 <block/>)
--                                     -> report on the last message from that JID
-- Account actions in a verdict:
--   suspend_sending (of this session, or of the account): its messages are refused
--   here from then on (spimguard also holds them, should the module restart);
--   challenge: the session is closed with a policy-violation stream error saying why.
--
-- Configuration (global or per VirtualHost):
--   spimguard_url = "http://127.0.0.1:8080"
--   spimguard_token = "..."            -- the API token (SPIMGUARD_API_TOKEN)
--   spimguard_timeout = 2              -- seconds to wait for a verdict
--   spimguard_fail_mode = "open"       -- spimguard unreachable: "open" delivers, "closed" refuses
--   spimguard_warn_in_body = true      -- also prefix warned messages' body with the notice

local http = require "net.http";
local async = require "util.async";
local json = require "util.json";
local array = require "util.array";
local st = require "util.stanza";
local id = require "util.id";
local time = require "util.time";
local jid_bare = require "util.jid".bare;

local base_url = module:get_option_string("spimguard_url", "http://127.0.0.1:8080"):gsub("/+$", "");
local token = module:get_option_string("spimguard_token", "");
local timeout = module:get_option_number("spimguard_timeout", 2);
local fail_mode = module:get_option_string("spimguard_fail_mode", "open");
local warn_in_body = module:get_option_boolean("spimguard_warn_in_body", true);

local NOTICE_NS = "urn:spimguard:notice:0";
local MAX_TEXT = 64 * 1024;
local REMEMBERED = 10000;  -- (reporter, sender) pairs remembered for spam reports

local suspended_sessions, suspended_accounts = {}, {};
local last_message, remembered = {}, 0;  -- reporter -> sender -> spimguard message id

if token == "" then
	module:log("warn", "spimguard_token is not set: spimguard will refuse the requests");
end

local function account_of(session)
	return session.username .. "@" .. session.host;
end

local function client_of(resource)
	return (resource or ""):match("^[%a][%w_]*") or "";
end

-- At most MAX_TEXT bytes, never ending in a broken UTF-8 sequence (spimguard
-- refuses invalid UTF-8, which would fail the check).
local function bounded(text)
	if #text <= MAX_TEXT then return text; end
	return (text:sub(1, MAX_TEXT):gsub("[\192-\255][\128-\191]*$", ""));
end

local function text_of(value)
	return type(value) == "string" and value or nil;
end

-- POST a JSON payload; inside an async runner wait (bounded) for the answer.
local function post(path, payload)
	local body = json.encode(payload);
	local options = {
		method = "POST"; body = body;
		headers = { ["Content-Type"] = "application/json"; ["Authorization"] = "Bearer " .. token };
	};
	if not async.ready() then  -- not in a runner (e.g. a roster change from elsewhere): don't wait
		http.request(base_url .. path, options, function (_, code)
			if code ~= 200 then module:log("warn", "spimguard %s answered %s", path, tostring(code)); end
		end);
		return nil, "not waited";
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
	if status ~= 200 then
		module:log("warn", "spimguard %s failed: %s", path, tostring(status));
		return nil, status;
	end
	local decoded = json.decode(answer);
	if type(decoded) ~= "table" then return nil, "bad answer"; end
	return decoded;
end

local function event(kind, fields)
	fields.type, fields.id, fields.ts = kind, "xmpp-" .. id.medium(), time.now();
	return fields;
end

local function roster_contacts(session)
	local contacts = array();
	for contact in pairs(session.roster or {}) do
		if contact then contacts:push(contact); end
	end
	return contacts;
end

local function close_session(session, text)
	session:close({ condition = "policy-violation"; text = text });
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
		local target = scope ~= "" and prosody.full_sessions[account .. "/" .. scope] or session;
		if target then
			module:add_timer(0, function ()  -- after the current stanza is answered
				close_session(target, "spimguard: " .. (text_of(action.reason) or "unusual activity")
					.. ". Sign in again from an official app and change your password.");
			end);
		end
	end
end

-- Session start: a login.
module:hook("resource-bind", function (ev)
	local session = ev.session;
	local ip = session.ip or "";
	local answer = post("/v1/events", { events = array {
		event("login", { account = account_of(session); session = session.resource; ip = ip;
			client = { id = client_of(session.resource); ip = ip } }) } });
	if answer and type(answer.results) == "table" and answer.results[1] then
		apply_action(session, answer.results[1].account_action);
	end
end);

-- Roster fetch: the contact list as it is, and that this session read it.
module:hook("iq/self/jabber:iq:roster:query", function (ev)
	local session, stanza = ev.origin, ev.stanza;
	if stanza.attr.type ~= "get" or session.type ~= "c2s" then return; end
	local contacts = roster_contacts(session);
	local account = account_of(session);
	local answer = post("/v1/events", { events = array {
		event("contacts", { account = account; contacts = contacts });
		event("contacts_read", { account = account; session = session.resource; count = #contacts }) } });
	if answer and type(answer.results) == "table" and answer.results[2] then
		apply_action(session, answer.results[2].account_action);
	end
end, 10);  -- before mod_roster answers it

module:hook("roster-item-removed", function (ev)
	local username, roster = ev.username, ev.roster;
	if not (username and roster) then return; end
	local contacts = array();
	for contact in pairs(roster) do
		if contact and contact ~= ev.jid then contacts:push(contact); end
	end
	post("/v1/events", { events = array {
		event("contacts", { account = username .. "@" .. module.host; contacts = contacts }) } });
end);

local function refuse(origin, stanza, text)
	origin.send(st.error_reply(stanza, "cancel", "policy-violation", text));
	return true;
end

local function annotate(stanza, notice)
	stanza:tag("notice", { xmlns = NOTICE_NS; type = "warn" }):text(notice):up();
	if warn_in_body then
		local body = stanza:get_child("body");
		if body then
			local text = body:get_text();
			body[1] = "[" .. notice .. "]\n" .. text;
			for i = #body, 2, -1 do body[i] = nil; end
		end
	end
end

local function remember(reporter, sender, message_id)
	local seen = last_message[reporter];
	if not seen then
		if remembered >= REMEMBERED then last_message, remembered = {}, 0; end
		seen = {}; last_message[reporter] = seen; remembered = remembered + 1;
	end
	seen[sender] = message_id;
end

-- Every chat message from a local client, before it is routed anywhere.
local function check_message(ev)
	local origin, stanza = ev.origin, ev.stanza;
	if origin.type ~= "c2s" then return; end
	local kind = stanza.attr.type or "normal";
	if kind == "error" or kind == "groupchat" or kind == "headline" then return; end
	local body = stanza:get_child_text("body");
	if not body or body == "" then return; end
	local account = account_of(origin);
	if suspended_accounts[account] or suspended_sessions[origin.full_jid] then
		return refuse(origin, stanza, "Sending from this session is suspended: it was sending spam. "
			.. "If this wasn't you, change your password now.");
	end
	local recipient = jid_bare(stanza.attr.to) or origin.host;
	local message_id = "xmpp-" .. id.medium();
	local verdict = post("/v1/check", {
		type = "message"; id = message_id; ts = time.now(); sender = account;
		recipients = array { recipient }; text = bounded(body);
		session = origin.resource; client = { id = client_of(origin.resource); ip = origin.ip or "" };
	});
	if not verdict then
		if fail_mode == "closed" then
			return refuse(origin, stanza, "Spam checking is unavailable; try again later.");
		end
		return;  -- fail open
	end
	remember(recipient, account, message_id);
	apply_action(origin, verdict.account_action);
	local notice = type(verdict.notice) == "table" and verdict.notice or {};
	if verdict.action == "hold" or verdict.action == "block" then
		return refuse(origin, stanza, text_of(notice.sender) or "Not delivered: this looks like spam.");
	end
	if verdict.action == "warn" and text_of(notice.recipient) then
		annotate(stanza, notice.recipient);
	end
end

module:hook("pre-message/bare", check_message, 500);
module:hook("pre-message/full", check_message, 500);

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
			reports:push(event("report", { reporter = reporter; message_id = seen[reported];
				label = "spam"; text = report:get_child_text("text", "urn:xmpp:reporting:1") or "" }));
		end
	end
	if #reports > 0 then post("/v1/events", { events = reports }); end
end, 10);  -- before mod_blocklist handles the block itself

module:log("info", "reporting to spimguard at %s (timeout %gs, fail %s)", base_url, timeout, fail_mode);
