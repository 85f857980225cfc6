package s3

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/lakegate/lakegate/backends"
)

// CreateBucket creates the backend bucket <bucket_prefix>bucket in the
// configured region. Errors: ErrBucketExists, ErrInvalidBucketName,
// ErrUnavailable. See the Amazon S3 API Reference, CreateBucket.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) (err error) {
	defer b.m.done("CreateBucket", time.Now(), &err)
	bb, err := b.backendBucket(bucket)
	if err != nil {
		return err
	}
	// Ceph RGW (like AWS in us-east-1) answers 200 when the caller already
	// owns the bucket; S3 semantics want BucketAlreadyOwnedByYou.
	found, err := b.core.BucketExists(ctx, bb)
	if err != nil {
		return translate(err, "create bucket", bb, "")
	}
	if found {
		return fmt.Errorf("s3 create bucket %s: %w", bb, backends.ErrBucketExists)
	}
	if err := b.core.MakeBucket(ctx, bb, minio.MakeBucketOptions{Region: b.cfg.Region}); err != nil {
		return translate(err, "create bucket", bb, "")
	}
	b.bucketSeen(bb)
	return nil
}

// DeleteBucket deletes the backend bucket. A bucket with objects or with
// in-progress multipart uploads (lakegate's records; MinIO would delete
// those silently) is ErrBucketNotEmpty. Errors: ErrBucketNotFound,
// ErrBucketNotEmpty, ErrUnavailable. See the Amazon S3 API Reference,
// DeleteBucket.
func (b *Backend) DeleteBucket(ctx context.Context, bucket string) (err error) {
	defer b.m.done("DeleteBucket", time.Now(), &err)
	bb, err := b.backendBucket(bucket)
	if err != nil {
		return fmt.Errorf("s3 delete bucket %q: %w", bucket, backends.ErrBucketNotFound)
	}
	recs, err := b.store.listUploads(bb)
	if err != nil {
		return err
	}
	for _, r := range recs {
		// A record whose upload the backend no longer knows is stale.
		_, lerr := b.core.ListObjectParts(ctx, bb, r.Key, r.UploadID, 0, 1)
		if lerr == nil {
			return fmt.Errorf("s3 delete bucket %s: upload of %q in progress: %w", bb, r.Key, backends.ErrBucketNotEmpty)
		}
		switch errorCode(lerr) {
		case "NoSuchUpload":
			b.store.removeUpload(bb, r.UploadID)
		case "NoSuchBucket":
			b.store.removeBucket(bb)
			return fmt.Errorf("s3 delete bucket %s: %w", bb, backends.ErrBucketNotFound)
		default:
			return translate(lerr, "delete bucket", bb, "")
		}
	}
	if err := b.core.RemoveBucket(ctx, bb); err != nil {
		return translate(err, "delete bucket", bb, "")
	}
	b.bucketForget(bb)
	if err := b.store.removeBucket(bb); err != nil {
		b.log.Warn("s3 delete bucket: state not removed", "bucket", bb, "err", err)
	}
	return nil
}

// HeadBucket returns the bucket's name and creation time. Errors:
// ErrBucketNotFound, ErrInvalidBucketName, ErrUnavailable. See the Amazon S3
// API Reference, HeadBucket (the creation time comes from ListBuckets).
func (b *Backend) HeadBucket(ctx context.Context, bucket string) (info backends.BucketInfo, err error) {
	defer b.m.done("HeadBucket", time.Now(), &err)
	bb, err := b.backendBucket(bucket)
	if err != nil {
		return backends.BucketInfo{}, err
	}
	all, err := b.core.ListBuckets(ctx)
	if err != nil {
		return backends.BucketInfo{}, translate(err, "head bucket", bb, "")
	}
	for _, bi := range all {
		if bi.Name == bb {
			b.bucketSeen(bb)
			return backends.BucketInfo{Name: bucket, Created: bi.CreationDate}, nil
		}
	}
	// Not ours to list (another owner) or missing: HEAD tells which.
	found, err := b.core.BucketExists(ctx, bb)
	if err != nil {
		return backends.BucketInfo{}, translate(err, "head bucket", bb, "")
	}
	if !found {
		return backends.BucketInfo{}, fmt.Errorf("s3 head bucket %s: %w", bb, backends.ErrBucketNotFound)
	}
	return backends.BucketInfo{Name: bucket}, nil
}

// ListBuckets returns the backend buckets whose names start with
// bucket_prefix, with the prefix removed, sorted by name. See the Amazon S3
// API Reference, ListBuckets.
func (b *Backend) ListBuckets(ctx context.Context) (out []backends.BucketInfo, err error) {
	defer b.m.done("ListBuckets", time.Now(), &err)
	all, err := b.core.ListBuckets(ctx)
	if err != nil {
		return nil, translate(err, "list buckets", "", "")
	}
	for _, bi := range all {
		name, ok := strings.CutPrefix(bi.Name, b.cfg.BucketPrefix)
		if !ok || !backends.ValidBucketName(name) {
			continue
		}
		out = append(out, backends.BucketInfo{Name: name, Created: bi.CreationDate})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
