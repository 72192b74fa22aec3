-- Runs spimguard_content.lib.lua outside Prosody for tests/test_prosody_content.py:
-- reads {"xml", "budget", "ids"} as JSON on stdin, writes {"parts", "text", "ids",
-- "sealed"} (what the module would send; sealed: the ciphertext's size of an end-to-end
-- encrypted message, absent otherwise) as JSON with Prosody's own util.json.
local modules, prosody = arg[1], arg[2];
package.path = prosody .. "/?.lua;" .. package.path;
package.cpath = prosody .. "/?.so;" .. package.cpath;
local json = require "util.json";
local xml = require "util.xml";
local content = dofile(modules .. "/spimguard_content.lib.lua");

local case = json.decode(io.read("a"));
local stanza = assert(xml.parse(case.xml));
local parts = content.rendered_parts(stanza);
local ids = {};
for i, value in ipairs(case.ids) do ids[i] = content.fit(value); end
io.write(json.encode({ parts = parts; text = content.joined(parts, case.budget); ids = ids;
	sealed = content.sealed_size(stanza) }));
