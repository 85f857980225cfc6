#!/usr/bin/env bash
# test/spark/hadoop-cli.sh LABEL HADOOP_VERSION BUCKET ENDPOINT ACCESS_KEY SECRET_KEY [NAME=VALUE...]
#
# The Hadoop command-line sequence a data team runs first against a new S3 endpoint, with a
# standalone Hadoop HADOOP_VERSION client (hadoop-client + hadoop-aws + the AWS SDK v2 bundle from
# Maven Central, resolved by run.sh into $SPARK_CACHE/jars/hadoop-VERSION): FsShell mkdir, put of
# a small and of a multipart file, ls -R, mv of a directory, cat, get, test, rm -r, and S3GuardTool
# bucket-info and uploads (listing and aborting a pending magic-committer upload). Each step's
# output is checked. Extra NAME=VALUE pairs go into core-site.xml (e.g. checksum settings).
# Prints one line per step; exit 0 when every step passed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -ge 6 ] || { echo "usage: $0 LABEL HADOOP_VERSION BUCKET ENDPOINT ACCESS_KEY SECRET_KEY [NAME=VALUE...]" >&2; exit 2; }
label=$1 V=$2 bucket=$3 endpoint=$4 ak=$5 sk=$6
shift 6
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
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
# IOStatistics of each FileSystem instance at close (request counts)
log4j.logger.org.apache.hadoop.fs.statistics.IOStatisticsLogging=INFO
log4j.logger.org.apache.hadoop.fs.s3a.S3AFileSystem=INFO
EOF

B=s3a://$bucket/cli-$label
JAVA_OPTS=(-Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$dir/conf/log4j.properties"
	--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
	--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)
CP="$dir/conf:$jars/*"
n=0 failed=0 last=none rc=

# hrun NAME CLASS ARGS...: run a Hadoop tool; output in $dir/NAME.out (stdout) and .err; sets $rc.
hrun() {
	local name=$1 class=$2
	shift 2
	last=$name
	java "${JAVA_OPTS[@]}" -cp "$CP" "$class" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
	rc=$?
}
fs() { local name=$1; shift; hrun "$name" org.apache.hadoop.fs.FsShell "$@"; }
guard() { local name=$1; shift; hrun "$name" org.apache.hadoop.fs.s3a.s3guard.S3GuardTool "$@"; }

# check NAME CONDITION-DESCRIPTION CMD...: count a step; CMD decides.
check() {
	local name=$1 what=$2
	shift 2
	n=$((n + 1))
	if "$@"; then
		echo "hadoop-cli $label: ok   $name: $what"
	else
		failed=$((failed + 1))
		echo "hadoop-cli $label: FAIL $name: $what (rc=$rc)"
		sed 's/^/    | /' "$dir/$last.out" | tail -15
		grep -E -v -e '^\s*$' -e '^\s*\(' -e '^(counters|gauges|minimums|maximums|means)=' -e 'IOStatistics' "$dir/$last.err" |
			sed 's/^/    ! /' | tail -25
	fi
}
rc_is() { [ "$rc" = "$1" ]; }
out_has() { grep -qF -- "$2" "$dir/$1.out"; }
out_lacks() { ! grep -qF -- "$2" "$dir/$1.out"; }
err_has() { grep -qE -- "$2" "$dir/$1.err"; }

# Test data: a small text file with non-ASCII text, and 12 MiB of random bytes (3 parts of 5 MiB).
printf 'lakegate hadoop-cli %s\nnaïve café 日本語 a=b c+d 50%% off\n' "$label" >"$dir/data/small.txt"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$dir/data/big.bin"
small_len=$(stat -c %s "$dir/data/small.txt")

fs mkdir -mkdir -p "$B/dir/sub"
check mkdir "mkdir -p" rc_is 0
fs put-small -put -f "$dir/data/small.txt" "$B/dir/small.txt"
check put-small "put of $small_len bytes" rc_is 0
fs put-big -D fs.s3a.multipart.size=5M -put -f "$dir/data/big.bin" "$B/dir/sub/big.bin"
check put-big "put of 12 MiB with 5M parts" rc_is 0
check put-big-multipart "the 12 MiB put was a multipart upload of 3 parts" \
	err_has put-big 'multipart_upload_part_put=3\b'
fs ls1 -ls -R "$B"
check ls-R "ls -R lists both files with their sizes and the directories" \
	eval "rc_is 0 && grep -qE ' $small_len .*/dir/small\.txt\$' '$dir/ls1.out' && grep -qE ' 12582912 .*/dir/sub/big\.bin\$' '$dir/ls1.out' && grep -qE '^d.*/dir/sub\$' '$dir/ls1.out'"
fs mv -mv "$B/dir" "$B/dir2"
check mv "mv of the directory" rc_is 0
fs ls2 -ls -R "$B"
check ls-after-mv "ls -R shows dir2 with both files and no dir" \
	eval "rc_is 0 && grep -qE ' $small_len .*/dir2/small\.txt\$' '$dir/ls2.out' && grep -qE ' 12582912 .*/dir2/sub/big\.bin\$' '$dir/ls2.out' && ! grep -qE '/dir(/|\$)' '$dir/ls2.out'"
fs cat -cat "$B/dir2/small.txt"
check cat "cat returns the small file's bytes" eval "rc_is 0 && cmp -s '$dir/cat.out' '$dir/data/small.txt'"
fs get -get "$B/dir2/sub/big.bin" "$dir/data/big.back"
check get "get returns the multipart file's bytes" eval "rc_is 0 && cmp -s '$dir/data/big.back' '$dir/data/big.bin'"
fs test-d -test -d "$B/dir2/sub"
check test-d "test -d on the moved subdirectory" rc_is 0
fs test-gone -test -e "$B/dir/small.txt"
check test-gone "the source of the mv is gone" rc_is 1
fs stat -stat '%b %n' "$B/dir2/small.txt"
check stat "stat gives the length" eval "rc_is 0 && grep -qx '$small_len small.txt' '$dir/stat.out'"

# A pending upload: a file written under a magic path is not materialised; its multipart upload
# stays open until a committer completes or aborts it.
fs mkdir-magic -mkdir -p "$B/incomplete/__magic_job-0001/__base/sub"
check mkdir-magic "mkdir under a magic path" rc_is 0
fs put-magic -put -d "$dir/data/small.txt" "$B/incomplete/__magic_job-0001/__base/sub/magic.txt"
check put-magic "put to a magic path" rc_is 0
fs ls-magic -ls -R "$B/incomplete"
check magic-invisible "the magic file is not visible at its final path" \
	eval "rc_is 0 && ! grep -q '/incomplete/sub/magic.txt' '$dir/ls-magic.out'"
guard uploads-list uploads -list "$B/incomplete/"
check uploads-list "s3guard uploads -list finds the pending upload under the prefix" \
	eval "rc_is 0 && grep -q 'incomplete/sub/magic.txt' '$dir/uploads-list.out' && grep -q 'Total 1 uploads found' '$dir/uploads-list.out'"
guard uploads-abort uploads -abort -force "$B/incomplete/"
check uploads-abort "s3guard uploads -abort aborts it" eval "rc_is 0 && grep -q 'Total 1 uploads aborted' '$dir/uploads-abort.out'"
guard uploads-none uploads -list "$B/incomplete/"
check uploads-none "no upload left" eval "rc_is 0 && grep -q 'Total 0 uploads found' '$dir/uploads-none.out'"

guard bucket-info bucket-info "s3a://$bucket/"
check bucket-info "s3guard bucket-info" eval "rc_is 0 && grep -q 'Filesystem s3a://$bucket' '$dir/bucket-info.out' && grep -qF '$endpoint' '$dir/bucket-info.out'"
guard bucket-info-markers bucket-info -markers aware "s3a://$bucket/"
check bucket-info-markers "s3guard bucket-info -markers aware" rc_is 0

fs rm -rm -r "$B"
check rm "rm -r" rc_is 0
fs test-rm -test -e "$B"
check test-rm "nothing left after rm -r" rc_is 1

echo "hadoop-cli $label: $((n - failed))/$n steps passed (Hadoop $V; outputs in $dir)"
[ "$failed" = 0 ]
