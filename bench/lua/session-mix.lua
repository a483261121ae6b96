-- The bench's HTTP mixes for wrk (bench/lib/wrk.ts runs it as
-- `wrk ... -s session-mix.lua <url> -- <mix> <cookies file> <clear every>`).
--
--   read   GET /profile, the Cookie header of the sessions in the file, round robin
--   cart   POST /cart/items {"productId":42} with those cookies, round robin; every
--          <clear every>-th request of a session is DELETE /cart instead, so carts stay small
--   login  POST /login {"username":"bench","password":"rockstar"}, no cookie
--
-- Every request is formatted once, in init(): request() only hands out the
-- next one, so the load generator spends almost nothing per request on Lua.
-- No response() hook on purpose: defining one makes wrk copy every response's
-- headers and body into Lua. Failed statuses (>= 400) and socket errors are
-- counted by wrk itself and printed by done() as one WRK_SUMMARY JSON line.

local requests = {}
local count = 0
local position = 0

local function readLines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

function init(args)
  local mix, cookiesFile, clearEvery = args[1], args[2], tonumber(args[3] or "10")
  local cookies = {}
  if cookiesFile and cookiesFile ~= "-" then cookies = readLines(cookiesFile) end
  if mix == "login" then
    requests[1] = wrk.format("POST", "/login", { ["Content-Type"] = "application/json" }, '{"username":"bench","password":"rockstar"}')
  elseif mix == "read" then
    if #cookies == 0 then error("the read mix needs a cookies file") end
    for i, cookie in ipairs(cookies) do
      requests[i] = wrk.format("GET", "/profile", { ["Cookie"] = cookie })
    end
  elseif mix == "cart" then
    if #cookies == 0 then error("the cart mix needs a cookies file") end
    -- Round k of the sequence visits every session once; the last round clears each cart.
    for k = 1, clearEvery do
      for _, cookie in ipairs(cookies) do
        if k == clearEvery then
          requests[#requests + 1] = wrk.format("DELETE", "/cart", { ["Cookie"] = cookie })
        else
          requests[#requests + 1] = wrk.format("POST", "/cart/items", { ["Cookie"] = cookie, ["Content-Type"] = "application/json" }, '{"productId":42}')
        end
      end
    end
  else
    error("unknown mix " .. tostring(mix))
  end
  count = #requests
end

function request()
  position = position % count + 1
  return requests[position]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_SUMMARY {"requests":%d,"duration_us":%d,"bytes":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
