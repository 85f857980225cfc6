#!/usr/bin/env bash
# down.sh: stop every dev-stack daemon that deploy/dev started, by recorded
# PID, in reverse start order. Data stays in .dev/ for the next up.sh.
# Stops the services in LAKEGATE_DEV_SERVICES when that is set, else all of
# krb5 ceph minio hdfs whose script exists (down of a stopped service is a no-op).
# Usage: deploy/dev/down.sh [--purge]   (--purge also deletes each service's
# data, so the next up.sh starts from scratch; credentials are regenerated)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=down
HERE=$REPO_ROOT/deploy/dev
verb=down
case "${1:-}" in
"") ;;
--purge) verb=purge ;;
*)
	echo "usage: $0 [--purge]" >&2
	exit 2
	;;
esac
rc=0
for s in hdfs minio ceph krb5; do
	[ -f "$HERE/$s.sh" ] || continue
	if [ -n "${LAKEGATE_DEV_SERVICES:-}" ]; then
		case " $LAKEGATE_DEV_SERVICES " in *" $s "*) ;; *) continue ;; esac
	fi
	bash "$HERE/$s.sh" "$verb" || { log "$s.sh $verb failed"; rc=1; }
done
exit $rc
