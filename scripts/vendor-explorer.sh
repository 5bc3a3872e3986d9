#!/usr/bin/env bash
# Copies what the explorer's map draws with from the npm packages pinned in
# explorer/web/package.json (installed by scripts/deps.sh) into
# explorer/web/vendor, which the API embeds. Run by `make generate`;
# settler's TestExplorerVendorMatchesPackages fails when they differ.
set -euo pipefail
cd "$(dirname "$0")/../explorer/web"
m=node_modules
cp "$m/world-atlas/countries-50m.json" vendor/countries-50m.json
cp "$m/world-atlas/LICENSE" vendor/LICENSE.world-atlas
cp "$m/topojson-client/dist/topojson-client.min.js" vendor/topojson-client.min.js
cp "$m/topojson-client/LICENSE" vendor/LICENSE.topojson-client
