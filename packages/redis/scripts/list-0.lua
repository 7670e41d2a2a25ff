-- list: every lock held on this node whose key matches a pattern, with its holder, in one call.
-- For operators: it walks the keyspace with SCAN inside the script, so it blocks the server for
-- as long as that takes on a large database.
--
-- ARGV[1]  SCAN MATCH pattern (lock keys end with '}', fence records with '}:fence')
-- ARGV[2]  SCAN COUNT per step
--
-- Returns  {key1, owner1, pttl1, fence1, since1, key2, ...}
local out = {}
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', ARGV[2])
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    if string.sub(key, -1) == '}' and redis.call('TYPE', key).ok == 'hash' then
      local held = redis.call('HMGET', key, 'owner', 'fence', 'since')
      if held[1] then
        local n = #out
        out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] =
          key, held[1], redis.call('PTTL', key), held[2], held[3]
      end
    end
  end
until cursor == '0'
return out
