#!/bin/sh
# Runs one libFuzzer target: first on its committed reproducers
# (tests/fuzz/crashes/NAME-*, inputs that once failed), then for a bounded
# time on its committed corpus.
#   tests/fuzz/run.sh BIN NAME SECONDS [SEED]
# New inputs go to $BUILD/fuzz/corpus/NAME (the committed corpus in
# tests/fuzz/corpus/NAME is only read), a crash to
# $BUILD/fuzz/crashes/NAME-crash-<sha1>.  libFuzzer's chatter goes to
# $BUILD/fuzz/NAME.log; one summary line is printed, and on failure the end
# of the log.  SEED 0 lets libFuzzer choose.
set -eu
bin=$1 name=$2 seconds=$3 seed=${4:-0}
build=${BUILD:-build}
work=$build/fuzz/corpus/$name
crashes=$build/fuzz/crashes
log=$build/fuzz/$name.log
mkdir -p "$work" "$crashes" "tests/fuzz/corpus/$name"
status=0
set -- tests/fuzz/crashes/"$name"-*
if [ -e "$1" ]; then
	"$bin" -runs=1 "$@" >"$log" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		echo "fuzz $name: a committed reproducer fails (exit $status); log: $log" >&2
		grep -E 'Running:|ERROR|SUMMARY|property failed|#[0-9] ' "$log" | head -n 20 >&2
		exit 1
	fi
fi
# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: a leak or a
# runaway allocation is a failure too.
"$bin" -max_total_time="$seconds" -seed="$seed" -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$crashes/$name-" \
	"$work" "tests/fuzz/corpus/$name" >"$log" 2>&1 || status=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
if [ "$status" -ne 0 ]; then
	echo "fuzz $name: FAILED (exit $status); log: $log" >&2
	tail -n 60 "$log" >&2
	ls -1 "$crashes/$name-"* 2>/dev/null | sed 's/^/  reproducer: /' >&2 || true
	exit 1
fi
echo "fuzz $name: ${runs:-?} runs in ${seconds} s, no failure"
