-- Writes sessions in exactly the layout save.lua writes for a new session (SessionKeys,
-- SessionHashFormat): one hash per session with the template's fields, its TTL, and its entry in
-- the expiry index; server-side, so a million sessions need not cross the socket.
-- Standalone Redis only (the keys are not declared in KEYS).
-- ARGV[1] keyPrefix; ARGV[2] the expiry index key; ARGV[3], ARGV[4] the range of session numbers
-- [from, to); ARGV[5] the first 16 hex digits of every id (the other 16 are the number)
-- ARGV[6] how long ago (ms, by Redis' clock) session number 0 was last accessed; session i one
--         (i mod 1000) ms earlier, so the deadlines are spread over a second
-- ARGV[7] meta:maxInactiveInterval (s); ARGV[8] meta:touchInterval (ms); ARGV[9] the TTL grace (ms)
-- ARGV[10..] the template's other fields and values (meta:version, attr:*, ...)
-- The deadline and TTL are save.lua's for a new session: deadline = last + max * 1000 + touch,
-- TTL = max * 1000 + touch + grace from the access, so what is left of it now.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local max = tonumber(ARGV[7])
local touch = tonumber(ARGV[8])
local grace = tonumber(ARGV[9])
local template = {}
for i = 10, #ARGV do template[#template + 1] = ARGV[i] end
for i = tonumber(ARGV[3]), tonumber(ARGV[4]) - 1 do
  local id = ARGV[5] .. string.format('%016X', i)
  local key = ARGV[1] .. '{' .. id .. '}'
  local last = now - tonumber(ARGV[6]) - (i % 1000)
  local deadline = last + max * 1000 + touch
  redis.call('HSET', key, 'meta:id', id, 'meta:creationTime', string.format('%.0f', last),
             'meta:lastAccessedTime', string.format('%.0f', last), unpack(template))
  redis.call('PEXPIRE', key, deadline + grace - now)
  redis.call('ZADD', ARGV[2], string.format('%.0f', deadline), id)
end
local ttl = max * 1000 + touch + grace
if redis.call('PTTL', ARGV[2]) < ttl then redis.call('PEXPIRE', ARGV[2], ttl) end
return now
