-- list: every lease and permit held on this node whose key matches a pattern, with its holder,
-- in one call. For operators: it walks the keyspace with SCAN inside the script, so it blocks
-- the server for as long as that takes on a large database.
--
-- ARGV[1]  SCAN MATCH pattern (lock keys end with '}', their permits with '}:permits', and the
--          rest with other suffixes)
-- ARGV[2]  SCAN COUNT per step
--
-- Returns  {key1, owner1, pttl1, fence1, since1, limit1, key2, ...}: one group per lease (limit 1)
--          and per live permit, each named by its lock key
local out = {}
local function add(key, owner, pttl, fence, since, limit)
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] = key, owner, pttl, fence, since, limit
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', ARGV[2])
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    if string.sub(key, -1) == '}' and redis.call('TYPE', key).ok == 'hash' then
      local held = redis.call('HMGET', key, 'owner', 'fence', 'since')
      if held[1] then
        add(key, held[1], redis.call('PTTL', key), held[2], held[3], 1)
      end
    elseif string.sub(key, -9) == '}:permits' and redis.call('TYPE', key).ok == 'zset' then
      local lock = string.sub(key, 1, -9)
      local grants = lock .. ':grants'
      local limit = tonumber(redis.call('HGET', grants, 'limit')) or 0
      local live = redis.call('ZRANGEBYSCORE', key, now, '+inf', 'WITHSCORES')
      for i = 1, #live, 2 do
        local info = redis.call('HMGET', grants, 'fence:' .. live[i], 'since:' .. live[i])
        add(lock, live[i], tonumber(live[i + 1]) - now, info[1], info[2], limit)
      end
    end
  end
until cursor == '0'
return out
