-- Second half of copy_export.lua: KEYS[1] new hash, KEYS[2] its expiry index
-- ARGV[1] new index member, ARGV[2] score, ARGV[3] the hash's pttl, ARGV[4] n, ARGV[5..4+n] the
-- hash's fields and values; then per structure: name, type, pttl, m, m items (see copy_export.lua).
-- Replaces the keys, sets each TTL as read (none when the pttl is not positive), enters the deadline.
local function write(command, key, from, to, step)
  -- unpack in chunks: Lua's stack holds a few thousand values
  for i = from, to, step do
    redis.call(command, key, unpack(ARGV, i, math.min(i + step - 1, to)))
  end
end
local function expire(key, pttl)
  if tonumber(pttl) > 0 then redis.call('PEXPIRE', key, pttl) end
end
redis.call('DEL', KEYS[1])
local n = tonumber(ARGV[4])
write('HSET', KEYS[1], 5, 4 + n, 1000)
expire(KEYS[1], ARGV[3])
local i = 5 + n
while i <= #ARGV do
  local key, kind, pttl, m = KEYS[1] .. ':data:' .. ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local from, to = i + 4, i + 3 + m
  redis.call('DEL', key)
  if kind == 'string' then
    redis.call('SET', key, ARGV[from])
  elseif kind == 'list' then
    write('RPUSH', key, from, to, 1000)
  elseif kind == 'set' then
    write('SADD', key, from, to, 1000)
  elseif kind == 'zset' then
    -- ZRANGE WITHSCORES gives member, score; ZADD takes score, member
    for j = from, to, 2 do redis.call('ZADD', key, ARGV[j + 1], ARGV[j]) end
  elseif kind == 'hash' then
    write('HSET', key, from, to, 1000)
  end
  expire(key, pttl)
  i = to + 1
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
