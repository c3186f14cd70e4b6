-- Removes members of a principal index that a reader found stale (PrincipalIndex): their session
-- hash is gone or names another user, and they were written long enough ago that no save of
-- theirs can be in flight.
-- KEYS[1]  the principal index
-- ARGV     member, score pairs as the reader read them; a member whose score changed since (a save
--          wrote it again) is kept
-- Returns how many members were removed.
local removed = 0
for i = 1, #ARGV - 1, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
