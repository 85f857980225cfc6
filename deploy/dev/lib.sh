# shellcheck shell=bash
# lib.sh: shared helpers for the lakegate dev stack scripts (deploy/dev/*.sh).
# Source it; it sets REPO_ROOT, DEV_DIR (.dev), CACHE_DIR (~/.cache/lakegate) and defines
# logging, waiting, and daemon start/stop by recorded PID.
#
# Process model: every daemon runs in the foreground as a background job of the
# script that starts it, in its own session (setsid execs in place, so $! is the
# daemon's PID). The PID goes to <dir>/<name>.pid and the kernel start time of
# that process to <dir>/<name>.pid.start, so a recycled PID is never mistaken for
# our daemon. Stopping sends TERM to exactly that PID, waits, then KILL. No
# pkill, no killall.

set -euo pipefail

REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DEV_DIR=${LAKEGATE_DEV_DIR:-$REPO_ROOT/.dev}
# Downloads and builds are cached outside the work tree, so every clone (and CI)
# reuses them. Default: ~/.cache/lakegate.
CACHE_DIR=${LAKEGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lakegate}
mkdir -p "$CACHE_DIR"
mkdir -p "$DEV_DIR/env.d" "$DEV_DIR/backends.d"
DEV_DIR=$(cd "$DEV_DIR" && pwd) # daemons chdir to /, every path must be absolute
export REPO_ROOT DEV_DIR CACHE_DIR

# MINIO_VERSION is the pinned pseudo-version of github.com/minio/minio built
# through the Go module proxy (MinIO's RELEASE.* tags are refused by the proxy).
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
MINIO_BIN=${MINIO_BIN:-$CACHE_DIR/bin/minio-$MINIO_VERSION}

_t0=${_LAKEGATE_T0:-$(date +%s.%N)}
export _LAKEGATE_T0=$_t0

# elapsed prints seconds since the first script of this run started, e.g. "3.2s".
elapsed() { awk -v a="$(date +%s.%N)" -v b="$_t0" 'BEGIN { printf "%.1fs", a - b }'; }

# log MSG...: progress line on stderr, prefixed with the script name and time.
log() { printf '[%s %s] %s\n' "${LOG_TAG:-dev}" "$(elapsed)" "$*" >&2; }

# die MSG...: log and exit 1.
die() { log "ERROR: $*"; exit 1; }

# wait_until SECONDS DESC CMD...: poll CMD every 0.2 s until it succeeds; fail
# after SECONDS.
wait_until() {
	local limit=$1 what=$2
	shift 2
	local deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "timeout after ${limit}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# wait_daemon PIDFILE SECONDS DESC CMD...: like wait_until, but fail at once
# (showing the end of the daemon's log) if the daemon recorded in PIDFILE exits.
wait_daemon() {
	local f=$1 limit=$2 what=$3
	shift 3
	local deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		if ! pid_alive "$f"; then
			log "$(basename "$f" .pid) exited while waiting for $what; its output:"
			tail -15 "${f%.pid}.out" "$(dirname "$f")/log/$(basename "$f" .pid).out" 2>/dev/null >&2 || true
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "timeout after ${limit}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# port_in_use PORT: true if something listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_port PORT WHAT: fail with a clear message if PORT is taken by a
# process this stack did not start.
require_free_port() {
	if port_in_use "$1"; then
		die "port 127.0.0.1:$1 needed by $2 is already in use by another process"
	fi
}

# proc_start_time PID: the process start time in clock ticks since boot (field
# 22 of /proc/PID/stat), empty if the process does not exist.
proc_start_time() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) } # comm may contain spaces; fields after it are fixed
	# shellcheck disable=SC2086
	set -- $stat
	echo "${20}"
}

# pid_alive PIDFILE: true if the process recorded in PIDFILE still runs (same
# PID and same start time) and is not a zombie.
pid_alive() {
	local f=$1 pid start state
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	[ -n "$pid" ] || return 1
	start=$(cat "$f.start" 2>/dev/null || true)
	[ -n "$start" ] && [ "$(proc_start_time "$pid")" = "$start" ] || return 1
	state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
	[ -n "$state" ] && [ "$state" != Z ]
}

# start_daemon PIDFILE LOGFILE CMD...: start CMD in the foreground as a
# background job in its own session, stdin from /dev/null, output to LOGFILE;
# record its PID and start time.
start_daemon() {
	local pidfile=$1 logfile=$2
	shift 2
	mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
	setsid "$@" </dev/null >>"$logfile" 2>&1 &
	local pid=$!
	echo "$pid" >"$pidfile"
	proc_start_time "$pid" >"$pidfile.start"
	if [ ! -s "$pidfile.start" ]; then
		rm -f "$pidfile" "$pidfile.start"
		die "$1 exited immediately; see $logfile"
	fi
	log "started $(basename "$pidfile" .pid) pid $pid"
}

# stop_daemon PIDFILE [GRACE_SECONDS]: TERM the recorded process, wait up to
# GRACE_SECONDS (default 20), then KILL. Removes the PID file. A stale PID file
# (process gone or PID reused) is just removed.
stop_daemon() {
	local f=$1 grace=${2:-20} pid name
	name=$(basename "$f" .pid)
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if pid_alive "$f"; then
		kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + grace))
		while pid_alive "$f" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
		if pid_alive "$f"; then
			log "$name (pid $pid) did not stop after ${grace}s; sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
			while pid_alive "$f"; do sleep 0.1; done
		fi
		log "stopped $name (pid $pid)"
	fi
	rm -f "$f" "$f.start"
}

# daemon_status PIDFILE: prints "name: running (pid N)" or "name: stopped".
daemon_status() {
	local f=$1 name
	name=$(basename "$f" .pid)
	if pid_alive "$f"; then
		echo "$name: running (pid $(cat "$f"))"
	else
		echo "$name: stopped"
		return 1
	fi
}

# random_key N: N random characters from [A-Za-z0-9].
random_key() {
	local n=$1 out=""
	while [ "${#out}" -lt "$n" ]; do
		out+=$(head -c 256 /dev/urandom | tr -dc 'A-Za-z0-9')
	done
	echo "${out:0:$n}"
}

# credentials FILE PREFIX: load PREFIX_ACCESS_KEY / PREFIX_SECRET_KEY from FILE,
# generating and saving them (mode 600) on first use. Keys are 20 and 40
# characters, like AWS's.
credentials() {
	local f=$1 p=$2
	if [ ! -s "$f" ]; then
		mkdir -p "$(dirname "$f")"
		(
			umask 077
			printf '%s_ACCESS_KEY=%s\n%s_SECRET_KEY=%s\n' \
				"$p" "$(random_key 20)" "$p" "$(random_key 40)" >"$f.tmp"
		)
		mv "$f.tmp" "$f"
	fi
	# shellcheck disable=SC1090
	. "$f"
}

# write_atomic FILE: copy stdin to FILE through a temporary file and rename.
write_atomic() {
	local f=$1
	mkdir -p "$(dirname "$f")"
	cat >"$f.tmp.$$"
	mv -f "$f.tmp.$$" "$f"
}

# http_ok URL: true if URL answers with any HTTP status below 500 within 2 s.
http_ok() {
	local code
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1") || return 1
	[ "$code" != 000 ] && [ "$code" -lt 500 ]
}
