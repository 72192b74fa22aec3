-- spimguard_content: what a client renders of a message, and every value clipped to
-- spimguard's contract, so that nothing a sender controls can make a message unjudged.
--
-- Loaded by mod_spimguard (module:require "spimguard_content"); no Prosody state here.
--
-- Bounds (spimguard's src/spimguard/events.py): ids (accounts, recipients, message
-- ids) and short texts (session, client id, ip, conversation) are at most 512
-- characters; a message's text at most [limits] max_text_bytes (64 KiB by default).
-- spimguard answers 422 or 413 beyond them, which used to leave the message unjudged.
--
-- Why a hash suffix rather than a cut: two sessions whose 1,023-byte resources share
-- their first 512 bytes are different sessions; "prefix#sha256(value)" keeps them
-- apart and is the same every time for the same value.

local hashes = require "util.hashes";

local MAX_ID = 512;  -- events.py: Id and ShortText (msgspec max_length, in characters)

-- At most `limit` bytes of `s`, never ending inside a UTF-8 sequence (spimguard refuses
-- invalid UTF-8). A bound in bytes is a bound in characters too.
local function utf8_prefix(s, limit)
	if #s <= limit then return s; end
	local cut = math.max(limit, 0);
	-- While the next byte continues a character (10xxxxxx), that character is cut:
	-- end before its first byte instead (at most 3 steps back in UTF-8).
	while cut > 0 and s:byte(cut + 1) >= 128 and s:byte(cut + 1) < 192 do cut = cut - 1; end
	return s:sub(1, cut);
end

-- A contract id or short text: unchanged when it fits, else a prefix and the value's hash.
local function fit(value, limit)
	value = type(value) == "string" and value or "";
	limit = limit or MAX_ID;
	if #value <= limit then return value; end
	return utf8_prefix(value, limit - 65) .. "#" .. hashes.sha256(value, true);
end

-- Every text node under `tag`, in document order, and its link targets (href, src):
-- iterative, so a deeply nested XHTML body cannot exhaust the stack.
local function texts_under(tag, out)
	local stack = { { tag, 1 } };
	while #stack > 0 do
		local top = stack[#stack];
		local node, index = top[1], top[2];
		local child = node[index];
		if child == nil then
			stack[#stack] = nil;
		else
			top[2] = index + 1;
			if type(child) == "string" then
				out[#out + 1] = child;
			else
				local attr = child.attr or {};
				for _, name in ipairs({ "href", "src" }) do
					if type(attr[name]) == "string" then out[#out + 1] = attr[name]; end
				end
				stack[#stack + 1] = { child, 1 };
			end
		end
	end
	return out;
end

-- All the text in an element, however it is split among child elements.
local function text_in(tag)
	return table.concat(texts_under(tag, {}), "");
end

-- The parts of a message that some client renders, each a string:
--   every <subject> and <body> (any xml:lang: a client shows the one in its language),
--   XEP-0071 XHTML-IM bodies (their text and link targets),
--   XEP-0066 out-of-band data (<x xmlns="jabber:x:oob"> url and desc).
-- Identical parts count once (a client's XHTML usually repeats its body).
local function rendered_parts(stanza)
	local raw = {};
	for name in ("subject body"):gmatch("%S+") do
		for tag in stanza:childtags(name) do raw[#raw + 1] = text_in(tag); end
	end
	for html in stanza:childtags("html", "http://jabber.org/protocol/xhtml-im") do
		for body in html:childtags("body", "http://www.w3.org/1999/xhtml") do
			raw[#raw + 1] = table.concat(texts_under(body, {}), " ");
		end
	end
	for oob in stanza:childtags("x", "jabber:x:oob") do
		raw[#raw + 1] = oob:get_child_text("url") or "";
		raw[#raw + 1] = oob:get_child_text("desc") or "";
	end
	local parts, seen = {}, {};
	for _, part in ipairs(raw) do
		part = part:match("^%s*(.-)%s*$");
		if part ~= "" and not seen[part] then
			seen[part] = true;
			parts[#parts + 1] = part;
		end
	end
	return parts;
end

-- End-to-end encryption a message may carry, as (element, namespace, where its
-- ciphertext is): OMEMO (XEP-0384, the legacy namespace Conversations uses and
-- urn:xmpp:omemo:2), OpenPGP for XMPP (XEP-0373) and the legacy XEP-0027.
local SEALED = {
	{ "encrypted", "eu.siacs.conversations.axolotl", "payload" };
	{ "encrypted", "urn:xmpp:omemo:2", "payload" };
	{ "openpgp", "urn:xmpp:openpgp:0" };
	{ "x", "jabber:x:encrypted" };
};
local MAX_SIZE = 1 << 30;  -- events.py MAX_SIZE

-- The ciphertext's size in bytes when the message is end-to-end encrypted, else nil.
-- Such a message's <body> is a fallback ("I sent you an OMEMO encrypted message"), the
-- same for everyone: spimguard judges it on metadata alone, without that text. An
-- OMEMO element without a payload only moves keys (nothing is shown): also nil.
local function sealed_size(stanza)
	for _, kind in ipairs(SEALED) do
		local tag = stanza:get_child(kind[1], kind[2]);
		if tag then
			local ciphertext = kind[3] and tag:get_child_text(kind[3]) or tag:get_text();
			if ciphertext then return math.min(#ciphertext, MAX_SIZE); end
		end
	end
	return nil;
end

-- The parts joined into at most `budget` bytes of text. When they do not fit, every
-- part gets an equal share and a part shorter than its share leaves the rest to the
-- others (water-filling): padding a message with other bodies can shrink what is
-- judged of the spam part to budget / parts, never to nothing. Parts beyond
-- budget / 2 (a byte and a newline each) are left out: 64 KiB allows 32,768, more
-- than a 256 KiB stanza can carry.
local function joined(parts, budget)
	local n = math.min(#parts, (budget + 1) // 2);
	if n <= 0 then return ""; end
	if n < #parts then parts = table.move(parts, 1, n, 1, {}); end
	budget = budget - (n - 1);  -- the newlines between parts
	local total = 0;
	for _, part in ipairs(parts) do total = total + #part; end
	if total <= budget then return table.concat(parts, "\n"); end
	local order = {};
	for i = 1, n do order[i] = i; end
	table.sort(order, function (a, b)
		if #parts[a] ~= #parts[b] then return #parts[a] < #parts[b]; end
		return a < b;
	end);
	local shares, left = {}, budget;
	for rank, i in ipairs(order) do
		local share = math.min(#parts[i], left // (n - rank + 1));
		shares[i], left = share, left - share;
	end
	local out = {};
	for i, part in ipairs(parts) do out[i] = utf8_prefix(part, shares[i]); end
	return table.concat(out, "\n");
end

return {
	MAX_ID = MAX_ID;
	fit = fit;
	utf8_prefix = utf8_prefix;
	text_in = text_in;
	rendered_parts = rendered_parts;
	sealed_size = sealed_size;
	joined = joined;
};
