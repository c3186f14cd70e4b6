-- Reads the principal index of one user name (PrincipalIndex); read-only.
-- KEYS[1]  the principal index
-- ARGV[1]  at most this many members
-- Returns Redis' clock in ms, then member, score pairs, least recently written first.
local t = redis.call('TIME')
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
table.insert(members, 1, string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000)))
return members
