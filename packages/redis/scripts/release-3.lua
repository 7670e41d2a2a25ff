-- release: compare-and-delete on the owner token, then wakes the first waiter still listening.
--
-- KEYS[1]  the lock
-- KEYS[2]  its fence record, which stays ARGV[2] ms after the lock is gone
-- KEYS[3]  the waiters (see acquire-3.lua)
-- ARGV[1]  owner token; '' to pass a wake-up on without releasing anything (a woken backend
--          that no longer waits for the key), which wakes the next waiter if the lock is free
-- ARGV[2]  how long the fence record outlives the lock, ms
-- ARGV[3]  prefix of the backends' wake-up channels; '' wakes nobody
-- ARGV[4]  how many waiters to try before giving up: each one that no connection hears (its
--          process is gone) is dropped and the next is tried. On a Cluster PUBLISH counts only
--          the listeners on this node, so a Cluster tries one.
--
-- Returns  1 if the owner held the lock until now (or, passing on, if it is free), else 0
if ARGV[1] ~= '' then
  local held = redis.call('HMGET', KEYS[1], 'owner', 'fence')
  if held[1] ~= ARGV[1] then
    return 0
  end
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], held[2], 'PX', ARGV[2])
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if ARGV[3] ~= '' then
  for _ = 1, tonumber(ARGV[4]) do
    local first = redis.call('ZPOPMIN', KEYS[3])
    if #first == 0 then
      break
    end
    local backend, owner = string.match(first[1], '^([^ ]+) (.*)$')
    -- The waiter's owner, a NUL (no owner holds one), then the lock: the backend wakes that waiter.
    if redis.call('PUBLISH', ARGV[3] .. backend, owner .. '\0' .. KEYS[1]) > 0 then
      break
    end
  end
end
return 1
