-- wrk script of the benchmark (bench/run.py): requests come from a file, one a line:
--   METHOD <tab> PATH <tab> COOKIE <tab> BODY (form-encoded, may be empty)
-- wrk -s bench/wrk.lua URL -- FILE MODE THREADS
--   MODE "cycle": go round the list until the duration ends;
--   MODE "once":  each request once (the lines are shared out between the threads), then stop.
-- done() prints one line "BENCHJSON {...}" with the counts and the latency percentiles (microseconds).
local counter = 0
local threads = {}
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

local function now_us()  -- CLOCK_MONOTONIC, microseconds
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  idx = 0
  answered = 0
  first_us, last_us = 0, 0
  s2xx, s3xx, s4xx, s429, s5xx = 0, 0, 0, 0, 0
  mode = args[2] or "cycle"
  local n = 0
  local nthreads = tonumber(args[3] or "1")  -- the thread count (setup's counter lives in another Lua state)
  -- "cycle": every thread has every line, starting at a different place; "once": each line in one thread
  for line in io.lines(args[1]) do
    if mode ~= "once" or n % nthreads == tid then
      local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
      local headers = {["User-Agent"] = "lms-bench", ["Accept-Language"] = "es"}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if body ~= nil and body ~= "" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      else
        body = nil
      end
      table.insert(lines, wrk.format(method, path, headers, body))
    end
    n = n + 1
  end
  if mode ~= "once" then idx = math.floor(#lines * tid / nthreads) end
end

function request()
  if #lines == 0 then  -- "once" with fewer lines than threads
    if not reported then
      reported = true
      io.write("BENCHTHREADDONE\n")
      io.flush()
    end
    wrk.thread:stop()
    return wrk.format("GET", "/")
  end
  if first_us == 0 then first_us = now_us() end
  idx = idx + 1
  if idx > #lines then idx = 1 end
  return lines[idx]
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 500 then s5xx = s5xx + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status >= 400 then s4xx = s4xx + 1
  elseif status >= 300 then s3xx = s3xx + 1
  else s2xx = s2xx + 1 end
  last_us = now_us()
  if mode == "once" and answered == #lines then
    io.write("BENCHTHREADDONE\n")  -- bench/loadgen.py interrupts wrk when every thread is done
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local c = {s2xx = 0, s3xx = 0, s4xx = 0, s429 = 0, s5xx = 0}
  local first, last = nil, 0
  for _, thread in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (thread:get(k) or 0) end
    local f, l = thread:get("first_us") or 0, thread:get("last_us") or 0
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
  end
  -- "once": the time from the first request to the last answer (wrk itself waits the whole duration)
  local duration = summary.duration
  if first ~= nil and last > first and threads[1]:get("mode") == "once" then duration = last - first end
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"s2xx": %d, "s3xx": %d, "s4xx": %d, "s429": %d, "s5xx": %d, ' ..
    '"p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}\n',
    summary.requests, duration, e.connect, e.read, e.write, e.status, e.timeout,
    c.s2xx, c.s3xx, c.s4xx, c.s429, c.s5xx,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
