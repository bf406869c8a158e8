#!/bin/sh
# What `make run` starts: websocketd on this machine only, running the
# freshly built chat_server once per WebSocket, with a configuration and a
# BASE_DIR of its own in a new temporary directory, so nothing installed is
# read or written.  Until the web client exists, websocketd's development
# console is the page to open: it connects to the room named in its URL.
#
#   PORT   port to listen on (8089)
#   BUILD  build directory holding chat_server (build)
set -eu
cd "$(dirname "$0")/.."

port=${PORT:-8089}
bin=${BUILD:-build}/chat_server
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ ! -x "$bin" ]; then
	echo "dev-server: $bin does not exist; build it with make" >&2
	exit 1
fi
if ! command -v websocketd >/dev/null 2>&1; then
	echo "dev-server: websocketd is not installed (see .ci/install-deps)" >&2
	exit 1
fi

base=$(mktemp -d -t chat_server.XXXXXXXX)
config=$base/websocket_chat_server.ini
cat >"$config" <<INI
; Written by tests/dev-server.sh for one development run.
[global]
BASE_DIR=$base
LANG=C.UTF-8
ICE_SERVER_DNS=
WEBSOCKETD_SERVER_URL=ws://127.0.0.1:$port/

[room descriptions]
lobby=Where everybody starts
INI

export CHAT_SERVER_CONFIG="$config"
cat <<MSG
chat_server development server
  open:      http://127.0.0.1:$port/lobby   (any other path is another room)
  config:    $config
  BASE_DIR:  $base   (room logs in rooms/, presence in users/)
  stop with Ctrl-C; the directory above is left for you to look at.
MSG

# --passenv replaces websocketd's default list (PATH, LD_LIBRARY_PATH), so
# those are named again; chat_server needs CHAT_SERVER_CONFIG.
exec websocketd --address=127.0.0.1 --port="$port" --devconsole \
	--passenv=PATH,LD_LIBRARY_PATH,CHAT_SERVER_CONFIG "$bin"
