-- spimguard_releases: deliver the messages spimguard's operators released.
--
-- A message the module refused (hold or block) is kept in Prosody's storage under
-- its spimguard message id (store "spimguard_held"), for spimguard_release_days.
-- The module polls GET /v1/releases?after=CURSOR every spimguard_release_poll
-- seconds; a released message this host kept is delivered as it was sent, with a
-- XEP-0203 delay stamp (when it was sent) so clients place it in time, and its
-- sender, when a local user, is told. Releases of messages this host did not keep
-- (another VirtualHost's, another server's, or expired) are skipped.
--
-- Restarts neither lose nor repeat a delivery: the kept copy is deleted before its
-- delivery (a delivered message has no copy left to deliver again), and the cursor
-- (store "spimguard_release_cursor") moves past a page only once every release on it
-- was handled, so a page interrupted by a restart is read again and its undelivered
-- messages still have their copies.
--
-- Configuration:
--   spimguard_release_poll = 10   -- seconds between polls (0 turns delivery off)
--   spimguard_release_days = 7    -- how long a refused message is kept for a release

local http = require "net.http";
local json = require "util.json";
local st = require "util.stanza";
local datetime = require "util.datetime";
local time = require "util.time";
local jid_bare, jid_host = require "util.jid".bare, require "util.jid".host;

local NOTICE_NS = "urn:spimguard:notice:0";
local PAGE = 100;  -- releases asked for per poll (the API allows up to 1000)
local MAX_ID = 512;  -- the contract's bound on ids: a longer one was never ours
local SWEEP = 3600;  -- seconds between sweeps of expired copies

local held = module:open_store("spimguard_held");  -- message id -> { when, stanza }
local cursor_store = module:open_store("spimguard_release_cursor");

local poll_every = module:get_option_number("spimguard_release_poll", 10);
local keep_days = module:get_option_number("spimguard_release_days", 7);

local M = {};

-- Keep a refused message for a later release. Never raises: the sender controls the
-- stanza (one nested too deep for the storage must still be refused, just not kept).
function M.keep(message_id, stanza)
	if poll_every <= 0 then return; end
	local ran, ok, err = pcall(function ()
		return held:set(message_id, { when = time.now(); stanza = st.preserialize(stanza) });
	end);
	if not (ran and ok) then
		module:log("warn", "could not keep refused message %s for a release: %s", message_id,
			tostring(ran and err or ok):gsub("%c", " "):sub(1, 300));
	end
end

local function stamp(when)
	return datetime.datetime(math.floor(tonumber(when) or time.now()));
end

-- The note for the sender, when a local user, that its message was delivered after all.
local function note_for_sender(stanza, when)
	local sender = jid_bare(stanza.attr.from);
	if not sender or jid_host(sender) ~= module.host then return nil; end
	local notice = ("Your message to %s of %s, held as possible spam, was reviewed by a "
		.. "moderator and delivered."):format(jid_bare(stanza.attr.to) or "?", stamp(when));
	return st.message({ to = sender; from = module.host; type = "chat" })
		:text_tag("body", notice)
		:tag("notice", { xmlns = NOTICE_NS; type = "released" }):text(notice):up();
end

-- The stanzas to send for a kept message: itself, stamped with its time, and the note.
local function prepared(kept)
	local stanza = st.deserialize(kept.stanza);
	stanza:tag("delay", { xmlns = "urn:xmpp:delay"; from = module.host; stamp = stamp(kept.when) }):up();
	return stanza, note_for_sender(stanza, kept.when);
end

-- Deliver one release if this host kept its message.
local function deliver(release)
	local message_id = type(release) == "table" and release.message_id;
	if type(message_id) ~= "string" or message_id == "" or #message_id > MAX_ID then return; end
	local kept = held:get(message_id);
	if type(kept) ~= "table" or type(kept.stanza) ~= "table" then return; end
	local ok, stanza, note = pcall(prepared, kept);
	if not ok then
		module:log("error", "kept message %s cannot be delivered: %s", message_id, tostring(stanza));
		return;
	end
	held:set(message_id, nil);  -- before sending: from here on a restart cannot send it twice
	module:log("info", "delivering %s, released by spimguard operator %s", message_id,
		tostring(release.released_by));
	module:send(stanza);
	if note then module:send(note); end
end

local polling = nil;  -- when the poll in flight started

local function poll()
	if polling and time.now() - polling < 60 then return; end  -- one at a time
	polling = time.now();
	local after = (cursor_store:get("cursor") or {}).after or 0;
	local url = ("%s/v1/releases?after=%d&limit=%d"):format(M.base_url, math.floor(after), PAGE);
	http.request(url, { headers = { ["Authorization"] = "Bearer " .. M.token } },
		function (body, code)
			polling = nil;
			local page = code == 200 and json.decode(body) or nil;
			if type(page) ~= "table" or type(page.releases) ~= "table" then
				M.failed("/v1/releases", code, body, "released messages wait for the next poll");
				return;
			end
			for _, release in ipairs(page.releases) do
				-- A release lifted the sender's restrictions in spimguard: lift the module's
				-- own copy too (it refuses a suspended sender without asking spimguard).
				if type(release) == "table" and type(release.sender) == "string" then
					M.lifted(release.sender);
				end
				deliver(release);
			end
			local cursor = tonumber(page.cursor);
			if cursor and cursor > after and cursor == math.floor(cursor) then
				local ok, err = cursor_store:set("cursor", { after = cursor });
				if not ok then module:log("error", "could not store the release cursor: %s", tostring(err)); end
			end
			if #page.releases >= PAGE then module:add_timer(0, poll); end  -- more waiting
		end);
end

local function sweep()
	if not held.users then return; end  -- a storage driver that cannot list its keys
	local cut, dropped = time.now() - keep_days * 86400, 0;
	for message_id in held:users() do
		local kept = held:get(message_id);
		if type(kept) ~= "table" or (tonumber(kept.when) or 0) < cut then
			held:set(message_id, nil);
			dropped = dropped + 1;
		end
	end
	if dropped > 0 then module:log("info", "dropped %d refused messages older than %g days", dropped, keep_days); end
end

-- Start polling: `options` gives the API's URL and token, the module's `failed`
-- (which logs and counts a request that got no answer) and `lifted(account)` (which
-- forgets the module's suspensions of that account).
function M.start(options)
	M.base_url, M.token, M.failed, M.lifted = options.base_url, options.token, options.failed,
		options.lifted;
	if poll_every <= 0 then return; end
	-- A failing round is logged and the next one still comes (a timer that raises stops).
	local function every(seconds, name, round)
		module:add_timer(seconds, function ()
			local ok, err = pcall(round);
			if not ok then module:log("error", "spimguard release %s failed: %s", name, tostring(err)); end
			return seconds;
		end);
	end
	every(poll_every, "poll", poll);
	every(SWEEP, "sweep", sweep);
end

return M;
