-- Replays pre-signed HTTP requests from a file that bench/signing.py writes, cycling through them.
--
--   wrk -t1 -cC -dDs --latency -s bench/replay.lua URL -- FILE [CAP]
--
-- FILE holds raw HTTP/1.1 requests, each preceded by a line with its length in bytes. Without CAP
-- (or CAP 0) they are sent round-robin. CAP > 0 is a budget per request (a quota behind it, such as
-- 100 sites per account and region): each request is sent CAP times in a row, then the next one, as
-- one client using one key in one region would (so a key's "last used" region rarely changes);
-- past the last request's budget it is sent again and counted as over the cap. done() prints one
-- line that bench/api_throughput.py reads:
--   replay: requests N sent S over_cap O
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests, sent, over, cap = {}, 0, 0, tonumber(args[2] or "0")
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local n = tonumber(string.sub(data, pos, nl - 1))
    requests[#requests + 1] = string.sub(data, nl + 1, nl + n)
    pos = nl + n + 1
  end
  count = #requests
end

function request()
  sent = sent + 1
  if cap > 0 then
    local i = math.floor((sent - 1) / cap) + 1
    if i > count then
      over = over + 1
      return requests[count]
    end
    return requests[i]
  end
  return requests[(sent - 1) % count + 1]
end

function done(summary, latency, reqs)
  for _, t in ipairs(threads) do
    io.write(string.format("replay: requests %d sent %d over_cap %d\n", t:get("count"), t:get("sent"), t:get("over")))
  end
end
