#!/usr/bin/env python3
"""s3util.py: bucket set-up and clean-up for test/spark/run.sh (boto3).

  s3util.py create ENDPOINT BUCKET [LOCATION]   CreateBucket with LocationConstraint LOCATION;
                                                exit 3 when the endpoint rejects LOCATION
                                                (InvalidLocationConstraint: no such backend)
  s3util.py purge ENDPOINT BUCKET               abort its uploads, delete every object, delete it
  s3util.py head ENDPOINT BUCKET                HeadBucket; exit 0 when it answers 200
  s3util.py purge-matching ENDPOINT REGEX       purge every bucket whose whole name matches REGEX
                                                (left behind by an interrupted run)

Keys come from S3_ACCESS_KEY / S3_SECRET_KEY; the region is us-east-1.
"""

import os
import re
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def client(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))


def create(endpoint, bucket, location=None):
    s3 = client(endpoint)
    kw = {"Bucket": bucket}
    if location:
        kw["CreateBucketConfiguration"] = {"LocationConstraint": location}
    try:
        s3.create_bucket(**kw)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        print("create %s on %s: %s" % (bucket, location or "(default)", e))
        return 3 if code == "InvalidLocationConstraint" else 1
    got = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    print("created %s (location %s)" % (bucket, got))
    return 0


def purge(endpoint, bucket):
    s3 = client(endpoint)
    try:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for u in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            # deepest keys first: hierarchical backends delete directory markers only when empty
            keys.sort(key=lambda k: -k["Key"].count("/"))
            for i in range(0, len(keys), 1000):
                r = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i:i + 1000], "Quiet": True})
                for err in r.get("Errors", []):
                    print("purge %s: %s: %s" % (bucket, err.get("Key"), err.get("Message")))
        s3.delete_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        print("purge %s: %s" % (bucket, e))
        return 1
    print("purged %s" % bucket)
    return 0


def head(endpoint, bucket):
    try:
        client(endpoint).head_bucket(Bucket=bucket)
    except ClientError as e:
        print("head %s: %s" % (bucket, e))
        return 1
    return 0


def purge_matching(endpoint, regex):
    rc = 0
    for b in client(endpoint).list_buckets().get("Buckets", []):
        if re.fullmatch(regex, b["Name"]):
            rc |= purge(endpoint, b["Name"])
    return rc


def main(argv):
    if len(argv) >= 3 and argv[0] == "create":
        return create(*argv[1:4])
    if len(argv) == 3 and argv[0] == "purge":
        return purge(*argv[1:3])
    if len(argv) == 3 and argv[0] == "head":
        return head(*argv[1:3])
    if len(argv) == 3 and argv[0] == "purge-matching":
        return purge_matching(*argv[1:3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
