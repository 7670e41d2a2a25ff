-- save: keeps a value for a key on behalf of the holder of the key's plain lease, unless a save
-- under a greater fence is already stored.
--
-- KEYS[1]  the lock: a hash {owner, fence, since} while a plain lease holds it (see acquire-5.lua)
-- KEYS[2]  the saved state: a hash {value, fence, savedAt}; it has no TTL (deleteState removes it)
-- ARGV[1]  owner token of the lease
-- ARGV[2]  the lease's fence; '' for none (counted as 0)
-- ARGV[3]  the value
--
-- Returns  1 if the value was stored; 0 if the owner does not hold the lease now (free, another
--          holder, or held by permits) or a greater fence is stored
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return 0
end
local fence = tonumber(ARGV[2]) or 0
if (tonumber(redis.call('HGET', KEYS[2], 'fence')) or 0) > fence then
  return 0
end
local t = redis.call('TIME')
-- Wall-clock ms for display; '%.0f' writes every digit of both (Lua's default format keeps 14).
local savedAt = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('HSET', KEYS[2], 'value', ARGV[3], 'fence', ARGV[2], 'savedAt', savedAt)
return 1
