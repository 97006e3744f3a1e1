"""The module's page on loopback: first-load weight, status refresh and voice audition
times, against the real daemon (null audio). Prints figures; asserts nothing.

    .venv/bin/python bench/web.py [--model M.npz] [--rounds 200] [--no-browser]

1. First load, in headless Chromium (fresh profile): every resource the page fetched
   before it showed its 32 voices and its status, by the browser's own count
   (PerformanceResourceTiming transferSize, headers included), and the same list
   fetched over plain HTTP (bodies only). Target: < 300 KB.
2. Status refresh: GET /status on a kept-alive connection, as the page polls it.
3. Audition: GET /cartridge/{n}/audition.wav for the 32 voices in turn (an offline
   render of a 1.5 s note to a 32 kHz WAV, on the daemon's worker thread).
4. A knob move (POST /knobs, decode and load into the edit buffer) when a generator
   model is there.

Targets for 2-4: < 200 ms each on loopback (median and p95 printed).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _tools() -> Any:
    """tools/screenshots.py: it starts a daemon and a browser the same way."""
    spec = importlib.util.spec_from_file_location("dx7d_screenshots",
                                                  REPO / "tools" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def times_ms(conn: http.client.HTTPConnection, method: str, paths: list[str],
             body: bytes | None = None) -> tuple[list[float], int]:
    """Wall time of each request (ms), and the bytes of the last reply."""
    took = []
    size = 0
    for path in paths:
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"}
                     if body else {})
        reply = conn.getresponse()
        data = reply.read()
        took.append((time.perf_counter() - t0) * 1000)
        if reply.status != 200:
            raise SystemExit(f"bench: {method} {path}: {reply.status} {data[:200]!r}")
        size = len(data)
    return took, size


def line(what: str, took: list[float], note: str = "") -> None:
    ordered = sorted(took)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(f"{what:<34} median {statistics.median(took):7.2f} ms   p95 {p95:7.2f} ms   "
          f"max {ordered[-1]:7.2f} ms   n={len(took)}{note}")


def first_load(tools: Any, folder: Path, url: str) -> list[tuple[str, int]]:
    driver = tools.browser(folder / "chromium", 1280, 1400)
    try:
        t0 = time.perf_counter()
        driver.get(url)
        tools.wait(driver, "return document.querySelectorAll('#voices .voice').length == 32"
                   " && document.querySelectorAll('#status dt').length > 5", "the page")
        shown = (time.perf_counter() - t0) * 1000
        tools.wait(driver, "return document.querySelector('#library li') && "
                   "(document.querySelector('#knobs input') || "
                   "!document.getElementById('gen-unavailable').hidden)", "every panel")
        settled = (time.perf_counter() - t0) * 1000
        entries = driver.execute_script(
            "const nav = performance.getEntriesByType('navigation')[0];"
            "return [[nav.name, nav.transferSize]].concat(performance.getEntriesByType("
            "'resource').map((e) => [e.name, e.transferSize]));")
    finally:
        driver.quit()
    print(f"first load in Chromium: 32 voices and the status shown {shown:.0f} ms after "
          f"the request, every panel filled after {settled:.0f} ms")
    return [(str(name), int(size)) for name, size in entries]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="generator model (.npz); default: the shipped one")
    parser.add_argument("--rounds", type=int, default=200, help="status requests (200)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium part")
    args = parser.parse_args()
    tools = _tools()
    with tempfile.TemporaryDirectory(prefix="dx7d-bench-web-") as tmp:
        folder = Path(tmp)
        port = tools.free_port()
        proc = tools.start_daemon(folder, port, args.model)
        url = f"http://127.0.0.1:{port}/"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            print(f"Python {sys.version.split()[0]}, daemon on {url} (null audio)\n")
            paths = ["/", "/web/app.js", "/web/style.css", "/web/icon.svg", "/algorithms",
                     "/cartridge/voices", "/status", "/backups", "/library", "/generator"]
            if not args.no_browser:
                entries = first_load(tools, folder, url)
                total = sum(size for _, size in entries)
                for name, size in entries:
                    print(f"  {size / 1024:7.1f} KiB  {name.removeprefix(url.rstrip('/'))}")
                print(f"first load, as Chromium counts it: {total / 1024:.1f} KiB in "
                      f"{len(entries)} requests (target < 300 KB)\n")
            bodies = 0
            for path in paths:
                _, size = times_ms(conn, "GET", [path])
                bodies += size
            print(f"first load over plain HTTP (bodies of {len(paths)} requests): "
                  f"{bodies / 1024:.1f} KiB\n")
            times_ms(conn, "GET", ["/status"] * 5)  # warm
            took, size = times_ms(conn, "GET", ["/status"] * args.rounds)
            line("status refresh (GET /status)", took, f", {size} bytes")
            first, _ = times_ms(conn, "GET", ["/cartridge/1/audition.wav"])
            took, size = times_ms(conn, "GET", [f"/cartridge/{n}/audition.wav"
                                                for n in range(1, 33)])
            line("voice audition (GET .../audition.wav)", took,
                 f", {size / 1024:.0f} KiB WAV; the first {first[0]:.0f} ms")
            generator = json.loads(_get(conn, "/generator"))
            if generator.get("available"):
                moves = [json.dumps({"dimension": 1 + i % 8, "value": (i % 13 - 6) / 2}
                                    ).encode() for i in range(40)]
                took = []
                for body in moves:
                    took += times_ms(conn, "POST", ["/knobs"], body)[0]
                line("knob move (POST /knobs)", took)
            else:
                print(f"knob move: no generator ({generator.get('reason')})")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    return 0


def _get(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    return conn.getresponse().read()


if __name__ == "__main__":
    raise SystemExit(main())
