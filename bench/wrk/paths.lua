-- GET a rotating list of paths (scenario 11): BENCH_PATHS is a space-separated list of
-- paths with their query strings; each request takes the next one of its thread's share.
-- BENCH_AUTH (optional) adds Authorization: Bearer <token>. At the end it prints the 95th
-- percentile of latency (wrk's --latency stops at 50/75/90/99) as "p95_us <n>".
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  paths[#paths + 1] = p
end
local auth = os.getenv("BENCH_AUTH")
local headers = {}
if auth and auth ~= "" then
  headers["Authorization"] = "Bearer " .. auth
end
local i = 0
function setup(thread)
  thread:set("offset", math.random(#paths))
end
function request()
  i = i + 1
  return wrk.format("GET", paths[((i + (offset or 0)) % #paths) + 1], headers)
end
function done(summary, latency, requests)
  io.write(string.format("p95_us %d\n", latency:percentile(95)))
end
