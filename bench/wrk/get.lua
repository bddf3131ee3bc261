-- GET with optional headers taken from the environment (set by bench/run.py):
--   BENCH_AUTH           bearer token (sends Authorization: Bearer <token>)
--   BENCH_IF_NONE_MATCH  an ETag (sends If-None-Match: <etag>)
local auth = os.getenv("BENCH_AUTH")
local etag = os.getenv("BENCH_IF_NONE_MATCH")
wrk.method = "GET"
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end
if etag and etag ~= "" then
  wrk.headers["If-None-Match"] = etag
end
