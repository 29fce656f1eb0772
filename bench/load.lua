-- wrk script of `make bench` (bench/bench.sh): the same requests for the
-- stub, the floor and Prism, and a check of every answer.
--
--   wrk -t2 -c32 -d10s -s bench/load.lua http://127.0.0.1:PORT -- post
--   wrk -t2 -c32 -d10s -s bench/load.lua http://127.0.0.1:PORT -- get
--
-- post alternates CreateRelations and DeleteRelation of the same pair
-- (DEMO-4 and DEMO-5), so the state stays valid and every request succeeds;
-- get lists DEMO-1 (two associations in bench/fixtures.yaml). Each answer
-- must be a 2xx whose body carries no error_code: done() prints the counts
-- of those that are not, and bench.sh fails the run if any.

local path_post = "/v2/servicerequest/cases/DEMO-4/relations"
local path_get = "/v2/servicerequest/cases/DEMO-1/relations"
local create = '{"related_id_list":["DEMO-5"],"group_id":"team"}'
local delete = '{"related_id":"DEMO-5","group_id":"team"}'

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread state; globals so that done() can read them with thread:get.
non2xx = 0
error_bodies = 0
empty_ok = 0
local reqs = {}
local n = 0

function init(args)
  local mode = args[1] or "get"
  local auth = { ["X-Auth-Token"] = "demo-token" }
  local json = { ["X-Auth-Token"] = "demo-token", ["Content-Type"] = "application/json" }
  if mode == "post" then
    reqs = { wrk.format("POST", path_post, json, create), wrk.format("DELETE", path_post, json, delete) }
  elseif mode == "get" then
    reqs = { wrk.format("GET", path_get, auth) }
  else
    error("mode must be post or get, got " .. mode)
  end
end

function request()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if body ~= nil and string.find(body, "error_code", 1, true) then
    error_bodies = error_bodies + 1
  end
  if body ~= nil and string.match(body, "^%s*{%s*}%s*$") then
    empty_ok = empty_ok + 1
  end
end

function done(summary, latency, requests)
  local bad, errs, empty = 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    errs = errs + t:get("error_bodies")
    empty = empty + t:get("empty_ok")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d error_bodies=%d empty_bodies=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), bad, errs, empty,
    e.connect + e.read + e.write + e.timeout))
end
