#!/usr/bin/env bash
# Throughput benchmarks, lakegate versus the backend accessed directly, side
# by side in one run with the same client (bench/main.go, minio-go). Needs the
# dev stack (make dev-up). Usage: bench/run.sh [large|small|rss|micro|all]...
#
# The gateway under test is built from the working tree (bin/lakegate-bench-gw)
# and started by this script on LAKEGATE_BENCH_LISTEN (default
# 127.0.0.1:9480), apart from any gateway already running on the dev port, with
# the dev stack's configuration (.dev/lakegate.yaml, without hdfs). A second one on
# LAKEGATE_BENCH_LISTEN2 (default 127.0.0.1:9481; empty: none) has
# skip_etag_check: true on its s3 backends (no MD5 in the gateway, see
# backends/s3 Config.SkipETagCheck) and is an extra target ("-noetag") of the
# RGW and MinIO runs. Buckets are bench-*. BENCH_REPS sets the repetitions
# (default 3). Results go to stdout and are appended to bench/out/results.txt,
# each measurement with the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
(($#)) || set -- all
[[ -f .dev/env ]] || { echo "bench: run 'make dev-up' first"; exit 1; }
set -a; source .dev/env; set +a
listen=${LAKEGATE_BENCH_LISTEN:-127.0.0.1:9480}
endpoint=http://$listen
listen2=${LAKEGATE_BENCH_LISTEN2-127.0.0.1:9481}
reps=${BENCH_REPS:-3}
mkdir -p bench/out .dev/logs bin
go build -o bin/lakegate-bench ./bench
go build -o bin/lakegate-bench-gw ./cmd/lakegate
out=bench/out/results.txt

# The gateways' configuration: .dev/lakegate.yaml without the hdfs backend
# (not benchmarked here; a gateway does not start while its KDC is down);
# the second one's with skip_etag_check: true in every s3 backend entry.
mkdir -p .dev/bench
awk 'function flush() {
    if (blk !~ /\n[[:space:]]+type:[[:space:]]*hdfs[[:space:]]*\n/) printf "%s", blk
    blk = ""
  }
  /^[[:space:]]*- name:/ { flush(); inb = 1 }
  inb && /^[^[:space:]#-]/ { flush(); inb = 0 }
  { if (inb) blk = blk $0 "\n"; else print }
  END { flush() }' .dev/lakegate.yaml > .dev/bench/lakegate.yaml
awk '{ print }
  /^[[:space:]]+type:[[:space:]]*s3[[:space:]]*$/ { match($0, /^[[:space:]]+/); print substr($0, 1, RLENGTH) "skip_etag_check: true" }' \
  .dev/bench/lakegate.yaml > .dev/bench/lakegate-noetag.yaml

gw_pid="" gw2_pid=""
stop_gw() {
  local p
  for p in $gw_pid $gw2_pid; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in $gw_pid $gw2_pid; do # started in a subshell: poll, not wait
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  gw_pid="" gw2_pid=""
}
launch() { # config, listen address: starts a gateway, prints its PID
  if curl -fsS "http://$2/readyz" >/dev/null 2>&1; then
    echo "bench: something already answers on $2; set LAKEGATE_BENCH_LISTEN/LAKEGATE_BENCH_LISTEN2" >&2
    return 1
  fi
  bin/lakegate-bench-gw serve --config "$1" --listen "$2" >> .dev/logs/lakegate-bench.log 2>&1 &
  echo $!
}
wait_ready() { # listen address, PID
  for _ in $(seq 1 150); do
    curl -fsS "http://$1/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.2
  done
  echo "bench: gateway did not become ready on $1 (see .dev/logs/lakegate-bench.log)" >&2
  exit 1
}
start_gw() { # fresh gateways, so VmHWM covers only what follows
  stop_gw
  gw_pid=$(launch .dev/bench/lakegate.yaml "$listen") || exit 1
  if [[ -n "$listen2" && ${1:-} != one ]]; then
    gw2_pid=$(launch .dev/bench/lakegate-noetag.yaml "$listen2") || exit 1
    wait_ready "$listen2" "$gw2_pid"
  fi
  wait_ready "$listen" "$gw_pid"
}
trap stop_gw EXIT

LG="$endpoint,$LAKEGATE_ROOT_ACCESS_KEY,$LAKEGATE_ROOT_SECRET_KEY"
LG2="http://$listen2,$LAKEGATE_ROOT_ACCESS_KEY,$LAKEGATE_ROOT_SECRET_KEY"
MN="$MINIO_ENDPOINT,$MINIO_ACCESS_KEY,$MINIO_SECRET_KEY"
RG="$RGW_ENDPOINT,$RGW_ACCESS_KEY,$RGW_SECRET_KEY"

noetag() { # name, bucket, backend: the extra -target of the second gateway
  [[ -n "$listen2" ]] && echo "-target $1-noetag=$LG2,$2-noetag,$3"
  return 0
}
run() { # label, args...
  local label=$1; shift
  echo "== $label (load average before: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out"
  bin/lakegate-bench "$@" | tee -a "$out"
  echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
}

echo "# bench run $(date -u +%Y-%m-%dT%H:%M:%SZ) ($(nproc) cores, $(git describe --always --dirty)), gateway on $listen: $*" >> "$out"

for what in "$@"; do
  case $what in
  large | small | all) start_gw ;;
  esac
  if [[ $what == large || $what == all ]]; then
    # Issue 2: lakegate on posix versus MinIO on the same disk.
    run "64MiB: lakegate/posix vs MinIO direct (same disk)" -size 64MiB -count 8 -concurrency 2 -reps "$reps" \
      -target minio-direct="$MN,bench-direct" -target lakegate-posix="$LG,bench-lg-posix,posix" -baseline minio-direct
    # Issue 3: through lakegate versus the same backend directly.
    run "64MiB: lakegate/minio vs MinIO direct" -size 64MiB -count 8 -concurrency 2 -reps "$reps" \
      -target minio-direct="$MN,bench-direct" -target lakegate-minio="$LG,bench-lg-minio,minio" $(noetag lakegate-minio bench-lg-minio minio) -baseline minio-direct
    run "64MiB: lakegate/rgw vs RGW direct" -size 64MiB -count 8 -concurrency 2 -reps "$reps" \
      -target rgw-direct="$RG,bench-direct" -target lakegate-rgw="$LG,bench-lg-rgw,rgw" $(noetag lakegate-rgw bench-lg-rgw rgw) -baseline rgw-direct
  fi
  if [[ $what == small || $what == all ]]; then
    run "4KiB: lakegate/minio vs MinIO direct" -size 4KiB -count 2000 -concurrency 8 -reps "$reps" \
      -target minio-direct="$MN,bench-direct" -target lakegate-minio="$LG,bench-lg-minio,minio" $(noetag lakegate-minio bench-lg-minio minio) -baseline minio-direct
    run "4KiB: lakegate/rgw vs RGW direct" -size 4KiB -count 2000 -concurrency 8 -reps "$reps" \
      -target rgw-direct="$RG,bench-direct" -target lakegate-rgw="$LG,bench-lg-rgw,rgw" $(noetag lakegate-rgw bench-lg-rgw rgw) -baseline rgw-direct
    run "4KiB: lakegate/posix vs MinIO direct" -size 4KiB -count 2000 -concurrency 8 -reps "$reps" \
      -target minio-direct="$MN,bench-direct" -target lakegate-posix="$LG,bench-lg-posix,posix" -baseline minio-direct
  fi
  if [[ $what == rss || $what == all ]]; then
    # Issue 2: PUT and GET of a 5 GiB object (one single-part PUT, one GET);
    # the gateway's RSS must stay under 100 MiB. A fresh gateway, so VmHWM is
    # this run's peak.
    start_gw one
    run "5GiB PUT+GET through lakegate/posix, gateway RSS" -size 5GiB -count 1 -concurrency 1 -reps 1 \
      -target lakegate-posix="$LG,bench-lg-posix,posix" -rss-pid "$gw_pid"
  fi
  if [[ $what == micro || $what == all ]]; then
    echo "== go micro-benchmarks, gateway/sigv4 (load average before: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out"
    go test -run '^$' -bench . -benchtime 10x ./gateway/sigv4 | tee -a "$out"
    echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
  fi
  stop_gw
done
