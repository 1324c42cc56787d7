#!/usr/bin/env python3
"""A write's wait while a police import runs (issue 18: "no write waits more than 1 s").

Runs the release CLI's `alliance import police DIR` into the database given and, while it runs,
makes one small write every quarter second the way the server's writes take their locks, timing
how long each waits. Prints the import's time and the writes' median, p99 and longest wait, and
how many waited over 1 s. Speed is printed, never asserted.

    cargo build --release && python3 tools/load/write_waits.py DB_URL DIR AUDIT_KEY_FILE

- SQLite (`sqlite:///path/file.db`): `BEGIN IMMEDIATE`, one insert, commit, polling for the
  lock every millisecond as Alliance's own connections do (`alliance-db/src/sqlite_wait.rs`).
  Every write of the server's takes that same lock.
- PostgreSQL (`postgres://…/db`, through `psql`): a transaction that takes the audit chain's
  advisory lock (`alliance-db/src/audit.rs`), as every audited write of the server's does, and
  inserts one row. The import's `COPY` and index builds lock only the police tables, and it
  holds the audit lock from a file's audit row to that file's commit.

The probe writes to a table of its own (`write_wait_probe`), dropped at the end. The database
should already hold Alliance's schema (any earlier import or `alliance serve` made it).
"""

import os
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ALLIANCE_BIN", os.path.join(ROOT, "target", "release", "alliance"))
INTERVAL = 0.25
# audit.rs: AUDIT_LOCK_KEY ("AUDT").
AUDIT_LOCK_KEY = 0x41554454


class SqliteWriter:
    def __init__(self, url):
        self.conn = sqlite3.connect(url.removeprefix("sqlite://"), timeout=0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.poll_until_free("CREATE TABLE IF NOT EXISTS write_wait_probe (at REAL NOT NULL)")

    def poll_until_free(self, sql, *args):
        while True:
            try:
                return self.conn.execute(sql, args)
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.001)

    def write(self):
        self.poll_until_free("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO write_wait_probe (at) VALUES (?)", (time.time(),))
        self.conn.execute("COMMIT")

    def close(self):
        self.poll_until_free("DROP TABLE write_wait_probe")
        self.conn.close()


class PostgresWriter:
    """One long-lived `psql`, fed a transaction at a time; `\\echo` marks each one's end."""

    def __init__(self, url):
        self.psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.run("CREATE TABLE IF NOT EXISTS write_wait_probe (at DOUBLE PRECISION NOT NULL);")

    def run(self, sql):
        self.psql.stdin.write(sql + "\n\\echo write-done\n")
        self.psql.stdin.flush()
        for line in self.psql.stdout:
            if line.strip() == "write-done":
                return
        sys.exit("psql stopped")

    def write(self):
        self.run(f"BEGIN; SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY}) \\g /dev/null\n"
                 f"INSERT INTO write_wait_probe (at) VALUES ({time.time()}); COMMIT;")

    def close(self):
        self.run("DROP TABLE write_wait_probe;")
        self.psql.stdin.close()
        self.psql.wait()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    url, folder, key = sys.argv[1:]
    if not os.access(BIN, os.X_OK):
        sys.exit("build it first: cargo build --release")
    writer = SqliteWriter(url) if url.startswith("sqlite:") else PostgresWriter(url)
    started = time.monotonic()
    importer = subprocess.Popen([BIN, "import", "police", "--db", url, "--audit-key-file", key, folder],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    waits = []
    while importer.poll() is None:
        began = time.monotonic()
        writer.write()
        waits.append(time.monotonic() - began)
        if waits[-1] > 1.0:
            print(f"  a write at {began - started:.1f} s waited {waits[-1]:.2f} s", flush=True)
        time.sleep(max(0.0, INTERVAL - (time.monotonic() - began)))
    elapsed = time.monotonic() - started
    writer.close()
    if importer.returncode != 0:
        sys.exit(f"the import failed: {importer.stderr.read()[-2000:]}")
    waits.sort()
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    print(f"import {elapsed:.1f} s; {len(waits)} writes: median {statistics.median(waits) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, longest {waits[-1] * 1000:.0f} ms, "
          f"{sum(w > 1.0 for w in waits)} over 1 s")


if __name__ == "__main__":
    main()
