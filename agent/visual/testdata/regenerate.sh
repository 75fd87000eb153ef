#!/bin/sh
# Remakes the picture pairs under pairs/ and pixelmatch's counts on them
# (pixelmatch.json), which visual_test.go holds agent/visual to. Needs Go,
# node and npm (the npm registry); run from anywhere, review the diff.
#
# pixelmatch is pinned to 7.2.0, its last version with the YIQ colour
# distance that agent/visual implements (8.0 moved to OKLab).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
rm -rf pairs
go run ./genpairs pairs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --silent --no-audit --no-fund --prefix "$tmp" pixelmatch@7.2.0 pngjs@7.0.0 >/dev/null
PIXELMATCH_DIR="$tmp" node pixelmatch.mjs pairs > pixelmatch.json
echo "wrote $here/pairs and $here/pixelmatch.json"
