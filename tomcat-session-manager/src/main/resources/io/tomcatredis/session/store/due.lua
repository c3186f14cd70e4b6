-- Reads due entries of one expiry index for a sweep, from one of the first windows of the due
-- range, so that nodes sweeping the same index at the same time mostly claim different sessions
-- (each claim is atomic anyway: a session two nodes try is won by one) while every node still
-- works on the most overdue sessions.
-- KEYS[1]  an expiry index
-- ARGV[1]  now, epoch ms (the caller's clock: claim.lua checks each deadline with Redis' clock)
-- ARGV[2]  how many members to read, n
-- ARGV[3]  the window the caller drew, 0 or more; ARGV[4] how many windows of n at most
-- With d members due (ranks 0 to d - 1, the index being ordered by deadline), window w reads the
-- members of ranks (w mod min(ceil(d / n), ARGV[4])) * n to that + n - 1, at most d - 1: ZRANGE
-- by rank, O(log N + n) whatever the window (ZRANGEBYSCORE ... LIMIT would walk its offset).
-- Returns {d, the score of the most overdue member (a string), member...}, or {0} when none is due.
local due = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])
if due == 0 then return {0} end
local n = tonumber(ARGV[2])
local windows = math.min(math.ceil(due / n), tonumber(ARGV[4]))
local start = (tonumber(ARGV[3]) % windows) * n
local reply = {due, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], start, math.min(start + n, due) - 1)) do
  reply[#reply + 1] = member
end
return reply
