-- wrk reporter: prints one JSON line, prefixed "WRK_JSON ", with the latency percentiles wrk's
-- --latency flag leaves out (p95) and the error counts. Latencies in milliseconds.
-- Usage: wrk -t2 -c20 -d15s -s bench/wrk_report.lua -H "Cookie: ..." http://127.0.0.1:PORT/path
--
-- Many clients (the alert pages, issue 10): with TLDOPS_WRK_REQUESTS=FILE in the environment,
-- each line of FILE is "PATH<TAB>Header: value" (one member's session cookie or API token and a
-- page that member may read) and the requests go through the lines in turn, each thread from its
-- own starting line, instead of repeating the URL of the command line.

local lines_file = os.getenv("TLDOPS_WRK_REQUESTS")
if lines_file then
  local threads = 0
  setup = function(thread)  -- in wrk's main state: number the threads
    thread:set("first", threads)
    threads = threads + 1
  end
  local requests, n = {}, 0
  init = function(args)  -- in each thread, once wrk.headers has its Host
    for line in io.lines(lines_file) do
      local path, name, value = line:match("^([^\t]+)\t([^:]+):%s*(.*)$")
      if path then
        requests[#requests + 1] = wrk.format("GET", path, { [name] = value })
      end
    end
    assert(#requests > 0, "no request in " .. lines_file)
    n = ((first or 0) * 7919) % #requests  -- each thread from its own line
  end
  request = function()
    n = n % #requests + 1
    return requests[n]
  end
end

done = function(summary, latency, requests)
  local function ms(us) return us / 1000.0 end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "bytes": %d, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"mean_ms": %.2f, "max_ms": %.2f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(95)),
    ms(latency:percentile(99)), ms(latency.mean), ms(latency.max),
    e.connect, e.read, e.write, e.status, e.timeout))
end
