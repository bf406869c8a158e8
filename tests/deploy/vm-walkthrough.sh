#!/bin/bash
# Runs docs/deployment.md, as written, on a fresh Debian 12 virtual machine
# (`make deploy-check`).
#
# It builds a minimal Debian 12 disk image once (debootstrap; cached in
# $BUILD/deploy/), boots a fresh copy of it under QEMU (KVM when it works)
# with a real systemd and AppArmor, copies the source tree in (git
# ls-files), makes chat.example.org name the machine itself, and then, as a
# sudo-capable user in the source tree, runs every shell block of
# docs/deployment.md that a `<!-- walkthrough -->` comment marks, in the
# order of the document.  `<!-- walkthrough package -->` and
# `<!-- walkthrough make-install -->` mark the blocks of one install
# route only; ROUTE chooses which (package, the default, or make-install).
# Afterwards it checks what the walk-through promises: a chat over
# wss:// through Apache (tests/deploy/wss-check.py), a forced log
# rotation the chat survives, coturn answering with the chat's
# credentials, the AppArmor profile enforced, and no AppArmor denial.
#
# Needs: root (or sudo) for debootstrap and the image, qemu-system-x86,
# qemu-utils, debootstrap, e2fsprogs, ssh, and the network (the mirror of
# the host's own apt sources, inside the VM as well); /dev/kvm for speed.
#
#   tests/deploy/vm-walkthrough.sh               # ROUTE=package
#   ROUTE=make-install tests/deploy/vm-walkthrough.sh
#   tests/deploy/vm-walkthrough.sh image         # only builds the image
#   KEEP=1 ...     leaves the VM running at the end (ssh line printed)
#   REBUILD=1 ...  rebuilds the cached base image
#   REUSE=1 KEEP=1 FROM=NN ...  runs the steps from NN on, on the machine
#                  a KEEP=1 run left (after a failure: fix, then go on)
#   SOURCE=HEAD ... copies a commit rather than the working tree (below)
#   ACCEL=tcg ...  QEMU's emulation instead of KVM (below)
set -eu -o pipefail

ROUTE=${ROUTE:-package}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) WORK=$BUILD/deploy ;; *) WORK=$TOP/$BUILD/deploy ;; esac
# What one run leaves (the machine's disk, console log, the blocks run),
# per route, so that both routes may run at once.
RUN=$WORK/$ROUTE
case $ROUTE in package) port=10022 ;; *) port=10023 ;; esac
SSH_PORT=${SSH_PORT:-$port}
SUITE=bookworm
# Bump when the base image's recipe changes, so a cached one is rebuilt.
IMAGE_VERSION=2
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

say() { printf '\n==== %s\n' "$*" >&2; }
die() { printf 'vm-walkthrough: %s\n' "$*" >&2; exit 1; }

# The host's tools; installed when missing and we may.
need_tools() {
	local missing=
	command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
	command -v qemu-img >/dev/null || missing="$missing qemu-utils"
	command -v debootstrap >/dev/null || missing="$missing debootstrap"
	command -v mkfs.ext4 >/dev/null || missing="$missing e2fsprogs"
	command -v ssh >/dev/null || missing="$missing openssh-client"
	if [ -n "$missing" ]; then
		$SUDO apt-get install -y $missing
	fi
}

# The Debian mirror of the host's own apt sources (deb822 .sources or
# one-line .list), for debootstrap: the first "deb" source of $SUITE.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk -v suite="$SUITE" '
			/^[[:space:]]*$/ { if (deb && s && uri) { print uri; exit } deb = s = 0; uri = ""; next }
			/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
			END { if (deb && s && uri) print uri }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed 's/\[[^]]*\]//' |
		awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2 }' || true
}

# What a fresh Debian 12 server has after its installer: systemd with the
# D-Bus it recommends (systemctl needs it for a user other than root),
# AppArmor (on by default in Debian's kernel), ssh, sudo.  Nothing of the
# chat.
BASE_PACKAGES=linux-image-amd64,systemd-sysv,dbus,apparmor,openssh-server,sudo,ca-certificates,iproute2,less

# Builds $WORK/base.img (ext4, the whole root file system), and extracts
# its kernel and initrd, unless a current one is cached.
build_base() {
	if [ -z "${REBUILD:-}" ] && [ -e "$WORK/base.img" ] &&
	   [ "$(cat "$WORK/base.version" 2>/dev/null)" = "$IMAGE_VERSION" ]; then
		return
	fi
	local mirror root=$WORK/rootfs
	mirror=$(host_mirror)
	mirror=${mirror%%[[:space:]]*}
	[ -n "$mirror" ] || die "no $SUITE source in the host's apt sources"
	say "debootstrap $SUITE from the host's mirror"
	$SUDO rm -rf "$root" "$WORK/base.img" "$WORK/base.version"
	mkdir -p "$WORK"
	$SUDO debootstrap --include="$BASE_PACKAGES" "$SUITE" "$root" "$mirror"
	configure_base "$root"
	say "making the disk image"
	cp "$root"/boot/vmlinuz-* "$WORK/vmlinuz"
	$SUDO cp "$root"/boot/initrd.img-* "$WORK/initrd.img"
	$SUDO chmod 0644 "$WORK/initrd.img"
	truncate -s 12G "$WORK/base.img.tmp"
	$SUDO mkfs.ext4 -q -F -L root -d "$root" "$WORK/base.img.tmp"
	mv "$WORK/base.img.tmp" "$WORK/base.img"
	echo "$IMAGE_VERSION" > "$WORK/base.version"
}

# The rest of what an installer does: host name, network (DHCP on the
# virtual NIC; 10.0.2.3 is QEMU's DNS), the host's apt sources, a sudo user
# "admin" reached by ssh with a key of $WORK.
configure_base() {
	local root=$1 f
	[ -e "$WORK/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$WORK/id_ed25519"
	$SUDO sh -s "$root" "$(cat "$WORK/id_ed25519.pub")" <<'SETUP'
set -e
root=$1 key=$2
echo chat > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tchat\n' > "$root/etc/hosts"
echo '/dev/vda / ext4 defaults 0 1' > "$root/etc/fstab"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/20-wired.network"
chroot "$root" systemctl enable systemd-networkd
echo 'nameserver 10.0.2.3' > "$root/etc/resolv.conf"
chroot "$root" useradd -m -s /bin/bash -G sudo admin
echo 'admin ALL=(ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/admin"
install -d -m 0700 -o 1000 -g 1000 "$root/home/admin/.ssh"
echo "$key" > "$root/home/admin/.ssh/authorized_keys"
chown 1000:1000 "$root/home/admin/.ssh/authorized_keys"
chroot "$root" apt-get clean
SETUP
	# The host's apt sources, not debootstrap's one line.
	$SUDO rm -f "$root/etc/apt/sources.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		$SUDO install -m 0644 "$f" "$root${f}"
	done
	# A person answers apt's "Do you want to continue?"; here nobody can.
	echo 'APT::Get::Assume-Yes "true";' | $SUDO tee "$root/etc/apt/apt.conf.d/90walkthrough" >/dev/null
}

# ---- The machine ----

# ssh to the machine's user "admin" (QEMU forwards $SSH_PORT to its 22).
vm() {
	ssh -q -p "$SSH_PORT" -i "$WORK/id_ed25519" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=5 -o ServerAliveInterval=15 admin@127.0.0.1 "$@"
}

# KVM when it works; some nested hosts offer /dev/kvm but hang the guest
# kernel right after its decompression: then QEMU's own emulation (TCG),
# several times slower.  ACCEL=kvm or ACCEL=tcg skips the probe.
choose_accel() {
	[ -z "${ACCEL:-}" ] || return 0
	ACCEL=tcg
	if [ -w /dev/kvm ] || [ -n "$SUDO" ]; then
		if timeout 30 $SUDO qemu-system-x86_64 -enable-kvm -cpu host -m 512 -no-reboot \
			-kernel "$WORK/vmlinuz" -append "console=ttyS0 panic=-1" \
			-display none -serial stdio 2>/dev/null | grep -q -m 1 'Linux version'; then
			ACCEL=kvm
		fi
	fi
	[ "$ACCEL" = kvm ] || say "KVM does not boot a kernel here: using TCG (slower)"
}

# Boots a fresh copy of the base image (a qcow2 overlay: the base stays
# as it is) and waits for ssh and for systemd to finish booting.
boot_vm() {
	say "booting a fresh Debian 12 machine (console: $RUN/console.log)"
	mkdir -p "$RUN"
	rm -f "$RUN/run.qcow2" "$RUN/console.log"
	qemu-img create -q -f qcow2 -b "$WORK/base.img" -F raw "$RUN/run.qcow2"
	# cache=unsafe: the copy is thrown away, so dpkg's many fsyncs need
	# not reach the disk.
	local cpu="-enable-kvm -cpu host"
	[ "$ACCEL" = kvm ] || cpu="-accel tcg -cpu max"
	$SUDO qemu-system-x86_64 $cpu -m 2048 -smp 2 \
		-kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 apparmor=1 security=apparmor" \
		-drive "file=$RUN/run.qcow2,format=qcow2,if=virtio,cache=unsafe" \
		-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22" \
		-device virtio-net-pci,netdev=net0 \
		-display none -serial "file:$RUN/console.log" \
		-daemonize -pidfile "$RUN/qemu.pid"
	local i=0
	until vm true 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 180 ] || die "no ssh after 15 minutes; see $RUN/console.log"
		sleep 5
	done
	vm 'systemctl is-system-running --wait' || vm 'systemctl --failed --no-pager' || true
}

stop_vm() {
	[ -e "$RUN/qemu.pid" ] || return 0
	if [ -n "${KEEP:-}" ]; then
		say "the machine keeps running: ssh -p $SSH_PORT -i $WORK/id_ed25519 admin@127.0.0.1; kill \$(cat $RUN/qemu.pid) to stop it"
		return 0
	fi
	vm 'sudo systemctl poweroff' 2>/dev/null || true
	local i=0
	while [ -e "$RUN/qemu.pid" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	local pid
	pid=$(cat "$RUN/qemu.pid" 2>/dev/null) && $SUDO kill "$pid" 2>/dev/null || true
	$SUDO rm -f "$RUN/qemu.pid"
}

# The source tree, as in a checkout, to ~admin/chat_server.  SOURCE=worktree
# (the default): the files git tracks, and the new ones it does not
# ignore, as they are in the working tree.  SOURCE=<commit> (HEAD, say):
# that commit's tree, with the working tree's copies of the paths in
# OVERLAY on top (by default this file's directory and the document).
copy_tree() {
	local source=${SOURCE:-worktree}
	say "copying the source tree ($source) to ~admin/chat_server"
	vm 'rm -rf chat_server && mkdir chat_server'
	if [ "$source" = worktree ]; then
		git -C "$TOP" ls-files -z --cached --others --exclude-standard |
			tar -C "$TOP" --null -T - --ignore-failed-read -czf - 2>/dev/null |
			vm 'tar -xzf - -C chat_server'
	else
		git -C "$TOP" archive --format=tar "$source" | vm 'tar -xf - -C chat_server'
		# shellcheck disable=SC2086
		tar -C "$TOP" -cf - ${OVERLAY:-docs/deployment.md tests/deploy} |
			vm 'tar -xf - -C chat_server'
	fi
}

# What the walk-through takes for granted: the host name resolves to the
# host (its DNS), and fresh package lists, as after an installation.
# Python runs the checks.
prepare_vm() {
	vm 'echo "127.0.0.1 chat.example.org" | sudo tee -a /etc/hosts >/dev/null &&
		sudo apt-get -q update && sudo apt-get -q install python3 >/dev/null'
}

# ---- The walk-through ----

# Cuts docs/deployment.md into $WORK/steps/: NN.sh, the indented block
# after each "<!-- walkthrough -->" (or "<!-- walkthrough ROUTE -->" of
# this ROUTE), and NN.check, holding NAME, for "<!-- walkthrough-check
# NAME -->".  The list is in the order of the document.
extract_steps() {
	rm -rf "$RUN/steps"
	mkdir -p "$RUN/steps"
	awk -v route="$ROUTE" -v dir="$RUN/steps" '
		function out(ext) { n++; return sprintf("%s/%02d.%s", dir, n, ext) }
		/^<!-- walkthrough-check [a-z-]+ -->$/ { print $3 > out("check"); next }
		/^<!-- walkthrough( [a-z-]+)? -->$/ {
			want = (NF == 3 || $3 == route); inblock = 0; blank = 0; next }
		want && !inblock && /^$/ { next }
		want && /^    / {
			if (!inblock) { inblock = 1; file = out("sh") }
			while (blank > 0) { print "" > file; blank-- }
			print substr($0, 5) > file; next }
		want && inblock && /^$/ { blank++; next }
		want { want = 0; inblock = 0; blank = 0 }
	' "$TOP/docs/deployment.md"
	set -- "$RUN"/steps/*.sh
	[ -e "$1" ] || die "no walkthrough blocks in docs/deployment.md"
}

# Runs one block in the source tree, as one bash script that stops at the
# first failing command, echoing each command.
run_block() {
	say "docs/deployment.md, block $(basename "$1"):"
	sed 's/^/    /' "$1" >&2
	vm 'cat > /tmp/walkthrough-step.sh' < "$1"
	vm 'cd chat_server && bash -e -o pipefail /tmp/walkthrough-step.sh' </dev/null ||
		die "block $(basename "$1") of docs/deployment.md failed"
}

# ---- The checks, at the <!-- walkthrough-check NAME --> marks ----

WSS_CHECK='python3 tests/deploy/wss-check.py wss://chat.example.org/chat/rooms/deploy-check'
CA=/etc/ssl/certs/chat.pem

# A chat through Apache over wss://, a foreign origin refused, and the
# page served by PHP over HTTPS (plain HTTP redirected to it).
check_chat() {
	vm "cd chat_server && $WSS_CHECK https://chat.example.org $CA >/dev/null" || die "no chat over wss://"
	vm "cd chat_server && $WSS_CHECK '!https://evil.example.net' $CA" || die "a foreign origin got in"
	vm "python3 - $CA" <<'PY' || die "the chat page is not served"
import ssl, sys, urllib.request, urllib.error
ctx = ssl.create_default_context(cafile=sys.argv[1])
r = urllib.request.urlopen('https://chat.example.org/chat/index.php?room=lobby', context=ctx)
body = r.read().decode()
assert r.status == 200 and '<?php' not in body and '<html' in body.lower(), body[:300]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args): return None
try:
    urllib.request.build_opener(NoRedirect).open('http://chat.example.org/chat/')
    raise SystemExit('plain HTTP was not redirected')
except urllib.error.HTTPError as e:
    assert e.code == 301 and e.headers['Location'].startswith('https://chat.example.org/'), e
print('the chat page is served over HTTPS by PHP; plain HTTP is redirected')
PY
}

# After the forced rotation: a rotated copy, and the chat goes on.
check_rotated() {
	vm 'sudo sh -c "ls -l /var/lib/chat_server/rooms/deploy-check.log-*"' || die "no rotated room log"
	check_chat
	vm 'sudo grep -q "deploy check" /var/lib/chat_server/rooms/deploy-check.log' ||
		die "nothing was logged after the rotation"
}

# coturn grants an allocation to the credential the chat hands out, and
# refuses a wrong one.  With the right one, turnutils_uclient gets its
# relays, then "403 (Forbidden IP)" for the peer, the machine's own
# address, which denied-peer-ip forbids: as it should.
check_turn() {
	local welcome user cred
	welcome=$(vm "cd chat_server && $WSS_CHECK https://chat.example.org $CA") || die "no chat"
	user=$(printf '%s' "$welcome" | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin)["ice_servers"] if "username" in s][0]["username"])') ||
		die "no TURN credential in the welcome: $welcome"
	cred=$(printf '%s' "$welcome" | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin)["ice_servers"] if "username" in s][0]["credential"])')
	vm "timeout 20 turnutils_uclient -y -n 1 -m 1 -u '$user' -w '$cred' 127.0.0.1" >"$RUN/turn-ok.log" 2>&1 || true
	grep -q '403 (Forbidden IP)' "$RUN/turn-ok.log" &&
		! grep -q 'Cannot complete Allocation' "$RUN/turn-ok.log" ||
		die "coturn refused the chat's credential; see $RUN/turn-ok.log"
	vm "timeout 20 turnutils_uclient -y -n 1 -m 1 -u '$user' -w wrong 127.0.0.1" >"$RUN/turn-bad.log" 2>&1 || true
	grep -q 'Cannot complete Allocation' "$RUN/turn-bad.log" ||
		die "coturn did not refuse a wrong credential; see $RUN/turn-bad.log"
	say "coturn allocates for the chat's credential, refuses a wrong one"
}

# At the end: the profile enforced, connections confined, no denial.
check_apparmor() {
	vm 'sudo grep -x "chat_server (enforce)" /sys/kernel/security/apparmor/profiles' ||
		die "the chat_server profile is not loaded in enforce mode"
	# Every chat_server still running (the warden, say) is confined.
	vm 'ps -eo label=,comm= | awk "\$NF == \"chat_server\"" | tee /dev/stderr |
		grep -v "^chat_server (enforce) " | grep -q .' &&
		die "a chat_server process runs unconfined (above)"
	if vm 'sudo journalctl -k --no-pager | grep "apparmor=\"DENIED\""'; then
		die "AppArmor denied something (above)"
	fi
	say "AppArmor: profile enforced, no denial"
}

run_steps() {
	local f
	for f in "$RUN"/steps/*; do
		[ "$(basename "$f" | cut -c1-2)" -ge "${FROM:-0}" ] || continue
		case $f in
		*.sh) run_block "$f" ;;
		*.check) say "check: $(cat "$f")"; "check_$(cat "$f")" ;;
		esac
	done
}

main() {
	need_tools
	build_base
	[ "${1:-}" = image ] && return
	extract_steps
	choose_accel
	trap stop_vm EXIT
	if [ -n "${REUSE:-}" ]; then
		vm true || die "no machine to reuse on port $SSH_PORT"
		# The document and the checks as they are now.
		tar -C "$TOP" -cf - docs/deployment.md tests/deploy | vm 'tar -xf - -C chat_server'
	else
		boot_vm
		prepare_vm
		copy_tree
	fi
	run_steps
	check_apparmor
	say "docs/deployment.md ($ROUTE route) passed on a fresh Debian 12 machine"
}

main "$@"
exit
