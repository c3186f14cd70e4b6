-- Keeps the keys of due sessions that the sweep has not reached yet until it can: a session's keys
-- live SessionKeys.TTL_GRACE_SECONDS past its deadline, and one claimed later has no state left to
-- fire its listeners with. Called when a run of the sweep ends with sessions still due.
-- KEYS[1]  an expiry index
-- ARGV[1]  the keyPrefix; a member's hash is <keyPrefix>{<member>}, in the slot of the index
-- ARGV[2]  now, epoch ms: entries scored at or before it are due
-- ARGV[3]  the TTL in ms each due session's hash gets at least (PEXPIRE ... GT: never shortened;
--          a key that no longer exists is not created), and so do its session-scoped structures
--          (meta:dataKeys), and so does the index key itself
-- ARGV[4]  the rank of the first due entry to look at; ARGV[5] how many at most
-- Returns the number of due entries of this index.
local due = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[2])
local start = tonumber(ARGV[4])
if start < due then
  -- The index lists the sessions kept: it lives at least as long (SessionKeys: as long as its
  -- longest-lived session), or a burst's index would end with the burst's original TTL and take
  -- every kept session's entry with it.
  redis.call('PEXPIRE', KEYS[1], ARGV[3], 'GT')
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], start, math.min(start + tonumber(ARGV[5]), due) - 1)) do
    local key = ARGV[1] .. '{' .. member .. '}'
    -- Only a session hash: a key of another type under its name is foreign or corrupt data, not
    -- ours to keep, and must not stop the script at it (HGET would fail) for the rest of its chunk.
    if redis.call('TYPE', key).ok == 'hash' and redis.call('PEXPIRE', key, ARGV[3], 'GT') == 1 then
      -- Its session-scoped structures, which the listeners may read, live as long.
      local names = redis.call('HGET', key, 'meta:dataKeys')
      if names then
        for name in string.gmatch(names, '[^\n]+') do redis.call('PEXPIRE', key .. ':data:' .. name, ARGV[3], 'GT') end
      end
    end
  end
end
return due
