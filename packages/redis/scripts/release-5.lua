-- release: compare-and-delete of a lease or of one permit, then wakes the first waiter still listening.
--
-- KEYS[1]  the lock
-- KEYS[2]  its fence record, which stays ARGV[2] ms after the lock or the last permit is gone
-- KEYS[3]  the waiters (see acquire-5.lua)
-- KEYS[4]  the permits (see acquire-5.lua)
-- KEYS[5]  the permits' grants (see acquire-5.lua)
-- ARGV[1]  owner token; '' to pass a wake-up on without releasing anything (a woken backend
--          that no longer waits for the key), which wakes the next waiter if the key has room
-- ARGV[2]  how long the fence record outlives the lock, ms
-- ARGV[3]  prefix of the backends' wake-up channels; '' wakes nobody
-- ARGV[4]  how many waiters to try before giving up: each one that no connection hears (its
--          process is gone) is dropped and the next is tried. On a Cluster PUBLISH counts only
--          the listeners on this node, so a Cluster tries one.
-- ARGV[5]  the limit the permit to release was granted under; '' for a lease
--
-- Returns  1 if the owner held the lease or permit until now (or, passing on, if the key has
--          room), else 0
local function ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

if ARGV[1] == '' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
  end
  local live = redis.call('ZCOUNT', KEYS[4], ms(), '+inf')
  if live > 0 and live >= tonumber(redis.call('HGET', KEYS[5], 'limit') or 0) then
    return 0
  end
elseif ARGV[5] == '' then
  if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
    return 0
  end
  -- The fence record is left as it is: every write of the lock's TTL (grant, re-entry, extension)
  -- sets the record's to that TTL plus ARGV[2], so it already outlives this release by ARGV[2].
  redis.call('DEL', KEYS[1])
else
  local now, limit = ms(), tonumber(ARGV[5])
  -- This permit's expiry, and the expiry of the one that ends last once it is gone.
  local expiry, last
  if limit <= 16 then
    -- The key holds at most its limit, so one ZRANGE reads every permit (the part read is
    -- bounded by one more than that, should a caller name another limit).
    local all = redis.call('ZRANGE', KEYS[4], 0, limit, 'WITHSCORES')
    for i = 1, #all, 2 do
      if all[i] == ARGV[1] then
        expiry = tonumber(all[i + 1])
      else
        last = tonumber(all[i + 1])
      end
    end
  else
    expiry = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[1]))
  end
  -- A live permit was granted under the key's limit, ARGV[5], with no need to read it: the key
  -- keeps its limit while any permit lives, and an acquire that set a new one on an emptied key
  -- pruned every expired permit first.
  if not expiry or expiry < now then
    return 0
  end
  redis.call('ZREM', KEYS[4], ARGV[1])
  if limit > 16 then
    last = tonumber(redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')[2])
  end
  if last and last >= now then
    -- Permits whose TTL ran out stay until the next acquire prunes them: they no longer count.
    redis.call('HDEL', KEYS[5], 'fence:' .. ARGV[1], 'since:' .. ARGV[1])
    -- The keys live as long as the last permit: only the release of that one moves them.
    if expiry > last then
      redis.call('PEXPIREAT', KEYS[4], last)
      redis.call('PEXPIREAT', KEYS[5], last)
      redis.call('PEXPIREAT', KEYS[2], last + tonumber(ARGV[2]))
    end
  else
    -- The record already lives ARGV[2] ms past the permit that ended last (see above).
    redis.call('DEL', KEYS[4], KEYS[5])
  end
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
