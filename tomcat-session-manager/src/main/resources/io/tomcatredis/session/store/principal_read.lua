-- Reads the principal index of one user name (PrincipalIndex); read-only.
-- KEYS[1]  the principal index
-- ARGV[1]  at most this many members
-- Returns Redis' clock in ms, then member, score pairs, least recently written first. A key of
-- another type (corrupt or foreign data) fails with WRONGTYPE: the caller gets a clear error rather
-- than "no session" (principal_add.lua replaces it at the user's next sign-in).
local t = redis.call('TIME')
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
table.insert(members, 1, string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000)))
return members
