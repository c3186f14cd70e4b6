-- Adds a session to the principal index of one user name (PrincipalIndex), before the save that
-- makes the session that user's, so the index always holds at least the user's sessions.
-- KEYS[1]  the principal index of one user name (a hash tag of its own: on Redis Cluster another
--          slot than the session's, so this runs apart from save.lua)
-- ARGV[1]  the member: the session id without its route
-- ARGV[2]  ms: the index lives at least this long (the session's keys' TTL)
-- The score is Redis' clock in ms when the member was written: a reader keeps a member younger
-- than PrincipalIndex.IN_FLIGHT_MILLIS whose session hash does not name the user yet (its save
-- may still be in flight), and removes an older one.
-- A key of another type under the index's name (corrupt or foreign data) would fail every save of
-- the user's sessions: it is deleted, and the reply says so.
-- Returns 1, or 2 when a key of another type was replaced.
local replaced = 1
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'zset' and kind ~= 'none' then
  redis.call('DEL', KEYS[1])
  replaced = 2
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000)), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return replaced
