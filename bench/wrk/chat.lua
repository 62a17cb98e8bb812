-- wrk script for scripts/bench: POSTs one OpenAI-style chat body, read from the file given as the
-- first script argument (`wrk ... -s bench/wrk/chat.lua URL -- BODY_FILE`), on every request.
-- The request is static (built once per thread), so the client costs the same for every config.
-- done() prints one machine-readable line (prefix BENCHJSON) that scripts/bench parses.

function init(args)
  local path = args[1]
  if path == nil then
    error("chat.lua: body file argument missing")
  end
  local f = assert(io.open(path, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer sk-bench"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
