-- counter-write: the write half of a fenced read-modify-write, logged so that lost updates show.
--
-- KEYS[1]  the counter: a hash {value, fence}
-- KEYS[2]  the ids of every write applied to it, a sorted set scored by the order they were applied in
-- ARGV[1]  the writer's fence, or '' to write without one
-- ARGV[2]  the new value
-- ARGV[3]  this write's id (unique per write)
--
-- Returns  1 if applied (or applied before: a resent write changes nothing), 0 if the fence is stale
if redis.call('ZSCORE', KEYS[2], ARGV[3]) then
  return 1
end
if ARGV[1] ~= '' then
  local latest = tonumber(redis.call('HGET', KEYS[1], 'fence') or '-1')
  if tonumber(ARGV[1]) < latest then
    return 0
  end
  redis.call('HSET', KEYS[1], 'fence', ARGV[1])
end
redis.call('HSET', KEYS[1], 'value', ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[1], 'writes', 1), ARGV[3])
return 1
