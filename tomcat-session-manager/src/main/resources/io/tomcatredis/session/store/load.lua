-- Loads a session unless the caller's copy is current. Read-only.
-- KEYS[1]  the session hash
-- ARGV[1]  meta:version of the caller's copy, or '' when it has none
-- Returns {0} when the session does not exist, {2} when its deadline passed (by Redis' clock; the
-- deadline is meta:lastAccessedTime + meta:maxInactiveInterval * 1000 + meta:touchInterval),
-- {1} when meta:version equals ARGV[1], else {3, field1, value1, field2, value2, ...}.
-- meta:touchInterval as the deadline counts it: a missing or corrupt value is 0, at most an hour.
local function touchSlack(value)
  local n = tonumber(value)
  if not n or n ~= n then return 0 end
  return math.min(math.max(n, 0), 3600000)
end
local f = redis.call('HMGET', KEYS[1], 'meta:lastAccessedTime', 'meta:maxInactiveInterval', 'meta:version',
                     'meta:creationTime', 'meta:touchInterval')
if not f[3] and not f[4] then return {0} end
local max = tonumber(f[2]) or 0
if max > 0 then
  local t = redis.call('TIME')
  if (tonumber(f[1]) or 0) + max * 1000 + touchSlack(f[5]) <= t[1] * 1000 + math.floor(t[2] / 1000) then return {2} end
end
if ARGV[1] ~= '' and f[3] == ARGV[1] then return {1} end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 3)
return out
