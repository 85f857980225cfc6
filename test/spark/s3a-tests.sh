#!/usr/bin/env bash
# S3_ACCESS_KEY=... S3_SECRET_KEY=... test/spark/s3a-tests.sh LABEL BUCKET ENDPOINT [NAME=VALUE...]
#
# Runs Hadoop's own S3A contract and integration tests (hadoop-aws ITest* classes of
# $S3A_TESTS_HADOOP_VERSION, compiled from the published test sources by
# test/spark/s3a-tests/pom.xml) against the S3 endpoint ENDPOINT, in bucket BUCKET, configured as a
# third-party store: path-style, a fixed region, no STS/encryption/ACL/storage-class tests, no scale
# tests. The classes come from $S3A_TESTS_LIST (test/spark/s3a-tests.txt) minus
# test/spark/s3a-excludes.txt.
# Reports go to $SPARK_WORK/s3a-tests/LABEL/reports; a one-line result per failing test and the
# totals are printed. Exit status: 0 when every selected test passed (or was skipped by the suite
# itself), 1 otherwise. Extra NAME=VALUE pairs are added to the test configuration (auth-keys.xml).
#
# Environment: S3A_TESTS (override the selection: a surefire -Dtest pattern list), S3A_TESTS_LIST
# (selection file),
# S3A_TESTS_HADOOP_VERSION (3.4.3), S3A_TESTS_TIMEOUT (seconds per forked JVM, i.e. per class; 600),
# S3A_TESTS_DEADLINE (seconds for the whole Maven run; 1200),
# S3A_TESTS_SCALE (fs.s3a.scale.test.enabled; false).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -ge 3 ] && [ -n "${S3_ACCESS_KEY:-}" ] && [ -n "${S3_SECRET_KEY:-}" ] ||
	{ echo "usage: S3_ACCESS_KEY=... S3_SECRET_KEY=... $0 LABEL BUCKET ENDPOINT [NAME=VALUE...]" >&2; exit 2; }
label=$1 bucket=$2 endpoint=$3 ak=$S3_ACCESS_KEY sk=$S3_SECRET_KEY
shift 3
extra=("$@")
V=$S3A_TESTS_HADOOP_VERSION
out=$SPARK_CACHE/s3a-tests/$V
dir=$SPARK_WORK/s3a-tests/$label
rm -rf "$dir"
mkdir -p "$dir/conf"

# auth-keys.xml: the test core-site.xml in the Hadoop sources XIncludes it.
{
	echo "test.fs.s3a.name=s3a://$bucket/"
	echo "fs.contract.test.fs.s3a=s3a://$bucket/"
	s3a_client_props "$endpoint" "$ak" "$sk"
	cat <<'EOP'
# Third-party store: nothing AWS-only.
test.fs.s3a.sts.enabled=false
test.fs.s3a.encryption.enabled=false
test.fs.s3a.create.storage.class.enabled=false
test.fs.s3a.create.acl.enabled=false
# one space: no public AWS CSV dataset
fs.s3a.scale.test.csvfile= 
test.fs.s3a.requester.pays.file=
fs.s3a.scale.test.enabled=false
fs.s3a.directory.marker.retention=keep
fs.s3a.multipart.purge=false
# Hadoop 3.4.3 defaults to the Analytics Accelerator input stream; the tests assume "classic"
# unless they ask for another, and a FileSystem cached with the default would leak into them.
fs.s3a.input.stream.type=classic
EOP
	for kv in "${extra[@]}"; do echo "$kv"; done
} | hadoop_xml "$dir/conf/auth-keys.xml"
cp "$ROOT/test/spark/s3a-tests/log4j.properties" "$dir/conf/log4j.properties"

list=${S3A_TESTS_LIST:-$ROOT/test/spark/s3a-tests.txt}
if [ -n "${S3A_TESTS:-}" ]; then
	tests=$S3A_TESTS
else
	tests=$(
		grep -v -e '^\s*#' -e '^\s*$' "$list" | awk '{print $1}'
		# PATTERN [@backend,...] REASON; a scoped exclusion applies when LABEL starts with a listed backend
		grep -v -e '^\s*#' -e '^\s*$' "$ROOT/test/spark/s3a-excludes.txt" | awk -v label="$label" '
			$2 !~ /^@/ { print "!" $1; next }
			{ n = split(substr($2, 2), bs, ","); for (i = 1; i <= n; i++) if (index(label, bs[i]) == 1) { print "!" $1; next } }'
	)
	tests=$(echo "$tests" | paste -sd, -)
fi

say "s3a-tests $label: hadoop-aws $V ITests against $endpoint bucket $bucket"
t0=$SECONDS
# A dead backend makes S3A retry for a long time: bound the whole run (S3A_TESTS_DEADLINE).
timeout -k 30 "${S3A_TESTS_DEADLINE:-1200}" mvn -B -f "$ROOT/test/spark/s3a-tests/pom.xml" -Dmaven.repo.local="$M2_REPO" -Dout="$out" \
	-Dhadoop.version="$V" -Ds3a.conf="$dir/conf" -Ds3a.reports="$dir/reports" \
	-Dsurefire.timeout="${S3A_TESTS_TIMEOUT:-600}" -Ds3a.scale="${S3A_TESTS_SCALE:-false}" -Dtest="$tests" test >"$dir/mvn.log" 2>&1
mvn_rc=$?
say "s3a-tests $label: maven exit $mvn_rc after $((SECONDS - t0)) s (log $dir/mvn.log)"

python3 - "$dir/reports" "$dir/summary.txt" "$label" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
reports, summary, label = sys.argv[1:4]
tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
failed, classes = [], []
for f in sorted(glob.glob(reports + "/TEST-*.xml")):
    r = ET.parse(f).getroot()
    n = {k: int(r.get(k, 0)) for k in tot}
    for k in tot:
        tot[k] += n[k]
    classes.append("%s %d/%d/%d/%d %.1fs" % (r.get("name").rsplit(".", 1)[-1], n["tests"], n["failures"], n["errors"], n["skipped"], float(r.get("time", 0) or 0)))
    for tc in r.iter("testcase"):
        for kind in ("failure", "error"):
            e = tc.find(kind)
            if e is not None:
                msg = (e.get("message") or e.get("type") or "").strip().splitlines()
                failed.append("%s#%s %s: %s" % (tc.get("classname").rsplit(".", 1)[-1], tc.get("name"), kind, (msg[0] if msg else "")[:300]))
passed = tot["tests"] - tot["failures"] - tot["errors"] - tot["skipped"]
lines = ["s3a-tests %s: %d run, %d passed, %d failed, %d errors, %d skipped (per class: tests/failures/errors/skipped)" % (label, tot["tests"], passed, tot["failures"], tot["errors"], tot["skipped"])]
lines += ["  " + c for c in classes]
lines += ["  FAILED " + x for x in failed]
open(summary, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(1 if (tot["failures"] or tot["errors"] or tot["tests"] == 0) else 0)
PY
rc=$?
if [ $rc -eq 0 ] && [ $mvn_rc -ne 0 ]; then
	echo "s3a-tests $label: maven failed without test failures; end of $dir/mvn.log:"
	grep -E 'ERROR|BUILD' "$dir/mvn.log" | tail -20
	rc=1
fi
exit $rc
