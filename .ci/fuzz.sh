#!/usr/bin/env bash
# fuzz.sh TARGET PACKAGE FUZZTIME: runs one fuzz target for FUZZTIME.
#
# Go's fuzz coordinator before Go 1.27 (go.dev/issue/75804) can fail a
# target with a bare "context deadline exceeded" right at the end of
# -fuzztime, having found nothing. Such a run, and only such a run (no
# failing input written), is tried once more; any other failure fails.
set -uo pipefail
target=$1 pkg=$2 fuzztime=$3 go=${GO:-go}
for attempt in 1 2; do
	out=$("$go" test -run '^$' -fuzz "$target" -fuzztime "$fuzztime" "$pkg" 2>&1)
	status=$?
	printf '%s\n' "$out"
	if [ "$status" -eq 0 ]; then
		exit 0
	fi
	if [ "$attempt" -eq 1 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
		echo "fuzz.sh: $target stopped on the fuzz coordinator's deadline race with nothing found; once more"
		continue
	fi
	exit "$status"
done
