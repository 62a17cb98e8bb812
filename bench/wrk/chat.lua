-- wrk script for scripts/bench: POSTs OpenAI-style chat bodies read from the file given as the
-- first script argument (`wrk ... -s bench/wrk/chat.lua URL -- BODY_FILE [WORKLOAD]`).
-- WORKLOAD (bench/run.py's --workload):
--   identical     the file's body on every request (built once per thread and handed out
--                 again on every request);
--   fresh         the body with its 16-letter mark (bench/run.py FRESH_MARK) replaced by 16
--                 letters that differ on every request;
--   conversation  the file holds the NUL-separated bodies of one conversation, each a turn
--                 longer; requests walk through them, and each new conversation gets other
--                 16 letters in place of its mark (CONVERSATION_MARK) in the system message.
-- The per-request work is the same for every config (only the client's core pays it).
-- done() prints one machine-readable line (prefix BENCHJSON) that scripts/bench parses.

local FRESH_MARK = "Qzqxjzqxjzqxjzqx"
local CONVERSATION_MARK = "Qzqxjzqxjzqxjzqy"
local workload = "identical"
local parts = {}  -- per body: the text before and after its mark
local next_body = 1
local counter = 0
local static_request = nil

-- 16 letters (no digits: the bodies hold none) that differ for every n of a run.
local function letters(n)
  local out = {}
  for i = 1, 16 do
    out[i] = string.char(97 + n % 26)
    n = math.floor(n / 26)
  end
  return table.concat(out)
end

local function split_at(body, mark)
  local i = string.find(body, mark, 1, true)
  if i == nil then
    error("chat.lua: mark not found in body")
  end
  return { body:sub(1, i - 1), body:sub(i + #mark) }
end

function init(args)
  local path = args[1]
  if path == nil then
    error("chat.lua: body file argument missing")
  end
  workload = args[2] or "identical"
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer sk-bench"
  if workload == "identical" then
    wrk.body = data
    static_request = wrk.format()
  elseif workload == "fresh" then
    parts[1] = split_at(data, FRESH_MARK)
  elseif workload == "conversation" then
    for body in string.gmatch(data, "[^%z]+") do
      parts[#parts + 1] = split_at(body, CONVERSATION_MARK)
    end
  else
    error("chat.lua: unknown workload " .. workload)
  end
  -- Distinct letters per run and thread.
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  counter = math.random(0, 2 ^ 40)
end

function request()
  if static_request ~= nil then
    return static_request
  end
  if workload == "fresh" or next_body == 1 then
    counter = counter + 1
  end
  local p = parts[next_body]
  next_body = next_body % #parts + 1
  if workload == "fresh" then
    next_body = 1
  end
  return wrk.format(nil, nil, nil, p[1] .. letters(counter) .. p[2])
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
