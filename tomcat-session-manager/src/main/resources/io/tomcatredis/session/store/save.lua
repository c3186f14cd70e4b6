-- Saves a session's changes in one atomic step.
-- KEYS[1]  the session hash
-- KEYS[2]  the expiry index
-- ARGV[1]  '1': the session must already exist (a save never resurrects a session that another
--          node invalidated, or that an expiry claimed: a claim moves the hash away); '0': a new
--          session, written afresh
-- ARGV[2]  the index member (the session id without its route)
-- ARGV[3]  grace period in ms that keys outlive the deadline; ARGV[4] TTL in ms of a session that
--          never expires
-- ARGV[5]  meta:maxInactiveInterval when this save writes it, else ''
-- ARGV[6]  the node's touch interval in ms (touchInterval): meta:touchInterval becomes the smaller
--          of it and a tenth of the session's interval, or what remains of the stored window
--          (meta:lastAccessedTime + meta:touchInterval as stored) past the new access time if longer
-- ARGV[7]  n, the number of field/value pairs that follow; after them, the fields to delete
-- meta:lastAccessedTime is set to Redis' clock, never moved back. A request that changed nothing
-- may leave it alone while it is less than meta:touchInterval ms old (RedisSessionStore), so the
-- deadline allows for that lag: meta:lastAccessedTime + meta:maxInactiveInterval * 1000 +
-- meta:touchInterval, where this save keeps what remains of the stored window (a node that skipped
-- a write relied on it) when it is longer than the new touch interval. The deadline and the TTLs follow
-- from the hash as it stands after the write, so a save from a copy that did not change
-- meta:maxInactiveInterval never undoes another node's change to it. A save of an existing hash
-- is accepted even past its deadline: loads refuse a session past its deadline, so only a request
-- that found the session live saves it late, and Tomcat never expires a session in use.
-- A session that never expires is indexed at the end of its key's TTL, so that its entry is swept
-- (and rescheduled by claim.lua while the hash exists) rather than kept for ever.
-- Everything that could fail is checked before the first write: a corrupt meta:version (not an
-- integer) restarts at Redis' clock in ms, so the session heals instead of failing every save
-- half-way; an expiry index of another type fails the save (WRONGTYPE) with nothing written.
-- Returns the new meta:version, or -1 when ARGV[1] is '1' and the session does not exist; nothing
-- is written then.
local f = redis.call('HMGET', KEYS[1], 'meta:lastAccessedTime', 'meta:maxInactiveInterval', 'meta:version',
                     'meta:touchInterval', 'meta:dataKeys')
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if ARGV[1] == '1' then
  if not f[1] and not f[2] and not f[3] and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
else
  f = {false, false, false, false, false}
end
-- A stored number that is missing, not a number, infinite or NaN counts as 0.
local function stored(value)
  local n = tonumber(value)
  if not n or n ~= n or n == math.huge or n == -math.huge then return 0 end
  return n
end
-- A corrupt version restarts at Redis' clock: never one that a node's copy of the session holds.
local version = 0
if f[3] then
  version = tonumber(f[3])
  if not version or version ~= version or version ~= math.floor(version) or version < 0 or version >= 2^53 then
    version = now
  end
end
version = version + 1
-- Bounded as Java reads it (an int), so a corrupt stored value never makes PEXPIRE fail.
local max = math.min(stored(ARGV[5] ~= '' and ARGV[5] or f[2]), 2147483647)
local last = math.max(stored(f[1]), now)
local touch = math.max(0, math.min(stored(ARGV[6]), max * 100))
-- A node that skipped its write relied on the stored access time + the stored touch interval:
-- what remains of that window past this save's access time stays in the deadline and in
-- meta:touchInterval, so that later saves, load.lua and claim.lua still count it. A node relies on
-- at most the grace (ARGV[3]) of a stored touch interval, so no more is kept of a corrupt one.
local slack = math.max(touch, stored(f[1]) + math.min(math.max(stored(f[4]), 0), tonumber(ARGV[3])) - last)
local ttl = tonumber(ARGV[4])
local deadline = string.format('%.0f', now + ttl)
if max > 0 then
  ttl = max * 1000 + slack + tonumber(ARGV[3])
  deadline = string.format('%.0f', last + max * 1000 + slack)
end
local n = tonumber(ARGV[7])
local pairsEnd = 7 + 2 * n
-- A save of an existing session that only removes attributes (a sign-out) needs no memory. Redis,
-- when full, refuses a script's first write that may use memory (ZADD, HSET) but not HDEL, and
-- refuses nothing once the script has written: so such a save deletes first, and a full Redis
-- still signs the user out (the rest overwrites what the hash and the index hold). The index's
-- type is checked before, so that WRONGTYPE still leaves nothing written.
local removesOnly = ARGV[1] == '1' and n == 0 and #ARGV > pairsEnd
if removesOnly then
  local kind = redis.call('TYPE', KEYS[2])['ok']
  if kind ~= 'zset' and kind ~= 'none' then
    return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
  end
  for i = pairsEnd + 1, #ARGV, 1000 do
    redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end
-- The first write (but for removesOnly): an index key of another type (corrupt or foreign data)
-- fails it (WRONGTYPE) with nothing written.
redis.call('ZADD', KEYS[2], deadline, ARGV[2])
if ARGV[1] ~= '1' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'meta:lastAccessedTime', string.format('%.0f', last),
           'meta:version', string.format('%.0f', version), 'meta:touchInterval', string.format('%.0f', slack),
           unpack(ARGV, 8, math.min(pairsEnd, 8 + 993)))
for i = 8 + 994, pairsEnd, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, pairsEnd)))
end
if not removesOnly then
  for i = pairsEnd + 1, #ARGV, 1000 do
    redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
-- Saves never write meta:dataKeys (data_write.lua does), so the value read first is current.
if f[5] then
  for name in string.gmatch(f[5], '[^\n]+') do redis.call('PEXPIRE', KEYS[1] .. ':data:' .. name, ttl) end
end
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return version
