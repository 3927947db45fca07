-- wrk script of the benchmark: replays the requests of a file, one per line, in order, round robin.
--   wrk -t1 -c8 -d10s -s bench/wrk.lua http://127.0.0.1:8390 -- requests.tsv
-- A line is METHOD<TAB>PATH<TAB>CONTENT-TYPE<TAB>SOAPACTION<TAB>BODY (empty fields allowed); the
-- Authorization header comes from the environment variable BENCH_AUTHORIZATION. Each thread takes
-- every n-th line, so bookings of different threads never name the same slot. done() prints one
-- line "BENCH_JSON {...}" with the counts and the latency percentiles (microseconds).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  local start = 1
  while true do
    local tab = string.find(line, "\t", start, true)
    if not tab then
      table.insert(fields, string.sub(line, start))
      return fields
    end
    table.insert(fields, string.sub(line, start, tab - 1))
    start = tab + 1
  end
end

function init(args)
  local auth = os.getenv("BENCH_AUTHORIZATION")
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  requests_list = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == id then
      local f = split(line)
      local headers = { ["Authorization"] = auth, ["Connection"] = "close" }
      if f[3] ~= "" then headers["Content-Type"] = f[3] end
      if f[4] ~= "" then headers["SOAPAction"] = f[4] end
      local body = f[5]
      if body == "" then body = nil end
      table.insert(requests_list, wrk.format(f[1], f[2], headers, body))
    end
    n = n + 1
  end
  position = 0
  wrapped = 0
  app_errors = 0
  statuses = 0
end

function request()
  position = position + 1
  if position > #requests_list then
    position = 1
    wrapped = wrapped + 1
  end
  return requests_list[position]
end

function response(status, headers, body)
  if status >= 400 then
    statuses = statuses + 1
  elseif body and (string.find(body, '"ERROR"', 1, true) or string.find(body, ">ERROR<", 1, true)) then
    app_errors = app_errors + 1
  end
end

function done(summary, latency, requests)
  local wraps, apps, bad = 0, 0, 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
    apps = apps + (thread:get("app_errors") or 0)
    bad = bad + (thread:get("statuses") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, '
      .. '"write": %d, "timeout": %d, "status": %d, "answer": %d}, "wrapped": %d, '
      .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, bad, apps, wraps,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99)))
end
