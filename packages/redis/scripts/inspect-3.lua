-- inspect: who holds a key, read in one step so that owners and TTLs belong together.
--
-- KEYS[1]  the lock
-- KEYS[2]  the permits (see acquire-5.lua)
-- KEYS[3]  the permits' grants
--
-- Returns  {1, owner, pttl, fence, since} for a lease;
--          {limit, owner1, pttl1, fence1, since1, owner2, ...} for permits, oldest grant first;
--          nil when the key is free
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence', 'since')
if held[1] then
  return {1, held[1], redis.call('PTTL', KEYS[1]), held[2], held[3]}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[2], now, '+inf', 'WITHSCORES')
if #live == 0 then
  return false
end
local permits = {}
for i = 1, #live, 2 do
  local owner = live[i]
  local info = redis.call('HMGET', KEYS[3], 'fence:' .. owner, 'since:' .. owner)
  permits[#permits + 1] = {owner, tonumber(live[i + 1]) - now, info[1], info[2]}
end
-- Fences grow with each grant, so the smallest is the oldest permit.
table.sort(permits, function(a, b)
  return (tonumber(a[3]) or 0) < (tonumber(b[3]) or 0)
end)
local out = {tonumber(redis.call('HGET', KEYS[3], 'limit')) or 0}
for _, p in ipairs(permits) do
  for j = 1, 4 do
    out[#out + 1] = p[j]
  end
end
return out
