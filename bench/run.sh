#!/usr/bin/env bash
# bench/run.sh: the benchmark suite of issue 6 (`make bench`, `make bench-smoke`).
#
#   bench/run.sh full     every scenario at full size, then docs/benchmarks.md
#                         and bench/fanout.png (bench/summary.js)
#   bench/run.sh smoke    a few seconds of the same; fails only when a run did
#                         not complete or a line was not delivered
#   bench/run.sh callgrind  the callgrind runs alone (below), then their
#                         section and target row of docs/benchmarks.md,
#                         the rest of the page as it was
#   bench/run.sh redis    the Redis transport's runs alone (below) at full
#                         size, with chat_server (files) beside them, then
#                         their section and target rows of the page
#   bench/run.sh scale    the file transport at its own scale alone (below),
#                         then its section and target rows of the page
#
# Three websocketd run side by side on free ports of 127.0.0.1, each with a
# throwaway BASE_DIR: chat_server, bench/floor (the smallest appender plus
# inotify follower) and cat (the least any websocketd program costs).  Beside
# them bench/broadcast.js, a single-process Node `ws` broadcast server, for
# the fan-out of small rooms only (N <= 50), where issue 6 compares
# chat_server with it.  chat_server_json is the same chat_server under the
# same websocketd, its clients speaking the JSON protocol (`?proto=json`,
# issue 11), in the join and the fan-out (N <= 500), next to the legacy
# clients in every round; chat_server_mix puts both kinds of client in one
# room, half and half, and measures the CPU of each half apart (rounds of
# their own, after the fan-out of each size).  chat_server_cg, last, is a
# fourth websocketd on the same BASE_DIR whose program is
# bench/callgrind-member.sh: in a room of N, one legacy and one JSON member
# run chat_server under valgrind's callgrind, which counts the instructions
# each executes, so that the JSON / legacy cost per delivered line has a
# figure the load of the machine does not move.  The scenarios
# (bench/load.js) run variant after variant, so all see the same machine
# at nearly the same time.
#
# The Redis transport (issue 15): chat_server_redis is one host, a
# websocketd whose chat_server has TRANSPORT=redis (its own BASE_DIR and
# ini) on a redis-server this script starts (a unix socket in the temporary
# directory, no RDB or AOF), with the host's `chat_server --archive`;
# chat_server_redis2 is two hosts, two such websocketd with their own
# BASE_DIR, ini and archiver, on a second redis-server with the same
# REDIS_KEY_PREFIX: the room's members split half and half between them,
# the sender on the first.  Each variant has a Redis of its own, so that
# the CPU of redis-server counted for one is that variant's alone.  They
# run the fan-out at 2, 10, 50 and 500 members and the memory scenario
# beside chat_server (files), in the same rounds; the CPU per delivered
# line counts the chat processes, redis-server and the archivers, and the
# Redis commands per delivered line come from `INFO commandstats`.
#
# The scale scenario: the file transport with 10,000 connections, 100 rooms
# of 100 (bench/load.js scenarioScale), after everything else.  Results:
# $BUILD/bench/<mode>.jsonl (one JSON object per run) and
# $BUILD/bench/<mode>-meta.json.
#
# Limits: the 2000-member fan-out and the 10,000 connections of the scale
# scenario need one inotify instance and several descriptors per member.
# As root the script raises fs.inotify.max_user_instances and
# max_user_watches (only if lower than needed; set back on exit) and its
# own `ulimit -n`, and says so; otherwise sizes that do not fit the limits
# are skipped, and the results say why.  Where even root cannot raise the
# hard `ulimit -n`, the scale scenario spreads its connections over
# several websocketd on the same BASE_DIR (four descriptors each per
# connection), and says so.
#
#   BUILD        build directory (build)
#   BENCH_KEEP   1: keep the BASE_DIRs and websocketd logs
#   BENCH_SIZES  fan-out room sizes instead of the default list, e.g. "2 10"
#   BENCH_CG_SIZES     callgrind room sizes instead of the default list
#   BENCH_CG_MESSAGES  callgrind line counts, two, instead of "200 1200"
#   BENCH_REDIS_SIZES  Redis fan-out room sizes instead of "2 10 50 500"
#   BENCH_SCALE  rooms and members per room of the scale scenario, e.g.
#                "100 100" (the default), "4 50" in smoke
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case $mode in full|smoke|callgrind|redis|scale) ;; *) echo "usage: bench/run.sh full|smoke|callgrind|redis|scale" >&2; exit 2 ;; esac

build=${BUILD:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
out=$build/bench
chat_bin=$build/chat_server
floor_bin=$out/floor
results=$out/$mode.jsonl
meta=$out/$mode-meta.json
mkdir -p "$out"

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$chat_bin" ] || die "$chat_bin is missing (make all)"
case $mode in full|smoke) [ -x "$floor_bin" ] || die "$floor_bin is missing (make $floor_bin)" ;; esac
command -v websocketd >/dev/null || die "websocketd is not installed (.ci/install-deps)"
command -v node >/dev/null || die "node is not installed"
[ -d node_modules/ws ] || die "node_modules/ws is missing (npm ci)"
cat_bin=$(command -v cat)

# ------------------------------------------------------------------ plan
# Fan-out sizes; each has its own message count and steady send interval,
# so that the machine is never saturated and every size takes seconds.
if [ -n "${BENCH_SIZES:-}" ]; then
	read -r -a fanout_sizes <<<"$BENCH_SIZES"
elif [ "$mode" = full ]; then
	fanout_sizes=(2 10 50 100 200 500 2000)
else
	fanout_sizes=(2 10)
fi
largest=${fanout_sizes[-1]}
# The Redis transport's fan-out sizes (issue 15), and the scale scenario's
# rooms and members per room.
if [ -n "${BENCH_REDIS_SIZES:-}" ]; then
	read -r -a redis_sizes <<<"$BENCH_REDIS_SIZES"
elif [ "$mode" = smoke ]; then
	redis_sizes=(2 10)
else
	redis_sizes=(2 10 50 500)
fi
if [ -n "${BENCH_SCALE:-}" ]; then
	read -r scale_rooms scale_n <<<"$BENCH_SCALE"
elif [ "$mode" = smoke ]; then
	scale_rooms=4 scale_n=50
else
	scale_rooms=100 scale_n=100
fi
scale_total=$((scale_rooms * scale_n))
case $mode in
redis) largest=0; for n in "${redis_sizes[@]}"; do [ "$n" -le "$largest" ] || largest=$n; done ;;
scale) largest=$scale_total ;;
full|smoke) [ "$scale_total" -le "$largest" ] || largest=$scale_total ;;
esac
# Callgrind room sizes (N members, the two counted ones included) and the
# two line counts: the smaller and the larger (see load.js's
# scenarioCallgrind).  A member under callgrind runs many times slower.
if [ -n "${BENCH_CG_SIZES:-}" ]; then
	read -r -a cg_sizes <<<"$BENCH_CG_SIZES"
elif [ "$mode" = smoke ]; then
	cg_sizes=(4)
else
	cg_sizes=(4 50 500)
fi
if [ -n "${BENCH_CG_MESSAGES:-}" ]; then
	read -r -a cg_messages <<<"$BENCH_CG_MESSAGES"
elif [ "$mode" = smoke ]; then
	cg_messages=(2 6)
else
	cg_messages=(200 1200)
fi
if [ "${#cg_messages[@]}" -ne 2 ] || [ "${cg_messages[0]}" -ge "${cg_messages[1]}" ]; then
	die "BENCH_CG_MESSAGES: two line counts, the smaller first"
fi
if [ "$mode" = callgrind ]; then
	largest=${cg_sizes[0]}
	for n in "${cg_sizes[@]}"; do [ "$n" -le "$largest" ] || largest=$n; done
fi
have_valgrind=no
if command -v valgrind >/dev/null 2>&1; then have_valgrind=yes; fi
[ "$mode" != callgrind ] || [ "$have_valgrind" = yes ] ||
	die "valgrind is not installed (.ci/install-deps installs it)"

# ------------------------------------------------------------------ limits
notes=()
note() { say "$*"; notes+=("$*"); }
old_instances=
old_watches=
restore_limits() {
	if [ -n "$old_instances" ]; then
		sysctl -q -w fs.inotify.max_user_instances="$old_instances" >/dev/null &&
			say "set fs.inotify.max_user_instances back to $old_instances"
	fi
	if [ -n "$old_watches" ]; then
		sysctl -q -w fs.inotify.max_user_watches="$old_watches" >/dev/null &&
			say "set fs.inotify.max_user_watches back to $old_watches"
	fi
}

# Each member is one process with one inotify instance; the three variants
# never hold their rooms at the same time, but other programs of this user
# may hold some.
need_instances=$((largest + 64))
need_watches=$((8 * largest + 4096))  # a member watches its room, the rooms and run directories
need_files=$((6 * largest + 1024))  # websocketd: socket + 3 pipes; node: socket
instances=$(cat /proc/sys/fs/inotify/max_user_instances)
if [ "$instances" -lt "$need_instances" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		old_instances=$instances
		sysctl -q -w fs.inotify.max_user_instances="$need_instances" >/dev/null
		note "running as root: raised fs.inotify.max_user_instances from $instances to $need_instances for this run (set back on exit)"
	fi
fi
watches=$(cat /proc/sys/fs/inotify/max_user_watches)
if [ "$watches" -lt "$need_watches" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		old_watches=$watches
		sysctl -q -w fs.inotify.max_user_watches="$need_watches" >/dev/null
		note "running as root: raised fs.inotify.max_user_watches from $watches to $need_watches for this run (set back on exit)"
	fi
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need_files" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		ulimit -Hn "$need_files" 2>/dev/null || true
		if ulimit -n "$need_files" 2>/dev/null; then
			note "running as root: raised ulimit -n to $need_files for this run's processes"
		else
			ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
			note "running as root, but ulimit -n cannot be raised to $need_files here (the hard limit, $(ulimit -Hn), refused to rise): it stays at $(ulimit -n)"
		fi
	elif [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$need_files" ]; then
		ulimit -n "$need_files"
		note "raised the soft ulimit -n to $need_files"
	fi
fi
instances=$(cat /proc/sys/fs/inotify/max_user_instances)
watches=$(cat /proc/sys/fs/inotify/max_user_watches)
files=$(ulimit -n)
[ "$files" = unlimited ] && files=100000000
fits() { # a room of $1 members (or $1 connections) fits the limits?
	[ $(($1 + 64)) -le "$instances" ] && [ $((6 * $1 + 1024)) -le "$files" ] &&
		[ $((8 * $1 + 4096)) -le "$watches" ]
}
limits_text() {
	echo "limits: fs.inotify.max_user_instances=$instances, fs.inotify.max_user_watches=$watches, ulimit -n=$files"
}

# ------------------------------------------------------------------ servers
base=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXXXX")
pids=()
redis_pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# redis-server last, once the hosts and archivers have gone.
	for p in "${redis_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${redis_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	restore_limits
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $base"
	else
		rm -rf "$base"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	node -e 'const s = require("net").createServer();
	         s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

listening() {
	local port=$1
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	return 1
}

# measure[v]: the load.js option that names the measured process(es).
declare -A port measure
start_server() { # variant [websocketd options...] program [args...]
	local v=$1; shift
	local p opts=()
	while [ "${1#--}" != "${1:-}" ]; do opts+=("$1"); shift; done
	p=$(free_port)
	websocketd --address=127.0.0.1 --port="$p" --loglevel=error \
		--passenv=PATH,LD_LIBRARY_PATH,CHAT_SERVER_CONFIG ${opts[@]+"${opts[@]}"} "$@" \
		>"$base/websocketd-$v.log" 2>&1 &
	pids+=($!)
	measure[$v]=--wsd=$!
	port[$v]=$p
	listening "$p" || die "websocketd for $v does not listen on $p (see $base/websocketd-$v.log)"
}

# The single-process baseline: no websocketd, the server is measured alone.
start_broadcast() {
	local p
	p=$(free_port)
	node bench/broadcast.js "$p" >"$base/broadcast.log" 2>&1 &
	pids+=($!)
	measure[broadcast]=--server=$!
	port[broadcast]=$p
	listening "$p" || die "bench/broadcast.js does not listen on $p (see $base/broadcast.log)"
}

mkdir -p "$base/chat" "$base/floor" "$base/callgrind"
# Copies: a rebuild during the run must not change what is measured.
cp "$chat_bin" "$base/chat_server"
case $mode in full|smoke) cp "$floor_bin" "$base/floor-bin" ;; esac
cp bench/callgrind-member.sh "$base/callgrind-member.sh"
chat_bin=$base/chat_server
floor_bin=$base/floor-bin
cat >"$base/chat.ini" <<INI
; Written by bench/run.sh for one benchmark run.
[global]
BASE_DIR=$base/chat
; Where the end of the run looks for inboxes left behind.
RUN_DIR=$base/chat/run
LANG=C.UTF-8
; Every member comes with its own X-Forwarded-For address, as browsers do
; behind the proxy, so every message is charged to a flood bucket; the
; limits are set as high as they go so that none is refused.
FLOOD_RATE=100000
FLOOD_BURST=1000000
INI
export CHAT_SERVER_CONFIG=$base/chat.ini
# The baselines run in the whole suite only; the redis and scale modes
# measure chat_server (files) alone beside what they are about.
case $mode in full|smoke) baselines=yes ;; *) baselines=no ;; esac
[ "$mode" = callgrind ] || start_server chat_server "$chat_bin"
# The warden that the members start (src/warden.h) leaves websocketd's
# tree; it is measured beside them, as the archivers are for Redis.
measure[chat_server]+=" --warden-lock=$base/chat/run/.warden.lock"
if [ "$baselines" = yes ]; then
	start_server floor "$floor_bin" "$base/floor"
	start_server cat "$cat_bin"
	start_broadcast
fi
# chat_server_cg: the same chat_server and BASE_DIR, its program
# bench/callgrind-member.sh.  A member under callgrind takes longer than
# websocketd's default 100 ms to quit once its client has gone, and a
# member killed by the signals that follow would leave no count: 60 s.
case $mode in redis|scale) have_valgrind=no ;; esac
if [ "$have_valgrind" = yes ]; then
	start_server chat_server_cg --closems=60000 "$base/callgrind-member.sh" \
		"$chat_bin" "$base/callgrind"
fi
# JSON clients (issue 11) of the same chat_server, websocketd and BASE_DIR:
# only the client differs, so the cost of the protocol is what the runs of
# the two variants differ by.
if [ "$baselines" = yes ]; then
	port[chat_server_json]=${port[chat_server]}
	measure[chat_server_json]=${measure[chat_server]}
	port[chat_server_mix]=${port[chat_server]}
	measure[chat_server_mix]=${measure[chat_server]}
	say "websocketd: chat_server on ${port[chat_server]} (legacy and ?proto=json clients), floor on ${port[floor]}, cat on ${port[cat]}; bench/broadcast.js on ${port[broadcast]}"
fi
if [ "$have_valgrind" = yes ]; then
	say "websocketd: chat_server_cg on ${port[chat_server_cg]} (bench/callgrind-member.sh)"
fi

# The Redis transport (issue 15): a redis-server per variant, on a unix
# socket in the temporary directory, with no snapshot and no AOF (the
# bench measures the transport, not the disk); hosts with their own
# BASE_DIR, ini, websocketd and `chat_server --archive`.
have_redis=no
redis_missing=
case $mode in
full|smoke|redis)
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		redis_missing="redis-server or redis-cli is not installed (.ci/install-deps test installs redis-server)"
	else
		have_redis=yes
	fi
	;;
esac
declare -A redis_sock redis_pid
start_redis() { # name
	local r=$1 dir=$base/redis-$1
	mkdir -p "$dir"
	redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
		--dir "$dir" --save '' --appendonly no --logfile "$dir/redis.log" &
	redis_pids+=($!)
	redis_pid[$r]=$!
	redis_sock[$r]=$dir/redis.sock
	for _ in $(seq 1 200); do
		if redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1; then return 0; fi
		sleep 0.05
	done
	die "redis-server $r did not start (see $dir/redis.log)"
}
declare -A host_ini archive_pid
start_host() { # host redis: an ini, a BASE_DIR, the archiver
	local h=$1 r=$2
	mkdir -p "$base/host-$h"
	host_ini[$h]=$base/host-$h.ini
	cat >"${host_ini[$h]}" <<INI
; Written by bench/run.sh for one benchmark run: host $h on Redis $r.
[global]
BASE_DIR=$base/host-$h
RUN_DIR=$base/host-$h/run
LANG=C.UTF-8
FLOOD_RATE=100000
FLOOD_BURST=1000000
TRANSPORT=redis
REDIS_URL=unix://${redis_sock[$r]}
REDIS_KEY_PREFIX=bench:
INI
	"$chat_bin" --archive --config "${host_ini[$h]}" >"$base/archive-$h.log" 2>&1 &
	pids+=($!)
	archive_pid[$h]=$!
	start_server "host-$h" "$chat_bin" --config "${host_ini[$h]}"
}
if [ "$have_redis" = yes ]; then
	start_redis one
	start_redis two
	start_host a one
	start_host b two
	start_host c two
	sleep 0.3
	for h in a b c; do
		kill -0 "${archive_pid[$h]}" 2>/dev/null ||
			die "chat_server --archive of host $h exited at once: $(cat "$base/archive-$h.log")"
	done
	port[chat_server_redis]=${port[host-a]}
	measure[chat_server_redis]="${measure[host-a]} --extra=redis:${redis_pid[one]},archive:${archive_pid[a]} --redis-socket=${redis_sock[one]}"
	port[chat_server_redis2]=${port[host-b]},${port[host-c]}
	measure[chat_server_redis2]="${measure[host-b]},${measure[host-c]#--wsd=} --extra=redis:${redis_pid[two]},archive:${archive_pid[b]},archive:${archive_pid[c]} --redis-socket=${redis_sock[two]}"
	say "websocketd: chat_server_redis on ${port[chat_server_redis]}, chat_server_redis2 on ${port[chat_server_redis2]} (TRANSPORT=redis, an archiver per host)"
fi

# ------------------------------------------------------------------ runs
: >"$results"
failed=0
run() { # scenario "variants" [load.js options...]
	local scenario=$1 variants=$2; shift 2
	for v in $variants; do
		local line rc=0
		# shellcheck disable=SC2086
		line=$(node bench/load.js "$scenario" --port="${port[$v]}" --variant="$v" \
			${measure[$v]} "$@") || rc=$?
		if [ -z "$line" ]; then
			line="{\"variant\":\"$v\",\"scenario\":\"$scenario\",\"completed\":false,\"error\":\"load.js exited with $rc and no result\",\"options\":\"$*\"}"
		fi
		echo "$line" >>"$results"
		[ "$rc" -eq 0 ] || failed=$((failed + 1))
	done
}
# Rounds of a run: the variants take turns between them, so that a busy
# moment of the machine (other work, a slow disk) falls on all of them
# alike, and every other round in the opposite order, so that a machine
# getting busier or quieter during a round does not favour the first;
# bench/summary.js pools the rounds.
rounds() { # count scenario "variants" [load.js options...]
	local count=$1 scenario=$2 variants=$3; shift 3
	local reversed
	reversed=$(echo "$variants" | tr ' ' '\n' | tac | tr '\n' ' ')
	for r in $(seq 1 "$count"); do
		if [ $((r % 2)) -eq 1 ]; then
			run "$scenario" "$variants" "$@" --round="$r"
		else
			run "$scenario" "$reversed" "$@" --round="$r"
		fi
	done
}
skip() { # scenario variants reason [options]
	local scenario=$1 variants=$2 reason=$3; shift 3
	for v in $variants; do
		node -e 'console.log(JSON.stringify({variant: process.argv[1], scenario: process.argv[2],
			skipped: process.argv[3], options: process.argv.slice(4).join(" ")}))' \
			"$v" "$scenario" "$reason" "$@" >>"$results"
	done
	note "skipped $scenario ($*) for $variants: $reason"
}

all="chat_server floor cat"
rooms="chat_server floor"   # cat has no room: it only echoes
json=chat_server_json       # JSON clients, right after the legacy ones
# The fan-out variants of a room of N: the Node broadcast server only up to
# 50, the sizes that issue 6 compares (and the bench time stays as it was
# for the rest); JSON clients up to 500: filling a room of 2000 takes
# chat_server about four minutes (docs/benchmarks.md), and four more would
# take the suite past 15 minutes.
fanout_variants() { # N -> variants
	local v=chat_server
	if [ "$1" -le 500 ]; then v="$v $json"; fi
	v="$v floor"
	if [ "$1" -le 50 ]; then v="$v broadcast"; fi
	if [ "$have_redis" = yes ] && redis_size "$1"; then v="$v $redisv"; fi
	echo "$v"
}

# The Redis transport's variants (issue 15), at the sizes of redis_sizes,
# in the same rounds as chat_server (files).
redisv="chat_server_redis chat_server_redis2"
redis_size() { # N: one of redis_sizes?
	local x
	for x in "${redis_sizes[@]}"; do [ "$x" != "$1" ] || return 0; done
	return 1
}
redis_if() { # the Redis variants when they can run
	[ "$have_redis" = no ] || echo "$redisv"
}
redis_skips() { # scenario [options]: the Redis runs that cannot be made
	[ "$have_redis" = no ] && [ -n "$redis_missing" ] || return 0
	skip "$1" "$redisv" "$redis_missing" "${@:2}"
}

# The file transport at its own scale (issue 15): scale_rooms rooms of
# scale_n, filled together; then a line every 10 ms, the rooms taking turns,
# 5 per room.  chat_server takes minutes to fill and to empty 10,000.
scale_run() {
	local opts
	if [ "$mode" = smoke ]; then
		opts="--rooms=$scale_rooms --n=$scale_n --messages=3 --interval-ms=5 --deadline-s=120 --drain-s=20 --quiet-ms=100"
	else
		opts="--rooms=$scale_rooms --n=$scale_n --messages=5 --interval-ms=10 --deadline-s=1800 --drain-s=60"
	fi
	# websocketd holds four descriptors per connection (the socket and three
	# pipes), the client one: when ulimit -n cannot be raised far enough,
	# the connections are spread over several websocketd on the same
	# BASE_DIR and ini, each under the limit, and the run says so.
	local per=$(((files - 1024) / 4)) k
	if [ "$per" -lt 1 ] || [ $((scale_total + 1024)) -gt "$files" ] ||
		[ $((scale_total + 64)) -gt "$instances" ] || [ $((8 * scale_total + 4096)) -gt "$watches" ]; then
		# shellcheck disable=SC2086
		skip scale chat_server "$(limits_text)" $opts
		return
	fi
	k=$(((scale_total + per - 1) / per))
	local ports=${port[chat_server]} wsds=${measure[chat_server]%% *}
	for i in $(seq 2 "$k"); do
		start_server "chat_server-$i" "$chat_bin"
		ports=$ports,${port[chat_server-$i]}
		wsds=$wsds,${measure[chat_server-$i]#--wsd=}
	done
	if [ "$k" -gt 1 ]; then
		note "scale: ulimit -n is $files, and websocketd holds 4 descriptors per connection: the $scale_total connections are spread over $k websocketd (same chat_server, BASE_DIR and ini), at most $per each"
	fi
	local saved_port=${port[chat_server]} saved_measure=${measure[chat_server]}
	port[chat_server]=$ports
	measure[chat_server]=$wsds
	# shellcheck disable=SC2086
	run scale chat_server $opts
	port[chat_server]=$saved_port
	measure[chat_server]=$saved_measure
}

# The JSON / legacy cost per delivered line, measured in one room
# (chat_server_mix): what is left to tell the halves apart is the
# processes themselves, each a little cheaper or dearer than the next for
# the whole of its life; fresh rooms and the halves swapping member
# numbers from round to round even that out, and bench/summary.js takes
# the median of the rounds' ratios.  A round is one room; small rooms are
# cheap, and the fewer members a half has, the more rounds it needs.
mix_rounds() { # N -> rounds
	if [ "$mode" = smoke ]; then echo 1
	elif [ "$1" -le 50 ]; then echo 8
	elif [ "$1" -le 200 ]; then echo 4
	else echo 2; fi
}

mix() { # N: the rounds of chat_server_mix in a room of N (even, up to 500)
	local n=$1
	[ "$n" -le 500 ] && [ $((n % 2)) -eq 0 ] || return 0
	for r in $(seq 1 "$(mix_rounds "$n")"); do
		local half=odd
		[ $((r % 2)) -eq 1 ] || half=even
		# shellcheck disable=SC2046
		run fanout chat_server_mix $(fanout_opts "$n") --json-half="$half" --round="$r"
	done
}

fanout_opts() { # N -> load.js options for that size
	local n=$1
	if [ "$mode" = smoke ]; then
		echo "--n=$n --messages=20 --interval-ms=5 --drain-s=10 --deadline-s=60 --quiet-ms=100"
		return
	fi
	case $n in  # per round (fanout_rounds)
	2|10|50) echo "--n=$n --messages=150 --interval-ms=20 --deadline-s=120" ;;
	100)     echo "--n=$n --messages=50 --interval-ms=40 --deadline-s=120" ;;
	200)     echo "--n=$n --messages=30 --interval-ms=80 --deadline-s=180" ;;
	500)     echo "--n=$n --messages=40 --interval-ms=200 --deadline-s=300" ;;
	# chat_server takes about four minutes to fill a room this big (see
	# docs/benchmarks.md); the deadline keeps the suite under 15 minutes.
	*)       echo "--n=$n --messages=20 --interval-ms=$((n / 2)) --deadline-s=480 --drain-s=60" ;;
	esac
}

# A p99 of a small room rests on its few slowest sends, and one busy moment
# of the shared machine delays all members at once: more rounds there.
fanout_rounds() { # N -> rounds
	if [ "$1" -le 50 ]; then echo 4; elif [ "$1" -le 200 ]; then echo 2; else echo 1; fi
}

# Instructions per delivered line, JSON member against legacy member in
# one room, counted by callgrind (load.js's scenarioCallgrind): a count,
# not a time, so one run per size; the two line counts in two rooms, one
# after the other.  About 2.5 minutes in all at full size (most of it the
# room of 500), 5 to 10 s in smoke: there it is the only run of
# bench/callgrind-member.sh, of websocketd's --closems, and of reading
# callgrind's files.
callgrind_runs() {
	local n
	for n in "${cg_sizes[@]}"; do
		local cg_opts="--n=$n --base-messages=${cg_messages[0]} --messages=${cg_messages[1]}"
		[ "$mode" != smoke ] || cg_opts="$cg_opts --quiet-ms=100"
		if [ "$have_valgrind" != yes ]; then
			# shellcheck disable=SC2086
			skip callgrind chat_server_cg "valgrind is not installed (.ci/install-deps installs it)" $cg_opts
		elif ! fits "$n"; then
			# shellcheck disable=SC2086
			skip callgrind chat_server_cg "limits: fs.inotify.max_user_instances=$instances, ulimit -n=$files" $cg_opts
		else
			# shellcheck disable=SC2086
			run callgrind chat_server_cg $cg_opts --callgrind-dir="$base/callgrind" \
				--deadline-s=900 --drain-s=60
		fi
	done
}

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
if [ "$mode" = callgrind ]; then
	callgrind_runs
elif [ "$mode" = full ]; then
	rounds 4 join "chat_server $json floor cat" --count=50 --deadline-s=120
	rounds 2 join "chat_server $json floor" --count=25 --present=100 --deadline-s=120
	rounds 2 echo "$all" --messages=100 --deadline-s=60
	for n in "${fanout_sizes[@]}"; do
		# shellcheck disable=SC2046
		! redis_size "$n" || redis_skips fanout $(fanout_opts "$n")
		# shellcheck disable=SC2046
		if fits "$n"; then
			rounds "$(fanout_rounds "$n")" fanout "$(fanout_variants "$n")" $(fanout_opts "$n")
			mix "$n"
		else
			skip fanout "$(fanout_variants "$n")" "limits: fs.inotify.max_user_instances=$instances, ulimit -n=$files" $(fanout_opts "$n")
			if [ "$n" -le 500 ]; then
				skip fanout chat_server_mix "limits: fs.inotify.max_user_instances=$instances, ulimit -n=$files" $(fanout_opts "$n")
			fi
		fi
	done
	rounds 2 burst "$rooms" --senders=10 --messages=500 --drain-s=60 --deadline-s=120
	run memory "$all $(redis_if)" --n=50 --idle-s=10 --deadline-s=120
	redis_skips memory --n=50 --idle-s=10 --deadline-s=120
	if fits 500; then
		run memory "$all $(redis_if)" --n=500 --idle-s=10 --deadline-s=300
		redis_skips memory --n=500 --idle-s=10 --deadline-s=300
	else
		skip memory "$all $(redis_if)" "limits: fs.inotify.max_user_instances=$instances, ulimit -n=$files" --n=500
	fi
	run private "$rooms" --n=50 --messages=200 --interval-ms=10 --deadline-s=60
	callgrind_runs
	scale_run
elif [ "$mode" = redis ]; then
	[ "$have_redis" = yes ] || die "$redis_missing"
	for n in "${redis_sizes[@]}"; do
		# shellcheck disable=SC2046
		if fits "$n"; then
			rounds "$(fanout_rounds "$n")" fanout "chat_server $redisv" $(fanout_opts "$n")
		else
			skip fanout "chat_server $redisv" "$(limits_text)" $(fanout_opts "$n")
		fi
	done
	run memory "chat_server $redisv" --n=50 --idle-s=10 --deadline-s=120
	if fits 500; then
		run memory "chat_server $redisv" --n=500 --idle-s=10 --deadline-s=300
	else
		skip memory "chat_server $redisv" "$(limits_text)" --n=500
	fi
elif [ "$mode" = scale ]; then
	scale_run
else
	run join "chat_server $json floor cat" --count=10 --deadline-s=30
	run echo "$all" --messages=10 --deadline-s=30 --quiet-ms=100
	for n in "${fanout_sizes[@]}"; do
		# shellcheck disable=SC2046
		! redis_size "$n" || redis_skips fanout $(fanout_opts "$n")
		# shellcheck disable=SC2046
		run fanout "$(fanout_variants "$n")" $(fanout_opts "$n")
		mix "$n"
	done
	run burst "$rooms" --senders=3 --messages=20 --drain-s=10 --deadline-s=30 --quiet-ms=100
	run memory "$all $(redis_if)" --n=5 --idle-s=0.5 --deadline-s=30 --quiet-ms=100
	redis_skips memory --n=5 --idle-s=0.5 --deadline-s=30 --quiet-ms=100
	run private "$rooms" --n=4 --messages=10 --interval-ms=5 --deadline-s=30 --quiet-ms=100
	callgrind_runs
	scale_run
fi
elapsed=$(($(date +%s) - start))

# Every connection has gone: chat_server must have left no presence file
# and no inbox behind (a stale presence file is harmless, its lock is free,
# but it says a process did not run its quit).
# A member killed in its quit (websocketd signals a member that has not
# exited 100 ms after its client went: thousands quitting at once, in the
# scale scenario) leaves its presence file to the warden, which logs its
# quit within moments: up to 30 s for it, and the wait is said.
stale() { find "$base/chat/users" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }
stale_users=$(stale)
stale_first=$stale_users
waited=0
while [ "$stale_users" -ne 0 ] && [ "$waited" -lt 30 ]; do
	sleep 1
	waited=$((waited + 1))
	stale_users=$(stale)
done
stale_inboxes=$(find "$base/chat/run" -maxdepth 1 -name 'inbox-*' 2>/dev/null | wc -l)
if [ "$stale_first" -ne 0 ]; then
	note "right after the runs chat_server had left $stale_first presence file(s) behind; $stale_users were left $waited s later (the warden logs out the members whose process was killed)"
fi
if [ "$stale_users" -ne 0 ] || [ "$stale_inboxes" -ne 0 ]; then
	note "after the runs chat_server left $stale_users presence file(s) and $stale_inboxes inbox(es) behind"
fi
# The Redis hosts: members left in Redis (every connection has gone, so
# each is one whose quit did not run), and what chat_server and the
# archivers said on standard error (websocketd logs a member's stderr).
if [ "$have_redis" = yes ]; then
	# A member killed in its quit is reaped by an archiver once its alive
	# score is past (9 s at most): up to 30 s for that, and the wait is said.
	members_left() { redis-cli -s "${redis_sock[$1]}" --scan --pattern 'bench:members:*' 2>/dev/null | wc -l; }
	for r in one two; do
		left=$(members_left "$r")
		first=$left
		waited=0
		while [ "$left" -ne 0 ] && [ "$waited" -lt 30 ]; do
			sleep 1
			waited=$((waited + 1))
			left=$(members_left "$r")
		done
		[ "$first" -eq 0 ] || note "right after the runs Redis $r held $first room(s) with members (bench:members:*); $left $waited s later"
	done
	for h in a b c; do
		# websocketd ends a member's log line with "| <what it said>".
		said=$(sed 's/.*| //' "$base/websocketd-host-$h.log" | grep -c '^chat_server' || true)
		if [ "${said:-0}" -gt 0 ]; then
			note "websocketd of Redis host $h logged $said line(s) that chat_server wrote to stderr, e.g.: $(sed 's/.*| //' "$base/websocketd-host-$h.log" | grep -m1 '^chat_server' | cut -c1-300)"
		fi
		said=$(wc -l <"$base/archive-$h.log")
		if [ "$said" -gt 0 ]; then
			note "the archiver of Redis host $h said $said line(s), e.g.: $(head -1 "$base/archive-$h.log" | cut -c1-300)"
		fi
	done
fi

{
	printf '{"mode":"%s","date":"%s","seconds":%d,"arch":"%s","nproc":%d,' \
		"$mode" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$elapsed" "$(uname -m)" "$(nproc)"
	printf '"kernel":"%s","cpu":%s,"node":"%s","websocketd":%s,' \
		"$(uname -r)" \
		"$(node -e 'console.log(JSON.stringify((require("os").cpus()[0]||{}).model||"unknown"))')" \
		"$(node --version)" \
		"$(websocketd --version 2>&1 | head -1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(s.trim())))')"
	printf '"commit":"%s","loadavg_start":"%s","loadavg_end":"%s",' "$commit" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '"valgrind":"%s",' "$(valgrind --version 2>/dev/null || echo none)"
	printf '"redis":"%s",' "$(redis-server --version 2>/dev/null | head -1 || echo none)"
	printf '"limits":{"inotify_instances":%d,"inotify_watches":%d,"open_files":"%s"},"notes":%s}\n' \
		"$instances" "$watches" "$files" \
		"$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "${notes[@]+"${notes[@]}"}")"
} >"$meta"
say "$mode run took ${elapsed} s; results in $results"

if [ "$mode" = smoke ]; then
	node bench/summary.js --check "$results"
	exit
fi
case $mode in callgrind|redis|scale)
	node bench/summary.js --check "$results" >&2 || failed=1
	node bench/summary.js --write-section "$mode" "$results" "$meta"
	[ "$failed" -eq 0 ] || die "a $mode run did not complete; see docs/benchmarks.md"
	exit
	;;
esac

command -v gnuplot >/dev/null 2>&1 ||
	say "gnuplot is missing (.ci/install-deps installs gnuplot-nox): no plot this time"
node bench/summary.js --write "$results" "$meta"
[ "$failed" -eq 0 ] || say "$failed run(s) did not complete; see docs/benchmarks.md"
