#!/usr/bin/env bash
# minio.sh: single-drive MinIO on 127.0.0.1:9000 (console 127.0.0.1:9001) for
# lakegate's dev stack and tests. The binary is built by install.sh through the
# Go module proxy at the pinned MINIO_VERSION (see lib.sh) into ~/.cache/lakegate/bin/.
#
# Usage: deploy/dev/minio.sh up|down|status|purge|s3-stop|s3-start
#   up        start MinIO on its data dir .dev/minio/data (a no-op when it
#             already runs and is ready). Writes .dev/env.d/minio.env and
#             .dev/backends.d/minio.yaml.
#   down      stop the MinIO process this script started, by recorded PID.
#   status    print its state; exit 1 unless it runs and is ready.
#   purge     down, then delete .dev/minio.
#   s3-stop   like down, but KILL after 5 s instead of 20 s (fault tests:
#             in-flight requests do not hold the shutdown); s3-start: same as up.
#
# Environment (defaults): MINIO_PORT (9000), MINIO_CONSOLE_PORT (9001),
# MINIO_WAIT_SECONDS (60). Log: .dev/minio/minio.out.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=minio

MINIO_DIR=$DEV_DIR/minio
PORT=${MINIO_PORT:-9000}
CONSOLE_PORT=${MINIO_CONSOLE_PORT:-9001}
WAIT_S=${MINIO_WAIT_SECONDS:-60}
ENDPOINT=http://127.0.0.1:$PORT
PIDFILE=$MINIO_DIR/minio.pid

ready() { curl -sf -o /dev/null -m 2 "$ENDPOINT/minio/health/ready"; }

write_outputs() {
	write_atomic "$DEV_DIR/env.d/minio.env" <<EOT
export MINIO_ENDPOINT=$ENDPOINT
export MINIO_ACCESS_KEY=$MINIO_ACCESS_KEY
export MINIO_SECRET_KEY=$MINIO_SECRET_KEY
EOT
	write_atomic "$DEV_DIR/backends.d/minio.yaml" <<EOT
- name: minio
  type: s3
  endpoint: $ENDPOINT
  access_key: $MINIO_ACCESS_KEY
  secret_key: $MINIO_SECRET_KEY
  region: us-east-1
  bucket_prefix: ""
  state_dir: $DEV_DIR/lakegate-state/minio
EOT
}

cmd_up() {
	credentials "$MINIO_DIR/s3.cred" MINIO
	if pid_alive "$PIDFILE" && ready; then
		write_outputs
		log "already up ($ENDPOINT)"
		return 0
	fi
	[ -x "$MINIO_BIN" ] || die "$MINIO_BIN missing; run deploy/dev/install.sh"
	if ! pid_alive "$PIDFILE"; then
		require_free_port "$PORT" minio
		require_free_port "$CONSOLE_PORT" "minio console"
		mkdir -p "$MINIO_DIR/data"
		# Credentials go through the environment, not argv (visible in ps).
		MINIO_ROOT_USER=$MINIO_ACCESS_KEY MINIO_ROOT_PASSWORD=$MINIO_SECRET_KEY \
			MINIO_BROWSER=off MINIO_UPDATE=off \
			start_daemon "$PIDFILE" "$MINIO_DIR/minio.out" "$MINIO_BIN" server --quiet \
			--address "127.0.0.1:$PORT" --console-address "127.0.0.1:$CONSOLE_PORT" "$MINIO_DIR/data"
	fi
	if ! wait_daemon "$PIDFILE" "$WAIT_S" "minio ready on $ENDPOINT" ready; then
		stop_daemon "$PIDFILE"
		exit 1
	fi
	write_outputs
	log "up: $ENDPOINT"
}

cmd_status() {
	daemon_status "$PIDFILE" || return 1
	if ready; then echo "minio endpoint $ENDPOINT: ready"; else
		echo "minio endpoint $ENDPOINT: not ready"
		return 1
	fi
}

case "${1:-}" in
up | s3-start) cmd_up ;;
down) stop_daemon "$PIDFILE" 20 ;;
s3-stop) stop_daemon "$PIDFILE" 5 ;;
status) cmd_status ;;
purge)
	stop_daemon "$PIDFILE" 20
	rm -rf "$MINIO_DIR" "$DEV_DIR/env.d/minio.env" "$DEV_DIR/backends.d/minio.yaml"
	log "purged $MINIO_DIR"
	;;
*)
	echo "usage: $0 up|down|status|purge|s3-stop|s3-start" >&2
	exit 2
	;;
esac
