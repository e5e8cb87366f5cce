#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: Shoal end to end in a minute. Starts a private shoald (its own
# socket and state folder under /tmp), creates three instances with their own
# network, shows them, runs a small batch job in each -- one serves HTTP, one
# fetches from it over the instances' own network, one writes and reads files
# -- prints how long creating, running and destroying took, destroys them,
# stops the daemon and removes everything it made, also when interrupted.
# Needs root (instances lock themselves down with namespaces and cgroups).

set -u

BUILD=${SHOAL_BUILD:-build}
SHOALD=$BUILD/daemon/shoald
INSTANCE=$BUILD/instance/shoal-instance
SHOAL=$BUILD/clients/shoal

bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)

step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
die() {
	echo "demo: $*" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

[ "$(id -u)" = 0 ] || die "run me as root: instances lock themselves down with namespaces and cgroups"
for b in "$SHOALD" "$INSTANCE" "$SHOAL"; do
	[ -x "$b" ] || die "$b is not built (make all)"
done

tmp=$(mktemp -d /tmp/shoal-demo.XXXXXX) || die "mktemp failed"
sock=$tmp/shoald.sock
daemon=
server=
netns=()

cleanup() {
	trap - EXIT INT TERM
	[ -n "$server" ] && kill "$server" 2>/dev/null
	if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
		"$SHOAL" --socket "$sock" rm --all >/dev/null 2>&1
		kill -TERM "$daemon" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$daemon" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	if [ ${#netns[@]} -gt 0 ] && [ -e "/run/netns/${netns[1]}" ]; then
		ip netns del "${netns[1]}" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

shoal() { "$SHOAL" --socket "$sock" "$@"; }

# A network namespace of its own, so the demo runs beside any other shoald.
netns=()
if "$SHOALD" --help 2>&1 | grep -q -- --netns; then
	netns=(--netns "shoal-demo-$$")
fi

step "starting shoald on $sock"
"$SHOALD" --socket "$sock" --state-dir "$tmp/state" --instance-bin "$INSTANCE" "${netns[@]}" \
	>"$tmp/shoald.log" 2>&1 </dev/null &
daemon=$!
for _ in $(seq 100); do
	shoal version >/dev/null 2>&1 && break
	kill -0 "$daemon" 2>/dev/null || {
		cat "$tmp/shoald.log" >&2
		die "shoald exited at start"
	}
	sleep 0.05
done
shoal version || die "shoald does not answer"

step "creating three instances, each with its own kernel and network"
declare -A id create_ms
for role in web client files; do
	t0=$(now_ms)
	id[$role]=$(shoal create --network --label demo=$role --memory 64) || die "create failed"
	create_ms[$role]=$(($(now_ms) - t0))
	echo "$role: ${id[$role]} in ${create_ms[$role]} ms"
done
web_addr=$(shoal inspect -f address "${id[web]}")

step "shoal ls"
shoal ls

step "web: busybox httpd on $web_addr:8080, serving a file put in with shoal cp"
echo "hello from ${id[web]}, served by its own kernel's TCP/IP stack" |
	shoal cp -p - "${id[web]}:/srv/www/hello.txt" || die "cp failed"
shoal exec -T 60 "${id[web]}" -- busybox httpd -f -p 0.0.0.0:8080 -h /srv/www \
	>"$tmp/web.log" 2>&1 &
server=$!

step "client: curl http://$web_addr:8080/hello.txt, over the instances' veths and bridge"
t0=$(now_ms)
fetched=
for _ in $(seq 50); do
	if fetched=$(shoal exec -T 10 "${id[client]}" -- curl -sf -m 2 "http://$web_addr:8080/hello.txt"); then
		break
	fi
	fetched=
	sleep 0.1
done
fetch_ms=$(($(now_ms) - t0))
[ -n "$fetched" ] || die "the client could not fetch from the web instance"
echo "$fetched"

step "files: write, checksum and read back a file inside the third instance"
t0=$(now_ms)
shoal exec "${id[files]}" -- sh -c 'seq 1 10000 > /tmp/numbers && wc -l /tmp/numbers && sha256sum /tmp/numbers' ||
	die "the files job failed"
exec_ms=$(($(now_ms) - t0))
shoal cp "${id[files]}:/tmp/numbers" "$tmp/numbers" || die "cp back failed"
echo "copied back to the host: $(wc -l <"$tmp/numbers") lines, sha256 $(sha256sum "$tmp/numbers" | cut -c1-64)"

kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=

step "destroying them"
declare -A destroy_ms
pids=
for role in web client files; do
	pids="$pids $(shoal inspect -f pid "${id[$role]}")"
	t0=$(now_ms)
	shoal rm "${id[$role]}" >/dev/null || die "rm failed"
	destroy_ms[$role]=$(($(now_ms) - t0))
done

step "timings (wall clock as seen by the CLI, milliseconds)"
printf '%-8s %8s %8s\n' instance create destroy
for role in web client files; do
	printf '%-8s %8s %8s\n' "$role" "${create_ms[$role]}" "${destroy_ms[$role]}"
done
echo "exec: files job ${exec_ms} ms; first successful fetch after ${fetch_ms} ms (server start included)"

step "stopping shoald"
kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
left=
for p in $pids; do
	[ -d /proc/$p ] && grep -q shoal-instance /proc/$p/cmdline 2>/dev/null && left="$left $p"
done
[ -z "$left" ] || die "instance processes left:$left"
[ ! -e "$sock" ] || die "socket left behind"
[ ${#netns[@]} -eq 0 ] || [ ! -e "/run/netns/${netns[1]}" ] || die "network namespace left behind"
echo "shoald exited with $rc; no instance process, socket, namespace or file left"
