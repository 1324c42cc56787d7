# What the vendor-*.sh scripts share (sourced, not run): a scratch folder removed on exit,
# an npm package unpacked into it, and the record left beside what was vendored.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# unpack PACKAGE VERSION: the package from the npm registry, into "$work/package".
unpack() {
    (cd "$work" && npm pack --silent "$1@$2" >/dev/null 2>&1 && tar xzf "$1"-*.tgz)
}

# without_source_map FILE: the file without its sourceMappingURL comment (the map is not vendored).
without_source_map() {
    sed -e 's|//# sourceMappingURL=.*||' "$1"
}

# record OUT NAME VERSION NOTICE: the notice (copyright, licence, how it was vendored) and
# the version, beside the files.
record() {
    printf '%s\n' "$4" > "$1/NOTICE"
    echo "$3" > "$1/VERSION"
    echo "vendored $2 $3 into $1"
}
