#!/usr/bin/python3
"""Black-box checks of lakegate with Debian's python3-boto3.

Run by test/blackbox (TestBoto3) with Debian's /usr/bin/python3:

    boto3_check.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET PREFIX WORKDIR

Exercises upload_file (multipart), download_file, the list_objects_v2
paginator, delete_objects, managed and single copy, presigned URLs and the
S3 error codes NoSuchKey, NoSuchBucket and PreconditionFailed. Every check
prints one line; the first failure prints what was expected and what came
back and exits with status 1.
"""

import hashlib
import io
import os
import sys
import urllib.error
import urllib.request

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1024 * 1024


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)
    print("ok:", what.split(":")[0])


def error_of(fn, *args, **kwargs):
    """Calls fn and returns (code, HTTP status) of the ClientError it raises."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"].get("Code"), e.response["ResponseMetadata"].get("HTTPStatusCode")
    return None, None


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    endpoint, access, secret, bucket, prefix, work = sys.argv[1:7]
    print("boto3", boto3.__version__, "botocore", botocore.__version__)
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"}),
    )
    tc = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)

    # upload_file, multipart: 13 MiB + 1 in 5 MiB parts.
    src = os.path.join(work, "upload.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(13 * MIB + 1))
    key = prefix + "upload.bin"
    s3.upload_file(src, bucket, key, Config=tc, ExtraArgs={"ContentType": "application/x-boto3", "Metadata": {"tool": "boto3"}})
    head = s3.head_object(Bucket=bucket, Key=key)
    check(head["ContentLength"] == 13 * MIB + 1, "upload_file size: got %r" % head["ContentLength"])
    check(head["ETag"].endswith('-3"'), "upload_file multipart ETag ends in -3: got %r" % head["ETag"])
    check(head["ContentType"] == "application/x-boto3", "upload_file ContentType: got %r" % head["ContentType"])
    check(head["Metadata"] == {"tool": "boto3"}, "upload_file metadata: got %r" % head["Metadata"])

    # download_file (ranged, parallel) and a full get_object.
    dst = os.path.join(work, "download.bin")
    s3.download_file(bucket, key, dst, Config=tc)
    check(sha256_file(dst) == sha256_file(src), "download_file content: sha256 differs")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    check(hashlib.sha256(body).hexdigest() == sha256_file(src), "get_object content: sha256 differs")

    # Managed copy above the threshold: multipart with UploadPartCopy ranges.
    copy_key = prefix + "copy-managed.bin"
    s3.copy({"Bucket": bucket, "Key": key}, bucket, copy_key, Config=tc)
    body = s3.get_object(Bucket=bucket, Key=copy_key)["Body"].read()
    check(hashlib.sha256(body).hexdigest() == sha256_file(src), "managed copy (UploadPartCopy) content: sha256 differs")
    # Single CopyObject with metadata replaced.
    s3.copy_object(Bucket=bucket, Key=prefix + "copy-single", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", Metadata={"copied": "yes"}, ContentType="text/plain")
    h = s3.head_object(Bucket=bucket, Key=prefix + "copy-single")
    check(h["Metadata"] == {"copied": "yes"} and h["ContentType"] == "text/plain",
          "copy_object REPLACE: got %r %r" % (h["Metadata"], h["ContentType"]))

    # list_objects_v2 paginator over 25 keys, 10 per page.
    names = [prefix + "list/k%02d" % i for i in range(25)]
    for n in names:
        s3.put_object(Bucket=bucket, Key=n, Body=n.encode())
    pages, listed = 0, []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "list/", PaginationConfig={"PageSize": 10}):
        pages += 1
        listed += [o["Key"] for o in page.get("Contents", [])]
    check(pages == 3, "list_objects_v2 paginator pages: got %d, want 3" % pages)
    check(listed == names, "list_objects_v2 paginator keys: got %r" % listed[:5])
    delim = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    cps = [p["Prefix"] for p in delim.get("CommonPrefixes", [])]
    check(cps == [prefix + "list/"], "list_objects_v2 delimiter: got %r" % cps)

    # delete_objects.
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": n} for n in names]})
    check(len(res.get("Deleted", [])) == 25 and not res.get("Errors"), "delete_objects: got %r" % res.get("Errors"))
    left = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "list/").get("KeyCount")
    check(left == 0, "after delete_objects: KeyCount %r" % left)

    # Presigned URLs.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": prefix + "copy-single"}, ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=60) as r:
        check(hashlib.sha256(r.read()).hexdigest() == sha256_file(src), "presigned GET content: sha256 differs")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": prefix + "presigned-put"}, ExpiresIn=300)
    req = urllib.request.Request(url, data=b"via presigned put", method="PUT")
    with urllib.request.urlopen(req, timeout=60) as r:
        check(r.status == 200, "presigned PUT status: got %r" % r.status)
    got = s3.get_object(Bucket=bucket, Key=prefix + "presigned-put")["Body"].read()
    check(got == b"via presigned put", "presigned PUT content: got %r" % got[:40])
    bad = url.replace("presigned-put", "presigned-other")
    try:
        urllib.request.urlopen(urllib.request.Request(bad, data=b"x", method="PUT"), timeout=60)
        check(False, "presigned URL for another key: accepted, want 403")
    except urllib.error.HTTPError as e:
        check(e.code == 403, "presigned URL for another key: status %r, want 403" % e.code)

    # Error codes.
    code, status = error_of(s3.get_object, Bucket=bucket, Key=prefix + "missing")
    check((code, status) == ("NoSuchKey", 404), "get_object missing key: got %r %r" % (code, status))
    code, status = error_of(s3.head_object, Bucket=bucket, Key=prefix + "missing")
    check(status == 404, "head_object missing key: got %r %r" % (code, status))
    code, status = error_of(s3.list_objects_v2, Bucket="lgbb-no-such-bucket-" + os.urandom(4).hex())
    check((code, status) == ("NoSuchBucket", 404), "list_objects_v2 missing bucket: got %r %r" % (code, status))
    code, status = error_of(s3.get_object, Bucket=bucket, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"')
    check((code, status) == ("PreconditionFailed", 412), "get_object If-Match other ETag: got %r %r" % (code, status))

    # Conditional write: botocore 1.29 has no IfNoneMatch parameter, so the
    # header is added before signing.
    def if_none_match(request, **_):
        request.headers["If-None-Match"] = "*"

    s3.meta.events.register("before-sign.s3.PutObject", if_none_match)
    try:
        code, status = error_of(s3.put_object, Bucket=bucket, Key=prefix + "presigned-put", Body=b"overwrite")
        check((code, status) == ("PreconditionFailed", 412), "put_object If-None-Match * on an existing key: got %r %r" % (code, status))
        s3.put_object(Bucket=bucket, Key=prefix + "conditional-new", Body=b"new")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", if_none_match)
    got = s3.get_object(Bucket=bucket, Key=prefix + "presigned-put")["Body"].read()
    check(got == b"via presigned put", "object after the refused conditional put: got %r" % got[:40])
    got = s3.get_object(Bucket=bucket, Key=prefix + "conditional-new")["Body"].read()
    check(got == b"new", "put_object If-None-Match * on a new key: got %r" % got[:40])

    # A zero-length upload with "Expect: 100-continue" (botocore adds it to
    # every file-like body, as aws s3 sync does for empty files) must leave
    # the pooled connection usable for the next upload. botocore <= 1.29
    # keeps the early final status line of a request that got no 100
    # Continue and misparses the next response on that connection, which
    # then hangs until the read timeout. One connection, no retries.
    one = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret, region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, max_pool_connections=1,
                      read_timeout=20, retries={"total_max_attempts": 1}),
    )
    one.put_object(Bucket=bucket, Key=prefix + "expect-empty", Body=io.BytesIO(b""))
    try:
        r = one.put_object(Bucket=bucket, Key=prefix + "expect-next", Body=io.BytesIO(b"x" * 100))
    except botocore.exceptions.ReadTimeoutError as e:
        check(False, "upload after a zero-length upload on the same connection: %s (the zero-length PUT with "
                     "Expect: 100-continue got its final response without 100 Continue)" % e)
    check(r.get("ETag") == '"%s"' % hashlib.md5(b"x" * 100).hexdigest(),
          "upload after a zero-length upload on the same connection: ETag %r" % r.get("ETag"))

    # Clean up what this script stored.
    rest = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    if rest:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in rest], "Quiet": True})
    print("all boto3 checks passed")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print("FAIL:", e)
        sys.exit(1)
    except ClientError as e:
        print("FAIL: unexpected S3 error:", e.response.get("Error"), e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any failure must fail the Go test
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
