-- counter-read: the read half of a fenced read-modify-write on a counter.
-- A read with a fence also records that fence, so a holder whose lease has ended cannot write a
-- value it read before its successor did: the successor's read has already raised the fence.
--
-- KEYS[1]  the counter: a hash {value, fence}
-- ARGV[1]  the reader's fence, or '' to read without one (backends that make no fences)
--
-- Returns  {1, value}, or {0, latest} when the fence is older than the latest one seen
local latest = tonumber(redis.call('HGET', KEYS[1], 'fence') or '-1')
if ARGV[1] ~= '' then
  if tonumber(ARGV[1]) < latest then
    return {0, latest}
  end
  redis.call('HSET', KEYS[1], 'fence', ARGV[1])
end
return {1, tonumber(redis.call('HGET', KEYS[1], 'value') or '0')}
