"""pytest plugin that adapts ceph/s3-tests to a lakegate gateway (our code, not the suite's).

Loaded by run.sh with ``-p lakegate_s3tests``. It does two things:

1. The suite's per-test cleanup lists every bucket with ListObjectVersions and
   deletes (key, version) pairs. lakegate implements no versioning and answers
   ListObjectVersions with NotImplemented, which would make every test after the
   first fail in setup. The cleanup's listing step is replaced by a plain
   ListObjectsV2 walk (plus aborting in-progress multipart uploads), so each test
   still starts and ends with no prefixed buckets.
2. It reads expected-failures.txt (path in LAKEGATE_S3TESTS_EXPECTED):
   ``deselect-marker M``, ``deselect T`` and ``deselect-prefix P`` lines remove
   tests from the run; ``fail T`` lines mark a test as an expected failure
   (non-strict xfail) unless LAKEGATE_S3TESTS_RAW=1, which reports raw results.
"""

import os

import pytest

_rules = None


def _load_rules():
    global _rules
    if _rules is not None:
        return _rules
    rules = {"deselect-marker": {}, "deselect": {}, "deselect-prefix": {}, "fail": {}}
    path = os.environ.get("LAKEGATE_S3TESTS_EXPECTED")
    if path:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 2)
                if len(parts) < 3 or parts[0] not in rules:
                    raise pytest.UsageError("%s:%d: want '<kind> <name> <reason>', got %r" % (path, n, line))
                rules[parts[0]][parts[1]] = parts[2]
    _rules = rules
    return rules


def _list_current(client, bucket, batch_size):
    """Yield batches of {'Key': k} for every object, as the suite's list_versions does."""
    kwargs = {"Bucket": bucket, "MaxKeys": batch_size}
    while True:
        res = client.list_objects_v2(**kwargs)
        keys = [{"Key": o["Key"]} for o in res.get("Contents", [])]
        if keys:
            yield keys
        if not res.get("IsTruncated"):
            break
        kwargs["ContinuationToken"] = res["NextContinuationToken"]
    kwargs = {"Bucket": bucket}
    while True:
        res = client.list_multipart_uploads(**kwargs)
        for u in res.get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        if not res.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = res["NextKeyMarker"]
        kwargs["UploadIdMarker"] = res["NextUploadIdMarker"]


def pytest_configure(config):
    import s3tests.functional as fn  # the checkout under test

    fn.list_versions = _list_current


def pytest_collection_modifyitems(config, items):
    rules = _load_rules()
    keep, drop = [], []
    raw = os.environ.get("LAKEGATE_S3TESTS_RAW") == "1"
    for item in items:
        name = getattr(item, "originalname", None) or item.name
        marks = {m.name for m in item.iter_markers()}
        if (name in rules["deselect"]
                or any(m in rules["deselect-marker"] for m in marks)
                or any(name.startswith(p) for p in rules["deselect-prefix"])):
            drop.append(item)
            continue
        if not raw and name in rules["fail"]:
            item.add_marker(pytest.mark.xfail(reason=rules["fail"][name], strict=False))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
