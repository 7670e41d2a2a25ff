-- release: compare-and-delete of a lease or of one permit, then hands it to the first waiter still
-- listening, or wakes that waiter.
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
-- ARGV[6]  '1' to hand what the release frees straight to the first waiter when that waiter joined
--          with its terms (see below); '' only wakes (a Cluster, where PUBLISH cannot tell
--          whether anyone heard)
--
-- A waiter joins the waiters as '<backend id> <owner>', or with its terms as
-- '<backend id> \0<ttl>\0<anchor>\0<limit>\0<owner>': its TTL, an instant of its own process's clock
-- before it first joined, and the limit it asked under (1: a lease). (An older release reads the
-- terms as part of the owner, and its wake-up still reaches that backend.) When a release frees
-- a lease, or a permit of the limit that waiter asked under, the first such waiter is granted it
-- here, as acquire-5.lua would grant it, and told its fence with the anchor: the grant's TTL starts
-- now, after the anchor, so the waiter counts its validity from the anchor and sends no acquire
-- of its own. A hand that nobody hears is taken back.
--
-- Returns  1 if the owner held the lease or permit until now (or, passing on, if the key has
--          room), else 0
local function ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- `held`: the lock is the released lease's, still to delete. `free`: the key is free for a lease.
-- `room`: a released permit's limit (the key has room for one permit); `liveLast`: the expiry of
-- the permit that ends last among those still live.
-- `drawn`: the last fence handed out for the key, when known without reading the record.
local held, free, room, liveLast, drawn = false, false, nil, nil, nil
if ARGV[1] == '' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
  end
  local live = redis.call('ZCOUNT', KEYS[4], ms(), '+inf')
  if live > 0 and live >= tonumber(redis.call('HGET', KEYS[5], 'limit') or 0) then
    return 0
  end
  free = live == 0
elseif ARGV[5] == '' then
  local lock = redis.call('HMGET', KEYS[1], 'owner', 'fence')
  if lock[1] ~= ARGV[1] then
    return 0
  end
  -- The lease's fence is the last one handed out for the key: nothing is granted on a key while
  -- a lease holds it, and the record only ever matches it. A hand draws above it without a GET.
  drawn = tonumber(lock[2])
  -- The fence record is left as it is: every write of the lock's TTL (grant, re-entry, extension)
  -- sets the record's to that TTL plus ARGV[2], so it already outlives this release by ARGV[2].
  -- The lock itself goes below, unless a hand overwrites it.
  held = true
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
  -- The last permit goes with the keys below: one DEL, no ZREM before it.
  if last or limit > 16 then
    redis.call('ZREM', KEYS[4], ARGV[1])
  end
  if limit > 16 then
    last = tonumber(redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')[2])
  end
  -- A live permit was released from at most `limit` live ones: the key has room for one more.
  room = limit
  if last and last >= now then
    liveLast = last
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
-- The fence of a grant made now, and now in ms, as acquire-5.lua makes them (see there).
local function fenceNow()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local fence = math.max((drawn or tonumber(redis.call('GET', KEYS[2]) or 0)) + 1, now)
  if fence >= 9007199254740991 then
    return nil
  end
  -- A hand taken back leaves its fence unused: the next one draws above it.
  drawn = fence
  return string.format('%.0f', fence), math.floor(now / 1000)
end

-- Tells the waiter's backend its grant, NUL apart: owner, lock, fence, anchor and limit. True if heard.
local function tell(channel, owner, fence, anchor, limit)
  local grant = owner .. '\0' .. KEYS[1] .. '\0' .. fence .. '\0' .. anchor .. '\0' .. limit
  return redis.call('PUBLISH', channel, grant) > 0
end

-- Grants the freed lease to `owner` for `ttl` ms: true if its backend heard.
local function handLease(channel, owner, ttl, anchor)
  local fence, at = fenceNow()
  if not fence then
    return false
  end
  redis.call('HSET', KEYS[1], 'owner', owner, 'fence', fence, 'since', at)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('SET', KEYS[2], fence, 'PX', ttl + tonumber(ARGV[2]))
  held = false
  if tell(channel, owner, fence, anchor, 1) then
    return true
  end
  -- Nobody heard (its process is gone): the lock is taken back; its fence stays unused.
  redis.call('DEL', KEYS[1])
  return false
end

-- Grants the freed permit to `owner` for `ttl` ms: true if its backend heard.
local function handPermit(channel, owner, ttl, anchor)
  local fence, at = fenceNow()
  if not fence then
    return false
  end
  local expiry = at + ttl
  local last = math.max(expiry, liveLast or 0)
  redis.call('ZADD', KEYS[4], expiry, owner)
  redis.call('HSET', KEYS[5], 'limit', room, 'fence:' .. owner, fence, 'since:' .. owner, at)
  redis.call('PEXPIREAT', KEYS[4], last)
  redis.call('PEXPIREAT', KEYS[5], last)
  redis.call('SET', KEYS[2], fence, 'PX', last - at + tonumber(ARGV[2]))
  if tell(channel, owner, fence, anchor, room) then
    return true
  end
  -- Nobody heard: the permit is taken back (the keys may outlive it a while, which nothing minds).
  redis.call('ZREM', KEYS[4], owner)
  redis.call('HDEL', KEYS[5], 'fence:' .. owner, 'since:' .. owner)
  return false
end

local handing = ARGV[6] == '1'
-- Whether the key is free for a lease, also after a hand that nobody heard was taken back.
local leaseFree = held or free
if ARGV[3] ~= '' then
  for _ = 1, tonumber(ARGV[4]) do
    local first = redis.call('ZPOPMIN', KEYS[3])
    if #first == 0 then
      break
    end
    local backend, owner = string.match(first[1], '^([^ ]+) (.*)$')
    local ttl, anchor, limit, waiter = string.match(owner, '^%z(%d+)%z(%d+)%z(%d+)%z(.*)$')
    local channel = ARGV[3] .. backend
    limit = tonumber(limit)
    if handing and limit == 1 and leaseFree then
      if handLease(channel, waiter, tonumber(ttl), anchor) then
        break
      end
    elseif handing and limit and limit == room then
      if handPermit(channel, waiter, tonumber(ttl), anchor) then
        break
      end
    -- The waiter's owner, a NUL (no owner holds one), then the lock: the backend wakes that waiter.
    elseif redis.call('PUBLISH', channel, (waiter or owner) .. '\0' .. KEYS[1]) > 0 then
      break
    end
  end
end
if held then
  redis.call('DEL', KEYS[1])
end
return 1
