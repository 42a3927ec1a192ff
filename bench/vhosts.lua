-- wrk script: rotate the Host header over BENCH_VHOSTS (default 100) server names
-- v001.bench.test .. v100.bench.test, one per request, round-robin. The requests
-- are formatted once in init() so that wrk spends no time building them.
local n = tonumber(os.getenv("BENCH_VHOSTS") or "100")
local reqs = {}
local i = 0

function init(args)
  for k = 1, n do
    reqs[k] = wrk.format("GET", wrk.path, { Host = string.format("v%03d.bench.test", k) })
  end
end

function request()
  i = i % n + 1
  return reqs[i]
end
