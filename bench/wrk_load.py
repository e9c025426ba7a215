"""Latency under load from ``wrk`` (Debian's package), a C load generator: N concurrent connections on one thread.

Why: the latency targets (p95 at 16 concurrent clients) are about the server. Sixteen Python client processes on a
2-core machine take about as much CPU as the server they measure, and their own scheduling delays land in the
latencies they record. ``wrk`` keeps 16 connections busy from one epoll thread for a few per cent of one core, so the
figures measure the server. Benchmarks fall back to their Python clients when ``wrk`` is not installed
(``apt-get install wrk``), and say so.

Each request is drawn at random from a list of requests (method, path, headers, body) written to a file the Lua
script reads; ``wrk``'s ``done`` hook writes the counts and latency percentiles (microseconds, from its
histogram) as JSON. A request's latency is from writing it to reading the whole answer: the time it waits in the
server's accept queue is in it; the TCP connect (loopback, the server closes after each answer) is not.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

WRK = shutil.which("wrk")

_SCRIPT = r"""
local requests = {}

local function unescape(text)
  return (text:gsub("\\n", "\n"):gsub("\\t", "\t"):gsub("\\\\", "\\"))
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  for line in io.lines(os.getenv("EGOV_WRK_REQUESTS")) do
    local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local header_table = {}
    for name, value in headers:gmatch("([^\1]+)\2([^\1]*)\1") do header_table[name] = value end
    local wrk_body = nil
    if body ~= "" then wrk_body = unescape(body) end
    requests[#requests + 1] = wrk.format(method, path, header_table, wrk_body)
  end
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, requests_stats)
  local e = summary.errors
  -- done() runs in the main Lua state, not a thread's: it knows only the environment
  local f = io.open(os.getenv("EGOV_WRK_RESULT"), "w")
  f:write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f}',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
  f:close()
end
"""


@dataclass
class Request:
    path: str
    method: str = "GET"
    headers: dict | None = None
    body: bytes = b""


@dataclass
class Outcome:
    ok: int
    failed: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    detail: dict

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def available() -> bool:
    return WRK is not None


def _line(request: Request) -> str:
    def clean(text: str) -> str:
        if any(c in text for c in "\t\n\1\2"):
            raise ValueError(f"a tab, newline or control character in {text!r}")
        return text

    headers = {"Host": "127.0.0.1", **(request.headers or {})}
    header_text = "".join(f"{clean(k)}\2{clean(v)}\1" for k, v in headers.items())
    body = request.body.decode().replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    return f"{request.method}\t{clean(request.path)}\t{header_text}\t{body}"


def load(port: int, requests: list[Request], *, seconds: float, connections: int) -> Outcome:
    """``connections`` concurrent connections for ``seconds``, each request drawn at random from ``requests``."""
    if WRK is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="egov-wrk-") as tmp:
        folder = Path(tmp)
        (folder / "requests.tsv").write_text("\n".join(_line(r) for r in requests) + "\n")
        (folder / "script.lua").write_text(_SCRIPT)
        result = folder / "result.json"
        completed = subprocess.run(
            [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(folder / "script.lua"),
             f"http://127.0.0.1:{port}"],
            env={**os.environ, "EGOV_WRK_REQUESTS": str(folder / "requests.tsv"), "EGOV_WRK_RESULT": str(result)},
            capture_output=True, text=True, timeout=seconds + 60)
        if completed.returncode != 0 or not result.exists():
            raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
        figures = json.loads(result.read_text())
    # wrk counts a non-2xx/3xx answer as a "status" error; the others are connections that failed or timed out.
    failed = figures["status"] + figures["connect"] + figures["read"] + figures["write"] + figures["timeout"]
    detail = {name: figures[name] for name in ("status", "connect", "read", "write", "timeout") if figures[name]}
    return Outcome(ok=figures["requests"] - figures["status"], failed=failed, seconds=figures["duration_us"] / 1e6,
                   p50_ms=figures["p50_us"] / 1000, p95_ms=figures["p95_us"] / 1000, p99_ms=figures["p99_us"] / 1000,
                   detail=detail)
