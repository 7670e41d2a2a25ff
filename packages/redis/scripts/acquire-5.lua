-- acquire: takes a key for an owner as a lease (its one holder) or as a permit (one of at most
-- ARGV[5] holders), or renews it if that owner holds it already.
--
-- KEYS[1]  the lock: a hash {owner, fence, since}; its PTTL is the lease's TTL
-- KEYS[2]  the fence record: the last fence handed out for this key, to a lease or a permit, kept
--          ARGV[3] ms longer than the lock or the last permit
-- KEYS[3]  the waiters: a sorted set of '<backend id> <owner>' by the time each began to wait
-- KEYS[4]  the permits: a sorted set of owners by the time each permit expires (server clock, ms)
-- KEYS[5]  the permits' grants: a hash {limit, fence:<owner>, since:<owner>}; it and KEYS[4]
--          expire with the last permit, so it exists exactly while the key is held by permits
-- ARGV[1]  owner token
-- ARGV[2]  TTL, ms
-- ARGV[3]  how long the fence record outlives the lock, ms
-- ARGV[4]  '<backend id> <owner>' if the caller is waiting for the key: refused, it joins the
--          waiters (keeping its place if already there); granted, it leaves them. '': neither
-- ARGV[5]  the limit of a permit (2 or more); '' for a lease
-- ARGV[6]  '' if the caller in ARGV[4] is known not to be among the waiters (it never joined, or a
--          release took it out to wake it): a grant then leaves the waiters alone
-- ARGV[7]  '1' if the caller in ARGV[4] made the waiters' expiry a minute from its own join or
--          refresh less than 30 s ago: the set then lives 30 s more at least, and a try that adds
--          nothing to it need not move its expiry. '' otherwise
-- ARGV[8]  the member the caller in ARGV[4] waited as until now, if it renews its terms (a new
--          anchor, see release-5.lua) with this try; '' otherwise. Refused, the new member takes the
--          old one's place, or joins as ARGV[4] would if the old one is gone; granted, or not joining,
--          neither stays. So the caller is among the waiters at most once.
--
-- Returns  {1, fence, renewed}                     granted; renewed = 1 when the owner already held it (same fence)
--          {0, owner, pttl, fence, since[, limit]}  refused, with the holder whose grant ends first; limit is the
--                                                   limit the key is held under (1: a lease), given when the key
--                                                   is held by permits or the caller asked for one. A caller
--                                                   refused for asking with another limit does not join the waiters.
local owner, ttl, waiter, replaced = ARGV[1], tonumber(ARGV[2]), ARGV[4], ARGV[8] or ''
local keep = ttl + tonumber(ARGV[3])
local limit = tonumber(ARGV[5])

local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Takes the caller out of the waiters, as whichever member it is there.
local function leave()
  if replaced ~= '' then
    redis.call('ZREM', KEYS[3], waiter, replaced)
  else
    redis.call('ZREM', KEYS[3], waiter)
  end
end

local function granted(fence, renewed)
  if waiter ~= '' and (ARGV[6] ~= '' or replaced ~= '') then
    leave()
  end
  return {1, tonumber(fence), renewed}
end

-- `ms`: the waiter's place, server ms, when the caller has it without a TIME (which costs as much
-- as a small command).
local function refused(reply, waits, ms)
  if waiter ~= '' and waits then
    -- A renewal keeps the place of the member it replaces, if that is still there.
    local place = replaced ~= '' and redis.call('ZSCORE', KEYS[3], replaced)
    if place then
      redis.call('ZREM', KEYS[3], replaced)
      ms = place
    end
    local added = redis.call('ZADD', KEYS[3], 'NX', ms or math.floor(clock() / 1000), waiter)
    -- Waiters that vanish without being woken leave entries behind: the set goes a minute after
    -- the last waiter joined it, or refreshed it. A waiter already in it whose refresh is recent
    -- (ARGV[7]) leaves that as it is: its fallback poll then costs one command less.
    if added == 1 or ARGV[7] ~= '1' then
      redis.call('PEXPIRE', KEYS[3], 60000)
    end
  elseif waiter ~= '' then
    leave()
  end
  return reply
end

-- The refusal by the permit that ends first, {owner, expiry} (ZRANGE ... WITHSCORES), whose
-- grant is {fence, since}, under `under`.
local function byPermit(first, grant, ms, under)
  return {0, first[1], tonumber(first[2]) - ms, grant[1], grant[2], tonumber(under)}
end

-- The grant {fence, since} of the permit of `owner`.
local function grantOf(owner)
  return redis.call('HMGET', KEYS[5], 'fence:' .. owner, 'since:' .. owner)
end

-- The refusal by a key's permits: the one that ends first. nil if none is live after all (the
-- grants hash may outlive the last permit: a release leaves the keys' expiry as it was).
local function byPermits(ms, under)
  local first = redis.call('ZRANGEBYSCORE', KEYS[4], ms, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then
    return nil
  end
  return byPermit(first, grantOf(first[1]), ms, under)
end

local held = redis.call('HMGET', KEYS[1], 'owner', 'fence', 'since')
if held[1] then
  if limit then
    return refused({0, held[1], redis.call('PTTL', KEYS[1]), held[2], held[3], 1}, false)
  end
  if held[1] == owner then
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('SET', KEYS[2], held[2], 'PX', keep)
    return granted(held[2], 1)
  end
  -- A waiter already among the waiters (a fallback poll) keeps its place: ZADD NX adds nothing,
  -- so no TIME is read for it. Should a release have just taken it out, it goes back at the
  -- current holder's grant, before every waiter that came after that.
  local at = ARGV[6] ~= '' and tonumber(held[3]) or nil
  return refused({0, held[1], redis.call('PTTL', KEYS[1]), held[2], held[3]}, true, at)
end

local now = clock()
local ms = math.floor(now / 1000)
-- `last`: the expiry of the permit that ends last, when known without another command.
local under, mine, count, last = nil, nil, 0, nil

-- The key's permits by expiry: the first (as a ZRANGE ... WITHSCORES pair), the last one's
-- expiry, and how many. A key holds at most its limit (an acquire prunes before it adds), so under
-- a small limit one ZRANGE of one more than the caller's limit reads them all when the key has
-- room, and shows it full otherwise (the count and last are then those of the part read, which
-- is all a refusal needs). Under a large limit the first and the count are read, the last only
-- if needed.
local function span()
  if limit <= 16 then
    local all = redis.call('ZRANGE', KEYS[4], 0, limit, 'WITHSCORES')
    return {all[1], all[2]}, all[1] and tonumber(all[#all]), #all / 2
  end
  return redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES'), nil, redis.call('ZCARD', KEYS[4])
end
if not limit then
  under = redis.call('HGET', KEYS[5], 'limit')
  if under then
    local refusal = byPermits(ms, under)
    if refusal then
      return refused(refusal, false)
    end
  end
else
  -- The permits set and the grants hash are made, expired and deleted together: a key without
  -- permits has no grants to read. One HMGET reads the key's limit, the caller's own grant (it
  -- holds a permit already) and the first permit's (the refusal if the key is full).
  local first, grant
  first, last, count = span()
  if count > 0 then
    local grants = redis.call(
      'HMGET', KEYS[5], 'limit', 'fence:' .. owner, 'fence:' .. first[1], 'since:' .. first[1])
    under, mine, grant = grants[1], grants[2], {grants[3], grants[4]}
    -- Expired permits go first: each ends at its own TTL, whatever the others do. The one that
    -- ends first tells whether any has expired.
    if under and tonumber(first[2]) < ms then
      local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. ms)
      for _, o in ipairs(gone) do
        redis.call('HDEL', KEYS[5], 'fence:' .. o, 'since:' .. o)
        if o == owner then
          mine = nil
        end
      end
      redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ms)
      first, last, count = span()
      if count > 0 then
        grant = grantOf(first[1])
      end
    end
  end
  if not under or count == 0 then
    under, count = nil, 0
  elseif tonumber(under) ~= limit then
    return refused(byPermit(first, grant, ms, under), false)
  elseif mine then
    -- Its own expiry may have been the keys' one: they live as long as the last permit.
    redis.call('ZADD', KEYS[4], ms + ttl, owner)
    if count > 1 or not last then
      last = tonumber(redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')[2])
    else
      last = ms + ttl
    end
    redis.call('PEXPIREAT', KEYS[4], last)
    redis.call('PEXPIREAT', KEYS[5], last)
    redis.call('PEXPIREAT', KEYS[2], last + tonumber(ARGV[3]))
    return granted(mine, 1)
  elseif count >= limit then
    return refused(byPermit(first, grant, ms, under), true, ms)
  end
end

-- The fence is the server's clock in microseconds, or one more than the last fence if that is
-- larger. The clock survives a restart that loses every key; the record covers bursts faster
-- than a microsecond and small backward steps of the clock while it lives. (README: "Fences".)
local fence = math.max(tonumber(redis.call('GET', KEYS[2]) or 0) + 1, now)
if fence >= 9007199254740991 then
  return redis.error_reply('ERR oncelock: the next fence would not be a safe integer')
end
-- The fence and `ms` go to redis.call as numbers: it writes them with every digit ('%.17g'), as
-- string.format('%.0f') would, at no cost here (Lua's own tostring rounds to 14 digits).
if limit then
  local expiry = ms + ttl
  redis.call('ZADD', KEYS[4], expiry, owner)
  redis.call('HSET', KEYS[5], 'limit', limit, 'fence:' .. owner, fence, 'since:' .. owner, ms)
  -- The keys live as long as the last permit (the record ARGV[3] ms longer): they only ever grow
  -- longer here, so only a permit that ends last moves them.
  if count == 0 then
    last = expiry
  else
    last = math.max(expiry, last or tonumber(redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')[2]))
  end
  redis.call('SET', KEYS[2], fence, 'PX', last - ms + tonumber(ARGV[3]))
  if last == expiry then
    redis.call('PEXPIREAT', KEYS[4], last)
    redis.call('PEXPIREAT', KEYS[5], last)
  end
else
  redis.call('HSET', KEYS[1], 'owner', owner, 'fence', fence, 'since', ms)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('SET', KEYS[2], fence, 'PX', keep)
end
return granted(fence, 0)
