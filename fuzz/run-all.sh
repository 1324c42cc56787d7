#!/usr/bin/env bash
# Runs every fuzz target of alliance-ingest for SECONDS each (default 60), one after the
# other, and fails if any target found a crash (its input is kept in artifacts/TARGET/).
#
#   fuzz/run-all.sh 20          # CI: 20 s per target
#   fuzz/run-all.sh 600         # ten minutes each
#
# FUZZ_SANITIZER=none builds without the address sanitizer (faster; the parsers are safe
# Rust). New interesting inputs are kept in corpus/TARGET/ (not committed) and the committed seeds
# in seeds/TARGET/ start every run. cargo-fuzz is installed when missing. cargo-fuzz asks
# rustc for sanitizer flags that only a nightly toolchain accepts: RUSTC_BOOTSTRAP=1 lets
# the one stable toolchain of this machine take them.
set -euo pipefail

seconds="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=$(cargo fuzz list)
cargo fuzz build -O --sanitizer "$sanitizer"

failed=()
for target in $targets; do
    mkdir -p "corpus/$target" "seeds/$target"
    echo "== fuzz $target for ${seconds}s"
    # -rss_limit_mb: a run over 1 GiB is a failure (the parsers are bounded far below it);
    # -timeout: one input taking over 10 s is a failure too.
    if ! cargo fuzz run -O --sanitizer "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1; then
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: all $(echo "$targets" | wc -w) targets ran ${seconds}s each without a crash"
