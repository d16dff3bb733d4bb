-- wrk reporter: prints one JSON line, prefixed "WRK_JSON ", with the latency percentiles wrk's
-- --latency flag leaves out (p95) and the error counts. Latencies in milliseconds.
-- Usage: wrk -t2 -c20 -d15s -s bench/wrk_report.lua -H "Cookie: ..." http://127.0.0.1:PORT/path

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
