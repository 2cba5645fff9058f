local ratelimit = require "twingate.ratelimit"

-- A fake clock: sleep advances time and records every sleep.
local function fake_clock(start)
  local c = { t = start or 1000, sleeps = {} }
  c.now = function() return c.t end
  c.sleep = function(s)
    assert(s > 0, "sleep of " .. tostring(s))
    c.sleeps[#c.sleeps + 1] = s
    c.t = c.t + s
  end
  return c
end

-- A server that counts requests the same way: at most `limit` in any
-- window of 60 s ending at a request's arrival (arrival counts).
local function counting_server(limit, window)
  local s = { arrivals = {}, rejected = 0 }
  function s.arrive(t)
    local n = 0
    for _, a in ipairs(s.arrivals) do
      if a > t - window then n = n + 1 end
    end
    if n >= limit then s.rejected = s.rejected + 1; return false end
    s.arrivals[#s.arrivals + 1] = t
    return true
  end
  return s
end

describe("twingate.ratelimit", function()
  local clock, rl

  before_each(function()
    clock = fake_clock()
    rl = ratelimit.new{ reads_per_minute = 60, writes_per_minute = 20,
      now = clock.now, sleep = clock.sleep }
  end)

  describe("new()", function()
    it("rejects a limit that is not a positive number", function()
      local ok, err = pcall(ratelimit.new, { reads_per_minute = 0, now = clock.now,
        sleep = clock.sleep })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
      ok = pcall(ratelimit.new, { writes_per_minute = "20", now = clock.now, sleep = clock.sleep })
      assert.is_false(ok)
    end)
  end)

  describe("acquire()", function()
    it("lets a burst of N requests through without waiting", function()
      for _ = 1, 20 do assert.are.equal(0, rl:acquire("write")) end
      assert.are.same({}, clock.sleeps)
      assert.are.equal(1000, clock.t)
    end)

    it("makes the N+1th request in the window wait until the oldest leaves it", function()
      for _ = 1, 20 do rl:acquire("write") end
      clock.t = clock.t + 10
      local waited = rl:acquire("write")
      assert.are.equal(50, waited)
      assert.are.equal(1060, clock.t)
    end)

    it("keeps reads and writes in separate windows", function()
      for _ = 1, 20 do rl:acquire("write") end
      for _ = 1, 60 do assert.are.equal(0, rl:acquire("read")) end
      assert.are.equal(0, #clock.sleeps)
      assert.is_true(rl:acquire("read") > 0)
    end)

    it("runs a long job at exactly the limit", function()
      -- 100 writes at 20/min with instant requests: the window frees the
      -- first 20 slots 60 s later, so each block of 20 starts 60 s after
      -- the previous one; the last block starts at +240 s.
      for _ = 1, 100 do rl:acquire("write") end
      assert.are.equal(1000 + 4 * 60, clock.t)
    end)

    it("never trips a server that counts the same way, even with latency jitter", function()
      local server = counting_server(20, 60)
      local latencies = { 0.05, 0.9, 0.01, 2.5, 0.3, 0.0, 1.7 }
      local sent = 0
      for i = 1, 200 do
        rl:acquire("write")
        local lat = latencies[i % #latencies + 1]
        -- the request arrives during its latency; the response comes back after
        local arrival = clock.t + lat / 2
        clock.t = clock.t + lat
        if server.arrive(arrival) then sent = sent + 1 end
        rl:finish("write")
        clock.t = clock.t + (i % 3) * 0.1 -- the script does some work
      end
      assert.are.equal(0, server.rejected)
      assert.are.equal(200, sent)
    end)

    it("does not pace a class whose limit is nil", function()
      local r = ratelimit.new{ reads_per_minute = nil, writes_per_minute = nil,
        now = clock.now, sleep = clock.sleep }
      for _ = 1, 1000 do assert.are.equal(0, r:acquire("read")) end
      for _ = 1, 1000 do assert.are.equal(0, r:acquire("write")) end
      assert.are.equal(0, #clock.sleeps)
    end)

    it("honours a custom window", function()
      local r = ratelimit.new{ reads_per_minute = 2, window = 1, now = clock.now,
        sleep = clock.sleep }
      r:acquire("read"); r:acquire("read")
      assert.are.equal(1, r:acquire("read"))
    end)

    it("rejects an unknown class", function()
      local ok, err = pcall(rl.acquire, rl, "delete")
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)
  end)

  describe("finish()", function()
    it("counts the window from when the response arrived", function()
      local r = ratelimit.new{ writes_per_minute = 1, now = clock.now, sleep = clock.sleep }
      r:acquire("write")
      clock.t = clock.t + 5 -- slow request
      r:finish("write")
      assert.are.equal(60, r:acquire("write"))
      assert.are.equal(1065, clock.t)
    end)
  end)

  describe("penalize()", function()
    it("blocks every class until now + seconds", function()
      rl:penalize(30)
      assert.are.equal(30, rl:acquire("read"))
      assert.are.equal(1030, clock.t)
      assert.are.equal(0, rl:acquire("write"))
    end)

    it("applies even when the limits are nil", function()
      local r = ratelimit.new{ now = clock.now, sleep = clock.sleep }
      r:penalize(2.5)
      assert.are.equal(2.5, r:acquire("write"))
    end)

    it("keeps the later of two penalties", function()
      rl:penalize(30)
      rl:penalize(10)
      assert.are.equal(30, rl:delay("read"))
    end)
  end)

  describe("count()", function()
    it("counts requests still in the window", function()
      rl:acquire("read"); rl:acquire("read")
      assert.are.equal(2, rl:count("read"))
      clock.t = clock.t + 60
      assert.are.equal(0, rl:count("read"))
    end)
  end)
end)
