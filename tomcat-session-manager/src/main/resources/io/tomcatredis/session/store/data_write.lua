-- Writes a session-scoped structure and binds it to its session in the same step, so that it can
-- never outlive the session: it is listed in meta:dataKeys and gets the session's TTL; the write
-- is counted in meta:dataVersion.
-- KEYS[1] the session hash, KEYS[2] the structure's key
-- ARGV[1] the structure's name, ARGV[2] a write command, ARGV[3..] its arguments after the key
-- Returns {0} and writes nothing when the session does not exist, else {1, the command's reply}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local reply = redis.call(ARGV[2], KEYS[2], unpack(ARGV, 3))
local names = redis.call('HGET', KEYS[1], 'meta:dataKeys') or ''
if not string.find('\n' .. names .. '\n', '\n' .. ARGV[1] .. '\n', 1, true) then
  if names == '' then names = ARGV[1] else names = names .. '\n' .. ARGV[1] end
  redis.call('HSET', KEYS[1], 'meta:dataKeys', names)
end
-- Counted, so that an id change across Cluster slots sees a write made while it copied the session
-- (export.lua and retire.lua compare meta:version and this count).
redis.call('HINCRBY', KEYS[1], 'meta:dataVersion', 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {1, reply}
