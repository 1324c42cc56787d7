#!/usr/bin/env python3
"""Two `alliance serve` instances on one PostgreSQL database, behind a load generator (issue 18).

Starts the release binary twice on a fresh PostgreSQL database (the first with `--demo`, which
loads the demo partnership and prints its administrator's one-time password; the second on the
same database), drives both at once with `wrk` on the public pages, then checks, as a user
would, that the two are one service:

- sessions: signed in on A, the session works on B; signed out on B, it is gone on A;
- figures: `/public/figures` and `/api/v1/counts` answer the same on both, during and after
  the load;
- limits: the public form's allowance for one visitor is counted once for both instances
  (the 11th report is refused whichever instance takes it).

Speed is printed, never asserted: requests a second and latency percentiles per instance and
page. The consistency checks exit non-zero when they fail.

    cargo build --release && python3 tools/load/two_instances.py [SECONDS] [CONNECTIONS]

`DB` names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432); a database
`alliance_two_instances` is dropped and created on it. Needs `wrk` (Debian package) and `psql`.
`POLICE_DIR=DIR` imports the police files in DIR (say the national set of `alliance generate
police-national`) by the command line while both instances run, before the checks: the
instances must then agree on figures they did not compute from the demo data alone.
"""

import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ALLIANCE_BIN", os.path.join(ROOT, "target", "release", "alliance"))
SERVER = os.environ.get("DB", "postgres://postgres@127.0.0.1:5432").rstrip("/")
NAME = "alliance_two_instances"
PAGES = ["/public", "/public/figures", "/you-said-we-did", "/safer-places", "/find-help?need=mental-health",
         "/report-unsafe-place"]
failures = []


def check(name, ok, detail=""):
    print(("PASS  " if ok else "FAIL  ") + name + (f" ({detail})" if detail and not ok else ""))
    if not ok:
        failures.append(name)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def request(base, path, cookie="", data=None, headers=None):
    """(status, headers, body) of one request, redirects not followed."""
    headers = dict(headers or {})
    if cookie:
        headers["Cookie"] = cookie
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(base + path, data=body, headers=headers, method="POST" if data is not None else "GET")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=60) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def cookie_of(headers, name):
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith(name + "="):
            return value.split(";", 1)[0]
    return None


def csrf_in(html):
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return m.group(1) if m else ""


def start(db, port, demo, log):
    args = [BIN, "--db", db, "serve", "--port", str(port)] + (["--demo"] if demo else [])
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if request(base, "/readyz")[0] == 200:
                return proc, base
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    log.flush()
    sys.exit(f"the instance on port {port} did not start; see {log.name}")


def wrk(base, page, seconds, connections, extra=()):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, base + page],
                         capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.findall(r"(Non-2xx.*|Socket errors.*)", out)
    return (rps.group(1) if rps else "?"), pct.get("50", "?"), pct.get("99", "?"), "; ".join(errors) or "0"


def figures(base, session):
    status, _, public = request(base, "/public/figures")
    # The page's script nonce differs per response; everything else must match.
    public = re.sub(r'nonce="[^"]*"', "", public)
    _, _, counts = request(base, "/api/v1/counts?by=month,crime-type", cookie=session)
    return status, public, counts


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    if not os.access(BIN, os.X_OK):
        sys.exit("build it first: cargo build --release")
    subprocess.run(["psql", SERVER + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {NAME}"], check=True)
    subprocess.run(["psql", SERVER + "/postgres", "-qc", f"CREATE DATABASE {NAME}"], check=True)
    db = f"{SERVER}/{NAME}"
    work = tempfile.mkdtemp()
    # A throwaway audit key shared by both instances (never a key file in the working folder).
    os.environ["ALLIANCE_AUDIT_KEY"] = os.urandom(32).hex()
    log_a, log_b = open(os.path.join(work, "a.log"), "w"), open(os.path.join(work, "b.log"), "w")
    a, base_a = start(db, 18091, True, log_a)
    b, base_b = start(db, 18092, False, log_b)
    try:
        police = os.environ.get("POLICE_DIR")
        if police:
            started = time.monotonic()
            subprocess.run([BIN, "--db", db, "import", "police", police], check=True,
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "import.log"), "w"))
            print(f"imported {police} while both instances ran: {time.monotonic() - started:.1f} s")
        text = open(log_a.name).read()
        password = re.search(r"with the password (\S+)", text).group(1)

        # Sessions: signed in on A, used on B.
        status, headers, page = request(base_a, "/sign-in")
        anon = cookie_of(headers, "alliance_csrf")
        status, headers, _ = request(base_a, "/sign-in", cookie=anon,
                                     data={"csrf_token": csrf_in(page), "email": "demo.admin@example.org",
                                           "password": password})
        session = cookie_of(headers, "alliance_session")
        check("signed in on A", status == 303 and session is not None, f"{status}")
        status, _, page = request(base_b, "/account/password", cookie=session)
        check("A's session works on B", status == 200, f"{status}")
        csrf = csrf_in(page)

        before = figures(base_a, session), figures(base_b, session)
        check("the same figures on both before the load", before[0] == before[1] and before[0][0] == 200)

        print(f"\nwrk: {connections} connections split over both instances, {seconds} s a page")
        print(f"{'page':<32} {'instance':<8} {'requests/s':>10} {'p50':>9} {'p99':>9}  errors")
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for page in PAGES:
                runs = [pool.submit(wrk, base, page, seconds, connections // 2) for base in (base_a, base_b)]
                total = 0.0
                for name, run in zip("AB", runs):
                    rps, p50, p99, errors = run.result()
                    total += float(rps) if rps != "?" else 0.0
                    print(f"{page:<32} {name:<8} {rps:>10} {p50:>9} {p99:>9}  {errors}")
                print(f"{page:<32} {'both':<8} {total:>10.0f}")

        after = figures(base_a, session), figures(base_b, session)
        check("the same figures on both after the load", after[0] == after[1] and after == before)

        # Limits: one visitor's allowance on the public form, counted once for both.
        status, headers, page = request(base_a, "/report-unsafe-place")
        visitor = cookie_of(headers, "alliance_csrf")
        today = time.gmtime()
        report = {"csrf_token": csrf_in(page), "website": "", "place": "", "longitude": "-2.1794",
                  "latitude": "53.0027", "date-day": f"{today.tm_mday:02d}", "date-month": f"{today.tm_mon:02d}",
                  "date-year": str(today.tm_year), "time-of-day": "night", "reasons": "poor-lighting"}
        statuses = [request((base_a, base_b)[i % 2], "/report-unsafe-place", cookie=visitor, data=report)[0]
                    for i in range(12)]
        accepted = statuses.count(303)
        check("the public form's allowance is shared (10 accepted, then 429 on both)",
              statuses[:10] == [303] * 10 and statuses[10:] == [429, 429], f"{statuses}")

        # Signing out on B ends the session on A too.
        request(base_b, "/sign-out", cookie=session, data={"csrf_token": csrf})
        status, _, _ = request(base_a, "/account/password", cookie=session)
        check("signed out on B is signed out on A", status == 303, f"{status}")
        print(f"\n{accepted} reports accepted; logs in {work}")
    finally:
        for proc in (a, b):
            proc.terminate()
            proc.wait(timeout=60)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {', '.join(failures)}")
    print("all checks passed")


if __name__ == "__main__":
    main()
