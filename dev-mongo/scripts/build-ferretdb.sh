#!/usr/bin/env bash
# Builds FerretDB (a MongoDB-wire server over SQLite/PostgreSQL) from the Go module proxy, once.
# Usage: build-ferretdb.sh OUTPUT_BINARY
#
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary panics
# at start-up because the module zip lacks build/version/version.txt (FerretDB generates it in
# its own release pipeline). So we build the same module source with that file written in.
set -euo pipefail
version="${FERRETDB_VERSION:-v1.24.2}"
out="${1:?usage: build-ferretdb.sh OUTPUT_BINARY}"

command -v go >/dev/null || { echo "build-ferretdb: the Go toolchain is needed to build FerretDB (or set MONGO_URL)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "build-ferretdb: downloading github.com/FerretDB/FerretDB@${version} from the Go module proxy" >&2
dir="$(go mod download -json "github.com/FerretDB/FerretDB@${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "build-ferretdb: go mod download gave no source directory" >&2; exit 1; }

cp -R "$dir" "$work/src"
chmod -R u+w "$work/src"
echo "$version" > "$work/src/build/version/version.txt"

echo "build-ferretdb: compiling (about 2 minutes on 2 cores the first time)" >&2
mkdir -p "$(dirname "$out")"
(cd "$work/src" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" ./cmd/ferretdb)
mv "$out.tmp" "$out"
# sed, not head: head exits after one line, and with pipefail the SIGPIPE that gives --version failed the build (exit 141)
"$out" --version | sed -n 1p >&2
