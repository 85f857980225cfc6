#!/usr/bin/env bash
# S3_ACCESS_KEY=... S3_SECRET_KEY=... test/spark/hadoop-cli.sh LABEL HADOOP_VERSION BUCKET ENDPOINT [NAME=VALUE...]
#
# The Hadoop command-line sequence a data team runs first against a new S3 endpoint, with a
# standalone Hadoop HADOOP_VERSION client (hadoop-client + hadoop-aws + the AWS SDK v2 bundle from
# Maven Central, resolved by run.sh into $SPARK_CACHE/jars/hadoop-VERSION): FsShell mkdir, put of
# a small and of a multipart file, ls -R, mv of a directory, cat, get, test, rm -r, and S3GuardTool
# bucket-info and uploads (listing and aborting a pending magic-committer upload). Each step's
# output is checked. Extra NAME=VALUE pairs go into core-site.xml (e.g. checksum settings).
# The commands run one after another in a single JVM (test/spark/CliBatch.java, compiled here once
# per Hadoop version), each with a fresh configuration and its own, closed FileSystem instances.
# Prints one line per step; exit 0 when every step passed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -ge 4 ] && [ -n "${S3_ACCESS_KEY:-}" ] && [ -n "${S3_SECRET_KEY:-}" ] ||
	{ echo "usage: S3_ACCESS_KEY=... S3_SECRET_KEY=... $0 LABEL HADOOP_VERSION BUCKET ENDPOINT [NAME=VALUE...]" >&2; exit 2; }
label=$1 V=$2 bucket=$3 endpoint=$4 ak=$S3_ACCESS_KEY sk=$S3_SECRET_KEY
shift 4
jars=$SPARK_CACHE/jars/hadoop-$V
[ -f "$jars/hadoop-aws-$V.jar" ] || { echo "hadoop-cli $label: $jars has no hadoop-aws-$V.jar (run test/spark/run.sh)"; exit 1; }
dir=$SPARK_WORK/hadoop-cli/$label
rm -rf "$dir"
mkdir -p "$dir/conf" "$dir/data"
{
	s3a_client_props "$endpoint" "$ak" "$sk"
	echo "fs.iostatistics.logging.level=info"
	echo "fs.s3a.buffer.dir=$dir/buffer"
	echo "hadoop.tmp.dir=$dir/tmp"
	for kv in "$@"; do echo "$kv"; done
} | hadoop_xml "$dir/conf/core-site.xml"
cat >"$dir/conf/log4j.properties" <<'EOF'
log4j.rootLogger=WARN,stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.Follow=true
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
# IOStatistics of each FileSystem instance at close (request counts)
log4j.logger.org.apache.hadoop.fs.statistics.IOStatisticsLogging=INFO
log4j.logger.org.apache.hadoop.fs.s3a.S3AFileSystem=INFO
EOF

JAVA_OPTS=(-Xmx768m -XX:+UseSerialGC -Dlog4j.configuration="file:$dir/conf/log4j.properties"
	--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
	--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)
B=s3a://$bucket/cli-$label

# The batch runner, compiled against this Hadoop version.
cb=$SPARK_CACHE/cli-batch/$V
src=$ROOT/test/spark/CliBatch.java
sum=$(sha256sum "$src" | cut -c1-16)
if [ ! -f "$cb/.ok-$sum" ]; then
	rm -rf "$cb"
	mkdir -p "$cb"
	javac -nowarn -d "$cb" -cp "$jars/*" "$src" >"$dir/javac.log" 2>&1 ||
		{ cat "$dir/javac.log"; echo "hadoop-cli $label: cannot compile CliBatch"; exit 1; }
	touch "$cb/.ok-$sum"
fi

# Test data: a small text file with non-ASCII text, and 12 MiB of random bytes (3 parts of 5 MiB).
printf 'lakegate hadoop-cli %s\nnaïve café 日本語 a=b c+d 50%% off\n' "$label" >"$dir/data/small.txt"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$dir/data/big.bin"
small_len=$(stat -c %s "$dir/data/small.txt")
magic=$B/incomplete/__magic_job-0001/__base/sub

# cmd NAME TOOL ARGS...: append one command to the batch.
: >"$dir/script"
cmd() { (IFS=$'\t'; echo "$*") >>"$dir/script"; }
cmd mkdir fs -mkdir -p "$B/dir/sub"
cmd put-small fs -put -f "$dir/data/small.txt" "$B/dir/small.txt"
cmd put-big fs -D fs.s3a.multipart.size=5M -put -f "$dir/data/big.bin" "$B/dir/sub/big.bin"
cmd ls1 fs -ls -R "$B"
cmd mv fs -mv "$B/dir" "$B/dir2"
cmd ls2 fs -ls -R "$B"
cmd cat fs -cat "$B/dir2/small.txt"
cmd get fs -get "$B/dir2/sub/big.bin" "$dir/data/big.back"
cmd test-d fs -test -d "$B/dir2/sub"
cmd test-gone fs -test -e "$B/dir/small.txt"
cmd stat fs -stat '%b %n' "$B/dir2/small.txt"
# A pending upload: a file written under a magic path is not materialised; its multipart upload
# stays open until a committer completes or aborts it.
cmd mkdir-magic fs -mkdir -p "$magic"
cmd put-magic fs -put -d "$dir/data/small.txt" "$magic/magic.txt"
cmd ls-magic fs -ls -R "$B/incomplete"
cmd uploads-list s3guard uploads -list "$B/incomplete/"
cmd uploads-abort s3guard uploads -abort -force "$B/incomplete/"
cmd uploads-none s3guard uploads -list "$B/incomplete/"
cmd bucket-info s3guard bucket-info "s3a://$bucket/"
cmd bucket-info-markers s3guard bucket-info -markers aware "s3a://$bucket/"
cmd rm fs -rm -r "$B"
cmd test-rm fs -test -e "$B"

t0=$SECONDS
java "${JAVA_OPTS[@]}" -cp "$cb:$dir/conf:$jars/*" CliBatch "$dir/script" "$dir" >"$dir/batch.out" 2>"$dir/batch.err"
batch_rc=$?
secs=$((SECONDS - t0))

n=0 failed=0 rc=
# check NAME DESCRIPTION CONDITION...: one step; on failure the output of command NAME is shown.
check() {
	local name=$1 what=$2
	shift 2
	rc=$(cat "$dir/$name.rc" 2>/dev/null || echo missing)
	n=$((n + 1))
	if "$@"; then
		echo "hadoop-cli $label: ok   $name: $what"
	else
		failed=$((failed + 1))
		echo "hadoop-cli $label: FAIL $name: $what (exit status $rc)"
		sed 's/^/    | /' "$dir/$name.out" 2>/dev/null | tail -15
		grep -E -v -e '^\s*$' -e '^\s*\(' -e '^(counters|gauges|minimums|maximums|means)=' -e 'IOStatistics' "$dir/$name.err" 2>/dev/null |
			sed 's/^/    ! /' | tail -25
	fi
}
rc_is() { [ "$rc" = "$1" ]; }
# has NAME REGEX / lacks NAME REGEX: test the stdout of command NAME.
has() { grep -qE -- "$2" "$dir/$1.out"; }
lacks() { ! grep -qE -- "$2" "$dir/$1.out"; }

check mkdir "mkdir -p" rc_is 0
check put-small "put of $small_len bytes" rc_is 0
check put-big "put of 12 MiB with 5M parts is a multipart upload of 3 parts" \
	eval "rc_is 0 && grep -qE 'multipart_upload_part_put=3\b' '$dir/put-big.err'"
check ls1 "ls -R lists both files with their sizes and the directories" \
	eval "rc_is 0 && has ls1 ' $small_len .*/dir/small\.txt\$' && has ls1 ' 12582912 .*/dir/sub/big\.bin\$' && has ls1 '^d.*/dir/sub\$'"
check mv "mv of the directory" rc_is 0
check ls2 "after mv, ls -R shows dir2 with both files and no dir" \
	eval "rc_is 0 && has ls2 ' $small_len .*/dir2/small\.txt\$' && has ls2 ' 12582912 .*/dir2/sub/big\.bin\$' && lacks ls2 '/dir(/|\$)'"
check cat "cat returns the small file's bytes" eval "rc_is 0 && cmp -s '$dir/cat.out' '$dir/data/small.txt'"
check get "get returns the multipart file's bytes" eval "rc_is 0 && cmp -s '$dir/data/big.back' '$dir/data/big.bin'"
check test-d "test -d on the moved subdirectory" rc_is 0
check test-gone "the source of the mv is gone" rc_is 1
check stat "stat gives the length" eval "rc_is 0 && grep -qx '$small_len small.txt' '$dir/stat.out'"
check mkdir-magic "mkdir under a magic path" rc_is 0
check put-magic "put to a magic path" rc_is 0
check ls-magic "the magic file is not visible at its final path" eval "rc_is 0 && lacks ls-magic '/incomplete/sub/magic\.txt'"
check uploads-list "s3guard uploads -list finds the pending upload under the prefix" \
	eval "rc_is 0 && has uploads-list 'incomplete/sub/magic\.txt' && has uploads-list 'Total 1 uploads found'"
check uploads-abort "s3guard uploads -abort deletes it" eval "rc_is 0 && has uploads-abort 'Total 1 uploads deleted'"
check uploads-none "no upload left" eval "rc_is 0 && has uploads-none 'Total 0 uploads found'"
check bucket-info "s3guard bucket-info" eval "rc_is 0 && has bucket-info 'Filesystem s3a://$bucket' && grep -qF '$endpoint' '$dir/bucket-info.out'"
check bucket-info-markers "s3guard bucket-info -markers aware" rc_is 0
check rm "rm -r" rc_is 0
check test-rm "nothing left after rm -r" rc_is 1

if [ "$batch_rc" != 0 ]; then
	failed=$((failed + 1))
	echo "hadoop-cli $label: FAIL the batch JVM exited with $batch_rc"
	tail -20 "$dir/batch.err"
fi
echo "hadoop-cli $label: $((n - failed))/$n steps passed (Hadoop $V, $secs s; outputs in $dir)"
[ "$failed" = 0 ]
