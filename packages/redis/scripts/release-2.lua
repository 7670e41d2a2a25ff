-- release: compare-and-delete on the owner token, then tells waiters the key is free.
--
-- KEYS[1]  the lock
-- KEYS[2]  its fence record, which stays ARGV[2] ms after the lock is gone
-- ARGV[1]  owner token
-- ARGV[2]  how long the fence record outlives the lock, ms
-- ARGV[3]  channel to publish the release on; empty: publish nothing
--
-- Returns  1 if the owner held the lock until now, else 0
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence')
if held[1] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], held[2], 'PX', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], '')
end
return 1
