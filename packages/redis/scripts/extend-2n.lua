-- extend: compare-and-extend for n leases at once (one lease, or a heartbeat batch).
--
-- KEYS[2i-1]  the lock of lease i
-- KEYS[2i]    its fence record
-- ARGV[1]     how long a fence record outlives its lock, ms
-- ARGV[2i]    owner token of lease i
-- ARGV[2i+1]  TTL of lease i, ms
--
-- Returns  {r1, ..., rn}: ri = 1 if lease i was still its owner's (its TTL restarts now), else 0
local keep = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS / 2 do
  local lock, record = KEYS[2 * i - 1], KEYS[2 * i]
  local ttl = tonumber(ARGV[2 * i + 1])
  local held = redis.call('HMGET', lock, 'owner', 'fence')
  if held[1] == ARGV[2 * i] then
    redis.call('PEXPIRE', lock, ttl)
    redis.call('SET', record, held[2], 'PX', ttl + keep)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
