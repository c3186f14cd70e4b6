-- Moves a session and its structures to a new id in one atomic step, keeping TTLs and deadline.
-- All keys in one slot: standalone and Sentinel deployments.
-- KEYS[1] old hash, KEYS[2] new hash, KEYS[3] the expiry index
-- ARGV[1] old index member (the old id without route), ARGV[2] new index member
-- Returns 1 when moved, 0 when the old session no longer exists.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
-- Encrypted values stay bound to the id the session had first (SessionHashFormat: meta:sealId).
redis.call('HSETNX', KEYS[1], 'meta:sealId', ARGV[1])
local names = redis.call('HGET', KEYS[1], 'meta:dataKeys')
if names then
  for name in string.gmatch(names, '[^\n]+') do
    local from = KEYS[1] .. ':data:' .. name
    if redis.call('EXISTS', from) == 1 then redis.call('RENAME', from, KEYS[2] .. ':data:' .. name) end
  end
end
redis.call('RENAME', KEYS[1], KEYS[2])
local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if score then redis.call('ZADD', KEYS[3], score, ARGV[2]) end
return 1
