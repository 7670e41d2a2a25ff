-- rate: one start of a key under a rate of ARGV[1] starts per ARGV[2] ms, decided by GCRA (the
-- generic cell rate algorithm) on the server's clock; the same numbers as core's gcra.ts, in the
-- same order of operations, so that both round alike.
--
-- KEYS[1]  the key's theoretical arrival time (tat): a string of ms with fractions; it expires
--          once the tat has passed, so an idle key leaves nothing behind
-- ARGV[1]  limit: starts per window (a whole number, at least 1)
-- ARGV[2]  per: the window, ms
-- ARGV[3]  burst: starts allowed at once beyond the even pace after an idle spell
-- ARGV[4]  reserve: how far ahead, in ms, a start may be granted (0: now or not at all)
--
-- Returns  {1, remaining, delay, s, us}  granted at now + delay, where now is the server's TIME
--                                      (s seconds and us microseconds, as TIME gives them) in ms:
--                                      s * 1000 + us / 1000, the caller's sum, which gives the same
--                                      double as the one computed here
--          {0, retryAfter}             refused; nothing is written
--          A delay other than 0 is a string ('%.17g' keeps every bit of a double): Redis turns a
--          Lua number in a reply into an integer, which would drop the fractions of a ms. Each
--          string.format costs about half a microsecond here, so the common reply has none: TIME's
--          own strings carry now.
local limit, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, reserve = tonumber(ARGV[3]), tonumber(ARGV[4])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local function exact(x)
  return string.format('%.17g', x)
end

local interval = per / limit
local tolerance = burst * interval
local base = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local delay = math.max(0, base - tolerance - now)
if delay > reserve then
  return {0, math.ceil(delay)}
end
local tat = base + interval
local remaining = 0
if delay <= 0 then
  -- From base - now (exactly 0 on a fresh key), as gcra.ts does: no whole start rounded away.
  remaining = math.max(0, burst - math.ceil((base - now) / interval))
end
-- Kept a millisecond past the tat (PX counts whole ms on the server's own clock): a key read
-- before its tat must still be there; after it, absent and present give the same decision.
redis.call('SET', KEYS[1], exact(tat), 'PX', math.ceil(tat - now) + 1)
return {1, remaining, delay == 0 and 0 or exact(delay), t[1], t[2]}
