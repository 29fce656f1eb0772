-- wrk script of `make bench` (bench/bench.sh): the same requests for every
-- server under test, and a check of every answer.
--
--   wrk -t2 -c32 -d10s -s bench/load.lua http://127.0.0.1:PORT -- MODE [prefer]
--
-- The requests vary, so that no server can gain by remembering answers or
-- verdicts by request bytes: they rotate across PAIRS ticket pairs (LISTS
-- listed tickets for get) of both users of bench/fixtures.yaml, and every
-- body is unique, its JSON whitespace spelling the request's number.
--
--   post     CreateRelations and DeleteRelation of a pair, alternating; a
--            pair is only ever associated with itself, so every request
--            succeeds (re-associating and removing an absent association
--            both succeed): answer 200 and {}.
--   refusal  CreateRelations on a ticket that does not exist (NOPE-i): a
--            business refusal, 200 with error_code OSM.01010015.
--   get      ListRelation of a ticket with two associations: 200, a list.
--
-- With "prefer" as the second argument, refusal requests carry
-- "Prefer: example=unknown-ticket", which is how Prism is asked for that
-- answer (the stub is not sent it: it finds the ticket missing itself).
-- done() prints the counts; bench.sh fails the run if any answer is bad.

local PAIRS, LISTS = 64, 16 -- as in bench/gen/fixtures.sh
local users = { { token = "demo-token", p = "D" }, { token = "teammate-token", p = "T" } }
local ws = { " ", "\t", "\n", "\r" }

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- Per-thread state; globals so that done() can read them with thread:get.
non2xx = 0
bad = 0
local mode, prefer
local n = 0

function init(args)
  mode = args[1] or "get"
  prefer = args[2] == "prefer"
  if mode ~= "post" and mode ~= "refusal" and mode ~= "get" then
    error("mode must be post, refusal or get, got " .. mode)
  end
  n = id -- threads interleave their numbers: k, k+64, k+128...
end

-- spell returns the 11 whitespace runs of a body numbered k: base-4 digits.
local function spell(k)
  local s = {}
  for i = 1, 11 do
    s[i] = ws[(k % 4) + 1]
    k = math.floor(k / 4)
  end
  return s
end

function request()
  local k = n
  n = n + 64 -- at most 64 threads
  local i = math.floor(k / 2)
  local u = users[(i % 2) + 1]
  local j = math.floor(i / 2)
  local h = { ["X-Auth-Token"] = u.token }
  if mode == "get" then
    return wrk.format("GET", "/v2/servicerequest/cases/L" .. u.p .. "-" .. (j % LISTS) .. "/relations", h)
  end
  h["Content-Type"] = "application/json"
  local w = spell(k)
  if mode == "refusal" then
    if prefer then h["Prefer"] = "example=unknown-ticket" end
    local body = w[1] .. '{' .. w[2] .. '"related_id_list"' .. w[3] .. ':' .. w[4] .. '[' .. w[5] .. '"B' .. u.p .. '-' .. (j % PAIRS) .. '-a"' ..
      w[6] .. ']' .. w[7] .. ',' .. w[8] .. '"group_id"' .. w[9] .. ':' .. w[10] .. '"team"' .. w[11] .. '}'
    return wrk.format("POST", "/v2/servicerequest/cases/NOPE-" .. k .. "/relations", h, body)
  end
  local path = "/v2/servicerequest/cases/B" .. u.p .. "-" .. (j % PAIRS) .. "-a/relations"
  local other = '"B' .. u.p .. '-' .. (j % PAIRS) .. '-b"'
  if k % 2 == 0 then
    local body = w[1] .. '{' .. w[2] .. '"related_id_list"' .. w[3] .. ':' .. w[4] .. '[' .. w[5] .. other ..
      w[6] .. ']' .. w[7] .. ',' .. w[8] .. '"group_id"' .. w[9] .. ':' .. w[10] .. '"team"' .. w[11] .. '}'
    return wrk.format("POST", path, h, body)
  end
  local body = w[1] .. '{' .. w[2] .. '"related_id"' .. w[3] .. ':' .. w[4] .. other .. w[5] .. ',' .. w[6] ..
    '"group_id"' .. w[7] .. ':' .. w[8] .. '"team"' .. w[9] .. '}' .. w[10] .. w[11]
  return wrk.format("DELETE", path, h, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  body = body or ""
  local refused = string.find(body, '"error_code"%s*:%s*"OSM.01010015"') ~= nil
  if mode == "post" then
    if not string.match(body, "^%s*{%s*}%s*$") then bad = bad + 1 end
  elseif mode == "refusal" then
    if not refused then bad = bad + 1 end
  elseif string.find(body, "error_code", 1, true) or not string.find(body, '"case_relation_list"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local wrong, bodies = 0, 0
  for _, t in ipairs(threads) do
    wrong = wrong + t:get("non2xx")
    bodies = bodies + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d bad_bodies=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), wrong, bodies,
    e.connect + e.read + e.write + e.timeout))
end
