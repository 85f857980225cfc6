#!/usr/bin/env bash
# install.sh: install what the dev stack needs and is missing; a fast no-op
# when everything is present.
#   - Debian packages for the selected services (apt-get update runs only when
#     a package is missing; needs root or sudo then).
#   - MinIO, built through the Go module proxy at the pinned MINIO_VERSION
#     (lib.sh) into ~/.cache/lakegate/bin/minio-<version>; skipped when that file exists.
#
# Usage: deploy/dev/install.sh [service...]   (default: $LAKEGATE_DEV_SERVICES,
# else "ceph minio krb5 hdfs"). Unknown service names need nothing here.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=install

services=("$@")
if [ ${#services[@]} -eq 0 ]; then
	read -r -a services <<<"${LAKEGATE_DEV_SERVICES:-ceph minio krb5 hdfs}"
fi

# Tools every script and test uses: curl, uuidgen (uuid-runtime), the aws CLI
# v2 and boto3 for smoke and black-box tests, attr for xattr inspection.
pkgs=(curl uuid-runtime awscli python3-boto3 attr)
want_minio=0
for s in "${services[@]}"; do
	case $s in
	ceph) pkgs+=(ceph-mon ceph-osd ceph-mgr radosgw ceph-common) ;;
	krb5 | hdfs) pkgs+=(krb5-kdc krb5-admin-server krb5-user) ;;
	minio) want_minio=1 ;;
	esac
done

missing=()
while read -r name status; do
	[ "$status" = installed ] || missing+=("$name")
done < <(
	for p in "${pkgs[@]}"; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		echo "$p ${s:-absent}"
	done
)

if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} yourself"
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get update -qq
	# Without systemd the packages' post-install scripts start no daemons.
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >"$DEV_DIR/apt-install.log" 2>&1 ||
		{ tail -20 "$DEV_DIR/apt-install.log" >&2; die "apt-get install failed"; }
	log "Debian packages installed"
fi

if [ "$want_minio" = 1 ] && [ ! -x "$MINIO_BIN" ]; then
	command -v go >/dev/null || die "go is needed to build MinIO"
	mkdir -p "$CACHE_DIR/bin"
	tmp=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "building github.com/minio/minio@$MINIO_VERSION through the Go module proxy (a few minutes when cold)"
	# go install with @version ignores the lakegate module; the binary lands in GOBIN.
	GOBIN=$tmp GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION" ||
		die "building minio failed"
	mv "$tmp/minio" "$MINIO_BIN"
	log "built $MINIO_BIN"
fi
