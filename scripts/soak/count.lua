-- wrk script for the soak: every thread stops after its share of responses
-- (wrk itself only knows durations), every 10th request is a POST with a
-- 1 KiB body, and done() prints one machine-readable line.
--   wrk -t T -c C -d <bound> -s count.lua <url> -- <responses per thread>
local limit = 0
local seen = 0
local sent = 0
not_ok = 0 -- a global: done() reads it from each thread
local get_request, post_request
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  limit = tonumber(args[1]) or 0
  get_request = wrk.format("GET", "/soak/item?id=42&q=hello")
  post_request = wrk.format("POST", "/soak/upload", { ["Content-Type"] = "text/plain" },
    string.rep("x", 1024))
end

function request()
  sent = sent + 1
  if sent % 10 == 0 then return post_request end
  return get_request
end

function response(status)
  seen = seen + 1
  if status ~= 200 then not_ok = not_ok + 1 end
  if seen == limit then
    wrk.thread:stop()
    -- wrk waits out -d even when every thread has stopped: this line tells
    -- the runner to end it early with SIGINT (wrk then reports as usual).
    io.write("THREAD-DONE\n")
    io.stdout:flush()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("not_ok") or 0) end
  io.write(string.format(
    'SOAK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"not200":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(99)))
end
