-- GET as many signed-in readers: BENCH_TOKENS is a comma-separated list of bearer tokens;
-- each request takes the next token of its thread's share, so every reader's page is read.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = t
end
local i = 0
function setup(thread)
  thread:set("offset", math.random(#tokens))
end
function request()
  i = i + 1
  local token = tokens[((i + (offset or 0)) % #tokens) + 1]
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token})
end
