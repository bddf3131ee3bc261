-- POST a JSON comment body; every request's text differs (the service refuses repeats).
--   BENCH_AUTH       bearer token of the posting user
--   BENCH_BODY_FILE  a file holding the Markdown body (read once per thread)
--   BENCH_PARENT_ID  optional parent comment id
local auth = os.getenv("BENCH_AUTH")
local body_file = os.getenv("BENCH_BODY_FILE")
local parent = os.getenv("BENCH_PARENT_ID")
local counter = 0
local thread_id = 0
local markdown = ""

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

local function json_string(s)
  s = s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'):gsub('\r', '\\r'):gsub('\t', '\\t')
  return '"' .. s .. '"'
end

function init(args)
  thread_id = tid or 0
  local f = assert(io.open(body_file, "r"))
  markdown = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if auth and auth ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. auth
  end
  math.randomseed(os.time() + thread_id * 7919)
end

function request()
  counter = counter + 1
  local text = markdown .. "\n\nrun " .. os.time() .. "-" .. thread_id .. "-" .. counter .. "-" .. math.random(1, 1000000000)
  local body = '{"body": ' .. json_string(text)
  if parent and parent ~= "" then
    body = body .. ', "parent_id": ' .. parent
  end
  body = body .. '}'
  return wrk.format(nil, nil, nil, body)
end
