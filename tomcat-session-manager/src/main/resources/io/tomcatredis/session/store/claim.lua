-- Claims a session for invalidation or expiry: of all callers exactly one wins, and the winner
-- wins again when it retries after losing the reply (same token), so listeners fire once.
-- KEYS[1]  the session hash
-- KEYS[2]  the expiry index
-- KEYS[3]  the claim key (<hash>:claimed), where the winner finds the claimed session
-- ARGV[1]  the index member; ARGV[2] the claim token of the caller
-- ARGV[3]  '1': claim only when the deadline passed by Redis' clock (expiry); '0': always (invalidation)
-- ARGV[4]  with ARGV[3] '1': TTL in ms of a session that never expires
-- ARGV[5]  with ARGV[3] '1', optional: the keys' grace in ms past the deadline (SessionKeys.TTL_GRACE_SECONDS)
-- The session's structures and index entry are deleted; the hash moves to the claim key for 60 s,
-- which the winner deletes once its listeners have run.
-- A session that never expires (maxInactiveInterval 0 or negative) is indexed at the end of its
-- key's TTL: while its hash exists an expiry claim only moves its entry to the hash's new TTL end.
-- A claim key of another type than hash is not ours as the layout says (corrupt or foreign data
-- under our name): it is deleted, so one such key never stops the sweep at its session.
-- Returns false to every caller but the winner; to the winner (ARGV[3] '0') the session's
-- meta:principalName, or 1 when it has none (the caller removes the session from that user's
-- principal index), or (ARGV[3] '1') the session's fields as HGETALL does. With ARGV[5], an expiry claim that finds neither the hash
-- nor a claim key while the index entry's deadline is more than ARGV[5] ms past (the keys ended
-- by their TTL before any sweep reached them: their listeners can no longer fire) returns 0, so
-- the sweeper can count and report such sessions instead of losing them silently.
-- meta:touchInterval as the deadline counts it: a missing or corrupt value is 0, at most an hour.
local function touchSlack(value)
  local n = tonumber(value)
  if not n or n ~= n then return 0 end
  return math.min(math.max(n, 0), 3600000)
end
local function won()
  if ARGV[3] == '1' then return redis.call('HGETALL', KEYS[3]) end
  return redis.call('HGET', KEYS[3], 'meta:principalName') or 1
end
local claimType = redis.call('TYPE', KEYS[3]).ok
if claimType == 'hash' then
  if redis.call('HGET', KEYS[3], 'claim:token') == ARGV[2] then return won() end
elseif claimType ~= 'none' then
  redis.call('DEL', KEYS[3])
end
-- Gone, or a key of another type (foreign or corrupt data, never ours to delete): no session to
-- claim, and no index entry that would stop the sweep at it on every run.
local sessionType = redis.call('TYPE', KEYS[1]).ok
if sessionType ~= 'hash' then
  local lapsed = false
  if ARGV[3] == '1' and ARGV[5] and sessionType == 'none' and claimType == 'none' then
    local score = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
    local t = redis.call('TIME')
    lapsed = score ~= nil and score + tonumber(ARGV[5]) <= t[1] * 1000 + math.floor(t[2] / 1000)
  end
  redis.call('ZREM', KEYS[2], ARGV[1])
  if lapsed then return 0 end
  return false
end
if ARGV[3] == '1' then
  local f = redis.call('HMGET', KEYS[1], 'meta:lastAccessedTime', 'meta:maxInactiveInterval', 'meta:touchInterval')
  local max = tonumber(f[2]) or 0
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  if max <= 0 then
    local ttl = redis.call('PTTL', KEYS[1])
    -- A hash without a TTL (made persistent by hand) is looked at again after ARGV[4] ms.
    if ttl < 0 then ttl = tonumber(ARGV[4]) end
    redis.call('ZADD', KEYS[2], string.format('%.0f', now + ttl), ARGV[1])
    return false
  end
  -- The deadline as save.lua computes it: meta:lastAccessedTime may lag by meta:touchInterval.
  local deadline = (tonumber(f[1]) or 0) + max * 1000 + touchSlack(f[3])
  if deadline > now then
    redis.call('ZADD', KEYS[2], string.format('%.0f', deadline), ARGV[1])
    return false
  end
end
local names = redis.call('HGET', KEYS[1], 'meta:dataKeys')
if names then
  for name in string.gmatch(names, '[^\n]+') do redis.call('DEL', KEYS[1] .. ':data:' .. name) end
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RENAME', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[3], 'claim:token', ARGV[2])
redis.call('PEXPIRE', KEYS[3], 60000)
return won()
