#!/usr/bin/env bash
# Installs what building and testing fieldmint needs, idempotently:
#   - Node.js, npm and Chromium (Debian packages) if missing,
#   - the pinned solc-js, OpenZeppelin contracts and merkle-tree, Foundry's anvil and cast
#     (npm, in schemas/contracts),
#   - the explorer map's world-atlas and topojson-client (npm, in explorer/web),
#   - ChirpStack's JavaScript API (npm, in ingest/testdata/chirpstack),
#   - ClickHouse as chDB (npm package @chdb/lib-linux-x64-gnu), cached outside the
#     checkout so that a fresh clone does not download its 178 MB again,
#   - Go modules.
set -euo pipefail
cd "$(dirname "$0")/.."

CHDB_VERSION=26.7.3-stable.1
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/fieldmint"
CHDB_LIB="$CACHE/chdb/$CHDB_VERSION/libchdb.so"

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; else
    echo "deps: Go is not installed (need Go 1.26+)" >&2; exit 1; fi
fi

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
apt_packages=()
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium) # the claim page's browser test
command -v gcc >/dev/null 2>&1 || apt_packages+=(gcc) # the race detector (cgo) in make test
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "deps: installing ${apt_packages[*]} (Debian packages)"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if [ ! -f schemas/contracts/node_modules/.fieldmint-installed ] || [ schemas/contracts/package.json -nt schemas/contracts/node_modules/.fieldmint-installed ]; then
  echo "deps: npm install (solc-js, OpenZeppelin, anvil, cast) in schemas/contracts"
  (cd schemas/contracts && npm install --no-save --no-audit --no-fund --loglevel=error)
  touch schemas/contracts/node_modules/.fieldmint-installed
fi

if [ ! -f explorer/web/node_modules/.fieldmint-installed ] || [ explorer/web/package.json -nt explorer/web/node_modules/.fieldmint-installed ]; then
  echo "deps: npm install (world-atlas, topojson-client: the explorer's map) in explorer/web"
  (cd explorer/web && npm install --no-save --no-audit --no-fund --loglevel=error)
  touch explorer/web/node_modules/.fieldmint-installed
fi

if [ ! -f ingest/testdata/chirpstack/node_modules/.fieldmint-installed ] || [ ingest/testdata/chirpstack/package.json -nt ingest/testdata/chirpstack/node_modules/.fieldmint-installed ]; then
  echo "deps: npm install (ChirpStack's JavaScript API: its uplink example as protobuf) in ingest/testdata/chirpstack"
  (cd ingest/testdata/chirpstack && npm install --no-save --no-audit --no-fund --loglevel=error)
  touch ingest/testdata/chirpstack/node_modules/.fieldmint-installed
fi

if [ ! -f "$CHDB_LIB" ]; then
  echo "deps: fetching ClickHouse $CHDB_VERSION (chDB, about 178 MB) into $CACHE"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >/dev/null && tar xzf ./*.tgz package/libchdb.so)
  mkdir -p "$(dirname "$CHDB_LIB")"
  mv "$tmp/package/libchdb.so" "$CHDB_LIB.part" && mv "$CHDB_LIB.part" "$CHDB_LIB"
fi

go mod download
