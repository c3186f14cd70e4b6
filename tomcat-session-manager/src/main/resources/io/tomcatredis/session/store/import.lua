-- Second half of export.lua: KEYS[1] new hash, KEYS[2] its expiry index; ARGV[1] new index member,
-- then what export.lua returned. Restores every key with its TTL and enters the deadline.
local function ttl(value) return math.max(tonumber(value), 0) end
redis.call('RESTORE', KEYS[1], ttl(ARGV[3]), ARGV[4], 'REPLACE')
for i = 5, #ARGV, 3 do
  redis.call('RESTORE', KEYS[1] .. ':data:' .. ARGV[i], ttl(ARGV[i + 1]), ARGV[i + 2], 'REPLACE')
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
