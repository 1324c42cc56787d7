#!/usr/bin/env python3
"""The signed-in pages under load, on a database already imported (issue 18).

Adds an analyst to the database given (`DB`, e.g. the national set's SQLite file or
PostgreSQL database), starts one release `alliance serve` on it, signs in as that analyst and
drives each staff page with `wrk` carrying the session cookie, printing requests a second and
latency percentiles. Speed is printed, never asserted.

    cargo build --release && DB=sqlite:///path/n.db python3 tools/load/signed_in.py [SECONDS] [CONNECTIONS]

The server is started once and left to warm (the street index and the default map) before the
first page is driven; the warming's time is printed from its log. Needs `wrk` (Debian package).
"""

import os
import re
import secrets
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from two_instances import BIN, cookie_of, csrf_in, request, start, wrk  # noqa: E402

PAGES = ["/", "/map", "/sna?area=E06000021&from=2025-01&to=2025-12", "/imports",
         "/api/v1/counts?by=month,crime-type"]


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    db = os.environ.get("DB") or sys.exit("set DB to the database URL to measure")
    if not os.access(BIN, os.X_OK):
        sys.exit("build it first: cargo build --release")
    email, password = f"load.{secrets.token_hex(4)}@example.org", secrets.token_urlsafe(18)
    subprocess.run([BIN, "--db", db, "users", "add", "--email", email, "--name", "Load Test", "--role", "analyst",
                    "--org", "Load test", "--org-type", "council", "--password-stdin"],
                   input=password + "\n", text=True, check=True, capture_output=True)
    log = open(os.path.join(tempfile.mkdtemp(), "serve.log"), "w")
    started = time.monotonic()
    proc, base = start(db, 18093, False, log)
    try:
        print(f"ready in {time.monotonic() - started:.1f} s")
        # The warming logs when it is done (only with a partnership area: at most a minute).
        for _ in range(120):
            if "default map are ready" in open(log.name).read():
                break
            time.sleep(0.5)
        text = re.sub(r"\x1b\[[0-9;]*m", "", open(log.name).read())
        warm = re.search(r"streets_ms=(\d+) map_ms=(\d+)", text)
        if warm:
            print(f"warming: street index {warm.group(1)} ms, default map {warm.group(2)} ms")
        status, headers, page = request(base, "/sign-in")
        anon = cookie_of(headers, "alliance_csrf")
        status, headers, _ = request(base, "/sign-in", cookie=anon,
                                     data={"csrf_token": csrf_in(page), "email": email, "password": password})
        session = cookie_of(headers, "alliance_session")
        if status != 303 or not session:
            sys.exit(f"cannot sign in: {status}")
        print(f"{'page':<48} {'requests/s':>10} {'p50':>9} {'p99':>9}  errors")
        for path in PAGES:
            first = time.monotonic()
            status, _, _ = request(base, path, cookie=session)
            first = time.monotonic() - first
            rps, p50, p99, errors = wrk(base, path, seconds, connections, ["-H", f"Cookie: {session}"])
            print(f"{path:<48} {rps:>10} {p50:>9} {p99:>9}  {errors} (first {first * 1000:.0f} ms, {status})")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
