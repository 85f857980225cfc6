#!/usr/bin/env bash
# Throughput benchmarks, lakegate versus the backend accessed directly, side
# by side in one run with the same client (bench/main.go, minio-go). Needs the
# dev stack (make dev-up). Usage: bench/run.sh [large|small|rss|all]
# Results go to stdout and bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[[ -f .dev/env ]] || { echo "bench: run 'make dev-up' first"; exit 1; }
set -a; source .dev/env; set +a
mkdir -p bench/out .dev/logs
go build -o bin/lakegate-bench ./bench
[[ -x bin/lakegate ]] || make build

gw_pid=""
trap '[[ -n "$gw_pid" ]] && kill -TERM "$gw_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
bin/lakegate serve --config .dev/lakegate.yaml > .dev/logs/lakegate-bench.log 2>&1 &
gw_pid=$!
for i in $(seq 1 100); do curl -fsS "$LAKEGATE_ENDPOINT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

LG="$LAKEGATE_ENDPOINT,$LAKEGATE_ACCESS_KEY,$LAKEGATE_SECRET_KEY"
MN="$MINIO_ENDPOINT,$MINIO_ACCESS_KEY,$MINIO_SECRET_KEY"
RG="$RGW_ENDPOINT,$RGW_ACCESS_KEY,$RGW_SECRET_KEY"
has_backend() { grep -qE "^[[:space:]]*- name: $1\$" .dev/lakegate.yaml; }

run() { # label, args...
  local label=$1; shift
  echo "== $label" | tee -a bench/out/results.txt
  bin/lakegate-bench "$@" | tee -a bench/out/results.txt
}

stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "# bench run $stamp ($(nproc) cores)" >> bench/out/results.txt

if [[ $what == large || $what == all ]]; then
  # Issue 2: lakegate on posix versus MinIO on the same disk.
  run "64MiB: lakegate/posix vs MinIO direct (same disk)" -size 64MiB -count 8 -concurrency 2 -reps 3 \
    -target minio-direct="$MN,bench-direct" -target lakegate-posix="$LG,bench-lg-posix,posix" -baseline minio-direct
  run "64MiB: lakegate/minio vs MinIO direct" -size 64MiB -count 8 -concurrency 2 -reps 3 \
    -target minio-direct="$MN,bench-direct" -target lakegate-minio="$LG,bench-lg-minio,minio" -baseline minio-direct
  run "64MiB: lakegate/rgw vs RGW direct" -size 64MiB -count 8 -concurrency 2 -reps 3 \
    -target rgw-direct="$RG,bench-direct" -target lakegate-rgw="$LG,bench-lg-rgw,rgw" -baseline rgw-direct
fi
if [[ $what == small || $what == all ]]; then
  run "4KiB: lakegate/minio vs MinIO direct" -size 4KiB -count 2000 -concurrency 8 -reps 3 \
    -target minio-direct="$MN,bench-direct" -target lakegate-minio="$LG,bench-lg-minio,minio" -baseline minio-direct
  run "4KiB: lakegate/rgw vs RGW direct" -size 4KiB -count 2000 -concurrency 8 -reps 3 \
    -target rgw-direct="$RG,bench-direct" -target lakegate-rgw="$LG,bench-lg-rgw,rgw" -baseline rgw-direct
  run "4KiB: lakegate/posix vs MinIO direct" -size 4KiB -count 2000 -concurrency 8 -reps 3 \
    -target minio-direct="$MN,bench-direct" -target lakegate-posix="$LG,bench-lg-posix,posix" -baseline minio-direct
fi
if [[ $what == rss || $what == all ]]; then
  # Issue 2: PUT and GET of a 5 GiB object; the gateway's RSS must stay < 100 MiB.
  run "5GiB PUT+GET through lakegate/posix, gateway RSS" -size 5GiB -count 1 -concurrency 1 -reps 1 \
    -target lakegate-posix="$LG,bench-lg-posix,posix" -rss-pid "$gw_pid"
fi
