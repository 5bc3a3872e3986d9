#!/usr/bin/env bash
# `make test` after `make deps`: every test. killtest (the pipeline's
# processes killed, scaled and cut off from their dependencies for minutes:
# about 11 minutes, most of it waiting) starts first and runs beside the
# rest (lint, deploy/check, the unit tests under -race, every other
# package), which takes about as long on two cores; its output follows
# theirs. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Its own process group, so that a failure before it ends stops it all.
set -m
$GO test -count=1 -timeout 15m ./killtest >"$log" 2>&1 &
killtest=$!
set +m
stop_killtest() { kill -- -"$killtest" 2>/dev/null; wait "$killtest" 2>/dev/null; cat "$log"; }

rc=0
make --no-print-directory lint deploy-check || rc=1
if [ "$rc" = 0 ]; then
	# shellcheck disable=SC2086 # UNIT is a list of packages
	$GO test -count=1 -race $UNIT || rc=1
fi
if [ "$rc" = 0 ]; then
	$GO test -count=1 -timeout 15m $($GO list ./... | grep -v '/killtest$') || rc=1
fi
if [ "$rc" != 0 ]; then
	stop_killtest
	exit 1
fi
echo "waiting for killtest (started first; its output follows) ..."
wait "$killtest" || rc=1
cat "$log"
exit "$rc"
