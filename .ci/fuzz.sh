#!/bin/sh
# Runs every fuzz target of the module for a short while, one target per "go test"
# run (go test -fuzz accepts a single target). Seed corpora live in
# testdata/fuzz/<FuzzName>/ and also run as ordinary tests under "go test ./...".
#
#   .ci/fuzz.sh            # 3s per target
#   FUZZTIME=1m .ci/fuzz.sh
#
# A failure leaves the crashing input in testdata/fuzz/<FuzzName>/: commit it with
# the fix, so it stays a regression test. Minimisation of new interesting inputs is
# capped (FUZZMINIMIZETIME) because an untrimmed 4 KiB page patch in
# FuzzOpenDatabase would otherwise spend up to a minute being minimised.
set -eu
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-3s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-2s}

# The CLI's --input parser fuzz target lives in cmd/ and is listed by the loop
# below once it exists.
status=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for target in $targets; do
		echo "== $pkg $target ($FUZZTIME)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"; then
			status=1
		fi
	done
done
exit $status
