-- First half of an id change across Redis Cluster slots: copies a session out.
-- KEYS[1] old hash, KEYS[2] its expiry index; ARGV[1] old index member
-- Returns false when the session is gone, else {score, pttl, dump, name1, pttl1, dump1, ...} for
-- the hash and each existing structure.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
-- Encrypted values stay bound to the id the session had first (SessionHashFormat: meta:sealId).
redis.call('HSETNX', KEYS[1], 'meta:sealId', ARGV[1])
local out = {redis.call('ZSCORE', KEYS[2], ARGV[1]) or '+inf', redis.call('PTTL', KEYS[1]),
             redis.call('DUMP', KEYS[1])}
local names = redis.call('HGET', KEYS[1], 'meta:dataKeys')
if names then
  for name in string.gmatch(names, '[^\n]+') do
    local key = KEYS[1] .. ':data:' .. name
    if redis.call('EXISTS', key) == 1 then
      table.insert(out, name)
      table.insert(out, redis.call('PTTL', key))
      table.insert(out, redis.call('DUMP', key))
    end
  end
end
return out
