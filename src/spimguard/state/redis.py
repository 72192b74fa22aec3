"""Shared hot state in Redis, for many spimguard processes on many machines.

Every primitive is a Redis command, and one call of ``read`` or ``write`` is one
pipelined round trip, whatever the number of queries or writes.

==========  =========================================================================
primitive   layout
==========  =========================================================================
counter     a hash, one field per bucket (HINCRBYFLOAT); read with HMGET of the window
member set  a sorted set, member -> last event time (ZADD GT), with two marker members
            of its own: ``\\xff`` scored with its event-time expiry (always the highest
            score) and ``\\xfe`` with minus its TTL (the lowest: event times are never
            negative, ``events.parse_ts``), so a set past its TTL reads as empty in event
            time and a member past the TTL reads as gone before the next touch removes
            it, as in the other backends. Markers are not UTF-8, so no member (a ``str``)
            can be one; one ZMSCORE answers a Contains (or a LastTouch) with its expiry and TTL
value       a string holding {"v": value, "e": event-time expiry}; a bytes value: ``\\xff``
            (never JSON's first byte), the expiry as a little-endian double, the bytes
hashed set  a string holding the set's packed value (``hashed.py``), asked in a Lua
            script that decodes it and replies only the answers (``_HASHED_READ``);
            a touch or removal merges into it in a Lua script (``_HASHED``), atomic
            beside other nodes' touches of the same set
sided       a hash (``sided.py``): each member -> its time on each side (``_time``: a
record      code a side, then each distinct time once, a double, or its low six bytes
            where its top two are the time before's, or for the first its record's
            base's: ~20 and ~25 bytes an account), and its heads (``\\xff`` -> the base, where
            it has one: 2 and two bytes, ``hsplit``; each side's length, a byte, and
            head: its expiry, TTL,
            count of members and a time no later than its oldest member's, 20 bytes:
            ``_head``, ``_side_head``; a field a side before, ~16 bytes an account
            more, converted when a node opens the store: ``_convert_heads``), only the
            count and that time (5 bytes; 8 before session 37) where the side's TTL is
            its keyspace's declared one and its expiry its newest member's time plus it
            (``stouched``, as ``sided._derived``; the declared TTLs recorded:
            ``_check_ttls``). A guest keyspace's record (``ops.guest_keyspace``: a
            session's) is one field of its host's hash (the account's ties),
            ``\xfe<guest>`` (``\xff\xfe<guest>`` before session 37) -> its heads field
            and each member's name and times, each after its length (``ppack``,
            ``_unpacked``), where a key of its own cost ~250 bytes beside its data, and
            a field a member (the earlier release's layout, behind
            ``\xff\xfe<guest>:``) ~7-17 a member more: its prefix again and a
            field's framing. That layout is kept where the server keeps fewer bytes
            compact than ``RECOMMENDED_LISTPACK_VALUE`` (a packed field would seldom
            fit, each of these does: ``gfields``), and where found elsewhere is read as
            it is and packed at the guest's next touch (``gearlier``). Moved there when
            a node opens the store (``_convert_guests``; a dead one is deleted by the
            next touch rewriting a record of the hash whole: ``spurge``), while it is
            small: a whole rewrite of the host reads every field of the hash, so a
            guest lodges only while it holds at most ``ops.LODGED_NAMES`` members (its
            sides' counts summed), its field(s) at most hash-max-listpack-value bytes
            and the hash at most ``_LODGED_FIELDS`` fields (128, fewer if the server's
            hash-max-listpack-entries is: it stays compact), judged before each write;
            past either it moves to its own key (no prefix) until that expires
            (``gtouch``). So neither what an attacker holding an account sends from a
            session nor how many sessions grows what the account's rewrites cost
            (``benchmarks/lodged.py``: 20 rewrites with eight sessions of 1,000 names a
            side lodged, 130-690 ms of Redis's time; now a few, as with none). A read
            asks both places in its trip, its own key first. A Contains (or a LastTouch,
            its one member's time) is one HMGET,
            a Distinct one HMGET while no member is past the window (else a trip of its
            own; a packed guest's field answers it whole), a Members one HGETALL (a
            guest's: one of each place); a touch is a Lua function (``stouch``; a
            packed guest's, ``gpacked``: its field read and written whole) that
            rewrites the touched members alone while nobody leaves the side, the
            whole record when some do (past the side's TTL or cap)
lodged      a value or hashed set of a lodged keyspace (``ops.lodged_keyspace``: an
value       account's record, its takeover record, its contact list), as its own key's
            string would be, in a field of its host record's hash (a byte a keyspace,
            ``lodged_field``: from 0xF5 up, where no member's UTF-8 name starts, as the
            heads' and guests' fields; ``\\xff\\xff`` and the keyspace's field name
            before session 37, renamed at open: ``_convert_names``) while
            no longer than the server's hash-max-listpack-value (the hash stays compact:
            ``RedisState._compact_limit``), else under its own key: a key costs ~250
            bytes beside its value (the keyspace's and expiries' entries, the name, the
            object), a field ~5. A write fills one place and clears the other; a read
            asks both (a value: GET and HGET, one trip; a hashed set: in its script),
            its own key first (both are there only if a node of the earlier release
            wrote the key after the field), so what was written before the layout
            stays readable and moves at its next write. The host's EXPIRE only grows,
            for the longest of its parts
==========  =========================================================================

The key hashed sets are hashed with is made by the first node that opens the store
(SET NX of ``<ns>state-key:member-hash``, no TTL) and read by every node that opens it
after; sets of a hashed keyspace still held as sorted sets (by nodes of an earlier
release) are converted by the first node that opens the store (``_convert_hashed``);
hashed sets of the 8-, 4- and 3-byte layouts, by the first script that reads or writes each
(``_LAYOUT``), so no open scans the store and no call blocks Redis for long.
The key has no EXPIRE: a Redis that evicts keys without one (``allkeys-*`` policies)
could lose it and split the nodes' hashes, so hot state wants ``noeviction`` or a
``volatile-*`` policy.

Time is event time, as everywhere; Redis's own EXPIRE is set too, in wall-clock
seconds from now (the TTL plus an hour's slack, so a node running behind event time
never loses a key early), only as a safety net that frees memory. Redis keeps hot state:
what must never be lost (the verdict log, reports, campaigns) is in the record
store, so a Redis restart costs recent counters, not data.

A sided record's heads in one field and a session's record in its account's ties hash
(``_convert_heads``, ``_convert_guests``) are a one-way upgrade: a node of an earlier
release would read every side as never touched and every session as new. Stop every such
node before the first node of this release opens the store (it converts it, once, a SCAN
of the ties and sessions' records); a node of the earlier release started after would
read the converted store as empty for those. A session's record of the earlier release
lodged in the ties hash however large stays there, read as before, until its next touch
moves it out (``gtouch``); one of a release before that, a key of its own too large to
lodge, stays one (``_convert_guests``). A session moved to its own key is read by this
release alone (a node of session 20's would take it as new): the same one-way upgrade.
So is a member's value holding a time in six bytes (``_time``'s code 3, session 35's):
a node of an earlier release takes its length mod 8 for its codes and misreads it; and a
record's base (session 36's, ``hsplit``), which a node of session 35's would read as a
side's head: it refuses the store at open instead (``RedisState._check_ttls``); and the
hosts' fields of one byte and a derived head's count in one byte (session 37's,
``_convert_names``, ``_head``), which a node of session 36's would miss or misread: it
refuses the store at open as session 35's does (the mark's second byte, ``_NAMES``); and
the hashed sets' Elias-Fano layout (session 38's, ``hashed.py``), which a node of session
37's would convert into other sets: it refuses the store at open too (the third byte,
``_ELIAS``). A
derived head (8 bytes, session 35's ``redisheads35``) fails loudly there instead: its
reader unpacks 20 bytes from it (a Lua or ``struct`` error, the write or read refused).

A set's expiry and TTL were once a field each of two shared structures (an expiry
index sorted set and a TTL hash): ~245 bytes a set, more than its markers' ~45, and
two more commands a query. A set past its event-time expiry now waits for Redis's own
EXPIRE (an hour past it) instead of the index's sweep, reading as empty meanwhile.
Stores in that layout are converted when opened (``_convert_indexed``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import struct
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, NamedTuple

import msgspec
import redis

from ..errors import Contention, StateUnavailable
from . import hashed, sided
from .ops import (
    LODGED_NAMES,
    MAX_LATENESS,
    RAW,
    Append,
    Contains,
    Count,
    Delete,
    Distinct,
    Incr,
    LastTouch,
    Members,
    Put,
    Query,
    Remove,
    Replace,
    Sided,
    Since,
    Touch,
    Write,
    bucket_range,
    each,
    encode_value,
    guest_of,
    guest_prefixes,
    hashed_prefixes,
    is_hashed,
    is_sided,
    joined,
    lodged_keyspaces,
    lodging,
    renamed_keyspaces,
    side_space,
    sided_keyspaces,
    sided_space,
    since,
    slot_of,
    split,
    within,
)
from .shared import LEASE_MS, Claim

log = logging.getLogger("spimguard.state")

_MAX_BUCKETS = 256  # a Count over more buckets than this reads the whole hash
_CHUNK = 2_000  # members per ZADD/ZREM (Lua's unpack takes under 8,000 values)
# A member set's own markers (never UTF-8, so never a member's name): its expiry and TTL.
_EXPIRES, _TTL = b"\xff", b"\xfe"
# A sided record of at most this many places (``ops.slot_of``: every keyspace's today) has
# its members' codes in one byte, whatever their times' widths (``_time``): so a time may
# take six bytes there, and a value's length still tells the earlier layout's apart.
_CODED = 4


_IN_FLIGHT_MS = 3_600_000  # an unfinished claim outlives its lease, for the digest check
_FINISHED_MS = 3_600_000  # a finished claim keeps its answer until its records are committed
_SETTLED_MS = 60_000  # ... and this long after: waiting duplicates read it from the claim
_MAX_UNSETTLED = 10_000  # settled claims kept for the next read before a trip of their own

# Claim an event id: free, ours, or a lease run out with the same body -> ours now.
# A finished claim answers with its outbox. Time is Redis's own, the same for every node.
_CLAIM = """
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local c = redis.call('HMGET', KEYS[1], 'o', 'd', 'at', 'r')
if c[1] and c[4] then return {0, c[2], c[4]} end
if (not c[1]) or c[1] == ARGV[1]
    or (c[2] == ARGV[2] and ms - tonumber(c[3]) > tonumber(ARGV[3])) then
  redis.call('HSET', KEYS[1], 'o', ARGV[1], 'd', ARGV[2], 'at', ms)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, ARGV[2], ''}
end
return {0, c[2], ''}
"""
# A hashed set's layout (``hashed.py``, session 38's): its time (a double), its TTL's code
# (``_TTLS``; 0: the whole seconds follow, 4 bytes), its count n (7 bits a byte), then
# each digest's low L bits and their high bits in unary (an Elias-Fano list, its bits
# from each byte's top down), and a zero byte where the length would be a multiple of 8
# (``padded``). A set of an earlier layout (the first: the time's sign bit clear and a
# length of a multiple of 8, the TTL a double and 8-byte digests; or the sign bit set,
# minus the time and the TTL as 4 bytes, then 4-byte little-endian digests where the
# length is a multiple of 4, else 3-byte big-endian ones) is converted where a script
# first finds it (``current``, as ``hashed.current``; in place under its own key, as read
# in a host's field until the field's next write): once a set, O(n log n) for its n
# digests (at most its cap), so no script blocks Redis for longer than one set takes, and
# a store converts as its sets are asked or touched (one never asked again goes with its
# EXPIRE). Every reader checks a set's bits as ``hashed._decode`` does and raises on a
# corrupt one (``hdigests``): no loop runs past the value's end.
_LAYOUT = ("local TTLS = {" + ", ".join(map(str, hashed._TTLS)) + "}\n") + """
local CODES = {}
for code, ttl in ipairs(TTLS) do CODES[ttl] = code end
local CORRUPT = 'a hashed set is corrupt: '
local function lowbits(n)  -- L (``hashed._low_bits``): 24 - ceil(log2 n), at least 0
  local bits, m = 0, n - 1
  while m > 0 do bits, m = bits + 1, math.floor(m / 2) end
  return math.max(0, 24 - bits)
end
local function header(time, ttl)
  if not (time >= 0 and time < math.huge) then error('a hashed set has no such time') end
  local seconds = math.max(math.ceil(math.min(ttl, 4294967295)), 0)
  local code = CODES[seconds]  -- (time + 0: -0 stored as 0)
  if code then return struct.pack('<dB', time + 0, code) end
  return struct.pack('<dBI4', time + 0, 0, seconds)
end
local function padded(blob)  -- a zero byte more where the length is the first layout's
  if #blob % 8 == 0 then return blob .. '\0' end
  return blob
end
-- The set's time, TTL, count and the place its bits start at (``hashed._head``), a count
-- past what the length holds refused (a touch that adds nothing copies the bits unread).
local function hparse(blob)
  if #blob < 10 then error(CORRUPT .. #blob .. ' bytes') end
  local time, code = struct.unpack('<dB', blob)
  if not (time >= 0 and time < math.huge) then error(CORRUPT .. 'its time is no event time') end
  local ttl, at = TTLS[code], 10
  if code == 0 then
    if #blob < 13 then error(CORRUPT .. 'its TTL runs past its end') end
    ttl, at = struct.unpack('<I4', blob, 10)
  end
  if not ttl then error(CORRUPT .. 'TTL code ' .. code) end
  local n, scale, byte = 0, 1, 128
  while byte >= 128 do
    byte = string.byte(blob, at)
    if not byte then error(CORRUPT .. 'its count runs past its end') end
    n, scale, at = n + byte % 128 * scale, scale * 128, at + 1
  end
  if n > 8 * #blob then error(CORRUPT .. n .. ' digests in ' .. #blob .. ' bytes') end
  return time, ttl, n, at
end
-- The count and the bits (``hashed._body``) of sorted, distinct digests.
local function hbody(digests)
  local n, out, acc, held = #digests, {}, 0, 0
  local count, low = n, lowbits(n)
  while count >= 128 do
    out[#out + 1] = string.char(count % 128 + 128)
    count = math.floor(count / 128)
  end
  out[#out + 1] = string.char(count)
  local function put(value, width)  -- value < 2^width: acc holds ``held`` bits unwritten
    acc, held = acc * 2 ^ width + value, held + width
    while held >= 8 do
      held = held - 8
      local byte = math.floor(acc / 2 ^ held)
      out[#out + 1] = string.char(byte)
      acc = acc - byte * 2 ^ held
    end
  end
  local scale = 2 ^ low
  for i = 1, n do put(digests[i] % scale, low) end
  local last = 0
  for i = 1, n do
    local high = math.floor(digests[i] / scale)
    local gap = high - last
    while gap > 16 do put(0, 16); gap = gap - 16 end
    put(1, gap + 1)  -- gap zeros, then a one
    last = high
  end
  if held > 0 then put(0, 8 - held) end
  return table.concat(out)
end
local function hpack(time, ttl, digests) return padded(header(time, ttl) .. hbody(digests)) end
-- ``width`` (at most 24) bits of ``blob`` from its bit ``q`` (from 0, each byte's top
-- first): zeros past its end.
local function bits(blob, q, width)
  local j = math.floor(q / 8) + 1
  local b1, b2, b3, b4 = string.byte(blob, j, j + 3)
  local word = (((b1 or 0) * 256 + (b2 or 0)) * 256 + (b3 or 0)) * 256 + (b4 or 0)
  return math.floor(word / 2 ^ (32 - q % 8 - width)) % 2 ^ width
end
-- Raise unless a set whose count ends at ``at`` and whose last one is its ``used``-th
-- bit (from its count's end), its last high part ``high``, has the length, the pad and
-- the sign bit ``hashed._decode`` checks.
local function hended(blob, at, used, high, low)
  local size = at - 1 + math.ceil(used / 8)
  if size % 8 == 0 then
    size = size + 1
    if string.byte(blob, size) ~= 0 then error(CORRUPT .. 'its pad') end
  end
  if high >= 2 ^ (24 - low) or size ~= #blob or string.byte(blob, 8) >= 128 then
    error(CORRUPT .. 'its length is not that of its bits')
  end
end
-- The set's time, TTL and digests (sorted numbers), checked as ``hashed._decode``: exactly
-- n ones, high parts under 2^(24 - L), increasing, and the length they make.
local function hdigests(blob)
  local time, ttl, n, at = hparse(blob)
  local low = lowbits(n)
  local scale, start = 2 ^ low, (at - 1) * 8  -- bits from the value's first, from 0
  local digests, p, high = {}, start + n * low, 0
  local where, mask = math.floor(p / 8) + 1, 2 ^ (7 - p % 8)  -- p's byte, and its bit
  local byte = string.byte(blob, where)
  for i = 1, n do
    while true do  -- the next bit: a one ends the digest's high part, a zero raises it
      if not byte then error(CORRUPT .. 'its bits run past its end') end
      if mask == 128 and byte == 0 then  -- a byte of zeros at once
        high, p, where = high + 8, p + 8, where + 1
        byte = string.byte(blob, where)
      else
        local one = byte % (2 * mask) >= mask
        p, mask = p + 1, mask / 2
        if mask < 1 then
          where, mask = where + 1, 128
          byte = string.byte(blob, where)
        end
        if one then break end
        high = high + 1
      end
    end
    local d = high * scale + bits(blob, start + (i - 1) * low, low)
    if i > 1 and d <= digests[i - 1] then error(CORRUPT .. 'its digests do not increase') end
    digests[i] = d
  end
  if mask < 128 and byte % (2 * mask) ~= 0 then error(CORRUPT .. 'a one past its last') end
  hended(blob, at, p - start, high, low)
  return time, ttl, digests
end
local BIG = 256  -- digests past which a set is searched in place, not decoded whole
-- Whether a large set holds d, without decoding it: its unary part read 8 bits at a time
-- once, the zeros before each group counted (O(n) in 8-bit steps), then for each question
-- its bucket's start bisected (the bit after the h-th zero: its first digest is the one
-- numbered by the ones before) and that bucket's few low parts compared. Checked: as many
-- ones as the count says, and the length, pad and last high part they make (``hended``);
-- the low parts' order is not (``hdigests`` checks it, as a touch finds it).
local function hfinder(blob, n, at)
  local low = lowbits(n)
  local scale, lows, base = 2 ^ low, (at - 1) * 8, (at - 1) * 8 + n * low
  local groups, pop, zeros, ones = math.ceil((#blob * 8 - base) / 8), {[0] = 0}, {[0] = 0}, 0
  for v = 1, 255 do pop[v] = pop[math.floor(v / 2)] + v % 2 end
  for g = 0, groups - 1 do
    local set = pop[bits(blob, base + 8 * g, 8)]
    zeros[g + 1], ones = zeros[g] + 8 - set, ones + set
  end
  if ones ~= n then error(CORRUPT .. 'its unary part holds ' .. ones .. ' ones, not ' .. n) end
  local last, tail = groups - 1, 0  -- the group of the last one, and the zeros after it
  while zeros[last + 1] - zeros[last] == 8 do last = last - 1 end
  local v = bits(blob, base + 8 * last, 8)
  while v % 2 == 0 do v, tail = v / 2, tail + 1 end
  hended(blob, at, n * low + 8 * last + 8 - tail, 8 * last + 8 - tail - n, low)
  return function(d)
    local h, l, p = math.floor(d / scale), d % scale, 0
    if h > 0 then  -- the first group whose zeros reach h, then the h-th zero in it
      local first, last = 0, groups
      while first < last do
        local mid = math.floor((first + last) / 2)
        if zeros[mid + 1] >= h then last = mid else first = mid + 1 end
      end
      if first >= groups then return false end
      local need = h - zeros[first]
      p = 8 * first
      while need > 0 do
        if bits(blob, base + p, 1) == 0 then need = need - 1 end
        p = p + 1
      end
    end
    for i = p - h, n - 1 do  -- the bucket's digests: ones from p on
      if bits(blob, base + p, 1) == 0 then return false end
      local x = bits(blob, lows + i * low, low)
      if x >= l then return x == l end
      p = p + 1
    end
    return false
  end
end
-- The count and bits of a set as stored, without its pad: a touch that adds nothing copies
-- them (``hashed.touched``).
local function hbits(blob)
  local from, to = string.byte(blob, 9) == 0 and 14 or 10, #blob
  if to % 8 == 1 and string.byte(blob, to) == 0 then to = to - 1 end
  return string.sub(blob, from, to)
end
-- Whether a value is of an earlier layout: the time's sign bit set (minus it), or clear
-- and a length of a multiple of 8 (the first).
local function earlier(blob)
  return blob and #blob >= 8 and (string.byte(blob, 8) >= 128 or #blob % 8 == 0)
end
local function converted(blob)
  local time, ttl, from, width = 0, 0, 13, 3
  if string.byte(blob, 8) < 128 then
    time, ttl = struct.unpack('<d<d', blob)
    from, width = 17, 8
  else
    local minus
    minus, ttl = struct.unpack('<dI4', blob)
    time = -minus
    if #blob % 4 == 0 then width = 4 end
  end
  local digests, seen = {}, {}
  for k = 0, math.floor((#blob - from + 1) / width) - 1 do
    local i, d = from + k * width, 0
    if width == 3 then d = struct.unpack('>I3', blob, i)
    else d = struct.unpack('<I4', blob, i) % 16777216 end  -- the low 3 bytes
    if not seen[d] then seen[d], digests[#digests + 1] = true, d end
  end
  table.sort(digests)
  return hpack(time, ttl, digests)
end
local function current(key, blob)
  if not earlier(blob) then return blob end
  blob = converted(blob)
  redis.call('SET', key, blob, 'KEEPTTL')
  return blob
end
-- A hashed set's value where it is (``RedisState._lodged_commands``): its own key (of
-- before, or too long for a field), else its field in its host record's hash if lodged
-- there; and whether it was the field. The key first: a write of either clears the other,
-- so both are there only if a node of the earlier release wrote the key after.
local function hload(own, host, field)
  local blob = current(own, redis.call('GET', own))
  if blob or field == '' then return blob, false end
  blob = redis.call('HGET', host, field)
  if earlier(blob) then blob = converted(blob) end
  return blob, true
end
"""
# A hashed set's touch (``hashed.touched``) and removal (``hashed.without``), run where
# its value is, so two nodes touching one set at once both count.
_HASHED = _LAYOUT + (f"local LATENESS, LODGED, CODED = {MAX_LATENESS!r}, {LODGED_NAMES}, "
                     f"{_CODED}\n") + """
-- A key's EXPIRE set if it has none or a shorter one: a hash holding several things (a
-- record's sides, a lodged value) lives as long as the longest needs.
local function extend(key, seconds)
  if redis.call('TTL', key) < tonumber(seconds) then redis.call('EXPIRE', key, seconds) end
end
-- A lodged value's or hashed set's new stored form put where it fits
-- (``RedisState._lodged_commands``): its host record's field (``field``, '' for none)
-- while no longer than the host's compact encoding takes (``limit``), the host's EXPIRE
-- extended, else its own key; the other place cleared, so it is always in one.
local function hstore(own, host, field, limit, blob, seconds)
  if field ~= '' and #blob <= tonumber(limit) then
    redis.call('HSET', host, field, blob)
    extend(host, seconds)
    redis.call('DEL', own)
  else
    redis.call('SET', own, blob, 'EX', seconds)
    if field ~= '' then redis.call('HDEL', host, field) end
  end
end
local function htouch(own, host, field, limit, now, ttl, cap, seconds, fresh)
  now, ttl, cap = tonumber(now), tonumber(ttl), tonumber(cap)
  local blob, time = hload(own, host, field), now
  if blob then
    local t, l, n, at = hparse(blob)
    if t + l <= now then blob = false
    else
      time = math.max(t, now)
      -- Nothing to add (full, no digest sent, or a large set holding each, searched in
      -- place as a read does): the header alone is new, the bits copied.
      local has, new = n < cap and n >= BIG and hfinder(blob, n, at), fresh ~= ''
      if has then
        new = false
        for i = 1, #fresh, 3 do new = new or not has((struct.unpack('>I3', fresh, i))) end
      end
      if n >= cap or not new then
        hstore(own, host, field, limit, padded(header(time, ttl) .. hbits(blob)), seconds)
        return
      end
    end
  end
  local digests, held = {}, {}
  if blob then digests = select(3, hdigests(blob)) end
  for _, d in ipairs(digests) do held[d] = true end
  local room, added = cap - #digests, 0
  for i = 1, #fresh, 3 do
    if added >= room then break end
    local d = struct.unpack('>I3', fresh, i)
    if not held[d] then held[d], digests[#digests + 1], added = true, d, added + 1 end
  end
  table.sort(digests)
  hstore(own, host, field, limit, hpack(time, ttl, digests), seconds)
end
-- A removal leaves the set where it was (shorter: a field stays one), with its expiry.
local function hremove(own, host, field, gone)
  local blob, lodged = hload(own, host, field)
  if not blob then return end
  local time, ttl, digests = hdigests(blob)
  local drop, kept = {}, {}
  for i = 1, #gone, 3 do drop[struct.unpack('>I3', gone, i)] = true end
  for _, d in ipairs(digests) do
    if not drop[d] then kept[#kept + 1] = d end
  end
  if lodged then redis.call('HSET', host, field, hpack(time, ttl, kept))
  else redis.call('SET', own, hpack(time, ttl, kept), 'KEEPTTL') end
end
-- A member set's touch first drops what reads already take as gone, so that no TTL it
-- brings revives it: the whole set past its event-time expiry (or without one), else its
-- members past the set's TTL until now (``memory``'s touch does the same).
local function mtrim(key, now)
  local marks = redis.call('ZMSCORE', key, '\\255', '\\254')
  if not marks[1] or tonumber(marks[1]) <= tonumber(now) then redis.call('DEL', key)
  elseif marks[2] then
    redis.call('ZREMRANGEBYSCORE', key, '(' .. marks[2],
               string.format('%.17g', tonumber(now) + tonumber(marks[2])))
  end
end
-- A sided record (``sided.py``): in a hash, each member -> its times (``_time``: a code a
-- side, then each distinct time a little-endian double), and '\\255' (never UTF-8, so
-- never a member's name) -> its heads: for each side, its head's length (a byte, 0 for
-- a side never touched) and its head, its expiry, TTL, count of members on it and a time
-- no later than its oldest member's (``_head``'s layouts). A guest's record lodged in its
-- host's hash (``ops.guest_keyspace``) is one field (``ppack``), or (``gfields``, and as
-- an earlier release lodged it) the same fields as a record's own, each behind the
-- guest's prefix ``pre`` (``_guest_prefix``).
-- Whether a hash's field is a member's: a name (UTF-8, surrogatepass) never starts with
-- a byte from 245 (0xF5) up, where a head's, a lodged value's and a guest's fields start
-- (``_FIRST_NAMED``); an empty name is a member's too.
local function is_member(f) return (string.byte(f) or 0) < 245 end
-- A lodged guest's one field (``ppack``) from its earlier-layout prefix ``pre``
-- (``_guest_prefix``: two bytes, its name, ':'): a byte and its name (``_guest_field``).
local function gfield(pre) return '\\254' .. string.sub(pre, 3, -2) end
local ABSENT = -math.huge
local WHOLE = 4294967296  -- 2^32: what a head's 4-byte numbers stay under
-- Every side's head in a heads field ('' for none), in order; and in ``out.base`` the base
-- of its members' first times (``spacked``), where the field starts with one: a length
-- byte 2, which no head has (0, 5, 8, 12, 20 or 32), then the base's two bytes (``sbased``).
local function hsplit(blob)
  local out, at = {}, 1
  if string.byte(blob, 1) == 2 then out.base, at = string.sub(blob, 2, 3), 4 end
  while at <= #blob do
    local n = string.byte(blob, at)
    out[#out + 1] = string.sub(blob, at + 1, at + n)
    at = at + 1 + n
  end
  return out
end
local function sheads(key, pre)  -- a record's heads as stored (an earlier guest's: ``pre``)
  return hsplit(redis.call('HGET', key, pre .. '\\255') or '')
end
-- A side's head as {expiry, TTL, count, a time no later than its oldest member's}. A
-- derived head (5, 8 or 12 bytes: its count and that time, ``shead_packed``) holds no expiry
-- nor TTL, for its members and its keyspace's declared TTL give them (its newest member's
-- time plus that TTL): its expiry reads math.huge and its TTL 0, which a caller that needs
-- them replaces (``sexpiry``); no member of a derived side past its expiry is within the
-- TTL of the newest, so a reader asking each member's time needs neither.
local DERIVED = {[5] = true, [8] = true, [12] = true}
local function shead(head)
  if not head or head == '' then return {0, 0, 0, math.huge} end
  if #head == 32 then
    local e, l, n, o = struct.unpack('<dddd', head)
    return {e, l, n, o}
  end
  if #head == 5 then
    local n, o = struct.unpack('<BI4', head)
    return {math.huge, 0, n, o}
  end
  if #head == 8 then
    local n, o = struct.unpack('<I4I4', head)
    return {math.huge, 0, n, o}
  end
  if #head == 12 then
    local n, o = struct.unpack('<I4d', head)
    return {math.huge, 0, n, o}
  end
  local e, l, n, age = struct.unpack('<dI4I4I4', head)
  return {e, l, n, e - age}
end
-- A head's layout: a derived one (``head[5]``: its expiry is its newest member's time plus
-- the declared TTL, ``stouched``) its count and its oldest as whole seconds rounded down
-- (5 bytes, the count in one; 8 where the count is 256 or more, as session 35-36's
-- releases wrote every one; a double where the oldest is no 4-byte number: 12); else the
-- 20-byte layout where it holds the head, else 32.
local function shead_packed(head)
  local e, l, n, o, derived = unpack(head)
  if derived then
    local floor = math.floor(o)
    if floor >= 0 and floor < WHOLE then
      if n < 256 then return struct.pack('<BI4', n, floor) end
      return struct.pack('<I4I4', n, floor)
    end
    return struct.pack('<I4d', n, o)
  end
  if l >= 0 and l < WHOLE and l == math.floor(l) and n < WHOLE and math.abs(e) < math.huge then
    local age = 0  -- whole seconds before the expiry, the time no later than the oldest
    if o < e then
      age = math.ceil(e - o)
      if e - age > o then age = age + 1 end
    end
    if age < WHOLE then return struct.pack('<dI4I4I4', e, l, n, age) end
  end
  return struct.pack('<dddd', e, l, n, o)
end
-- The heads field with ``side``'s head made ``head`` (``shead``'s four numbers), after
-- its base (``hsplit``) if it has one.
local function sjoined(heads, side, head)
  local parts = {heads.base and '\2' .. heads.base or ''}
  for r = 1, side do heads[r] = heads[r] or '' end
  heads[side] = shead_packed(head)
  for r = 1, #heads do parts[r + 1] = string.char(#heads[r]) .. heads[r] end
  return table.concat(parts)
end
local function stop(time) return string.sub(struct.pack('<d', time), 7, 8) end  -- top two
-- A record's base after a touch at ``now`` (``stouched``) that rewrote every member
-- (``whole``) or only some: a record without one gets ``now``'s top two bytes (none of
-- its members was written with a first time of code 3, so none reads otherwise); one
-- with a base keeps it unless every member is rewritten, when the base is ``now``'s again
-- (the newest bytes a first time will likely share).
local function sbased(heads, now, whole)
  if whole or not heads.base then heads.base = stop(now) end
end
-- A member's value (``_time``): its codes, a byte (a record of at most CODED places,
-- every keyspace's today), else as many as its length's remainder mod 8; a value of
-- the earlier layout (no codes, its length a multiple of 8) is a double a side. ``base``:
-- its record's (``hsplit``), the top two bytes of a first time of code 3.
local function stimes(value, sides, base)
  local t, codes = {}, 0
  if value and #value % 8 ~= 0 then codes = sides <= CODED and 1 or #value % 8 end
  local at, last, top = codes + 1, ABSENT, base or ''
  for r = 1, sides do
    if value and codes == 0 then  -- the earlier layout: a double a side, up to its last
      t[r] = #value >= 8 * r and (struct.unpack('<d', value, 8 * r - 7)) or ABSENT
    else
      local code = 0
      if r <= 4 * codes then
        code = math.floor(string.byte(value, math.floor((r - 1) / 4) + 1)
                          / 4 ^ ((r - 1) % 4)) % 4
      end
      if code == 1 then
        last, top, at = (struct.unpack('<d', value, at)), string.sub(value, at + 6, at + 7),
                        at + 8
      elseif code == 3 then
        last, at = (struct.unpack('<d', string.sub(value, at, at + 5) .. top)), at + 6
      end
      t[r] = code == 0 and ABSENT or last
    end
  end
  return t
end
-- ``_time``'s layout, or false for a member on no side: a time whose top two bytes are
-- the previous one's, or for the first its record's ``base`` (``sbased``), in its low six
-- (code 3; in a record of at most CODED places).
local function spacked(t, base)
  local codes, parts, last, top, on = {}, {}, nil, base, false
  for r = 1, #t do
    local code, byte = 0, math.floor((r - 1) / 4) + 1
    if t[r] == ABSENT then code = 0
    elseif t[r] == last then code = 2
    else
      local packed = struct.pack('<d', t[r])
      if top == string.sub(packed, 7, 8) and #t <= CODED then
        code, packed = 3, string.sub(packed, 1, 6)
      else code, top = 1, string.sub(packed, 7, 8) end
      last, parts[#parts + 1] = t[r], packed
    end
    on = on or code ~= 0
    codes[byte] = (codes[byte] or 0) + code * 4 ^ ((r - 1) % 4)
  end
  if not on then return false end
  for i = 1, #codes do codes[i] = string.char(codes[i]) end
  return table.concat(codes) .. table.concat(parts)
end
local function snames(blob)  -- ``sided.encode_names``: each name's length, then its bytes
  local out, at = {}, 1
  while at <= #blob do
    local n = struct.unpack('<I4', blob, at)
    out[#out + 1] = string.sub(blob, at + 4, at + 3 + n)
    at = at + 4 + n
  end
  return out
end
local function bytes_before(a, b)  -- as Python orders str (code points: UTF-8's bytes)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function hcall(command, key, args)  -- in chunks Lua's unpack takes
  for i = 1, #args, 2000 do
    redis.call(command, key, unpack(args, i, math.min(i + 1999, #args)))
  end
end
-- A lodged guest's record (``ops.guest_keyspace``), one field of its host's hash
-- (``_GUEST`` and the guest's name, no ":"), where a field a member cost the guest's
-- prefix again and the listpack's framing (~17 bytes a member, ~75 an account): its
-- heads field's length (2 bytes, little-endian) and the heads field (``sjoined``), then
-- each member's name and value (``spacked``), each after its length (a byte), in no
-- order a reader needs.
-- False if a name is longer than a byte counts (the guest keeps a key of its own).
local function ppack(joined, values)
  local parts = {struct.pack('<I2', #joined), joined}
  for name, value in pairs(values) do
    if #name > 255 then return false end
    parts[#parts + 1] = string.char(#name) .. name .. string.char(#value) .. value
  end
  return table.concat(parts)
end
local function pheads(blob)  -- ``ppack``'s heads (as ``hsplit``) and where its members start
  local edge = 3 + struct.unpack('<I2', blob)
  return hsplit(string.sub(blob, 3, edge - 1)), edge
end
local function punpack(blob)  -- ``ppack``'s heads and members (name -> value)
  local heads, at = pheads(blob)
  local values = {}
  while at <= #blob do
    local n = string.byte(blob, at)
    local m = string.byte(blob, at + 1 + n)
    values[string.sub(blob, at + 1, at + n)] = string.sub(blob, at + 2 + n, at + 1 + n + m)
    at = at + 2 + n + m
  end
  return heads, values
end
-- An earlier release's lodged guest (its fields behind ``pre``): its heads and members,
-- its fields deleted (the caller packs it), or none if it has no heads there. One
-- HGETALL of the host (at most ``gtouch``'s limit of fields), once a guest.
local function gearlier(host, pre)
  local heads, values, gone = sheads(host, pre), {}, {pre .. '\\255'}
  if #heads == 0 then return heads, values end
  local all = redis.call('HGETALL', host)
  for i = 1, #all, 2 do
    local f = all[i]
    if string.sub(f, 1, #pre) == pre and f ~= gone[1] then
      values[string.sub(f, #pre + 1)], gone[#gone + 1] = all[i + 1], f
    end
  end
  hcall('HDEL', host, gone)
  return heads, values
end
-- Write back the members in ``entries`` (name -> times; behind ``pre``, as ``stouch``),
-- the side's head among the record's ``heads`` (``sheads``) and the EXPIRE (never
-- shortened: another side, or what else the hash holds, may need it longer).
local function sstore(key, pre, side, heads, head, entries, seconds)
  local sets, gone = {}, {}
  for name, t in pairs(entries) do
    local value = spacked(t, heads.base)
    if value then sets[#sets + 1], sets[#sets + 2] = pre .. name, value
    else gone[#gone + 1] = pre .. name end
  end
  sets[#sets + 1], sets[#sets + 2] = pre .. '\\255', sjoined(heads, side, head)
  hcall('HSET', key, sets)
  hcall('HDEL', key, gone)
  extend(key, seconds)
end
-- A side's expiry: its head's (``shead``), or a derived head's, its newest member's time
-- among ``values`` (name -> value, of a record of ``places`` places and base ``base``)
-- plus ``declared`` (-math.huge if no member is on it: as long dead as a side can be).
local function sexpiry(head, values, side, places, declared, base)
  if not DERIVED[#head] then return shead(head)[1] end
  local newest = ABSENT
  for _, value in pairs(values) do
    newest = math.max(newest, stimes(value, places, base)[side])
  end
  return newest + declared
end
-- A hash's guests (``ops.guest_keyspace``) whose every side expired before the lateness an
-- event may have (``ops.MAX_LATENESS``: no event still judged reads them), from its
-- HGETALL (``all``), deleted: the memory backend's sweep drops them, and here the
-- host's EXPIRE, kept alive by the host, would not. Run by a touch that rewrites a record
-- of the hash whole (one past a TTL or a cap), so a dead guest waits at most for that.
-- A packed guest is its one field; an earlier release's, its heads field and members.
-- ``spec``: the guests' keyspace's declared TTL of each place, a double each
-- (``RedisState._guest_spec``), for a derived head's expiry (``sexpiry``); a derived head
-- of a place it does not declare keeps its guest (none is written so: ``stouched``).
local function spurge(key, all, now, spec)
  local dead, gone, horizon, places = {}, {}, now - LATENESS, #spec / 8
  local function live(heads, values)
    for r, head in ipairs(heads) do
      if head ~= '' then
        if DERIVED[#head] and r > places then return true end
        local declared = DERIVED[#head] and struct.unpack('<d', spec, 8 * r - 7) or 0
        if sexpiry(head, values, r, places, declared, heads.base) > horizon then
          return true
        end
      end
    end
    return false
  end
  local heads, members = {}, {}  -- an earlier release's guests: prefix -> heads, members
  for i = 1, #all, 2 do
    local f = all[i]
    if string.byte(f) == 254 then
      local held, values = punpack(all[i + 1])
      if not live(held, values) then gone[#gone + 1] = f end
    elseif string.sub(f, 1, 2) == '\\255\\254' then
      local colon = string.find(f, ':', 3, true)
      if colon then
        local pre = string.sub(f, 1, colon)
        members[pre] = members[pre] or {}
        if f == pre .. '\\255' then heads[pre] = hsplit(all[i + 1])
        else members[pre][f] = all[i + 1] end
      end
    end
  end
  for pre, held in pairs(heads) do
    if not live(held, members[pre]) then dead[pre] = true end
  end
  if next(dead) ~= nil then
    for i = 1, #all, 2 do
      local f = all[i]
      local colon = string.sub(f, 1, 2) == '\\255\\254' and string.find(f, ':', 3, true)
      if colon and dead[string.sub(f, 1, colon)] then gone[#gone + 1] = f end
    end
  end
  hcall('HDEL', key, gone)
end
-- A record's times less its retired sides' (``ops.Sided.retired``: ``retired`` holds a
-- byte a retired side, its place counted from 1), so what a touch writes back drops them.
local function sretired(t, retired)
  for i = 1, #retired do t[string.byte(retired, i)] = ABSENT end
  return t
end
-- A touch of one side (``sided.touched``) of a record whose ``heads`` (``sheads``) are
-- given, its members' values read by ``read`` (the touched names' values, in order, false
-- for none) or, all of them, ``every`` (name -> value): the members touched alone while
-- nothing leaves the side; the whole record when the side expired, a member passed its
-- TTL or the cap. A retired side's head goes at any touch, its times with each member
-- rewritten. The side (from 1), its new head and the members' new times (name -> times).
-- Its head is derived (``shead_packed``: no expiry nor TTL held) exactly where the side's
-- TTL is ``declared`` (the keyspace's, ``ops.Sided.ttls``; 0 for none) and its expiry its
-- newest member's time plus it (``sided._derived``'s rule). Where the members touched
-- alone cannot tell (the newest is not among them), the whole record is read: a derived
-- head touched with another TTL (its expiry moves off the newest), and a held one touched
-- with the declared TTL that may become derived (its expiry no later than the touch's:
-- a head of an earlier release, once; after, a late touch's).
local function stouched(heads, read, every, side, sides, retired, now, ttl, declared, cap,
                        fresh)
  side, sides, now = tonumber(side) + 1, tonumber(sides), tonumber(now)
  ttl, declared, cap, fresh = tonumber(ttl), tonumber(declared), tonumber(cap), snames(fresh)
  for i = 1, #retired do
    local r = string.byte(retired, i)
    if r <= #heads then heads[r] = '' end
  end
  local held = heads[side] or ''
  local derived = DERIVED[#held]
  local expiry, old_ttl, count, oldest = unpack(shead(held))
  if derived then old_ttl = declared end
  local expired = expiry <= now
  if expired then old_ttl = ttl end
  local cutoff = now - math.min(ttl, old_ttl)
  local entries, full = {}, (expired and count > 0) or oldest <= cutoff
  local newest = held == '' and now or nil  -- the side's newest after the touch, if known
  -- (a touch whose end rounds, ``sided._ends_with``: the newest it may leave needs a head)
  if derived then full = full or ttl ~= declared or #fresh == 0 or now + ttl - ttl < now
  elseif held ~= '' and declared > 0 and ttl == declared and expiry <= now + ttl then
    full = true
  end
  if not full then
    local values, adding = read(fresh), 0
    for i, name in ipairs(fresh) do
      local t = sretired(stimes(values[i], sides, heads.base), retired)
      if t[side] == ABSENT then adding = adding + 1 end
      if t[side] < now then t[side] = now end
      entries[name] = t
    end
    full = count + adding > cap
    count, oldest = count + adding, math.min(oldest, now)
  end
  if full then
    entries = {}
    for name, value in pairs(every()) do
      entries[name] = sretired(stimes(value, sides, heads.base), retired)
    end
    if derived then  -- its expiry from its members, and all that follows from it
      newest = ABSENT
      for _, t in pairs(entries) do newest = math.max(newest, t[side]) end
      expiry, old_ttl = newest + declared, declared
      expired = expiry <= now
      if expired then old_ttl = ttl end
      cutoff = now - math.min(ttl, old_ttl)
      derived = false
    end
    if expired then for _, t in pairs(entries) do t[side] = ABSENT end end
    for _, name in ipairs(fresh) do
      local t = entries[name] or stimes(false, sides)
      if t[side] < now then t[side] = now end
      entries[name] = t
    end
    local on = {}
    for name, t in pairs(entries) do
      if t[side] <= cutoff then t[side] = ABSENT end
      if t[side] ~= ABSENT then on[#on + 1] = name end
    end
    if #on > cap then  -- the stalest leave, ties by name (a sorted set's order)
      table.sort(on, function(a, b)
        local x, y = entries[a][side], entries[b][side]
        if x ~= y then return x < y end
        return bytes_before(a, b)
      end)
      for i = 1, #on - cap do entries[on[i]][side] = ABSENT end
    end
    count, oldest, newest = 0, math.huge, ABSENT
    for _, t in pairs(entries) do
      if t[side] ~= ABSENT then
        count, oldest = count + 1, math.min(oldest, t[side])
        newest = math.max(newest, t[side])
      end
    end
  end
  sbased(heads, now, full)
  local head = {math.max(expiry, now + ttl), ttl, count, oldest}
  head[5] = declared > 0 and ttl == declared and count > 0
    and (derived or (newest ~= nil and head[1] == newest + declared
                     and newest + declared - declared >= newest))
  return side, head, entries
end
-- A touch of a record in a hash, its fields behind ``pre`` ('' for a record of its own; an
-- earlier-layout guest's prefix, ``gfields``): the touched members' fields alone, or
-- every field (one HGETALL, which also lets the hash's dead guests go: ``spurge``, its
-- guests' declared TTLs ``spec``).
local function stouch(key, pre, side, sides, retired, now, ttl, declared, spec, cap, seconds,
                      fresh)
  local function read(names)
    local fields = {}
    for i, name in ipairs(names) do fields[i] = pre .. name end
    return redis.call('HMGET', key, unpack(fields))
  end
  local function every()
    local all, out, head_field = redis.call('HGETALL', key), {}, pre .. '\\255'
    spurge(key, all, tonumber(now), spec)
    for i = 1, #all, 2 do
      local f = all[i]
      if pre == '' then
        if is_member(f) then out[f] = all[i + 1] end
      elseif string.sub(f, 1, #pre) == pre and f ~= head_field then
        out[string.sub(f, #pre + 1)] = all[i + 1]
      end
    end
    return out
  end
  local heads = sheads(key, pre)
  local at, head, entries = stouched(heads, read, every, side, sides, retired, now, ttl,
                                     declared, cap, fresh)
  sstore(key, pre, at, heads, head, entries, seconds)
end
-- A guest's record written to its own key (its heads and members, ``values``: name ->
-- value), its EXPIRE no shorter than its host's (which held it) nor ``seconds``.
local function gown(own, host, joined, values, seconds)
  local sets = {'\\255', joined}
  for name, value in pairs(values) do sets[#sets + 1], sets[#sets + 2] = name, value end
  hcall('HSET', own, sets)
  local ms = redis.call('PTTL', host)
  if ms > 0 then redis.call('PEXPIRE', own, ms) end
  extend(own, seconds)
end
-- The members a lodged guest would hold with ``n`` more: its sides' counts summed, from
-- its heads (no member read), so a touch judges before it writes whether it stays lodged.
local function gholds(heads, n)
  for _, head in ipairs(heads) do n = n + shead(head)[3] end
  return n
end
-- A guest entering its host's hash (none of its fields there): the hash's dead guests
-- leave first (``spurge``, one HGETALL of at most ``gtouch``'s limit of fields), where
-- only a whole rewrite of a record of the hash let them go and the host's EXPIRE, kept
-- alive by its live records, never did: a pitch guest (``keys.text``, a burst window's)
-- stayed a session's life. Here because the hash grows here: its dead are gone before it
-- does, so none takes a live guest's room (the limit is judged on the live), and a host
-- holds no dead guest past the next one entering. Bounded: a guest enters at most once a
-- touch, and the hash holds at most the limit's fields.
local function gentering(host, now, spec)
  spurge(host, redis.call('HGETALL', host), tonumber(now), spec)
end
-- A lodged guest's touch in its one field (``ppack``: read, touched and written back
-- whole, as it holds at most LODGED members; an earlier-layout guest's fields packed
-- first, ``gearlier``). It stays lodged only if, with this touch's names, it would hold
-- at most LODGED members (its sides' counts summed, from its heads), the hash at most
-- ``limit`` fields (``RedisState._room``) and its field at most ``compact`` bytes; else
-- it is written to its own key (``gown``), its field deleted. ``pre``: its prefix of the
-- earlier layout (``gfields``), from which its field's name comes (``gfield``).
local function gpacked(own, host, pre, limit, compact, side, sides, retired, now, ttl,
                       declared, spec, cap, seconds, fresh)
  local field = gfield(pre)
  local blob, heads, values = redis.call('HGET', host, field), nil, nil
  if blob then heads, values = punpack(blob)
  else
    gentering(host, now, spec)
    heads, values = gearlier(host, pre)
  end
  local lodged = gholds(heads, #snames(fresh)) <= LODGED
      and redis.call('HLEN', host) + (blob and 0 or 1) <= limit
  local function read(asked)
    local out = {}
    for i, name in ipairs(asked) do out[i] = values[name] or false end
    return out
  end
  local at, head, entries = stouched(heads, read, function() return values end, side, sides,
                                     retired, now, ttl, declared, cap, fresh)
  for name, t in pairs(entries) do values[name] = spacked(t, heads.base) or nil end
  local joined = sjoined(heads, at, head)
  local packed = lodged and ppack(joined, values)
  if packed and #packed <= compact then
    redis.call('HSET', host, field, packed)
    extend(host, seconds)
  else
    gown(own, host, joined, values, seconds)
    if blob then redis.call('HDEL', host, field) end
  end
end
-- A lodged guest's touch as fields behind its prefix ``pre`` (the layout before
-- ``ppack``'s, kept where the server keeps fewer bytes compact than
-- ``RECOMMENDED_LISTPACK_VALUE``: a packed field would seldom fit, and each of these
-- does): it stays or is lodged only if, with this touch's names, it would hold at most
-- LODGED members and the hash at most ``limit`` fields (``RedisState._room``: 0 for a
-- field too long to keep the hash compact); else it moves to its own key first, once.
local function gfields(own, host, pre, limit, side, sides, retired, now, ttl, declared, spec,
                       cap, seconds, fresh)
  local n, heads = #snames(fresh), sheads(host, pre)
  if #heads == 0 then gentering(host, now, spec) end
  if gholds(heads, n) <= LODGED
      and redis.call('HLEN', host) + n + (#heads == 0 and 1 or 0) <= limit then
    return stouch(host, pre, side, sides, retired, now, ttl, declared, spec, cap, seconds,
                  fresh)
  end
  if #heads > 0 then
    local joined = redis.call('HGET', host, pre .. '\\255')
    gown(own, host, joined, select(2, gearlier(host, pre)), seconds)
  end
  stouch(own, '', side, sides, retired, now, ttl, declared, '', cap, seconds, fresh)
end
-- A guest's touch (``ops.guest_keyspace``): its own key if it has one (moved there, or
-- never lodged), else lodged in its host's hash: in one field (``gpacked``) where the
-- server keeps ``RECOMMENDED_LISTPACK_VALUE`` bytes compact (``packing``) or the field is
-- there already, else a field a member (``gfields``). Judged before it is written, so no
-- guest takes the hash past the limit even for a moment (past the server's
-- hash-max-listpack-entries, or with a field past its -value, Redis turns it into a
-- hashtable for good). So a whole rewrite of the host (``stouch``'s full path) reads at
-- most ``limit`` fields beside the host's own record, whatever its sessions send, and a
-- touch of a lodged guest reads at most LODGED members of it.
local function gtouch(own, host, pre, limit, compact, packing, side, sides, retired, now, ttl,
                      declared, spec, cap, seconds, fresh)
  if redis.call('EXISTS', own) == 1 then
    return stouch(own, '', side, sides, retired, now, ttl, declared, '', cap, seconds, fresh)
  end
  if packing == '1' or redis.call('HEXISTS', host, gfield(pre)) == 1 then
    return gpacked(own, host, pre, tonumber(limit), tonumber(compact), side, sides, retired,
                   now, ttl, declared, spec, cap, seconds, fresh)
  end
  gfields(own, host, pre, tonumber(limit), side, sides, retired, now, ttl, declared, spec, cap,
          seconds, fresh)
end
-- A sided record's deletion: its own fields alone (its members and heads), not what else
-- its hash holds (a host's lodged values and guests); a guest's (``pre``: its prefix of
-- the earlier layout), its field in its host and what an earlier release lodged there.
local function sdelete(key, pre)
  if pre ~= '' then
    redis.call('HDEL', key, gfield(pre))
    gearlier(key, pre)
    return
  end
  local gone = {}
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if is_member(f) or f == '\\255' then gone[#gone + 1] = f end
  end
  hcall('HDEL', key, gone)
end
-- A log's append (``Append``): its count moves with its entries, in this one step, so two
-- nodes appending at once both land, each entry under a number of its own.
local function lappend(key, count, keep, ...)
  local entries = {...}
  redis.call('INCRBY', count, #entries)
  hcall('RPUSH', key, entries)
  redis.call('LTRIM', key, -tonumber(keep), -1)
end
-- false if the command is a check of the hash key (sent before any hashed write) and
-- the store's key is another (a Redis restarted empty, then keyed by another node).
local function apply(command)
  local name = command[1]
  if name == 'sg.hkey' then
    redis.call('SET', command[2], command[3], 'NX')
    return redis.call('GET', command[2]) == command[3]
  elseif name == 'sg.htouch' then htouch(unpack(command, 2))
  elseif name == 'sg.hremove' then hremove(unpack(command, 2))
  elseif name == 'sg.mtrim' then mtrim(command[2], command[3])
  elseif name == 'sg.stouch' then stouch(unpack(command, 2))
  elseif name == 'sg.gtouch' then gtouch(unpack(command, 2))
  elseif name == 'sg.sdelete' then sdelete(command[2], command[3])
  elseif name == 'sg.hstore' then hstore(unpack(command, 2))
  elseif name == 'sg.lappend' then lappend(unpack(command, 2))
  else redis.call(unpack(command)) end
  return true
end
local function apply_all(i)
  while i <= #ARGV do
    local n = tonumber(ARGV[i])
    if not apply({unpack(ARGV, i + 1, i + n)}) then return false end
    i = i + n + 1
  end
  return true
end
"""
# Writes that touch a hashed set, outside a claim (``RedisState.write``): -2, and none
# applied, if the hash key changed.
_APPLY = _HASHED + """
if not apply_all(1) then return -2 end
return 1
"""
# Apply an event's writes if we hold its claim and no value read has changed since.
_COMMIT = _HASHED + """
local c = redis.call('HMGET', KEYS[1], 'o', 'r')
if c[1] ~= ARGV[1] or c[2] then return 0 end
-- Each value read as a read found it: a key's own, or a lodged one's field in its host
-- (key, field), else its own key of before (``RedisState._queue``).
local function held(key, field, own)
  if field == '' then return redis.call('GET', key) or '' end
  return redis.call('GET', own) or redis.call('HGET', key, field) or ''
end
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  if held(ARGV[i], ARGV[i + 1], ARGV[i + 2]) ~= ARGV[i + 3] then return -1 end
  i = i + 4
end
if not apply_all(i) then return -2 end
redis.call('HSET', KEYS[1], 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# The earlier layout's sets, converted (``RedisState._convert_indexed``).
_CONVERT = """
for i, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'zset' then
    redis.call('ZADD', key, 'GT', ARGV[2 * i - 1], '\\255')
    redis.call('ZADD', key, 'NX', ARGV[2 * i], '\\254')
  end
end
return 1
"""
_CONVERT_CHUNK = 1_000
# Sorted sets of a hashed keyspace become their packed values ('' : the set was empty),
# keeping their EXPIRE; a set another node converted meanwhile is left alone.
# The plain sets a side of a sided keyspace was kept in become that side of the records
# (``RedisState._convert_sided``): KEYS in pairs (a plain set, its record), ARGV the side's
# index, the number of sides and the side's declared TTL (a derived head's, ``stouched``).
# A member's later time wins (a node of this release may have touched the record
# already), as does the later expiry and EXPIRE; the set goes.
_CONVERT_SIDED = _HASHED + """
local side, sides, declared = tonumber(ARGV[1]) + 1, tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, #KEYS, 2 do
  local old, key = KEYS[i], KEYS[i + 1]
  if redis.call('TYPE', old).ok == 'zset' then
    local scored, times, names = redis.call('ZRANGE', old, 0, -1, 'WITHSCORES'), {}, {}
    local expiry, ttl = nil, math.huge  -- a set without a TTL marker: no member is past one
    for j = 1, #scored, 2 do
      local member, score = scored[j], tonumber(scored[j + 1])
      if member == '\\255' then expiry = score
      elseif member == '\\254' then ttl = -score
      else times[member], names[#names + 1] = score, member end
    end
    if expiry then  -- (none: the set reads as empty, and goes)
      local heads, entries = sheads(key, ''), {}
      local head = shead(heads[side])
      if DERIVED[#(heads[side] or '')] then  -- held from here on: its expiry and TTL
        local values, all = {}, redis.call('HGETALL', key)
        for j = 1, #all, 2 do
          if is_member(all[j]) then values[all[j]] = all[j + 1] end
        end
        head[1] = sexpiry(heads[side], values, side, sides, declared, heads.base)
        head[2] = declared
      end
      if #names > 0 then
        local values = redis.call('HMGET', key, unpack(names))
        for j, member in ipairs(names) do
          local t = stimes(values[j], sides, heads.base)
          if t[side] == ABSENT then head[3] = head[3] + 1 end
          t[side] = math.max(t[side], times[member])
          head[4] = math.min(head[4], t[side])
          entries[member] = t
        end
      end
      if head[1] <= 0 then head[2] = ttl end
      head[1] = math.max(head[1], expiry)
      -- its EXPIRE kept; a set that had none (persisted) gets a touch's: its TTL and
      -- the lateness past it (``_seconds``), not a second that would lose it
      local ms = redis.call('PTTL', old)
      sstore(key, '', side, heads, head, entries,
             ms > 0 and math.ceil(ms / 1000) or math.ceil(ttl + LATENESS))
    end
    redis.call('DEL', old)
  end
end
return 1
"""
_CONVERT_HASHED = """
for i, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'zset' then
    local ms = redis.call('PTTL', key)
    redis.call('DEL', key)
    if ARGV[i] ~= '' then
      redis.call('SET', key, ARGV[i])
      if ms > 0 then redis.call('PEXPIRE', key, ms) end
    end
  end
end
return 1
"""
# A sided record's heads of the earlier layout, a field a side ('\\255' and the side's
# index), become its one heads field (``sheads``): KEYS the records, ARGV their number of
# sides. A record a node of this release wrote meanwhile keeps the heads it has.
_CONVERT_HEADS = """
local sides, fields = tonumber(ARGV[1]), {}
for r = 0, sides - 1 do fields[#fields + 1] = '\\255' .. string.char(r) end
for _, key in ipairs(KEYS) do
  local old, parts, found = redis.call('HMGET', key, unpack(fields)), {}, false
  for r = 1, sides do
    local head = old[r] or ''
    found = found or old[r] ~= false
    parts[r] = string.char(#head) .. head
  end
  if found then
    redis.call('HSETNX', key, '\\255', table.concat(parts))
    redis.call('HDEL', key, unpack(fields))
  end
end
return 1
"""
# A host's lodged values' and guests' fields of session 36's release (``_LODGED_BEFORE``
# and a keyspace's name; ``_GUESTS_BEFORE`` and a guest's, no ':') renamed to this
# release's one byte (``lodged_field``, ``_guest_field``): KEYS the hosts, ARGV pairs of a
# lodged field's old name and new. A field of the new name already there (a node of this
# release wrote it meanwhile) is the later write: it stays, and the old goes.
_CONVERT_NAMES = """
local renamed = {}
for i = 1, #ARGV, 2 do renamed[ARGV[i]] = ARGV[i + 1] end
for _, key in ipairs(KEYS) do
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local new = renamed[f]
    if not new and string.sub(f, 1, 2) == '\\255\\254' and not string.find(f, ':', 3, true) then
      new = '\\254' .. string.sub(f, 3)
    end
    if new then
      redis.call('HSETNX', key, new, redis.call('HGET', key, f))
      redis.call('HDEL', key, f)
    end
  end
end
return 1
"""
# A guest keyspace's records kept as keys of their own (by nodes of the earlier release)
# move into their hosts' hashes, behind their prefixes (``_guest_prefix``: the layout
# before ``ppack``'s, read as it is and packed at the guest's next touch, ``gearlier``),
# if ``gtouch`` would lodge them (a big one stays, where this release reads it): KEYS in
# pairs (a record, its host), ARGV the hosts' most fields (``gtouch``'s limit), then each
# one's prefix. The host's EXPIRE is extended to the record's. A guest a node of this
# release lodged meanwhile (its field, or its heads, there) keeps what it has.
_CONVERT_GUESTS = _HASHED + """
local limit = tonumber(ARGV[1])
local function small(old, host)
  local names = 0
  for _, head in ipairs(sheads(old, '')) do names = names + shead(head)[3] end
  return names <= LODGED and redis.call('HLEN', host) + redis.call('HLEN', old) <= limit
end
for i = 1, #KEYS, 2 do
  local old, host, pre = KEYS[i], KEYS[i + 1], ARGV[(i + 3) / 2]
  if redis.call('TYPE', old).ok ~= 'hash' then  -- gone meanwhile
  elseif redis.call('HEXISTS', host, pre .. '\\255') == 1
      or redis.call('HEXISTS', host, gfield(pre)) == 1 then redis.call('DEL', old)
  elseif small(old, host) then
    local all, sets = redis.call('HGETALL', old), {}
    for j = 1, #all, 2 do
      if is_member(all[j]) or all[j] == '\\255' then
        sets[#sets + 1], sets[#sets + 2] = pre .. all[j], all[j + 1]
      end
    end
    hcall('HSET', host, sets)
    local ms = redis.call('PTTL', old)
    if ms > 0 then extend(host, math.ceil(ms / 1000)) end
    redis.call('DEL', old)
  end
end
return 1
"""
# A read's hashed-set queries (``hashed.contains``, ``hashed.distinct``) answered where
# the sets are, so a reply is its answers, not the sets (a full contact list is 40 KB,
# and a message asks up to 64 of them). KEYS: the hash key's name, then each set's own key
# and its host record's (``hload``); ARGV: our hash key, now, the number of sets, each
# set's field in its host ('' for none), then each query as a set's number (from 1), 'c'
# and its packed digests, or 'd' and its window's cutoff. The answers ({1, a count or a
# '0'/'1' string a query}) hold only under our key: under another, the store's key and
# the sets ({0, key, set, ...}), for the node to adopt the key in the same trip.
_HASHED_READ = _LAYOUT + """
local stored, count = redis.call('GET', KEYS[1]), tonumber(ARGV[3])
local function place(i) return KEYS[2 * i], KEYS[2 * i + 1], ARGV[3 + i] end
if stored ~= ARGV[1] then
  local found = {0, stored}
  for i = 1, count do found[i + 2] = (hload(place(i))) end
  return found
end
local now, sets, out = tonumber(ARGV[2]), {}, {1}
-- A live set as {n digests, time, has(d)}, or false: a small one's digests decoded into a
-- table at its first Contains (O(n)), a large one searched in place (``hfinder``), none
-- read for a Distinct.
local function set(i)
  local blob = hload(place(i))
  if not blob then return false end
  local time, ttl, n, at = hparse(blob)
  if time + ttl <= now then return false end
  local has
  return {n, time, function(d)
    if not has and n >= BIG then has = hfinder(blob, n, at)
    elseif not has then
      local held = {}
      for _, x in ipairs(select(3, hdigests(blob))) do held[x] = true end
      has = function(x) return held[x] == true end
    end
    return has(d)
  end}
end
for i = 4 + count, #ARGV, 3 do
  local at, arg = tonumber(ARGV[i]), ARGV[i + 2]
  if sets[at] == nil then sets[at] = set(at) end
  local n, time, has = unpack(sets[at] or {0})
  if ARGV[i + 1] == 'd' then
    out[#out + 1] = (n > 0 and time > tonumber(arg)) and n or 0
  else
    local found = {}
    for j = 1, #arg, 3 do
      found[#found + 1] = (n > 0 and has(struct.unpack('>I3', arg, j))) and '1' or '0'
    end
    out[#out + 1] = table.concat(found)
  end
end
return out
"""
# A log's entries after a number (``Since``): its count and the last entries it keeps,
# as many as the reader is behind (all kept if fewer: LRANGE clamps), read in one step as
# ``lappend`` writes them; ``ops.since`` judges the reply. KEYS: the list, the count;
# ARGV: the number.
_SINCE = """
local count = tonumber(redis.call('GET', KEYS[2]) or '0')
local behind = count - tonumber(ARGV[1])
if behind <= 0 then return {count, {}} end
return {count, redis.call('LRANGE', KEYS[1], -behind, -1)}
"""
_HASH_KEY = "state-key:member-hash"  # under the namespace; see the module's docstring
_SINCE_PASS = "maintenance:since-pass"  # under the namespace (``RedisState.sweep_part``)


_Plans = list[tuple[Query, Any]]  # each query and what its answer needs (``_queue``)


class _HashedReads(NamedTuple):
    """A read plan's first entry when it asks hashed sets: one ``_HASHED_READ`` of these
    sets (in its KEYS' order) was queued first."""

    keys: list[str]
_RELEASE = """
for _, key in ipairs(KEYS) do
  local c = redis.call('HMGET', key, 'o', 'r')
  if c[1] == ARGV[1] and not c[2] then redis.call('DEL', key) end
end
return 1
"""


def _flat(commands: list[tuple[Any, ...]]) -> list[Any]:
    """Commands as a script's arguments: each one's length, then its words."""
    return [x for command in commands for x in (len(command), *command)]


class _Value(msgspec.Struct):
    v: Any
    e: float


_EXPIRY = struct.Struct("<d")  # a bytes value's event-time expiry, after ``RAW``
_MAX_SIDES = 28  # a member's codes in its value are under 8 bytes (``_time``)
_SIDE_HEAD = struct.Struct("<dddd")  # a side's expiry, TTL, count and oldest (``stouch``)
_SHORT_HEAD = struct.Struct("<dIII")  # ... the TTL, count and oldest as whole numbers
_DERIVED_SMALL = struct.Struct("<BI")  # a derived head's count and oldest (``_head``)
_DERIVED_HEAD = struct.Struct("<II")  # ... its count 256 or more
_DERIVED_WIDE = struct.Struct("<Id")  # ... its oldest no 4-byte number


def _time(value: bytes | None, side: int, places: int, base: bytes = b"") -> float:
    """A member's time on ``side`` of a sided record of ``places`` places (its value in
    the record's hash), or -inf if not on it. The value is a code a side, 2 bits each
    from the low ones, a byte for each four sides (of at most 28); then its distinct times,
    little-endian. Code 0: not on the side; 1: the next time, a double; 2: the same time
    as the side before (one event touches most of a member's sides: ~15 bytes a member
    where a double a side was ~28); 3: the next time in its double's low six bytes, its
    top two the time before's (in a record of at most ``_CODED`` places: ``spacked``).
    Why 3: a member's sides' times are seldom years apart, and a double's top two bytes
    (its sign, exponent and four bits more) change once in 2**26 seconds for times of
    2004-2038, so the same 16 bits were stored twice in nearly every member of two times
    (~2 bytes a member, ~20 an account's ties hash). Exact: a time is written so only
    when its top two bytes are the time before's, so reading them back gives its very
    bits. A member's *first* time of code 3 takes its top two bytes from its record's
    ``base`` (``_base``, ``sbased``; session 36's): nearly every member's first time shares
    them with the record's others, so they were stored once a member (~2 bytes a member,
    ~25 an account). No value of before has a first time of code 3 (``spacked`` wrote one
    only after a code 1), and a record is given a base only while none of its members has
    one, or when every member is rewritten (and may it change), so none reads otherwise.

    Its codes' length: a byte where ``places`` is at most ``_CODED`` (as every value of
    such a record was written), else its length mod 8 (no time there takes six). A value
    of the earlier layout (its length a multiple of 8, never so with one code byte and
    times of eight and six bytes) is a double a side up to the last the member is on,
    rewritten in this layout at the record's next touch of the member (``spacked``)."""
    if value is None:
        return -math.inf
    codes = len(value) % 8
    if not codes:
        offset = 8 * side
        return _EXPIRY.unpack_from(value, offset)[0] if len(value) > offset else -math.inf
    if places <= _CODED:
        codes = 1
    if side >= 4 * codes:
        return -math.inf
    at = found = codes  # where the time read starts
    top = base  # the top two bytes of a time of code 3
    six = False
    for r in range(side + 1):
        code = value[r >> 2] >> 2 * (r & 3) & 3
        if code == 1:
            found, six, at = at, False, at + 8
            top = value[at - 2:at]
        elif code == 3:
            found, six, at = at, True, at + 6
    if not code:
        return -math.inf
    if six:
        if len(top) != 2:  # a first time of code 3 in a record with no base: not written so
            raise StateUnavailable("a sided record's member reads a base its record lacks")
        return _EXPIRY.unpack(value[found:found + 6] + top)[0]
    return _EXPIRY.unpack_from(value, found)[0]


def _head(head: bytes, declared: float) -> tuple[float, float, float, float]:
    """A side's head (``stouch``'s ``shead_packed``): its expiry, TTL, count and a time no
    later than its oldest member's. 20 bytes where its TTL and count are whole numbers
    under 2**32 (the oldest as whole seconds before the expiry, rounded to no later than
    it: a bound is all readers take it for, and a rounded one costs at most a Distinct's
    trip or a touch's rewrite that the exact one would have spared); else, and in the
    earlier layout, the four as doubles (32). Four an account's ties: ~48 bytes.

    A derived head (session 35's, ``stouched``: the side's TTL is its ``declared`` one and
    its expiry its newest member's time plus it) is its count and that time, whole seconds
    rounded down (5 bytes, the count in one: session 37's, ~15 bytes an account where 8
    were; 8 where the count is 256 or more; 12 where the oldest is no 4-byte number: a
    double). Read with no
    expiry (infinity): a member within the TTL of now is no older than the newest, so the
    side is live wherever a member answers, and every answer reads the members' times
    (Contains, Members) or counts them past ``oldest`` (Distinct, within the TTL)."""
    if len(head) == _DERIVED_SMALL.size:
        count, floor = _DERIVED_SMALL.unpack(head)
        return math.inf, declared, count, floor
    if len(head) == _DERIVED_HEAD.size:
        count, floor = _DERIVED_HEAD.unpack(head)
        return math.inf, declared, count, floor
    if len(head) == _DERIVED_WIDE.size:
        count, oldest = _DERIVED_WIDE.unpack(head)
        return math.inf, declared, count, oldest
    if len(head) == _SIDE_HEAD.size:
        return _SIDE_HEAD.unpack(head)
    expiry, ttl, count, age = _SHORT_HEAD.unpack(head)
    return expiry, ttl, count, expiry - age


# A heads field's first byte where it starts with its record's base (``hsplit``): a head's
# length no head has (0, 5, 8, 12, 20 or 32), then the base's two bytes.
_BASED = 2
# After a sided keyspace's declared TTLs in the store (``RedisState._check_ttls``): its
# records may hold bases (``_BASED``). A byte past the doubles, so a node of session 35's
# release, which reads the value as doubles only, refuses the store rather than misread it.
_BASES = bytes((_BASED,))
# ... and after it: the hosts' lodged values and guests have fields of one byte and a name
# (``lodged_field``, ``_guest_field``; session 37's). A node of session 36's release, which
# takes off ``_BASES`` alone and reads the rest as doubles, refuses the store: it would
# read every lodged value and guest as never written (and write fields no read asks).
_NAMES = bytes((3,))
# ... and after it: hashed sets in session 38's layout (``hashed.py``: Elias-Fano lists, the
# time's sign bit clear). A node of session 37's release takes off ``_BASES + _NAMES``
# alone and reads the rest as doubles, so it refuses the store: its scripts would read
# every such set as the first layout's and convert it into another set (``converted``).
_ELIAS = bytes((4,))


def _base(heads: bytes | None) -> bytes:
    """The base of a record's members' first times (``_time``) from its heads field
    (``hsplit``), empty where it has none (a record of before)."""
    return heads[1:3] if heads and heads[0] == _BASED else b""


def _side_head(heads: bytes | None, side: int) -> bytes | None:
    """A side's head from its record's heads (``sheads``: its base if any, then each side's
    length, a byte, and its head, in the keyspace's order), None for a side never touched.
    One field where a field a side cost ~6 bytes of name and framing each (~16 an
    account's ties)."""
    at = 3 if heads and heads[0] == _BASED else 0
    for _ in range(side):
        if heads is None or at >= len(heads):
            return None
        at += 1 + heads[at]
    if heads is None or at >= len(heads) or not heads[at]:
        return None
    return heads[at + 1:at + 1 + heads[at]]


# The least first byte of a hash's field that is no member's: a member's name is UTF-8
# (surrogatepass), whose bytes never reach 0xF5, and a head's (``_EXPIRES``), a lodged
# value's (``_LODGED_BYTES``) and a guest's (``_GUEST``) fields all start at or above it,
# so every listing of a record's members leaves them out by their first byte (the Lua
# ``is_member``).
_FIRST_NAMED = 0xF5
# A lodged guest's field in its host's hash (``ops.guest_keyspace``, ``ppack``): this byte
# and its name (which has no ":": ``ops.guest_key`` escapes it), one byte where session
# 36's release wrote ``_GUESTS_BEFORE`` (converted at open: ``_convert_names``). Lodged as
# a field a member (``gfields``; the layout where the server keeps fewer bytes compact),
# a guest's fields are behind its prefix (``_guest_prefix``: ``_GUESTS_BEFORE``, its name
# and ":"), then a member's name, or "\xff" for its heads.
_GUEST = b"\xfe"
_GUESTS_BEFORE = b"\xff\xfe"


def _guest_prefix(name: str) -> bytes:
    return _GUESTS_BEFORE + name.encode("utf-8", "surrogatepass") + b":"


def _guest_field(prefix: bytes) -> bytes:
    """A lodged guest's one field (``ppack``) from its prefix (``_guest_prefix``), as the
    Lua ``gfield`` makes it."""
    return _GUEST + prefix[len(_GUESTS_BEFORE):-1]


def _guest_spec(space: Sided) -> bytes:
    """The declared TTL of each place of the guests a record of ``space`` may hold in its
    hash (its own, for a guest keyspace's: ``gfields`` lodges it in its host's; else the
    keyspace it hosts, ``ops.guest_keyspace``), a double each, 0 for a retired place or
    none declared; empty for none. ``spurge`` reads a derived head's expiry with it."""
    guests = guest_prefixes()
    if space.prefix in guests:
        guest: Sided | None = space
    else:
        guest = next((sided_space(prefix) for prefix, host in guests.items()
                      if host == space.prefix), None)
    if guest is None:
        return b""
    live = iter(guest.ttls)
    return b"".join(_EXPIRY.pack(0.0 if place in guest.retired else next(live))
                    for place in range(guest.slots()))


_PACKED_HEADS = struct.Struct("<H")  # a lodged guest's heads field's length (``ppack``)


def _unpacked(blob: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """A lodged guest's field (``ppack``): its heads field and its members (name -> value,
    as a record's own fields hold them). At most ``ops.LODGED_NAMES`` members."""
    edge = _PACKED_HEADS.size + _PACKED_HEADS.unpack_from(blob)[0]
    members, at, size = {}, edge, len(blob)
    while at < size:
        n = blob[at]
        m = blob[at + 1 + n]
        members[blob[at + 1:at + 1 + n]] = blob[at + 2 + n:at + 2 + n + m]
        at += 2 + n + m
    return blob[_PACKED_HEADS.size:edge], members


# A lodged value's field in its host record's hash (``ops.lodged_keyspace``): one byte a
# keyspace's field name, from ``_FIRST_NAMED`` up (so never a member's name) and none a
# head's (``_EXPIRES``) nor a guest's (``_GUEST``) first byte. Part of the stored layout:
# never change one. Session 36's release wrote ``_LODGED_BEFORE`` and the name (2-4 bytes:
# ~5 an account's ties more; converted at open, ``_convert_names``), as a keyspace given
# no byte here still is (one a test declares: its name's bytes keep it apart).
_LODGED_BYTES = {"": 0xF5, "t": 0xF6, "c": 0xF7, "cv": 0xF8}
_LODGED_BEFORE = _EXPIRES * 2
# Redis's default hash-max-listpack-value: the longest field a hash keeps compact when
# CONFIG does not say (``RedisState._compact_limit``).
_LISTPACK_DEFAULT = 64
_ENTRIES_DEFAULT = 512  # ... and hash-max-listpack-entries (``RedisState._lodged_limit``)
# The most fields a host's hash holds with a guest lodged in it (``gtouch``), the host's own
# record's included: a whole rewrite of the host reads every field (``stouch``), so what
# its guests add to it is bounded by this, whatever they send (an account's ties, ~20
# fields, and a few sessions of up to ``ops.LODGED_NAMES``; an ordinary account has 0.44).
_LODGED_FIELDS = 128
# The hash-max-listpack-value at which what an account keeps fits its ties hash: its
# takeover record (~270 bytes, more for an account of many sessions) and a contact list
# of up to ~470 people (~2.1 bytes each in ``hashed.py``'s layout, ~330 at 3 before session
# 38); below it, they keep keys of their
# own: 1,586 bytes an account in Redis where 1,417 at this value (``benchmarks/memory.py``).
RECOMMENDED_LISTPACK_VALUE = 1_024


def lodged_field(name: str) -> bytes:
    """The field a lodged keyspace named ``name`` (``ops.lodged_keyspace``) has in its host."""
    byte = _LODGED_BYTES.get(name)
    return _LODGED_BEFORE + name.encode() if byte is None else bytes((byte,))


_NAMED = bytes((_FIRST_NAMED,))  # (``_own``: a name whose first byte is below it is a member)


def _own(fields: dict[bytes, bytes], prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    """A sided record's members (name, value) among its hash's ``fields``: those behind
    its ``prefix`` (a guest's, less it), or for a record of its own those that are no
    head, lodged value or guest (their first byte is never UTF-8's)."""
    if not prefix:
        return ((name, value) for name, value in fields.items() if name[:1] < _NAMED)
    heads, cut = prefix + _EXPIRES, len(prefix)
    return ((name[cut:], value) for name, value in fields.items()
            if name.startswith(prefix) and name != heads)


def _log_count(key: str) -> str:
    """The key of a log's count, beside its list (a character no other key has after it)."""
    return key + "\x00count"


class _Side(NamedTuple):
    """A read plan's note for a query of a sided record: the side's index, the record's
    number of places (``ops.slot_of``: how its members' values are read, ``_time``), and
    where it may be, each place asked in this order: a hash's key and the record's
    fields' prefix there (a guest's, ``_guest_prefix``; empty for a record of its own). A
    guest's record is its own key's, if it has one (moved there: ``gtouch``), else lodged
    in its host's."""

    side: int
    slots: int
    places: tuple[tuple[str | bytes, bytes], ...]
    declared: float  # the side's declared TTL (``ops.Sided.ttls``): a derived head's


# Redis's own EXPIRE counts wall-clock seconds: a node or a replay running behind event
# time (a backlog, a slow disk, a log replayed slower than it happened) would lose a key
# before its event-time expiry and judge differently from a run that kept up. The
# safety net therefore outlasts the event-time TTL by this much lag: the lateness every
# backend's sweep keeps state for (``ops.sweep_horizon``), the one bound of both.
_EXPIRE_SLACK = MAX_LATENESS


def _seconds(ttl: float) -> int:
    """Wall-clock seconds for Redis's EXPIRE of a key whose event-time TTL is ``ttl``."""
    return max(1, math.ceil(ttl + _EXPIRE_SLACK))


def _stored(put: Put, now: float) -> bytes:
    """A value as Redis keeps it, with its event-time expiry (the module's table)."""
    if put.value.__class__ is bytes:
        return RAW + _EXPIRY.pack(now + put.ttl) + put.value
    return b'{"v":' + encode_value(put.value) + b',"e":' + repr(
        float(now + put.ttl)).encode() + b"}"


def _lodged_commands(key: str, host: str, field: bytes, body: bytes | None, ttl: float,
                     limit: int) -> list[tuple[Any, ...]]:
    """A lodged value's or hashed set's write of ``body`` (None: its deletion), as stored
    (``ops.lodged_keyspace``): a field of its host record's hash while no longer than
    ``limit`` (the host's compact encoding's), else a key of its own (``hstore``, the one
    rule for a value and a set touched in Lua); either way the other place is cleared, so
    a read finds it in one (its own key, left by a node of the earlier release, is moved
    at its next write: no scan)."""
    if body is None:
        return [("HDEL", host, field), ("DEL", key)]
    return [("sg.hstore", key, host, field, limit, body, _seconds(ttl))]


def _zadd(key: str, flags: tuple[str, ...], members: Sequence[str], now: float,
          marks: tuple[tuple[float, bytes], ...]) -> list[tuple[Any, ...]]:
    """ZADD of every member at ``now``, and of the set's markers at their scores (so they
    are there before a cap counts ranks), in chunks a Lua script can unpack."""
    stamp, unique = repr(float(now)), list(dict.fromkeys(members))
    head = [x for score, mark in marks for x in (repr(float(score)), mark)]
    return [("ZADD", key, *flags, *(head if i == 0 else ()),
             *(x for m in unique[i:i + _CHUNK] for x in (stamp, m)))
            for i in range(0, max(len(unique), 1), _CHUNK)]


def _after(since: float) -> str:
    """ZCOUNT's lower bound for the members touched after ``since``: never the TTL marker
    (below every event time), so a count less one, the expiry marker, is the members'."""
    return f"({since!r}" if since >= 0 else "0"


def _trimmed(key: str, ttl: float, cap: int, cutoff: float) -> list[tuple[Any, ...]]:
    """After a touch added its members and moved the expiry: the TTL marker set (it may
    move down, so not in the touch's ZADD GT), then the members at or before ``cutoff``,
    then the stalest beyond ``cap`` dropped (ranks 1 to -cap-2: all but the markers')."""
    floor = repr(-float(ttl))
    return [("ZADD", key, floor, _TTL),
            ("ZREMRANGEBYSCORE", key, f"({floor}", repr(float(cutoff))),
            ("ZREMRANGEBYRANK", key, 1, -cap - 2)]


class RedisState:
    def __init__(self, url: str = "redis://127.0.0.1:6379/0", namespace: str = "spimguard:",
                 client: redis.Redis | None = None) -> None:
        self.ns = namespace
        self.owner = secrets.token_hex(8)  # this process, as the holder of claims
        # Raw values that the last claimed read saw, by key: its writes apply only if
        # unchanged.
        self._seen: dict[str, bytes] = {}
        self._unsettled: list[str] = []  # claim keys whose records have committed
        try:
            self._redis = client or redis.Redis.from_url(url, socket_timeout=5,
                                                         socket_connect_timeout=5)
            self._redis.ping()
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot reach Redis at {url}: {exc}") from exc
        self._refuse_evicting_all_keys()
        self._compact, self._lodged = self._compact_limit(), self._lodged_limit()
        # A guest lodges in one field where a session of LODGED_NAMES ordinary names fits
        # one (``gpacked``), else a field a member (``gfields``).
        self._packs = int(self._compact >= RECOMMENDED_LISTPACK_VALUE)
        self._claim = self._redis.register_script(_CLAIM)
        self._commit = self._redis.register_script(_COMMIT)
        self._apply = self._redis.register_script(_APPLY)
        self._read_hashed = self._redis.register_script(_HASHED_READ)
        self._since = self._redis.register_script(_SINCE)
        self._convert_indexed()
        self._hash_name, self._hash_key = self._k(_HASH_KEY), hashed.new_key()
        self._hasher = hashed.Hasher(self._hash_key)
        self._adopt(None)
        self._convert_hashed()
        self._convert_heads()
        self._convert_sided()
        self._convert_guests()
        self._convert_renamed()
        self._check_ttls()
        self._convert_names()

    def _check_ttls(self) -> None:
        """Each sided keyspace's declared TTLs as the store first held them (a key each,
        ``sided-ttls:<prefix>`` under the namespace, no EXPIRE: SET NX by the first node of
        this release to open it), as SQLite's file does (``SQLiteState._check_ttls``): a
        derived head (``stouched``) holds no expiry nor TTL, so a node declaring others
        refuses the store (``StateUnavailable``) rather than read its records with them.
        The value ends in ``_BASES``, ``_NAMES`` and ``_ELIAS`` once a node of this release
        opened the store: a node of session 35's, 36's or 37's release opening it after
        refuses it (its check reads no whole number of doubles: a ValueError, or other
        TTLs), where it would misread the records' bases (``hsplit``) and their members'
        first times (``_time``), miss the hosts' lodged values and guests
        (``_convert_names``), or misread the hashed sets (``_ELIAS``). Set before the names
        are converted and before any write, so no such node starts while they are."""
        marks = _BASES + _NAMES + _ELIAS
        try:
            for space in sided_keyspaces():
                name, packed = self._k(f"sided-ttls:{space.prefix}"), sided.packed_ttls(space.ttls)
                self._redis.set(name, packed + marks, nx=True)
                held: bytes = self._redis.get(name)  # type: ignore[assignment]  # redis-py's stubs: bytes | str; no reply is decoded here
                if held in (packed, packed + _BASES, packed + _BASES + _NAMES):
                    # session 35's, 36's or 37's: ours from here on
                    self._redis.set(name, held := packed + marks)
                sided.check_ttls(space.prefix, space.ttls, held.removesuffix(marks),
                                 "Redis store")
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot check the sided keyspaces' TTLs: {exc}") from exc

    def _convert_names(self) -> None:
        """Rename each host's lodged values' and guests' fields of session 36's release
        (two bytes and a name) to this release's (a byte and a name: ``lodged_field``,
        ``_guest_field``), ~6 bytes an account's ties (``_CONVERT_NAMES``), a chunk of a
        SCAN at a time, a key a host keyspace marking it done (``_convert_hashed``): so
        reads and writes ask one name, never both. After ``_check_ttls``, whose mark
        refuses a node of that release from then on."""
        convert = self._redis.register_script(_CONVERT_NAMES)
        lodged = [place for _, place in lodged_keyspaces()]
        renamed = [x for place in lodged if place.field in _LODGED_BYTES
                   for x in (_LODGED_BEFORE + place.field.encode(), lodged_field(place.field))]
        hosts = {f"names:{host}": host
                 for host in {place.host for place in lodged} | set(guest_prefixes().values())}
        try:
            for done in self._unconverted(tuple(sorted(hosts))):
                for chunk in self._sorted_sets(hosts[done], "hash"):
                    convert(keys=chunk, args=renamed)
                self._redis.set(self._converted(done), 1)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot rename the hosts' lodged fields: {exc}") from exc

    def _k(self, key: str) -> str:
        return self.ns + key

    def _converted(self, prefix: str) -> str:
        """The key marking the keyspace ``prefix`` converted (``_unconverted``)."""
        return self._k(f"{_HASH_KEY}:converted:{prefix}")

    def _unconverted(self, prefixes: Sequence[str]) -> list[str]:
        """The keyspaces of ``prefixes`` that no node has converted yet: later nodes open
        without scanning the store."""
        return [p for p in prefixes if not self._redis.exists(self._converted(p))]

    def _sorted_sets(self, prefix: str, kind: str = "zset") -> Iterator[list[bytes]]:
        """The sorted sets (or keys of another ``kind``) whose keys start with ``prefix``
        (under the namespace), a chunk of a SCAN at a time: what the conversions of
        earlier layouts go through."""
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in self._k(prefix)) + "*"
        found = self._redis.scan_iter(match=pattern, count=_CONVERT_CHUNK, _type=kind)
        while chunk := list(islice(found, _CONVERT_CHUNK)):
            yield chunk

    def _refuse_evicting_all_keys(self) -> None:
        """Refuse a Redis whose memory policy may evict keys without a TTL: the member
        hash key has none, and a store that lost it but not the contact lists it explains
        would read every contact as a stranger. A Redis that hides CONFIG (a managed one)
        is taken at its word: its operator read the upgrade notes."""
        try:
            reply = self._redis.config_get("maxmemory-policy")
        except redis.ResponseError:
            return
        policy = next(iter(reply.values()), b"") if reply else b""
        policy = policy.decode() if isinstance(policy, bytes) else str(policy)
        if policy.startswith("allkeys-"):
            raise StateUnavailable(
                f"Redis's maxmemory-policy is {policy}: it may evict keys that have no TTL "
                "(the member hash key): use noeviction or a volatile-* policy")

    def _compact_limit(self) -> int:
        """The longest field a hash keeps in its compact (listpack) encoding, Redis's
        hash-max-listpack-value (asked by its older name, which Redis 6 and 7 both
        answer): a lodged value or set longer than it keeps a key of its own, as a field
        past it would turn its host's whole hash into a hashtable (twice the size).

        Read, never set: the setting is the server's, shared with whatever else uses it,
        and a managed Redis refuses CONFIG. So the operator sets it (redis.conf, or the
        provider's console), warned here if it is below ``RECOMMENDED_LISTPACK_VALUE``;
        answers never depend on it, only the memory an account takes. A Redis that hides
        CONFIG is taken at Redis's default, which keeps every hash compact whatever the
        server's value is."""
        found = self._config("hash-max-ziplist-value")
        limit = int(found) if found is not None else _LISTPACK_DEFAULT
        if limit < RECOMMENDED_LISTPACK_VALUE:
            log.warning(
                "Redis's hash-max-listpack-value is %s%s: an account's takeover record and "
                "contact list keep keys of their own (~170 bytes an account more); set it to "
                "%d in redis.conf (or CONFIG SET) for the compact layout", limit,
                "" if found is not None else " (CONFIG hidden: taken at Redis's default)",
                RECOMMENDED_LISTPACK_VALUE)
        return limit

    def _config(self, name: str) -> Any:
        """A server setting (CONFIG GET), None if Redis hides CONFIG (a managed one)."""
        try:
            reply = self._redis.config_get(name)
        except redis.ResponseError:
            return None
        return next(iter(reply.values()), None) if reply else None

    def _lodged_limit(self) -> int:
        """The most fields a host's hash holds with a guest lodged in it (``gtouch``):
        ``_LODGED_FIELDS``, or fewer if the server keeps fewer compact (its
        hash-max-listpack-entries, by its older name as ``_compact_limit``; Redis's
        default if CONFIG is hidden)."""
        found = self._config("hash-max-ziplist-entries")
        return min(_LODGED_FIELDS, int(found) if found is not None else _ENTRIES_DEFAULT)

    def _convert_indexed(self) -> None:
        """Give the member sets of the earlier layout (expiry in ``<ns>expiry``, TTL in
        ``<ns>ttl``) their markers, a chunk at a time, each chunk then struck from both:
        resumable, and safe beside nodes already writing markers (the expiry only moves
        forward, a TTL marker already there stays). A set without a TTL field predates
        it: nothing in it is past a TTL (``-inf``), as before."""
        index, ttls = f"{self.ns}expiry", f"{self.ns}ttl"
        convert = self._redis.register_script(_CONVERT)
        try:
            while chunk := self._redis.zrange(index, 0, _CONVERT_CHUNK - 1, withscores=True):
                # (redis-py's stubs type the reply loosely: (member, score) pairs with scores)
                keys = [key for key, _ in chunk]  # type: ignore[str-unpack]
                floors = [b"-inf" if ttl is None else repr(-float(ttl)).encode()
                          for ttl in self._redis.hmget(ttls, keys)]
                convert(keys=keys, args=[x for (_, expiry), floor in zip(  # type: ignore[arg-type,str-unpack]
                    chunk, floors, strict=True) for x in (repr(expiry), floor)])
                self._redis.zrem(index, *keys)
                self._redis.hdel(ttls, *keys)
            self._redis.delete(ttls)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot convert the member sets' layout: {exc}") from exc

    def _adopt(self, stored: bytes | None) -> None:
        """Hash with the store's key, ``stored`` as a read saw it: ours if it has none
        (a new store, or a Redis restarted empty: the first node to ask sets it)."""
        if stored == self._hash_key:
            return
        try:
            if stored is None:
                self._redis.set(self._hash_name, self._hash_key, nx=True)
                stored = self._redis.get(self._hash_name)  # type: ignore[assignment]  # redis-py's stubs: bytes | str; no reply is decoded here
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot read the member hash key: {exc}") from exc
        assert stored is not None
        self._hash_key, self._hasher = stored, hashed.Hasher(stored)

    def _convert_hashed(self) -> None:
        """Give the sorted sets of hashed keyspaces (written by nodes of the earlier
        release) their packed values, a chunk of a SCAN at a time: each member still alive
        at the set's newest touch is kept, at that time (as ``sqlite`` converts). A key
        per keyspace marks it done, so later nodes open without scanning the store."""
        convert = self._redis.register_script(_CONVERT_HASHED)
        try:
            for prefix in self._unconverted(hashed_prefixes()):
                for chunk in self._sorted_sets(prefix):
                    pipe = self._redis.pipeline(transaction=False)
                    for key in chunk:
                        pipe.zrange(key, 0, -1, withscores=True)
                    convert(keys=chunk, args=[self._from_sorted_set(dict(pairs))
                                              for pairs in pipe.execute()])
                self._redis.set(self._converted(prefix), 1)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot convert the hashed sets' layout: {exc}") from exc

    def _convert_sided(self) -> None:
        """Move the sorted sets each side of a sided keyspace was kept in (by nodes of the
        earlier release) into that side of their records, a chunk of a SCAN at a time, in
        a script that merges what nodes of this release wrote meanwhile
        (``_CONVERT_SIDED``); then mark the keyspace done, as ``_convert_hashed`` does.
        Done when a node opens the store: a node of the earlier release still running
        writes sets that nobody reads any more."""
        convert = self._redis.register_script(_CONVERT_SIDED)
        spaces = {space.prefix: space for space in sided_keyspaces()}
        if any(space.slots() > _MAX_SIDES for space in spaces.values()):
            raise ValueError(f"a sided record in Redis has at most {_MAX_SIDES} sides (``_time``)")
        try:
            for prefix in self._unconverted(tuple(spaces)):
                space = spaces[prefix]
                for side, former in enumerate(space.formerly):
                    if former:
                        self._move_sets(convert, former, prefix.__add__, space, side)
                self._redis.set(self._converted(prefix), 1)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot convert sets into sided records: {exc}") from exc

    def _convert_renamed(self) -> None:
        """Move the sorted sets an earlier release kept where a sided record's side is now,
        at a key not their prefix swapped (``ops.renamed_sets``: the takeover detector's
        pitch sets, guests of the account's ties since session 36), into that side of their
        records as ``_convert_sided`` does; each a record of its own key (a guest's is read
        there before its host's field, and moves in no more: it lives a session's life at
        most), a key marking the prefix done. After ``_convert_guests``: a guest keyspace's
        marker is set on a store that had none of its records."""
        convert = self._redis.register_script(_CONVERT_SIDED)
        renamed = {f"renamed:{former}": (former, *place)
                   for former, place in renamed_keyspaces().items()}
        try:
            for done in self._unconverted(tuple(renamed)):
                former, into, side_name = renamed[done]
                space, side = side_space(side_name)
                self._move_sets(convert, former, into, space, side)
                self._redis.set(self._converted(done), 1)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot convert sets into sided records: {exc}") from exc

    def _move_sets(self, convert: Any, former: str, into: Callable[[str], str | None],
                   space: Sided, side: int) -> None:
        """The sorted sets at ``former`` moved into ``side`` of the records at ``into`` of
        their keys' parts past it (``_CONVERT_SIDED``: members, times, expiry and TTL as
        they were); one whose part ``into`` maps to None deleted."""
        cut = len(self._k(former))
        for chunk in self._sorted_sets(former):
            moved = [(old, into(old.decode("utf-8", "surrogatepass")[cut:])) for old in chunk]
            if dropped := [old for old, key in moved if key is None]:
                self._redis.delete(*dropped)
            keys = [k for old, key in moved if key is not None for k in (old, self._k(key))]
            if keys:
                convert(keys=keys, args=[space.slot(side), space.slots(),
                                         repr(space.ttls[side])])

    def _convert_heads(self) -> None:
        """Merge each sided record's heads of the earlier layout (a field a side) into its
        one heads field (``_CONVERT_HEADS``), a chunk of a SCAN at a time, a key per
        keyspace marking it done (``_convert_hashed``). Nodes of the earlier release read
        a field a side: this layout is a one-way upgrade (README, "Upgrading")."""
        convert = self._redis.register_script(_CONVERT_HEADS)
        spaces = {f"heads:{space.prefix}": space for space in sided_keyspaces()}
        try:
            for done in self._unconverted(tuple(spaces)):
                space = spaces[done]
                for chunk in self._sorted_sets(space.prefix, "hash"):
                    convert(keys=chunk, args=[space.slots()])
                self._redis.set(self._converted(done), 1)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot convert the sided records' heads: {exc}") from exc

    def _convert_guests(self) -> None:
        """Move a guest keyspace's records kept as keys of their own into their hosts'
        hashes (``_CONVERT_GUESTS``), as ``_convert_heads`` goes (after it: a record's
        heads move as one field). A key whose split names no host (no ":" past its
        prefix) stays a key of its own, where this release reads it."""
        convert = self._redis.register_script(_CONVERT_GUESTS)
        spaces = {f"guests:{prefix}": prefix for prefix in guest_prefixes()}
        try:
            for done in self._unconverted(tuple(spaces)):
                for chunk in self._sorted_sets(spaces[done], "hash"):
                    moving = [(key, place) for key in chunk
                              if (place := self._sided_at(key.decode(
                                  "utf-8", "surrogatepass")[len(self.ns):]))[1]]
                    if moving:
                        convert(keys=[k for key, (host, _) in moving for k in (key, host)],
                                args=[self._lodged, *(pre for _, (_, pre) in moving)])
                self._redis.set(self._converted(done), 1)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot move records into their hosts: {exc}") from exc

    def _from_sorted_set(self, scores: dict[bytes, float]) -> bytes:
        """A sorted set of the names layout, markers and all, as a hashed set's value."""
        expiry, floor = scores.pop(_EXPIRES, None), scores.pop(_TTL, None)
        if expiry is None:  # no expiry: it reads as empty
            return b""
        time = max(scores.values(), default=expiry)
        ttl = expiry - time if floor is None else -floor
        return hashed.pack(time, ttl, (self._hasher.digest(m.decode()) for m, ts in
                                       scores.items() if ts > time - ttl))

    # -- reads -------------------------------------------------------------------------
    def read(self, queries: Sequence[Query], now: float,
             seen: dict[str, bytes] | None = None) -> list[Any]:
        """Answers in order; a ``Tally`` or ``Gets`` as its parts' (``ops.split``), in the
        trip. The values read go in ``seen`` if given (``read_claimed``)."""
        flat = split(queries)
        try:
            plans, replies = self._pipelined(lambda pipe: self._queue(pipe, flat, now))
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc
        return joined(queries, self._answers(plans, replies, now, seen))

    def _pipelined(self, queue: Callable[[Any], _Plans]) -> tuple[_Plans, Iterator[Any]]:
        """One round trip of what ``queue`` puts in a pipeline, sent again once if Redis
        lacks a script (a new or restarted Redis): scripts go by EVALSHA, as a pipelined
        Script object would first ask Redis whether it exists, a trip each time."""
        pipe = self._redis.pipeline(transaction=False)
        plans = queue(pipe)
        try:
            return plans, iter(pipe.execute())
        except redis.exceptions.NoScriptError:
            for script in (self._claim, self._read_hashed, self._since):
                script.sha = self._redis.script_load(script.script)
            pipe = self._redis.pipeline(transaction=False)
            plans = queue(pipe)
            return plans, iter(pipe.execute())

    def _answers(self, plans: list[tuple[Query, Any]], replies: Any, now: float,
                 seen: dict[str, bytes] | None = None) -> list[Any]:
        answers: Iterator[Any] = iter(())
        if plans and isinstance(plans[0][1], _HashedReads):
            asked = [query for query, extra in plans if extra == "hashed"]
            answers = self._hashed_answers(plans[0][1].keys, asked, next(replies), now)
            plans = plans[1:]
        return [next(answers) if extra == "hashed"
                else self._answer(query, extra, replies, now, seen) for query, extra in plans]

    def _hashed_answers(self, keys: list[str], queries: list[Query], reply: list[Any],
                        now: float) -> Iterator[Any]:
        """The answers of a ``_HASHED_READ``; if the store's key was not ours, it sent
        the sets instead: the node adopts the key and answers from them."""
        if reply[0] == 1:
            return (tuple(c == ord("1") for c in answer) if isinstance(query, Contains)
                    else int(answer) for query, answer in zip(queries, reply[1:], strict=True))
        self._adopt(reply[1])
        # As read: a set of the earlier layout is converted here, in Redis at the next read.
        blobs = {key: blob and hashed.current(blob)
                 for key, blob in zip(keys, reply[2:], strict=True)}
        # Each a Contains or a Distinct of a hashed set (``_queue`` plans no other so).
        return (hashed.answer(query, blobs[query.key], self._hasher, now)  # type: ignore[arg-type]
                for query in queries)

    def _queue(self, pipe: Any, queries: Sequence[Query], now: float) -> list[tuple[Query, Any]]:
        plans: list[tuple[Query, Any]] = []
        asked = [q for q in queries if isinstance(q, Distinct | Contains) and is_hashed(q.key)]
        if asked:
            # One script answers them all, each set read once however many queries ask
            # it (a message asks its sender's contacts three times).
            keys = list(dict.fromkeys(q.key for q in asked))
            at = {key: i for i, key in enumerate(keys, 1)}
            places = [self._hashed_place(key) for key in keys]
            args: list[Any] = [self._hash_key, now, len(keys), *(f for _, f in places)]
            for q in asked:
                if isinstance(q, Distinct):
                    args += [at[q.key], "d", now - q.window]
                else:
                    args += [at[q.key], "c",
                             hashed.packed([self._hasher.digest(m) for m in q.members])]
            pipe.evalsha(self._read_hashed.sha, 1 + 2 * len(keys), self._hash_name,
                         *(k for key, (host, _) in zip(keys, places, strict=True)
                           for k in (self._k(key), host)), *args)
            plans.append((queries[0], _HashedReads(keys)))
        for query in queries:
            key = self._k(query.key)
            if isinstance(query, Distinct | Contains | Members | LastTouch) and query.side:
                side, slots, _ = slot_of(query.key, query.side)
                space, index = side_space(query.side)
                held, pre = self._sided_at(query.key)
                sited = ((self._own_key(query.key), b""), (held, pre)) if pre else (
                    (held, pre),)
                for where, fix in sited:
                    # A lodged guest's one field (``ppack``) first, then the fields an
                    # earlier release lodged it in, behind its prefix (``gearlier``).
                    packed = [_guest_field(fix)] if fix else []
                    if isinstance(query, Contains):
                        pipe.hmget(where, [*packed, fix + _EXPIRES, *(  # as a touch wrote them
                            fix + m.encode("utf-8", "surrogatepass") for m in query.members)])
                    elif isinstance(query, LastTouch):
                        pipe.hmget(where, [*packed, fix + _EXPIRES, fix + query.member.encode(
                            "utf-8", "surrogatepass")])
                    elif isinstance(query, Distinct):
                        pipe.hmget(where, [*packed, fix + _EXPIRES])
                    else:
                        pipe.hgetall(where)
                plans.append((query, _Side(side, slots, sited, space.ttls[index])))
            elif isinstance(query, Since):
                # A log: its list, and its count beside it (``_log_count``).
                if query.after is None:
                    pipe.get(self._k(_log_count(query.key)))
                else:
                    pipe.evalsha(self._since.sha, 2, key, self._k(_log_count(query.key)),
                                 query.after)
                plans.append((query, None))
            elif isinstance(query, Count):
                first, last = bucket_range(query, now)
                # A window shorter than its bucket (a setting: ``rate_window`` under
                # velocity's 10 s, ``burst_window`` under ``burst_bucket``) covers no bucket
                # while ``now`` and ``now - window`` share one: no field to name, and an
                # HMGET of none is an error that failed the whole read (the memory answers
                # 0). Read as the whole hash, as a long window is: none counted.
                if 0 <= last - first < _MAX_BUCKETS:
                    fields = list(range(first, last + 1))
                    pipe.hmget(key, fields)
                    plans.append((query, None))
                else:
                    pipe.hgetall(key)
                    plans.append((query, (first, last)))
            elif isinstance(query, Distinct | Contains) and is_hashed(query.key):
                plans.append((query, "hashed"))  # answered from ``_HashedReads``
            elif isinstance(query, Distinct | Contains | Members | LastTouch) and is_sided(
                    query.key):
                raise TypeError(f"{query.key!r} is a sided record: name the side asked")
            elif isinstance(query, Distinct):
                pipe.zcount(key, _after(now - query.window), "+inf")
                pipe.zrange(key, 1, 1, withscores=True)  # the oldest: is any past the TTL?
                pipe.zmscore(key, [_EXPIRES, _TTL])
                plans.append((query, None))
            elif isinstance(query, Contains):
                pipe.zmscore(key, [_EXPIRES, _TTL, *query.members])
                plans.append((query, None))
            elif isinstance(query, Members):
                hashed.listable(query.key)
                pipe.zrange(key, 0, -1, withscores=True)
                plans.append((query, None))
            elif isinstance(query, LastTouch):
                hashed.listable(query.key)  # a hashed set's members have no times of their own
                pipe.zmscore(key, [_EXPIRES, _TTL, query.member])
                plans.append((query, None))
            elif (place := self._lodged_at(query.key)) is not None:
                # In its host's hash, or (larger, or not written since the upgrade) its own key.
                pipe.hget(*place)
                pipe.get(key)
                plans.append((query, "lodged"))
            else:
                pipe.get(key)
                plans.append((query, None))
        return plans

    def _answer(self, query: Query, extra: Any, replies: Any, now: float,
                seen: dict[str, bytes] | None = None) -> Any:
        reply = next(replies)
        if isinstance(extra, _Side):
            found = [reply, *(next(replies) for _ in extra.places[1:])]
            return self._sided_answer(query, extra, found, now)
        if isinstance(query, Since):
            if query.after is None:
                return int(reply or 0), ()
            count, kept = reply
            return since(query, int(count), [e.decode("utf-8", "surrogatepass") for e in kept])
        if isinstance(query, Count):
            if extra is None:
                return float(sum(float(v) for v in reply if v is not None))
            first, last = extra
            return float(sum(float(v) for f, v in reply.items() if first <= int(f) <= last))
        if isinstance(query, Distinct | Contains | Members):
            if isinstance(query, Members):
                marks = dict(reply)
                expiry, ttl = marks.get(_EXPIRES), marks.get(_TTL)
            elif isinstance(query, Contains):
                expiry, ttl, *reply = reply
            else:
                oldest, (expiry, ttl) = next(replies), next(replies)
            if expiry is None or expiry <= now:  # past its event-time expiry, or none
                if isinstance(query, Distinct):
                    return 0
                return (False,) * len(reply) if isinstance(query, Contains) else ()
            # Members touched at or before the cutoff are past the set's TTL: gone in
            # event time, whether or not a touch has removed them yet.
            # The TTL marker holds minus the TTL (none yet: a pipeline half applied).
            cutoff = now + ttl if ttl is not None else -math.inf
            if isinstance(query, Distinct):
                if cutoff > now - query.window and oldest and oldest[0][1] <= cutoff:
                    # A window longer than the TTL, and members past it not removed yet.
                    return self._count_since(query.key, cutoff)
                return int(reply) - 1  # the expiry marker is in every window
            if isinstance(query, Members):
                return tuple(m.decode() for m, ts in reply
                             if ts > cutoff and m not in (_EXPIRES, _TTL))
            return tuple(score is not None and score > cutoff for score in reply)
        if isinstance(query, LastTouch):
            expiry, ttl, score = reply
            if expiry is None or expiry <= now or score is None or (
                    ttl is not None and score <= now + ttl):  # the marker: minus the TTL
                return None
            return score if within(score, query.window, now) else None
        if extra == "lodged":
            own = next(replies)
            # Its own key first: both are there only if a node of the earlier release
            # wrote the key after the field (a write of either clears the other).
            reply = reply if own is None else own
        if seen is not None:
            seen[query.key] = reply or b""
        if reply is None:
            return None
        if reply[:1] == RAW:
            return reply[9:] if _EXPIRY.unpack_from(reply, 1)[0] > now else None
        value = msgspec.json.decode(reply, type=_Value)
        return value.v if value.e > now else None

    def _sided_answer(self, query: Query, plan: _Side, found: list[Any], now: float) -> Any:
        """A query of a sided record's side, from its HMGET or HGETALL of each place it may
        be (``_Side``): the first that holds it (none: the last, empty). A lodged guest's
        place holds it in its one field (``ppack``: read whole, every member known) or, as
        an earlier release lodged it, in fields behind its prefix (its heads field)."""
        side, slots, places, declared = plan
        members: dict[bytes, bytes] | None = None  # the record's members, where read whole
        for place, reply in zip(places, found, strict=True):
            held, pre = place
            packed = None
            if pre:
                packed = reply.get(_guest_field(pre)) if isinstance(query, Members) else (
                    reply.pop(0))
            if packed is not None:
                heads, members = _unpacked(packed)
                break
            if isinstance(query, Members):
                heads = reply.get(pre + _EXPIRES)
            else:
                heads, *reply = reply
            if heads is not None:
                break
        head, base = _side_head(heads, side), _base(heads)
        expiry, ttl, count, oldest = _head(head, declared) if head else (0.0, 0.0, 0, 0.0)
        live = expiry > now
        if isinstance(query, Contains):
            cutoff = now - ttl
            if members is not None:
                reply = [members.get(m.encode("utf-8", "surrogatepass")) for m in query.members]
            return tuple(live and _time(value, side, slots, base) > cutoff for value in reply)
        if isinstance(query, LastTouch):
            value = reply[0] if members is None else members.get(
                query.member.encode("utf-8", "surrogatepass"))
            ts = _time(value, side, slots, base) if live else -math.inf
            return ts if ts > now - ttl and within(ts, query.window, now) else None
        if isinstance(query, Distinct):
            since = now - (query.window if query.window < ttl else ttl)
            if not live or oldest > since:  # every member on the side is in the window
                return int(count) if live else 0
            if members is None:  # read again, with the base they were written with then
                base, members = self._members_at(places, (held, pre))
            return sum(1 for value in members.values()
                       if _time(value, side, slots, base) > since)
        if not live:
            return ()
        if members is None:
            members = dict(_own(reply, pre))
        on = sorted((t, name.decode("utf-8", "surrogatepass")) for name, value in members.items()
                    if (t := _time(value, side, slots, base)) > now - ttl)
        return tuple(name for _, name in on)

    def _members_at(self, places: Sequence[tuple[str | bytes, bytes]],
                    first: tuple[str | bytes, bytes]) -> tuple[bytes, dict[bytes, bytes]]:
        """A sided record's base (``_base``) and members (name -> value), a trip of its
        own, for a Distinct some member of which is older than its window: where its heads
        were (``first``), else (another node moved a guest out meanwhile: ``gtouch``) at
        its other place, as a count of no fields would be wrong. The base is this read's:
        a whole rewrite since the first may have changed it (``sbased``)."""
        for at, pre in sorted(places, key=lambda place: place != first):
            try:
                fields: dict[bytes, bytes] = self._redis.hgetall(at)  # type: ignore[assignment]  # redis-py's stubs: bytes | str; no reply is decoded here
            except redis.RedisError as exc:
                raise StateUnavailable(f"Redis read failed: {exc}") from exc
            if pre and (packed := fields.get(_guest_field(pre))) is not None:
                heads, members = _unpacked(packed)
                return _base(heads), members
            if (held := fields.get(pre + _EXPIRES)) is not None:
                return _base(held), dict(_own(fields, pre))
        return b"", {}

    def _room(self, pre: bytes, members: Sequence[str]) -> int:
        """The most fields a guest's host may hold with it lodged (``gtouch``): none if a
        field of this touch (the guest's prefix and a name) is longer than the server
        keeps a hash compact (hash-max-listpack-value, ``_compact_limit``). Whoever holds
        a session chooses its id and whom it writes to, and one such field would turn the
        account's hash into a hashtable for good (about twice the bytes a field)."""
        longest = max(len(m.encode("utf-8", "surrogatepass")) for m in members)
        return self._lodged if len(pre) + longest <= self._compact else 0

    def _own_key(self, key: str) -> bytes:
        """A guest's key of its own (``gtouch``), encoded as its prefix in its host is
        (``_guest_prefix``): a session's id may hold what is not UTF-8 (a surrogate), which
        Redis's client refuses in a key given as text."""
        return self._k(key).encode("utf-8", "surrogatepass")

    def _sided_at(self, key: str) -> tuple[str, bytes]:
        """Where the sided record at ``key`` is: its hash's key (in the namespace) and its
        fields' prefix there; a guest's, where it is lodged (else at its own key with no
        prefix: ``_Side``, ``gtouch``)."""
        place = guest_of(key)
        if place is None:
            return self._k(key), b""
        return self._k(place[0]), _guest_prefix(place[1])

    def _count_since(self, key: str, cutoff: float) -> int:
        """Members touched after ``cutoff``: a trip of its own, for the rare Distinct whose
        window outlasts its set's TTL while members past the TTL wait for the set's next
        touch (the pipelined count used the window)."""
        try:
            return int(self._redis.zcount(self._k(key), _after(cutoff), "+inf")) - 1
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc

    # -- writes ------------------------------------------------------------------------
    def _commands(self, writes: Sequence[Write], now: float) -> list[tuple[Any, ...]]:
        """Each write as the Redis commands that apply it, in order."""
        out: list[tuple[Any, ...]] = []
        if any(isinstance(op, Touch | Replace | Remove) and is_hashed(op.key) for op in writes):
            # Applied only while the store's key is the one the digests were made with.
            out.append(("sg.hkey", self._hash_name, self._hash_key))
        for op in writes:
            key = self._k(op.key)
            if isinstance(op, Incr):
                out.append(("HINCRBYFLOAT", key, str(int(now // op.bucket)), repr(op.amount)))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
            elif isinstance(op, Touch) and op.side:
                if op.members:  # touching nobody changes nothing, as in every set
                    side, sides, retired = slot_of(op.key, op.side)
                    held, pre = self._sided_at(op.key)
                    where = ("sg.stouch", held, pre) if not pre else (
                        "sg.gtouch", self._own_key(op.key), held, pre,
                        self._room(pre, op.members), self._compact, self._packs)
                    space, index = side_space(op.side)
                    out.append((*where, side, sides, retired, repr(float(now)),
                                repr(float(op.ttl)), repr(space.ttls[index]),
                                _guest_spec(space), op.cap, _seconds(op.ttl),
                                sided.encode_names(list(dict.fromkeys(op.members)))))
            elif isinstance(op, Touch | Replace | Remove) and is_hashed(op.key):
                out.extend(self._hashed_commands(key, op, now))
            elif isinstance(op, Touch | Replace | Remove) and is_sided(op.key):
                raise TypeError(f"{op.key!r} is a sided record: touch a side of it")
            elif isinstance(op, Touch):
                if not op.members:
                    continue
                out.append(("sg.mtrim", key, repr(float(now))))
                # GT adds new members and moves existing ones (and the expiry) only forward.
                out.extend(_zadd(key, ("GT",), op.members, now, ((now + op.ttl, _EXPIRES),)))
                out.extend(_trimmed(key, op.ttl, op.cap, now - op.ttl))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
            elif isinstance(op, Replace):
                out.append(("DEL", key))
                out.extend(_zadd(key, (), op.members, now,
                                 ((now + op.ttl, _EXPIRES), (-op.ttl, _TTL))))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
            elif isinstance(op, Remove):
                members = list(op.members)
                out.extend(("ZREM", key, *members[i:i + _CHUNK])
                           for i in range(0, len(members), _CHUNK))
            elif isinstance(op, Append):
                if op.entries:
                    out.append(("sg.lappend", key, self._k(_log_count(op.key)), op.keep,
                                *op.entries))
            elif isinstance(op, Put | Delete) and (place := self._lodged_at(op.key)) is not None:
                body, ttl = (_stored(op, now), op.ttl) if isinstance(op, Put) else (None, 0.0)
                out.extend(_lodged_commands(key, *place, body, ttl, self._compact))
            elif isinstance(op, Put):
                out.append(("SET", key, _stored(op, now), "EX", _seconds(op.ttl)))
            elif isinstance(op, Delete) and is_sided(op.key):
                held, pre = self._sided_at(op.key)
                out.append(("sg.sdelete", held, pre))
                if pre:  # a guest: lodged, or moved to its own key (``gtouch``)
                    out.append(("DEL", self._own_key(op.key)))
            elif isinstance(op, Delete):
                out.append(("DEL", key))
        return out

    def _hashed_commands(self, key: str, op: Touch | Replace | Remove,
                         now: float) -> list[tuple[Any, ...]]:
        """A hashed set's write: a Replace is a SET; a touch or removal merges into what is
        there, in ``_HASHED``'s functions (the commands ``sg.htouch``, ``sg.hremove``)."""
        digest, (host, field) = self._hasher.digest, self._hashed_place(op.key)
        if isinstance(op, Replace):
            blob = hashed.pack(now, op.ttl, map(digest, op.members))
            if not field:
                return [("SET", key, blob, "EX", _seconds(op.ttl))]
            return _lodged_commands(key, host, field, blob, op.ttl, self._compact)
        if isinstance(op, Remove):
            return [("sg.hremove", key, host, field,
                     hashed.packed([digest(m) for m in op.members]))]
        if not op.members:
            return []
        return [("sg.htouch", key, host, field, self._compact, repr(float(now)),
                 repr(float(op.ttl)), op.cap, _seconds(op.ttl),
                 hashed.packed(self._hasher.fresh(op.members)))]

    def _lodged_at(self, key: str) -> tuple[str, bytes] | None:
        """Where the value or hashed set at ``key`` may be lodged (``ops.lodging``): its
        host record's key (in the namespace) and its field there; None if not lodged."""
        place = lodging(key)
        return None if place is None else (self._k(place[0]), lodged_field(place[1]))

    def _hashed_place(self, key: str) -> tuple[str, bytes]:
        """Where a hashed set may be lodged: ``_lodged_at``, else its own key and no field."""
        return self._lodged_at(key) or (self._k(key), b"")

    def write(self, writes: Sequence[Write], now: float) -> None:
        writes = each(writes)  # a ``Puts`` as its ``Put``s: a SET each, in the one trip
        commands = self._commands(writes, now)
        try:
            if any(c[0].startswith("sg.") for c in commands):  # scripted writes: one script
                if self._apply(args=_flat(commands)) == -2:
                    self._adopt(self._redis.get(self._hash_name))  # type: ignore[arg-type]  # redis-py's stubs: bytes | str; no reply is decoded here
                    if self._apply(args=_flat(self._commands(writes, now))) == -2:
                        raise StateUnavailable("the member hash key keeps changing")
                return
            pipe = self._redis.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            pipe.execute()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis write failed: {exc}") from exc

    # -- claims: exactly once per event id across nodes --------------------------------
    def _claim_key(self, event_id: str) -> str:
        return f"{self.ns}claim:{event_id}"

    def claim_read(self, event_id: str, digest: str, queries: Sequence[Query],
                   now: float) -> tuple[Claim, list[Any]]:
        """Claim the event id and read, in one round trip (the reads are wasted if the
        claim is someone else's: reads change nothing)."""
        def queue(pipe: Any) -> list[tuple[Query, Any]]:
            pipe.evalsha(self._claim.sha, 1, self._claim_key(event_id), self.owner, digest,
                         LEASE_MS, _IN_FLIGHT_MS)
            plans = self._queue(pipe, flat, now)
            for key in settling:  # the last batch's claims, at no extra round trip
                pipe.pexpire(key, _SETTLED_MS)
            return plans

        self._seen = {}
        flat = split(queries)  # a ``Tally`` as its two parts (``read``)
        settling, self._unsettled = self._unsettled, []
        try:
            plans, replies = self._pipelined(queue)
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc
        mine, held, outbox = next(replies)
        claim = Claim(bool(mine), held.decode(), bytes(outbox))
        return claim, joined(queries, self._answers(plans, replies, now, self._seen))

    def read_claimed(self, queries: Sequence[Query], now: float) -> list[Any]:
        """A second read of the event ``claim_read`` claimed, for keys only its answers
        name (a bulk band key's cluster): one more round trip, whose values join what the
        claim's read saw, so ``write_claimed`` refuses the event's writes if another node
        changed one of them since (no lost update of a value read and rewritten)."""
        return self.read(queries, now, self._seen)

    def write_claimed(self, event_id: str, writes: Sequence[Write], now: float,
                      outbox: bytes) -> None:
        """Apply the writes and finish the claim with ``outbox`` in one atomic script, if
        this process still holds the claim and no value it read and rewrites has changed
        since (else ``Contention``: nothing was applied, judge the event again)."""
        writes = each(writes)  # a ``Puts`` as its ``Put``s, each key checked as it was read

        def commit() -> Any:
            commands = self._commands(writes, now)
            rewritten = {op.key for op in writes if isinstance(op, Put | Delete | Replace)}
            checks = [(k, v) for k, v in self._seen.items() if k in rewritten]
            args: list[Any] = [self.owner, outbox, _FINISHED_MS, len(checks)]
            for key, expected in checks:  # where the read found it (``_COMMIT``'s ``held``)
                place = self._lodged_at(key)
                args += ([self._k(key), "", "", expected] if place is None
                         else [*place, self._k(key), expected])
            return self._commit(keys=[self._claim_key(event_id)], args=args + _flat(commands))

        try:
            done = commit()
            if done == -2:  # the hash key changed since the read: nothing was applied
                self._adopt(self._redis.get(self._hash_name))  # type: ignore[arg-type]  # redis-py's stubs: bytes | str; no reply is decoded here
                done = commit()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis write failed: {exc}") from exc
        if done == -2:
            raise StateUnavailable("the member hash key keeps changing")
        if done == -1:
            raise Contention(f"state read for event {event_id} changed before its write")
        if done != 1:
            raise StateUnavailable(f"the claim on event {event_id} was taken over (this node "
                                   "was too slow); the event is judged elsewhere")

    def settle(self, event_ids: Sequence[str]) -> None:
        """The records of these events are committed: their claims may go soon. Sent with
        the next claimed read (a claim left unsettled expires within the hour anyway)."""
        self._unsettled.extend(self._claim_key(i) for i in event_ids)
        if len(self._unsettled) > _MAX_UNSETTLED:
            keys, self._unsettled = self._unsettled, []
            pipe = self._redis.pipeline(transaction=False)
            for key in keys:
                pipe.pexpire(key, _SETTLED_MS)
            try:
                pipe.execute()
            except redis.RedisError as exc:
                raise StateUnavailable(f"Redis write failed: {exc}") from exc

    def release(self, event_ids: Sequence[str]) -> None:
        """Give up this process's unfinished claims (a failed batch), best effort."""
        keys = [self._claim_key(i) for i in event_ids]
        with contextlib.suppress(redis.RedisError):  # unreachable: the lease runs out instead
            self._redis.eval(_RELEASE, len(keys), *keys, self.owner)

    def ping(self) -> None:
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis is unreachable: {exc}") from exc

    def commit(self) -> None:
        """Each write is applied when sent; nothing is pending."""

    def rollback(self) -> None:
        """Redis applied each write when sent; a failed request's counts stay (hot state)."""

    def sweep(self, now: float) -> int:
        """Nothing to drop: what is past its event-time expiry reads as gone and Redis's
        own EXPIRE frees it; caps are kept at each touch."""
        return 0

    def sweep_part(self, now: float, since_pass: int) -> int:
        """Nothing to drop, as ``sweep``; ``since_pass`` is kept (a write every
        ``SWEEP_EVERY`` events, every node's into the one key: a node restarted resumes
        the count of the last node to keep it)."""
        try:
            self._redis.set(self._k(_SINCE_PASS), since_pass)
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis write failed: {exc}") from exc
        return 0

    def since_pass(self) -> int:
        try:
            return int(self._redis.get(self._k(_SINCE_PASS)) or 0)
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc

    def close(self) -> None:
        self._redis.close()
