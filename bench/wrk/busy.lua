-- Scenario 9's readers: many people reading one thread, each as themselves.
--   BENCH_TOKENS      comma-separated bearer tokens: one signed-in reader each
--   BENCH_ANON        how many anonymous readers
--   BENCH_COND_EVERY  every n-th reader keeps the last ETag it was sent and sends it back in
--                     If-None-Match, as a browser does (0: none)
--   BENCH_NEWEST_EVERY every n-th reader reads the newest comments first (?sort=newest);
--                     the others the default order (0: none)
-- Each request is the next reader's (round robin). A reader's ETag is matched to its answer
-- through X-Request-ID, which the server echoes: wrk does not say which connection (and so
-- which request) an answer belongs to.
local readers = {}
local n = 0
local counter = 0
ok200, ok304, other = 0, 0, 0  -- globals: done() reads them with thread:get
gzip200, bytes200 = 0, 0  -- 200s sent gzip-compressed; body bytes of all 200s, as sent

local function env_int(name, default)
  local v = tonumber(os.getenv(name) or "")
  if v == nil then return default end
  return v
end

function init(args)
  local cond_every = env_int("BENCH_COND_EVERY", 0)
  local newest_every = env_int("BENCH_NEWEST_EVERY", 0)
  local tokens = {}
  for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
    tokens[#tokens + 1] = t
  end
  local anon = env_int("BENCH_ANON", 0)
  -- signed-in readers spread among the anonymous ones
  local total = anon + #tokens
  local every = #tokens > 0 and math.floor(total / #tokens) or 0
  local t = 0
  for i = 1, total do
    local r = {etag = nil}
    if every > 0 and i % every == 0 and t < #tokens then
      t = t + 1
      r.auth = "Bearer " .. tokens[t]
    end
    r.cond = cond_every > 0 and (i % cond_every == 1)
    if newest_every > 0 and i % newest_every == 0 then
      r.path = wrk.path .. "?sort=newest"
    else
      r.path = wrk.path
    end
    readers[i] = r
  end
  n = total
end

function request()
  counter = counter + 1
  local idx = (counter % n) + 1
  local r = readers[idx]
  -- every reader's browser accepts compressed answers (the public page comes gzip-compressed)
  local headers = {["X-Request-ID"] = "r" .. idx .. "-" .. counter, ["Accept-Encoding"] = "gzip, deflate, br, zstd"}
  if r.auth then headers["Authorization"] = r.auth end
  if r.cond and r.etag then headers["If-None-Match"] = r.etag end
  return wrk.format("GET", r.path, headers)
end

function response(status, headers, body)
  if status == 200 then
    ok200 = ok200 + 1
    bytes200 = bytes200 + #body
    if (headers["content-encoding"] or headers["Content-Encoding"]) == "gzip" then gzip200 = gzip200 + 1 end
    local rid = headers["x-request-id"] or headers["X-Request-ID"]
    local etag = headers["etag"] or headers["ETag"]
    if rid and etag then
      local idx = tonumber(string.match(rid, "^r(%d+)-"))
      if idx and readers[idx] then readers[idx].etag = etag end
    end
  elseif status == 304 then
    ok304 = ok304 + 1
  else
    other = other + 1
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local a, b, c, g, n = 0, 0, 0, 0, 0
  for _, th in ipairs(threads) do
    a = a + (th:get("ok200") or 0)
    b = b + (th:get("ok304") or 0)
    c = c + (th:get("other") or 0)
    g = g + (th:get("gzip200") or 0)
    n = n + (th:get("bytes200") or 0)
  end
  io.write(string.format("busy: 200 %d, 304 %d, other %d, gzip %d, bytes %d\n", a, b, c, g, n))
end
