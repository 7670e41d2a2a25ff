-- acquire: takes the lock for an owner if it is free, or renews it if that owner holds it already.
--
-- KEYS[1]  the lock: a hash {owner, fence, since}; its PTTL is the lease's TTL
-- KEYS[2]  the fence record: the last fence handed out for this key, kept ARGV[3] ms longer than the lock
-- KEYS[3]  the waiters: a sorted set of '<backend id> <owner>' by the time each began to wait
-- ARGV[1]  owner token
-- ARGV[2]  TTL, ms
-- ARGV[3]  how long the fence record outlives the lock, ms
-- ARGV[4]  '<backend id> <owner>' if the caller is waiting for the key: refused, it joins the
--          waiters (keeping its place if already there); granted, it leaves them. '': neither
--
-- Returns  {1, fence, renewed}            granted; renewed = 1 when the owner already held it (same fence)
--          {0, owner, pttl, fence, since}  refused, with the holder
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence', 'since')
local ttl = tonumber(ARGV[2])
local keep = ttl + tonumber(ARGV[3])

if ARGV[4] ~= '' then
  if held[1] and held[1] ~= ARGV[1] then
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[3], 'NX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[4])
    -- Waiters that vanish without being woken leave entries behind: the set goes a minute after
    -- the last waiter joined it.
    redis.call('PEXPIRE', KEYS[3], 60000)
  else
    redis.call('ZREM', KEYS[3], ARGV[4])
  end
end

if held[1] == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('SET', KEYS[2], held[2], 'PX', keep)
  return {1, tonumber(held[2]), 1}
end
if held[1] then
  return {0, held[1], redis.call('PTTL', KEYS[1]), held[2], held[3]}
end

-- The fence is the server's clock in microseconds, or one more than the last fence if that is
-- larger. The clock survives a restart that loses every key; the record covers bursts faster
-- than a microsecond and small backward steps of the clock while it lives. (README: "Fences".)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local fence = math.max(tonumber(redis.call('GET', KEYS[2]) or 0) + 1, now)
if fence >= 9007199254740991 then
  return redis.error_reply('ERR oncelock: the next fence would not be a safe integer')
end
-- '%.0f' writes every digit: Lua's default number format would round to 14 significant digits.
local text = string.format('%.0f', fence)
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'fence', text, 'since', string.format('%.0f', math.floor(now / 1000)))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], text, 'PX', keep)
return {1, fence, 0}
