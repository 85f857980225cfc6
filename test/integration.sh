#!/usr/bin/env bash
# Integration run of `make test`: brings up the real service stack
# (deploy/dev), runs the backend conformance suites against the real servers,
# starts the gateway on the stack's configuration, runs the black-box client
# suite once per backend, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export LAKEGATE_REQUIRE_DEV=1

started_stack=0
gw_pid=""
cleanup() {
  if [[ -n "$gw_pid" ]] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true
    wait "$gw_pid" 2>/dev/null || true
  fi
  if [[ $started_stack == 1 && -z "${LAKEGATE_KEEP_STACK:-}" ]]; then
    bash deploy/dev/down.sh || true
  fi
}
trap cleanup EXIT

echo "== dev stack up"
t0=$(date +%s)
bash deploy/dev/up.sh
started_stack=1
echo "dev stack ready in $(( $(date +%s) - t0 ))s"
set -a; source .dev/env; set +a

echo "== backend conformance against real servers"
# -p 1: the fault tests stop and restart shared daemons (RGW, MinIO, the
# NameNode, the DataNode); packages must not overlap.
go test -p 1 -count=1 -timeout 40m ./test/hdfsstack/... ./backends/s3/... ./backends/hdfs/...

echo "== gateway on the dev stack"
mkdir -p .dev/logs
bin/lakegate serve --config .dev/lakegate.yaml > .dev/logs/lakegate.log 2>&1 &
gw_pid=$!
for i in $(seq 1 100); do
  if curl -fsS "$LAKEGATE_ENDPOINT/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$gw_pid" 2>/dev/null; then echo "gateway exited:"; cat .dev/logs/lakegate.log; exit 1; fi
  sleep 0.2
done
curl -fsS "$LAKEGATE_ENDPOINT/readyz" >/dev/null

echo "== black-box client suite, once per backend"
backends=$(grep -E '^[[:space:]]*- name:' .dev/lakegate.yaml | awk '{print $3}' | tr '\n' ' ')
echo "backends: $backends"
LAKEGATE_BLACKBOX_BACKENDS="$backends" go test -count=1 -timeout 40m -v ./test/blackbox/... 2>&1 | tee .dev/logs/blackbox.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)' || true
if grep -qE '^(--- FAIL|FAIL|panic)' .dev/logs/blackbox.log; then
  echo "black-box suite failed; full log: .dev/logs/blackbox.log"; grep -B5 -A30 -E '^--- FAIL' .dev/logs/blackbox.log | head -200
  exit 1
fi
grep -E '^(ok|PASS)' .dev/logs/blackbox.log | tail -3
