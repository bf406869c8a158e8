#!/bin/sh
# bench/callgrind-member.sh: websocketd's program in the callgrind runs of
# bench/run.sh (section "JSON protocol: instructions per delivered line").
#
#   websocketd ... bench/callgrind-member.sh CHAT_SERVER OUT_DIR
#
# A connection whose request carries the header X-Bench-Callgrind: TAG
# (websocketd hands it over as HTTP_X_BENCH_CALLGRIND) runs CHAT_SERVER
# under valgrind's callgrind, which counts every instruction it executes,
# from its first to its exit, into OUT_DIR/TAG.<pid>.out; its pid (this
# shell's, kept through both execs) goes to OUT_DIR/TAG.pid first, so that
# bench/load.js knows which file is the member's (a warden it might fork
# writes a file of its own pid).  Any other connection runs CHAT_SERVER
# as it is.  TAG is letters, digits and '-' only.
set -eu
chat=$1
dir=$2
tag=${HTTP_X_BENCH_CALLGRIND:-}
case $tag in
'') exec "$chat" ;;
*[!A-Za-z0-9-]*) echo "callgrind-member: bad tag" >&2; exit 2 ;;
esac
echo $$ >"$dir/$tag.pid"
# --vgdb=no: no gdbserver FIFOs in /tmp; the process is only counted.
exec valgrind --tool=callgrind --vgdb=no --log-file="$dir/$tag.%p.log" \
	--callgrind-out-file="$dir/$tag.%p.out" "$chat"
