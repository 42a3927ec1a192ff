-- wrk script of bench/offload_mix.sh: every connection waits DELAY_MS between the
-- end of a response and its next request (wrk's delay() hook), which caps the rate
-- at about connections * 1000 / (DELAY_MS + latency) requests/s. wrk measures the
-- latency from the moment a request is written, so the wait is not counted.
--   wrk -c32 -s paced.lua URL -- DELAY_MS
local delay_ms = 0

function init(args)
  delay_ms = tonumber(args[1] or "0") or 0
end

function delay()
  return delay_ms
end
