-- extend-permits: compare-and-extend for n permits at once (one permit, or a heartbeat batch).
--
-- KEYS[3i-2]  the permits of permit i's key (see acquire-5.lua)
-- KEYS[3i-1]  the permits' grants
-- KEYS[3i]    the key's fence record
-- ARGV[1]     how long a fence record outlives the last permit, ms
-- ARGV[3i-1]  owner token of permit i
-- ARGV[3i]    TTL of permit i, ms
-- ARGV[3i+1]  the limit permit i was granted under (a live permit always was: not read)
--
-- Returns  {r1, ..., rn}: ri = 1 if permit i was still its owner's and had not expired (its TTL
--          restarts now, by the server's clock), else 0
local keep = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS / 3 do
  local permits, grants, record = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local owner, ttl = ARGV[3 * i - 1], tonumber(ARGV[3 * i])
  local expiry = redis.call('ZSCORE', permits, owner)
  -- A live permit holds the limit asked for without reading it (see release-5.lua).
  if expiry and tonumber(expiry) >= now then
    redis.call('ZADD', permits, now + ttl, owner)
    -- The keys live at least as long as the last permit, the record `keep` longer: only the
    -- permit that now ends last moves them (a shorter TTL than before may move them back).
    local last = tonumber(redis.call('ZRANGE', permits, -1, -1, 'WITHSCORES')[2])
    if last == now + ttl then
      redis.call('PEXPIREAT', permits, last)
      redis.call('PEXPIREAT', grants, last)
      redis.call('PEXPIREAT', record, last + keep)
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
