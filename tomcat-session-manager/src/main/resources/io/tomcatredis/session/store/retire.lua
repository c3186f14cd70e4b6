-- Last step of an id change across Redis Cluster slots: deletes the session under its old id (the
-- hash, its structures, its expiry index entry), but only if nothing was written to it since
-- export.lua read it, so that a write another node made on the old id meanwhile is never lost: the
-- caller then copies the session again.
-- KEYS[1] the old hash, KEYS[2] its expiry index
-- ARGV[1] the index member; ARGV[2] the write counts export.lua returned (meta:version and
-- meta:dataVersion), or '' to delete unconditionally (undoing a copy under the new id)
-- Returns 1 when deleted, 0 when the hash is gone (invalidated or expired meanwhile), -1 when it
-- changed since the export (nothing deleted).
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
local keys = {KEYS[1]}
local names = redis.call('HGET', KEYS[1], 'meta:dataKeys')
if names then
  for name in string.gmatch(names, '[^\n]+') do
    local key = KEYS[1] .. ':data:' .. name
    if redis.call('EXISTS', key) == 1 then table.insert(keys, key) end
  end
end
if ARGV[2] ~= '' then
  -- Not DUMPs: a large hash or set may be dumped in another order after an (active) rehash.
  local counts = redis.call('HMGET', KEYS[1], 'meta:version', 'meta:dataVersion')
  if (counts[1] or '') .. '/' .. (counts[2] or '') ~= ARGV[2] then return -1 end
end
redis.call('DEL', unpack(keys))
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
