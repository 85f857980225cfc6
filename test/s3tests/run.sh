#!/usr/bin/env bash
# run.sh: run the ceph/s3-tests functional suite against a lakegate gateway on the posix backend.
#
# It never fetches or builds anything from the s3-tests repository: you bring a checkout and a
# Python environment with its requirements (see README.md).
#
#   S3TESTS_DIR=/path/to/s3-tests test/s3tests/run.sh [extra pytest arguments]
#
# Environment:
#   S3TESTS_DIR      s3-tests checkout; without it run.sh only says it skipped the suite
#   S3TESTS_PYTHON   Python with the suite's requirements and pytest-timeout. Default: python3
#   LAKEGATE_BIN     gateway binary. Default: <repo>/bin/lakegate (make build)
#   S3TESTS_PORT     loopback port for the gateway it starts. Default: 9380
#   S3TESTS_WORK     directory for data, configs, logs and junit.xml. Default: a new mktemp -d
#   S3TESTS_TIMEOUT  per-test timeout in seconds. Default: 120
#   S3TESTS_EXPECTED deselections and expected failures. Default: expected-failures.txt here
#   LAKEGATE_S3TESTS_RAW=1  report expected failures as plain failures (raw pass/fail counts)
#
# It starts its own gateway (posix backend in the work directory, identities for the suite's
# main, alt and tenant users), runs test_s3.py and test_headers.py with the deselections and expected failures of
# expected-failures.txt, stops the gateway it started, and exits non-zero on unexpected failures.
set -euo pipefail

if [ -z "${S3TESTS_DIR:-}" ]; then
    echo "run.sh: S3TESTS_DIR is not set; skipping ceph/s3-tests (see test/s3tests/README.md)"
    exit 0
fi
S3TESTS_DIR=$(cd "$S3TESTS_DIR" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=${S3TESTS_PYTHON:-python3}
bin=${LAKEGATE_BIN:-$repo/bin/lakegate}
port=${S3TESTS_PORT:-9380}
timeout_s=${S3TESTS_TIMEOUT:-120}
work=${S3TESTS_WORK:-$(mktemp -d /tmp/lakegate-s3tests.XXXXXX)}
fdir=$S3TESTS_DIR/s3tests/functional
[ -f "$fdir/test_s3.py" ] || fdir=$S3TESTS_DIR/s3tests_boto3/functional
[ -f "$fdir/test_s3.py" ] || { echo "run.sh: no functional/test_s3.py under $S3TESTS_DIR" >&2; exit 2; }
suites=("$fdir/test_s3.py")
[ -f "$fdir/test_headers.py" ] && suites+=("$fdir/test_headers.py")
[ -x "$bin" ] || { echo "run.sh: no gateway binary at $bin (make build)" >&2; exit 2; }
"$py" -c 'import boto3, pytest, pytest_timeout' || { echo "run.sh: $py lacks boto3/pytest/pytest-timeout" >&2; exit 2; }

mkdir -p "$work/data"
# Fixed test-only credentials: the gateway listens on loopback only and is gone after the run.
main_ak=LGS3TESTSMAIN0000001; main_sk=s3tests-main-secret-0000000000000000000001
alt_ak=LGS3TESTSALT00000001;  alt_sk=s3tests-alt-secret-00000000000000000000001
ten_ak=LGS3TESTSTENANT00001;  ten_sk=s3tests-tenant-secret-0000000000000000001

cat >"$work/identities.yaml" <<YAML
users:
  - name: s3tests-alt
    access_key: $alt_ak
    secret_key: $alt_sk
    team: s3tests
  - name: s3tests-tenant
    access_key: $ten_ak
    secret_key: $ten_sk
    team: s3tests-tenant
YAML
cat >"$work/lakegate.yaml" <<YAML
listen: 127.0.0.1:$port
identities: $work/identities.yaml
state_dir: $work/state
log_level: info
backends:
  - name: posix
    type: posix
    root: $work/data
YAML
sed -e "s/@HOST@/127.0.0.1/" -e "s/@PORT@/$port/" -e "s/@BACKEND@/posix/" \
    -e "s/@MAIN_ACCESS_KEY@/$main_ak/" -e "s/@MAIN_SECRET_KEY@/$main_sk/" \
    -e "s/@ALT_ACCESS_KEY@/$alt_ak/" -e "s/@ALT_SECRET_KEY@/$alt_sk/" \
    -e "s/@TENANT_ACCESS_KEY@/$ten_ak/" -e "s/@TENANT_SECRET_KEY@/$ten_sk/" \
    "$here/lakegate.conf.in" >"$work/s3tests.conf"

(cd "$work" && LAKEGATE_ROOT_ACCESS_KEY=$main_ak LAKEGATE_ROOT_SECRET_KEY=$main_sk \
    exec "$bin" serve --config "$work/lakegate.yaml" >"$work/lakegate.log" 2>&1) &
gw=$!
trap 'kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$gw" 2>/dev/null || { echo "run.sh: gateway exited; see $work/lakegate.log" >&2; exit 1; }
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "run.sh: gateway not ready" >&2; exit 1; }

echo "run.sh: gateway pid $gw on 127.0.0.1:$port, work dir $work"
rc=0
(cd "$S3TESTS_DIR" && S3TEST_CONF=$work/s3tests.conf \
    LAKEGATE_S3TESTS_EXPECTED=${S3TESTS_EXPECTED:-$here/expected-failures.txt} \
    PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH} \
    "$py" -m pytest -p lakegate_s3tests "${suites[@]}" -q -rfE --timeout="$timeout_s" \
        -o junit_family=xunit1 --junitxml="$work/junit.xml" "$@") || rc=$?
echo "run.sh: junit report $work/junit.xml, gateway log $work/lakegate.log"
exit "$rc"
