package s3

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/lakegate/lakegate/backends"
)

// copyPartConcurrency bounds the UploadPartCopy requests of one layout copy.
const copyPartConcurrency = 4

// CopyObject copies src to dst inside the backend (no bytes pass through
// lakegate). The copy keeps the source's ETag: a single-part source is
// copied with CopyObject (ETag = MD5 of the content); a multipart source is
// copied part by part with UploadPartCopy over the source's own part
// boundaries (from HEAD ?partNumber=N), so the "<hex>-N" ETag is kept, on
// backends whose CopyObject would compute a new one (MinIO, AWS); Ceph RGW
// keeps the multipart ETag on CopyObject. SourceIfMatch is checked and
// forwarded as x-amz-copy-source-if-match; the destination condition is
// checked with a HEAD before the copy (best effort, not atomic: Ceph RGW
// Pacific and MinIO have no conditional CopyObject). Errors as
// Stat and Put. See the Amazon S3 API Reference, CopyObject and
// UploadPartCopy.
func (b *Backend) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts backends.CopyOptions) (info backends.ObjectInfo, err error) {
	defer b.m.done("CopyObject", time.Now(), &err)
	sb, err := b.dataBucket(srcBucket)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	db, err := b.dataBucket(dstBucket)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := validKey(srcKey); err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := validKey(dstKey); err != nil {
		return backends.ObjectInfo{}, err
	}
	src, err := b.statRaw(ctx, sb, srcKey)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	srcInfo, err := b.objectInfo(ctx, sb, srcKey, src.Headers, src.Size, src.LastModified, src.UserTagCount)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if opts.SourceIfMatch != "" && opts.SourceIfMatch != srcInfo.ETag {
		return backends.ObjectInfo{}, fmt.Errorf("s3 copy %s/%s: source if-match: %w", sb, srcKey, backends.ErrPreconditionFailed)
	}
	if err := b.checkKeyForFlavor(ctx, dstKey); err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := b.checkCondition(ctx, db, dstKey, opts.Condition); err != nil {
		return backends.ObjectInfo{}, err
	}

	// The destination's metadata: the source's (COPY) or the given one
	// (REPLACE); content-derived checksums follow the content unless new
	// ones are given; tags follow the source unless ReplaceTags.
	meta := srcInfo.Metadata
	if opts.ReplaceMetadata {
		meta = cloneMetadata(opts.Metadata)
		if len(meta.Checksums) == 0 {
			meta.Checksums = srcInfo.Metadata.Checksums
		}
	}
	meta.Tags = srcInfo.Metadata.Tags
	if opts.ReplaceTags {
		meta.Tags = opts.Metadata.Tags
	}

	var etag string
	layout, err := b.copyLayout(ctx, sb, srcKey, srcInfo)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if layout != nil {
		etag, err = b.copyParts(ctx, sb, srcKey, db, dstKey, srcInfo.ETag, layout, meta)
	} else {
		etag, err = b.copyWhole(ctx, sb, srcKey, db, dstKey, srcInfo.ETag, meta, opts)
	}
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if etag != srcInfo.ETag {
		b.log.Warn("s3 copy: backend gave the copy a new etag", "bucket", db, "key", dstKey, "etag", etag, "source_etag", srcInfo.ETag)
	}
	// Checksums recorded beside the source follow the copy.
	if err := b.store.saveChecksums(db, dstKey, etag, b.store.loadChecksums(sb, srcKey, srcInfo.ETag)); err != nil {
		b.log.Warn("s3 copy: checksums not recorded", "bucket", db, "key", dstKey, "err", err)
	}
	return backends.ObjectInfo{
		Key:          dstKey,
		Size:         srcInfo.Size,
		ETag:         etag,
		LastModified: time.Now().UTC(),
		Metadata:     meta,
		PartsCount:   backends.PartsCountFromETag(etag),
	}, nil
}

// copyWhole is one server-side CopyObject.
func (b *Backend) copyWhole(ctx context.Context, sb, srcKey, db, dstKey, srcETag string, meta backends.Metadata, opts backends.CopyOptions) (string, error) {
	var headers map[string]string
	if opts.ReplaceMetadata || (sb == db && srcKey == dstKey) {
		// A copy onto itself must say REPLACE; the source's own metadata
		// then goes in again.
		headers = copyHeaders(meta, meta.Checksums)
		headers["x-amz-metadata-directive"] = "REPLACE"
	} else {
		headers = map[string]string{"x-amz-metadata-directive": "COPY"}
	}
	if opts.ReplaceTags {
		headers["x-amz-tagging-directive"] = "REPLACE"
		if len(meta.Tags) > 0 {
			headers[headerTagging] = encodeTags(meta.Tags)
		}
	}
	oi, err := b.core.CopyObject(ctx, sb, srcKey, db, dstKey, headers,
		minio.CopySrcOptions{Bucket: sb, Object: srcKey, MatchETag: srcETag}, minio.PutObjectOptions{})
	if err != nil {
		return "", b.copyError(ctx, err, db, dstKey)
	}
	b.bucketSeen(db)
	etag := trimETag(oi.ETag)
	// Tags: with the COPY tagging directive the backend copies them.
	// Ceph RGW Pacific drops them with a REPLACE metadata directive and
	// ignores x-amz-tagging-directive, so there they are set afterwards.
	switch {
	case b.getFlavor(ctx) == FlavorCeph && len(meta.Tags) > 0:
		if err := b.putTags(ctx, db, dstKey, meta.Tags); err != nil {
			return "", err
		}
	case opts.ReplaceTags && len(meta.Tags) == 0:
		if err := b.core.RemoveObjectTagging(ctx, db, dstKey, minio.RemoveObjectTaggingOptions{}); err != nil {
			return "", translate(err, "copy: remove tagging", db, dstKey)
		}
	}
	return etag, nil
}

// copyError translates a CopyObject error: a missing destination bucket is
// told apart from a missing source (both are 404s).
func (b *Backend) copyError(ctx context.Context, err error, db, dstKey string) error {
	terr := translate(err, "copy", db, dstKey)
	if errors.Is(terr, backends.ErrBucketNotFound) || errors.Is(terr, backends.ErrObjectNotFound) {
		if found, berr := b.bucketExists(ctx, db); berr == nil && !found {
			return fmt.Errorf("s3 copy to %s/%s: %w", db, dstKey, backends.ErrBucketNotFound)
		}
	}
	return terr
}

// copyLayout returns the part sizes of a multipart source when the backend
// reports them (HEAD ?partNumber=N) and would not keep the ETag on a plain
// CopyObject; nil means copy whole.
func (b *Backend) copyLayout(ctx context.Context, sb, key string, src backends.ObjectInfo) ([]int64, error) {
	n := src.PartsCount
	if n == 0 || b.getFlavor(ctx) == FlavorCeph {
		return nil, nil
	}
	sizes := make([]int64, n)
	var total int64
	for i := 1; i <= n; i++ {
		var so minio.StatObjectOptions
		so.PartNumber = i
		oi, err := b.core.StatObject(ctx, sb, key, so)
		if err != nil {
			return nil, translate(err, "stat part", sb, key)
		}
		if trimETag(oi.ETag) != src.ETag {
			return nil, fmt.Errorf("s3 copy %s/%s: source changed during copy: %w", sb, key, backends.ErrPreconditionFailed)
		}
		if i == 1 && oi.Size == src.Size && n > 1 {
			return nil, nil // partNumber ignored by this backend
		}
		sizes[i-1] = oi.Size
		total += oi.Size
	}
	if total != src.Size {
		return nil, nil
	}
	return sizes, nil
}

// copyParts copies the source part by part into a new multipart upload at
// the destination (not recorded: it is never visible as an upload to
// callers; on failure it is aborted).
func (b *Backend) copyParts(ctx context.Context, sb, srcKey, db, dstKey, srcETag string, sizes []int64, meta backends.Metadata) (string, error) {
	id, err := b.core.NewMultipartUpload(ctx, db, dstKey, putOptions(meta, meta.Checksums, b.unsigned))
	if err != nil {
		return "", b.copyError(ctx, err, db, dstKey)
	}
	ok := false
	defer func() {
		if !ok {
			if aerr := b.core.AbortMultipartUpload(context.WithoutCancel(ctx), db, dstKey, id); aerr != nil {
				b.log.Warn("s3 copy: abort of part copy failed", "bucket", db, "key", dstKey, "err", aerr)
			}
		}
	}()
	parts := make([]minio.CompletePart, len(sizes))
	errs := make([]error, len(sizes))
	sem := make(chan struct{}, copyPartConcurrency)
	var wg sync.WaitGroup
	var off int64
	for i, size := range sizes {
		start := off
		off += size
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			p, err := b.core.CopyObjectPart(ctx, sb, srcKey, db, dstKey, id, i+1, start, size,
				map[string]string{"x-amz-copy-source-if-match": srcETag})
			if err != nil {
				errs[i] = translate(err, "copy part", db, dstKey)
				return
			}
			parts[i] = minio.CompletePart{PartNumber: i + 1, ETag: trimETag(p.ETag)}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	up, err := b.core.CompleteMultipartUpload(ctx, db, dstKey, id, parts, minio.PutObjectOptions{})
	if err != nil {
		return "", translate(err, "copy: complete", db, dstKey)
	}
	ok = true
	etag := trimETag(up.ETag)
	if len(meta.Tags) > 0 && b.getFlavor(ctx) != FlavorMinIO && b.getFlavor(ctx) != FlavorAWS {
		if err := b.putTags(ctx, db, dstKey, meta.Tags); err != nil {
			return "", err
		}
	}
	return etag, nil
}
