-- Removes from one expiry index the entries whose session hash no longer exists (deleted by hand,
-- evicted under maxmemory, or a session that never expires whose key's TTL ended), so the index
-- never keeps members of vanished keys until their score comes due.
-- KEYS[1]  an expiry index
-- ARGV[1]  the keyPrefix; a member's hash is <keyPrefix>{<member>}, in the slot of the index
-- ARGV[2]  the rank of the first member to look at; ARGV[3] how many members to look at
-- Returns {next rank to look at, or 0 when the end was reached; entries removed}.
local start = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local members = redis.call('ZRANGE', KEYS[1], start, start + count - 1)
local removed = 0
for _, member in ipairs(members) do
  if redis.call('EXISTS', ARGV[1] .. '{' .. member .. '}') == 0 then
    redis.call('ZREM', KEYS[1], member)
    removed = removed + 1
  end
end
if #members < count then return {0, removed} end
return {start + count - removed, removed}
