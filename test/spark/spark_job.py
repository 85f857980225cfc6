#!/usr/bin/env python3
"""spark_job.py: the Spark end-to-end job of test/spark/run.sh (PySpark 3.5, local mode).

It writes one partitioned Parquet dataset, whose partition values contain spaces, '%', '=', '+',
':' and non-ASCII characters, reads it back and aggregates it, and checks the result against the
same job on the local filesystem. Output and input go through whatever filesystem the destination
URI names: s3a:// (lakegate or a store directly) or hdfs://.

Modes:
  verify  write a local reference with the classic FileOutputCommitter, then for every committer in
          --committers write the dataset under --base/<committer>/, read it back and compare rows,
          aggregates and partition directory names with the reference; for the S3A committers
          (magic, directory) _SUCCESS must be their JSON manifest listing the files, for 'file' (the
          rename-based FileOutputCommitter) a zero-byte marker. Also checks that multipart uploads
          were used (fs.s3a.multipart.size is small).
  bench   write with one committer to --base/<committer>-bench/, read back and aggregate, and check
          the row count and aggregates against the expected values computed from the generator;
          used for the timing comparisons (lakegate vs the store directly).

Every mode writes a JSON report (--report): per write the wall times of write, read+compare, the
S3A IOStatistics counter deltas (request counts) and the problems found. Exit status 0 when no
problem was found, 1 otherwise.

Spark settings come from the command line (see run.sh): --endpoint/--region for S3A (keys from
S3A_ACCESS_KEY/S3A_SECRET_KEY), --jars for the extra jars, --principal/--keytab for hdfs://.
"""

import argparse
import json
import os
import sys
import time
import traceback

from pyspark.sql import SparkSession, functions as F

# Partition values: a big one (about half the rows, so its files exceed the multipart size) and
# values with the characters Spark escapes in paths ('%', '=', ':') and those it keeps (space, '+',
# non-ASCII).
CATEGORIES = [
    "with space",
    "50% off",
    "a=b",
    "c+d",
    "naïve café",
    "日本語 テキスト",
    "12:30",
    "plain",
]

S3A_COMMITTER_PROTOCOL = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"
S3A_PARQUET_COMMITTER = "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"
CLASSIC_PROTOCOL = "org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol"
CLASSIC_PARQUET_COMMITTER = "org.apache.parquet.hadoop.ParquetOutputCommitter"
SUCCESS_DATA_NAME = "org.apache.hadoop.fs.s3a.commit.files.SuccessData/1"

# S3A IOStatistics counters reported per write (request counts; see
# org.apache.hadoop.fs.statistics.StoreStatisticNames).
COUNTERS = [
    "action_http_head_request", "action_http_get_request", "object_metadata_request",
    "object_list_request", "object_continue_list_request", "object_put_request",
    "object_multipart_initiated", "multipart_upload_part_put", "multipart_upload_completed",
    "object_multipart_aborted", "object_copy_requests", "object_delete_request",
    "object_bulk_delete_request", "object_delete_objects", "store_io_request",
    "store_io_retry", "store_io_throttled", "object_put_bytes",
]
REQUESTS = [
    "action_http_head_request", "action_http_get_request", "object_list_request",
    "object_continue_list_request", "object_put_request", "object_multipart_initiated",
    "multipart_upload_part_put", "multipart_upload_completed", "object_multipart_aborted",
    "object_copy_requests", "object_delete_request", "object_bulk_delete_request",
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["verify", "bench"])
    p.add_argument("--base", required=True, help="destination directory URI (s3a://bucket/dir or hdfs://nn/dir)")
    p.add_argument("--local", help="local directory for the reference dataset (verify)")
    p.add_argument("--committers", default="magic,directory,file")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--report", required=True)
    p.add_argument("--endpoint", help="S3A endpoint URL")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--jars", default="", help="extra jars for the driver class path, ':'-separated")
    p.add_argument("--multipart-size", default="5M")
    p.add_argument("--principal", help="Kerberos principal for hdfs://")
    p.add_argument("--keytab")
    p.add_argument("--krb5-conf")
    p.add_argument("--work", required=True, help="scratch directory (Spark local dir, S3A buffers, staging)")
    p.add_argument("--memory", default="1536m")
    p.add_argument("--cleanup", action="store_true", help="delete --base at the end")
    p.add_argument("--repeat", type=int, default=1, help="bench: run the write and read this many times")
    p.add_argument("--conf", action="append", default=[], metavar="NAME=VALUE", help="extra Hadoop setting (repeatable)")
    return p.parse_args()


def build_session(a):
    b = (SparkSession.builder.appName("lakegate-spark-e2e")
         .master("local[2]")
         .config("spark.driver.memory", a.memory)
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.driver.host", "127.0.0.1")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.local.dir", os.path.join(a.work, "spark-local"))
         .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
         .config("spark.hadoop.fs.iostatistics.logging.level", "info")
         # committer wiring (switched per write for the classic committer)
         .config("spark.sql.sources.commitProtocolClass", S3A_COMMITTER_PROTOCOL)
         .config("spark.sql.parquet.output.committer.class", S3A_PARQUET_COMMITTER)
         .config("spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a",
                 "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory")
         .config("spark.hadoop.fs.s3a.committer.magic.enabled", "true")
         .config("spark.hadoop.fs.s3a.committer.staging.tmp.path", "file://" + os.path.join(a.work, "staging"))
         .config("spark.hadoop.fs.s3a.buffer.dir", os.path.join(a.work, "s3a-buffer"))
         .config("spark.hadoop.fs.s3a.multipart.size", a.multipart_size)
         .config("spark.hadoop.fs.s3a.fast.upload.buffer", "disk"))
    jvm_opts = ["-XX:+UseParallelGC"]
    if a.jars:
        b = b.config("spark.driver.extraClassPath", a.jars)
    if a.endpoint:
        b = (b.config("spark.hadoop.fs.s3a.endpoint", a.endpoint)
             .config("spark.hadoop.fs.s3a.endpoint.region", a.region)
             .config("spark.hadoop.fs.s3a.path.style.access", "true")
             .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false")
             .config("spark.hadoop.fs.s3a.aws.credentials.provider",
                     "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
             .config("spark.hadoop.fs.s3a.access.key", os.environ["S3A_ACCESS_KEY"])
             .config("spark.hadoop.fs.s3a.secret.key", os.environ["S3A_SECRET_KEY"])
             .config("spark.hadoop.fs.s3a.retry.limit", "3")
             .config("spark.hadoop.fs.s3a.retry.throttle.limit", "5")
             .config("spark.hadoop.fs.s3a.attempts.maximum", "3"))
    if a.principal:
        b = (b.config("spark.kerberos.principal", a.principal)
             .config("spark.kerberos.keytab", a.keytab))
    if a.krb5_conf:
        jvm_opts.append("-Djava.security.krb5.conf=" + a.krb5_conf)
    for kv in a.conf:
        k, _, v = kv.partition("=")
        b = b.config("spark.hadoop." + k, v)
    b = b.config("spark.driver.extraJavaOptions", " ".join(jvm_opts))
    return b.getOrCreate()


def dataset(spark, rows):
    """The generated rows: deterministic, high-entropy strings so Parquet files stay large."""
    cats = F.array(*[F.lit(c) for c in CATEGORIES])
    idx = F.when(F.col("id") % 16 < 8, F.lit(0)).otherwise((F.col("id") % 16 - 8) % (len(CATEGORIES) - 1) + 1)
    return (spark.range(0, rows, numPartitions=2)
            .withColumn("cat", F.element_at(cats, (idx + 1).cast("int")))
            .withColumn("n", (F.col("id") * 7 % 1000).cast("int"))
            .withColumn("v", ((F.col("id") * 2654435761) % 1000003) / F.lit(7.0))
            .withColumn("s", F.sha2(F.col("id").cast("string"), 256)))


def aggregate(df):
    rows = (df.groupBy("cat")
            .agg(F.count("*").alias("c"), F.sum("n").alias("sn"), F.sum("id").alias("sid"),
                 F.round(F.sum("v"), 3).alias("sv"), F.max("s").alias("ms"))
            .collect())
    return sorted([[r["cat"], r["c"], r["sn"], r["sid"], r["sv"], r["ms"]] for r in rows])


class Store:
    """Hadoop FileSystem access through py4j."""

    def __init__(self, spark):
        self.spark = spark
        self.jvm = spark._jvm
        self.conf = spark._jsc.hadoopConfiguration()

    def path(self, uri):
        return self.jvm.org.apache.hadoop.fs.Path(uri)

    def fs(self, uri):
        return self.path(uri).getFileSystem(self.conf)

    def counters(self, uri):
        fs = self.fs(uri)
        try:
            stats = fs.getIOStatistics()
        except Exception:  # not every FileSystem has IOStatistics
            return {}
        if stats is None:
            return {}
        c = stats.counters()
        return {k: int(c.get(k)) for k in COUNTERS if c.containsKey(k)}

    def list_names(self, uri):
        return sorted(s.getPath().getName() for s in self.fs(uri).listStatus(self.path(uri)))

    def files_under(self, uri):
        it = self.fs(uri).listFiles(self.path(uri), True)
        out = []
        while it.hasNext():
            s = it.next()
            out.append((s.getPath().toUri().getPath(), s.getLen()))
        return out

    def read_text(self, uri):
        fs = self.fs(uri)
        p = self.path(uri)
        n = fs.getFileStatus(p).getLen()
        if n == 0:
            return ""
        stream = fs.open(p)
        try:
            buf = self.jvm.java.io.ByteArrayOutputStream()
            self.jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, buf, 65536, False)
            return bytes(buf.toByteArray()).decode("utf-8")
        finally:
            stream.close()

    def delete(self, uri):
        fs = self.fs(uri)
        p = self.path(uri)
        if fs.exists(p):
            fs.delete(p, True)


def set_committer(spark, store, committer):
    if committer == "file":
        spark.conf.set("spark.sql.sources.commitProtocolClass", CLASSIC_PROTOCOL)
        spark.conf.set("spark.sql.parquet.output.committer.class", CLASSIC_PARQUET_COMMITTER)
    else:
        spark.conf.set("spark.sql.sources.commitProtocolClass", S3A_COMMITTER_PROTOCOL)
        spark.conf.set("spark.sql.parquet.output.committer.class", S3A_PARQUET_COMMITTER)
    store.conf.set("fs.s3a.committer.name", committer)


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0)}


def check_success(store, dest, committer, problems):
    """_SUCCESS: the S3A committers' JSON manifest, or the classic empty marker."""
    info = {}
    text = store.read_text(dest + "/_SUCCESS")
    parts = [p for p, _ in store.files_under(dest) if os.path.basename(p).startswith("part-")]
    info["part_files"] = len(parts)
    if committer == "file" or not dest.startswith("s3a:"):
        if text != "":
            problems.append("_SUCCESS of the %s committer is not empty" % committer)
        return info
    try:
        m = json.loads(text)
    except ValueError as e:
        problems.append("_SUCCESS is not JSON (%s): %r" % (e, text[:200]))
        return info
    info["success"] = {k: m.get(k) for k in ("name", "committer", "hostname", "description")}
    if m.get("name") != SUCCESS_DATA_NAME:
        problems.append("_SUCCESS name %r, want %r" % (m.get("name"), SUCCESS_DATA_NAME))
    if m.get("committer") != committer:
        problems.append("_SUCCESS committer %r, want %r" % (m.get("committer"), committer))
    listed = sorted(f.lstrip("/") for f in (m.get("filenames") or []))
    parts = sorted(p.lstrip("/") for p in parts)
    info["success_filenames"] = len(listed)
    if not listed:
        problems.append("_SUCCESS lists no files")
    elif len(parts) <= 100 and parts != listed:
        problems.append("_SUCCESS filenames %s differ from the part files %s" % (listed[:5], parts[:5]))
    stats = (m.get("iostatistics") or {}).get("counters") or {}
    info["success_iostatistics"] = {k: v for k, v in stats.items() if v}
    return info


def write_and_check(spark, store, df, dest, committer, reference, expected_agg, problems):
    """One write with one committer, then read back and compare. Returns the result record."""
    rec = {"dest": dest, "committer": committer}
    set_committer(spark, store, committer)
    store.delete(dest)
    before = store.counters(dest)
    t0 = time.time()
    df.write.mode("errorifexists").partitionBy("cat").parquet(dest)
    rec["write_seconds"] = round(time.time() - t0, 2)
    after_write = store.counters(dest)
    rec["write_requests"] = delta(after_write, before)

    t1 = time.time()
    back = spark.read.parquet(dest)
    agg = aggregate(back)
    rec["read_aggregate_seconds"] = round(time.time() - t1, 2)
    rec["read_requests"] = delta(store.counters(dest), after_write)
    if agg != expected_agg:
        problems.append("%s: aggregates differ from the generator's:\n got  %s\n want %s" % (committer, agg, expected_agg))
    if reference is not None:
        ref_df, ref_dirs = reference
        missing = ref_df.exceptAll(back).count()
        extra = back.exceptAll(ref_df).count()
        rec["rows_missing"], rec["rows_extra"] = missing, extra
        if missing or extra:
            problems.append("%s: %d reference rows missing, %d unexpected rows" % (committer, missing, extra))
        dirs = store.list_names(dest)
        rec["partition_dirs"] = dirs
        if dirs != ref_dirs:
            problems.append("%s: directory listing %s, local reference %s" % (committer, dirs, ref_dirs))
    rec.update(check_success(store, dest, committer, problems))
    if dest.startswith("s3a:"):
        w = rec["write_requests"]
        if committer in ("magic", "directory") and w.get("object_multipart_initiated", 0) == 0:
            problems.append("%s: no multipart upload was initiated (fs.s3a.multipart.size too big?)" % committer)
        blocks = rec.get("success_iostatistics", {}).get("stream_write_block_uploads", 0)
        if committer == "magic" and blocks <= rec.get("part_files", 0):
            problems.append("%s: no upload had more than one part (%d blocks for %d files)" % (committer, blocks, rec.get("part_files", 0)))
    rec["requests_total"] = sum(v for k, v in rec["write_requests"].items() if k in REQUESTS) + \
        sum(v for k, v in rec["read_requests"].items() if k in REQUESTS)
    return rec


def main():
    a = parse_args()
    if not a.principal:
        # A Kerberized HDFS configuration (the dev stack exports HADOOP_CONF_DIR) would make HDFS
        # the default filesystem and Kerberos the login: only the hdfs:// runs want that.
        for k in ("HADOOP_CONF_DIR", "HADOOP_CLASSPATH", "YARN_CONF_DIR"):
            os.environ.pop(k, None)
    os.makedirs(a.work, exist_ok=True)
    report = {"mode": a.mode, "base": a.base, "rows": a.rows, "writes": [], "problems": []}
    problems = report["problems"]
    t_start = time.time()
    spark = None
    try:
        spark = build_session(a)
        spark.sparkContext.setLogLevel("WARN")
        report["spark_version"] = spark.version
        report["hadoop_version"] = spark._jvm.org.apache.hadoop.util.VersionInfo.getVersion()
        store = Store(spark)
        df = dataset(spark, a.rows)
        expected = aggregate(df)
        if sum(r[1] for r in expected) != a.rows:
            problems.append("generator produced %d rows, want %d" % (sum(r[1] for r in expected), a.rows))
        reference = None
        if a.mode == "verify":
            local = "file://" + os.path.abspath(a.local)
            set_committer(spark, store, "file")
            store.delete(local)
            df.write.mode("errorifexists").partitionBy("cat").parquet(local)
            ref_df = spark.read.parquet(local)
            if aggregate(ref_df) != expected:
                problems.append("local reference aggregates differ from the generator's")
            reference = (ref_df, store.list_names(local))
            report["local_partition_dirs"] = reference[1]
            committers = [c for c in a.committers.split(",") if c]
            suffix = ""
        else:
            committers = [a.committers.split(",")[0]] * max(1, a.repeat)
            suffix = "-bench"
        for i, c in enumerate(committers):
            n_before = len(problems)
            dest = a.base.rstrip("/") + "/" + c + suffix + ("-%d" % i if a.mode == "bench" else "")
            try:
                rec = write_and_check(spark, store, df, dest, c, reference, expected, problems)
            except Exception as e:  # one committer failing must not hide the others
                rec = {"dest": dest, "committer": c, "exception": "".join(traceback.format_exception_only(type(e), e)).strip()[:4000]}
                problems.append("%s: %s" % (c, rec["exception"].splitlines()[0][:500]))
            rec["problems"] = problems[n_before:]
            report["writes"].append(rec)
            if a.mode == "bench":
                Store(spark).delete(dest)  # each repetition starts from the same state
            print("spark_job: %s %s: %s (write %ss, read %ss, requests %s)" % (
                a.mode, c, "ok" if not rec["problems"] else "FAILED",
                rec.get("write_seconds"), rec.get("read_aggregate_seconds"), rec.get("requests_total")), flush=True)
        if a.cleanup:
            Store(spark).delete(a.base)
    except Exception as e:
        problems.append("job failed: " + "".join(traceback.format_exception_only(type(e), e)).strip()[:4000])
        traceback.print_exc()
    finally:
        report["total_seconds"] = round(time.time() - t_start, 2)
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1, ensure_ascii=False)
        if spark is not None:
            spark.stop()
    for p in problems:
        print("spark_job: PROBLEM: " + p, flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
