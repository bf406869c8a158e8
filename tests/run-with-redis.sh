#!/bin/sh
# Runs a command with a redis-server of its own, on a Unix socket in a
# temporary directory, and CHAT_TEST_REDIS_URL naming it: the integration
# harness then runs every test on TRANSPORT=redis (tests/integration/
# harness.js).  The server is stopped however the command ends.
#
#   tests/run-with-redis.sh node tests/run-integration.js tests/integration/
set -eu
dir=$(mktemp -d "${TMPDIR:-/tmp}/chat-redis.XXXXXX")
pid=
stop() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
	--dir "$dir" --save '' --appendonly no --logfile "$dir/redis.log" &
pid=$!
tries=0
until redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then
		echo "run-with-redis: redis-server did not start:" >&2
		cat "$dir/redis.log" >&2
		exit 1
	fi
	sleep 0.05
done
CHAT_TEST_REDIS_URL="unix://$dir/redis.sock"
export CHAT_TEST_REDIS_URL
status=0
"$@" || status=$?
exit "$status"
