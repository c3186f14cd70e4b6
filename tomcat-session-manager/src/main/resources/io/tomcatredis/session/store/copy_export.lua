-- The field-by-field export of an id change across Redis Cluster slots, for when RESTORE refuses
-- export.lua's DUMP payloads (see import.lua): the same keys, read with the commands of their type.
-- KEYS[1] old hash, KEYS[2] its expiry index; ARGV[1] old index member
-- Returns false when the session is gone, else
-- {score, pttl, {field1, value1, ...}, name1, type1, pttl1, {items1...}, ...} for the hash and each
-- existing structure, items as copy_import.lua writes them back:
-- string {value}, list {elements in order}, set {members}, zset {member, score, ...}, hash {field, value, ...}.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
-- Encrypted values stay bound to the id the session had first (SessionHashFormat: meta:sealId).
redis.call('HSETNX', KEYS[1], 'meta:sealId', ARGV[1])
local out = {redis.call('ZSCORE', KEYS[2], ARGV[1]) or '+inf', redis.call('PTTL', KEYS[1]),
             redis.call('HGETALL', KEYS[1])}
local names = redis.call('HGET', KEYS[1], 'meta:dataKeys')
if names then
  for name in string.gmatch(names, '[^\n]+') do
    local key = KEYS[1] .. ':data:' .. name
    local kind = redis.call('TYPE', key)['ok']
    local items
    if kind == 'none' then
      items = nil
    elseif kind == 'string' then
      items = {redis.call('GET', key)}
    elseif kind == 'list' then
      items = redis.call('LRANGE', key, 0, -1)
    elseif kind == 'set' then
      items = redis.call('SMEMBERS', key)
    elseif kind == 'zset' then
      items = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    elseif kind == 'hash' then
      items = redis.call('HGETALL', key)
    else
      return redis.error_reply('ERR session structure ' .. name .. ' is a ' .. kind
          .. ', which the field-by-field copy cannot move (RESTORE refused its DUMP payload)')
    end
    if items then
      table.insert(out, name)
      table.insert(out, kind)
      table.insert(out, redis.call('PTTL', key))
      table.insert(out, items)
    end
  end
end
return out
