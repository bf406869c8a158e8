#!/bin/sh
# What `make run` starts: the chat on this machine only, with a config and
# a BASE_DIR of its own in a new temporary directory, so nothing installed
# is read or written (the system's Apache config included).
#
# - websocketd on 127.0.0.1:WS_PORT runs the freshly built chat_server once
#   per WebSocket;
# - the pages (htdocs/) are served on 127.0.0.1:PORT by Apache with mod_php
#   and mod_proxy_wstunnel when they are installed, as deployed: the site
#   is conf/apache2/chat_server.conf inside tests/web/httpd.conf, the same
#   config the web tests use (tests/web/apache.js), pages under /chat/ and
#   the WebSocket under /chat/rooms/;
# - else by PHP's built-in server (php -S), and the page connects to
#   websocketd directly (WEBSOCKETD_SERVER_URL).
# Ctrl-C stops both.
#
#   PORT     port of the pages (8089)
#   WS_PORT  port of websocketd (PORT + 1)
#   BUILD    build directory holding chat_server (build)
#   SERVER   apache or php to choose the pages' server (the first available)
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)

port=${PORT:-8089}
ws_port=${WS_PORT:-$((port + 1))}
bin=${BUILD:-build}/chat_server
case $bin in /*) ;; *) bin=$repo/$bin ;; esac
if [ ! -x "$bin" ]; then
	echo "dev-server: $bin does not exist; build it with make" >&2
	exit 1
fi
if ! command -v websocketd >/dev/null 2>&1; then
	echo "dev-server: websocketd is not installed (see .ci/install-deps)" >&2
	exit 1
fi

# Apache when it can serve the pages as deployed, else php -S.
apache=
modules=/usr/lib/apache2/modules
php_module=$(ls "$modules"/libphp*.so 2>/dev/null | sort -V | tail -n 1 || true)
if [ "${SERVER:-apache}" = apache ] && [ -x /usr/sbin/apache2 ] &&
	[ -n "$php_module" ] && [ -f "$modules/mod_proxy_wstunnel.so" ]; then
	apache=/usr/sbin/apache2
elif [ "${SERVER:-php}" != php ]; then
	echo "dev-server: SERVER=$SERVER: Apache with mod_php and" \
	     "mod_proxy_wstunnel is not installed" >&2
	exit 1
elif ! command -v php >/dev/null 2>&1; then
	echo "dev-server: neither Apache with mod_php (apache2 libapache2-mod-php)" \
	     "nor php-cli is installed (see .ci/install-deps)" >&2
	exit 1
fi

base=$(mktemp -d -t chat_server.XXXXXXXX)
config=$base/websocket_chat_server.ini
if [ -n "$apache" ]; then
	ws_url=     # the page finds /chat/rooms/ on its own address
	url=http://127.0.0.1:$port/chat/index.php?room=lobby
else
	ws_url=ws://127.0.0.1:$ws_port/
	url=http://127.0.0.1:$port/index.php?room=lobby
fi
cat >"$config" <<INI
; Written by tests/dev-server.sh for one development run.
[global]
BASE_DIR=$base
LANG=C.UTF-8
ICE_SERVER_DNS=
WEBSOCKETD_SERVER_URL=$ws_url

[room descriptions]
lobby="Where everybody starts"
INI

# The pages make sessions/ themselves.  As root, Apache's children are
# www-data: they must get through BASE_DIR (mktemp made it 0700) and own
# sessions/, as on a server; chat_server, run as root, reads it anyway.
htdocs=$repo/htdocs
if [ -n "$apache" ] && [ "$(id -u)" -eq 0 ]; then
	chmod 0711 "$base"
	chmod 0644 "$config"
	install -d -m 0700 -o www-data -g www-data "$base/sessions"
	# A checkout www-data cannot read (under /root, say) is served from a
	# copy, rather than opened up; edits then need a restart.
	if ! runuser -u www-data -- test -r "$htdocs/index.php" 2>/dev/null; then
		cp -R "$htdocs" "$base/htdocs"
		chmod -R a+rX "$base/htdocs"
		htdocs=$base/htdocs
		echo "dev-server: www-data cannot read $repo/htdocs; serving a copy" >&2
	fi
fi

pids=
stop() {
	trap - EXIT INT TERM
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	echo "dev-server: stopped; $base is left for you to look at"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --passenv replaces websocketd's default list (PATH, LD_LIBRARY_PATH), so
# those are named again; chat_server needs CHAT_SERVER_CONFIG.
CHAT_SERVER_CONFIG=$config websocketd --address=127.0.0.1 --port="$ws_port" \
	--passenv=PATH,LD_LIBRARY_PATH,CHAT_SERVER_CONFIG "$bin" \
	>"$base/websocketd.log" 2>&1 &
pids=$!

if [ -n "$apache" ]; then
	mkdir "$base/apache"
	set -- -f "$repo/tests/web/httpd.conf" -DFOREGROUND \
		-C "Define CHAT_HTTPD_DIR \"$base/apache\"" \
		-C "Define CHAT_APACHE_MODULES \"$modules\"" \
		-C "Define CHAT_PHP_MODULE \"$php_module\"" \
		-C "Define CHAT_SITE \"$repo/conf/apache2/chat_server.conf\"" \
		-C "Define CHAT_SERVER_HTDOCS \"$htdocs\"" \
		-C "Define CHAT_SERVER_CONFIG \"$config\"" \
		-C "Define CHAT_SERVER_WEBSOCKETD ws://127.0.0.1:$ws_port/" \
		-c "Listen 127.0.0.1:$port"
	if [ "$(id -u)" -eq 0 ]; then
		set -- "$@" -c "User www-data" -c "Group www-data"
	fi
	# A session of its own: at shutdown Apache sends SIGTERM to its whole
	# process group, which must not be this script's.  (So Ctrl-C does
	# not reach it; stop() ends it.)
	env -i PATH="$PATH" setsid "$apache" "$@" &
	server="Apache (log: $base/apache/error.log)"
else
	CHAT_SERVER_CONFIG=$config php -S "127.0.0.1:$port" -t "$htdocs" \
		>"$base/php.log" 2>&1 &
	server="php -S (log: $base/php.log)"
fi
pids="$pids $!"

cat <<MSG
chat_server development server: pages by $server
  open:      $url
  config:    $config
  BASE_DIR:  $base   (room logs in rooms/, presence in users/)
  websocketd on 127.0.0.1:$ws_port (log: $base/websocketd.log)
  stop with Ctrl-C; the directory above is left for you to look at.
MSG

# Until Ctrl-C, or until either server ends by itself.
while :; do
	for pid in $pids; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "dev-server: a server exited; see the logs above" >&2
			exit 1
		fi
	done
	sleep 1
done
