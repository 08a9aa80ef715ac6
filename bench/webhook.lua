-- webhook.lua: wrk script for the collector benchmark (bench/run.py).
-- Posts pre-built webhook batches (JSON files) to POST /.
-- Environment:
--   BENCH_DIR      directory with batch-NNNNN.json
--   BENCH_BATCHES  how many batch files to use (batch-00000 .. )
--   BENCH_THREADS  wrk's -t (thread i posts batches i, i+T, i+2T, ...)
--   BENCH_TOKEN    X-MessageSystems-Webhook-Token
--   BENCH_LOOP     1: start again at the first batch when all were posted
--                  0: stop the thread instead (every message posted once)
--   BENCH_RATE     total requests/s to pace at (0 = as fast as possible);
--                  (a send schedule per thread: one slot every THREADS/RATE s,
--                  each request takes the next slot on whichever connection)
--   BENCH_RESULT   file for the JSON summary written by done(): wrk's figures,
--                  active_us, from the first request to the last response, and
--                  answered, the responses that were 200
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local function now_ms()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local counter = 0
local threads = {}
function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

function init(args)
  local dir = os.getenv("BENCH_DIR")
  local n = tonumber(os.getenv("BENCH_BATCHES"))
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  loop = os.getenv("BENCH_LOOP") == "1"
  local rate = tonumber(os.getenv("BENCH_RATE") or "0")
  step = rate > 0 and (1000.0 * threads / rate) or 0
  bodies = {}
  for i = thread_index, n - 1, threads do
    local f = assert(io.open(string.format("%s/batch-%05d.json", dir, i), "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-MessageSystems-Webhook-Token"] = os.getenv("BENCH_TOKEN")
  idx = 0
  next_at = nil
  first_ms, last_ms, answered = 0, 0, 0
end

function request()
  if first_ms == 0 then first_ms = now_ms() end
  idx = idx + 1
  if idx > #bodies then
    if not loop then wrk.thread:stop() end
    idx = 1
  end
  return wrk.format(nil, "/", nil, bodies[idx])
end

-- The time of the last response and how many were 200: with BENCH_LOOP=0
-- the work can end before wrk's -d, and a rate over -d would then only show
-- the fixtures' count; requests in flight when a thread stops are never
-- answered, so the rate counts the answered ones over first request to
-- last answer. (wrk calls request() once at start-up to check the script:
-- first_ms is then early by the connections' set-up, a few ms.)
function response(status, headers, body)
  last_ms = now_ms()
  if status == 200 then answered = answered + 1 end
end

function delay()
  if step <= 0 then return 0 end
  -- A fixed schedule: the next send is due one step after the previous
  -- slot, whatever the response times were.
  local t = now_ms()
  if next_at == nil then next_at = t end
  next_at = next_at + step
  local d = next_at - t
  if d < 0 then return 0 end
  return d
end

function done(summary, latency, requests)
  local first, last, ok = nil, 0, 0
  for _, t in ipairs(threads) do
    local a, b = t:get("first_ms"), t:get("last_ms")
    if a and a > 0 and (first == nil or a < first) then first = a end
    if b and b > last then last = b end
    ok = ok + (t:get("answered") or 0)
  end
  local active_us = (first and last > first) and (last - first) * 1000 or summary.duration
  local f = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
  local e = summary.errors
  f:write(string.format(
    '{"requests": %d, "answered": %d, "duration_us": %d, "active_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "err_connect": %d, "err_read": %d, "err_write": %d, ' ..
    '"err_status": %d, "err_timeout": %d}\n',
    summary.requests, ok, summary.duration, active_us, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
  f:close()
end
