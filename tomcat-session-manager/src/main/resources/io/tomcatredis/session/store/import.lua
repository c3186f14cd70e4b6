-- Second half of export.lua: KEYS[1] new hash, KEYS[2] its expiry index; ARGV[1] new index member,
-- then what export.lua returned. Restores every key with its TTL and enters the deadline.
-- Returns 1, or {0, error} when RESTORE refuses a payload (a DUMP of a newer server during a rolling
-- upgrade, an ACL without restore, a renamed command): then nothing is written and the caller
-- copies field by field instead (copy_export.lua, copy_import.lua).
local function ttl(value) return math.max(tonumber(value), 0) end
local restored = {}
local function restore(key, pttl, payload)
  local reply = redis.pcall('RESTORE', key, ttl(pttl), payload, 'REPLACE')
  if type(reply) == 'table' and reply.err then
    for _, done in ipairs(restored) do redis.call('DEL', done) end
    return reply.err
  end
  table.insert(restored, key)
end
local refused = restore(KEYS[1], ARGV[3], ARGV[4])
for i = 5, #ARGV, 3 do
  refused = refused or restore(KEYS[1] .. ':data:' .. ARGV[i], ARGV[i + 1], ARGV[i + 2])
end
if refused then return {0, refused} end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
