-- First half of an id change across Redis Cluster slots: copies a session out.
-- KEYS[1] old hash, KEYS[2] its expiry index; ARGV[1] old index member
-- Returns false when the session is gone, else {writes, score, pttl, dump, name1, pttl1, dump1, ...}
-- for the hash and each existing structure; writes (meta:version/meta:dataVersion) lets the move
-- retire the old id only if nothing was written to it since this read (retire.lua).
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
-- What the session's writes count (save.lua: meta:version; data_write.lua: meta:dataVersion):
-- retire.lua deletes the old id only while both are as read here.
local counts = redis.call('HMGET', KEYS[1], 'meta:version', 'meta:dataVersion')
table.insert(out, 1, (counts[1] or '') .. '/' .. (counts[2] or ''))
return out
