#!/usr/bin/env bash
# Load test of the public pages (issue 18: 1,000 requests a second at 200 connections, p99
# under 100 ms). Starts the release binary on a fresh demo database and runs `wrk` (Debian
# package `wrk`) against each public page, printing requests a second and latency percentiles.
#
#   cargo build --release && bash tools/load/public-pages.sh [SECONDS] [CONNECTIONS]
#
# Set DB=postgres://… to measure on PostgreSQL instead (the database must be empty or hold a
# demo load). Nothing here is a test: speed is measured, never asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-10}"
connections="${2:-200}"
bin=target/release/alliance
[ -x "$bin" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="${DB:-sqlite://$work/load.db}"
# A throwaway audit key (never a key file in the working folder).
export ALLIANCE_AUDIT_KEY="$(head -c 48 /dev/urandom | base64 | tr -d "\n")"
port=18081
"$bin" --db "$db" serve --demo --port "$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/serve.log"; exit 1; }

printf '%-22s %12s %9s %9s %9s %9s\n' page "requests/s" p50 p90 p99 errors
for page in /public /public/figures /you-said-we-did /safer-places "/find-help?need=mental-health" /report-unsafe-place; do
    out="$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port$page")"
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p90="$(awk '$1 == "90%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")"
    printf '%-22s %12s %9s %9s %9s %9s\n' "$page" "$rps" "$p50" "$p90" "$p99" "${errors:-0}"
done
