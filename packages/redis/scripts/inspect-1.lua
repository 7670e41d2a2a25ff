-- inspect: who holds a lock, read in one step so the owner and TTL belong together.
--
-- KEYS[1]  the lock
--
-- Returns  {owner, pttl, fence, since}, or nil when the lock is free
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence', 'since')
if not held[1] then
  return false
end
return {held[1], redis.call('PTTL', KEYS[1]), held[2], held[3]}
