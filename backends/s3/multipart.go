package s3

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/lakegate/lakegate/backends"
)

// CreateMultipartUpload starts an upload at the backend (with meta's
// headers, user metadata and tags) and records it under state_dir. The
// upload ID is the backend's. Errors: ErrBucketNotFound,
// ErrInvalidObjectName, ErrUnavailable. See the Amazon S3 API Reference,
// CreateMultipartUpload.
func (b *Backend) CreateMultipartUpload(ctx context.Context, bucket, key string, meta backends.Metadata) (id string, err error) {
	defer b.m.done("CreateMultipartUpload", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return "", err
	}
	if err := validKey(key); err != nil {
		return "", err
	}
	if err := b.checkKeyForFlavor(ctx, key); err != nil {
		return "", err
	}
	meta = cloneMetadata(meta)
	meta.Checksums = nil // whole-object checksums of a multipart object come from its parts
	id, err = b.core.NewMultipartUpload(ctx, bb, key, putOptions(meta, nil, b.unsigned))
	if err != nil {
		return "", translate(err, "create multipart upload", bb, key)
	}
	b.bucketSeen(bb)
	rec := uploadRecord{Key: key, UploadID: id, Initiated: time.Now().UTC(), Metadata: meta}
	if err := b.store.saveUpload(bb, rec); err != nil {
		if aerr := b.core.AbortMultipartUpload(context.WithoutCancel(ctx), bb, key, id); aerr != nil {
			b.log.Warn("s3 create multipart upload: abort after failed record", "bucket", bb, "key", key, "err", aerr)
		}
		return "", err
	}
	return id, nil
}

// upload returns the record of uploadID for key, or ErrUploadNotFound.
func (b *Backend) upload(bucket, key, uploadID string) (string, uploadRecord, error) {
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return "", uploadRecord{}, fmt.Errorf("s3 upload %q: %w", uploadID, backends.ErrUploadNotFound)
	}
	if uploadID == "" {
		return "", uploadRecord{}, fmt.Errorf("s3 upload: empty upload id: %w", backends.ErrUploadNotFound)
	}
	rec, err := b.store.loadUpload(bb, key, uploadID)
	return bb, rec, err
}

// uploadGone handles NoSuchUpload from the backend: the record is stale
// (the upload was aborted or completed elsewhere), so it goes.
func (b *Backend) uploadGone(bb, uploadID string, err error) error {
	if errors.Is(err, backends.ErrUploadNotFound) {
		if rerr := b.store.removeUpload(bb, uploadID); rerr != nil {
			b.log.Warn("s3: stale upload record kept", "bucket", bb, "upload_id", uploadID, "err", rerr)
		}
	}
	return err
}

// UploadPart streams one part (exactly opts.Size bytes; unknown sizes are
// ErrNotImplemented: S3 parts need a length) to the backend. The part ETag
// the backend returns must equal the gateway's MD5 (opts.Digest). Checksums
// from opts.Digest are recorded for ListParts and the composite checksum.
// Errors: ErrUploadNotFound, ErrInvalidPart (part number outside
// 1..MaxPartNumber), ErrUnavailable, or the body's own error. See the Amazon
// S3 API Reference, UploadPart.
func (b *Backend) UploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, body io.Reader, opts backends.PutOptions) (pi backends.PartInfo, err error) {
	defer b.m.done("UploadPart", time.Now(), &err)
	bb, _, err := b.upload(bucket, key, uploadID)
	if err != nil {
		return backends.PartInfo{}, err
	}
	if partNumber < 1 || partNumber > backends.MaxPartNumber {
		return backends.PartInfo{}, fmt.Errorf("s3 upload part %d: %w", partNumber, backends.ErrInvalidPart)
	}
	if opts.Size < 0 {
		return backends.PartInfo{}, fmt.Errorf("s3 upload part %d of %s/%s: unknown size: %w", partNumber, bb, key, backends.ErrNotImplemented)
	}
	er := newExactReader(ctx, body, opts.Size)
	if opts.Size == 0 {
		if _, err := er.Read(make([]byte, 1)); err != io.EOF {
			return backends.PartInfo{}, er.bodyError("upload part", bb, key)
		}
	}
	part, err := b.core.PutObjectPart(ctx, bb, key, uploadID, partNumber, er, opts.Size,
		minio.PutObjectPartOptions{DisableContentSha256: b.unsigned})
	if err != nil {
		if berr := er.bodyError("upload part", bb, key); berr != nil {
			return backends.PartInfo{}, berr
		}
		if cerr := ctx.Err(); cerr != nil {
			return backends.PartInfo{}, fmt.Errorf("s3 upload part %s/%s: %w", bb, key, cerr)
		}
		return backends.PartInfo{}, b.uploadGone(bb, uploadID, translate(err, "upload part", bb, key))
	}
	etag := trimETag(part.ETag)
	var digest backends.Digest
	if opts.Digest != nil {
		digest = opts.Digest()
	}
	if !b.cfg.SkipETagCheck {
		if len(digest.MD5) > 0 {
			if want := hex.EncodeToString(digest.MD5); !strings.EqualFold(etag, want) {
				b.log.Error("s3 upload part: backend etag differs from the content md5", "bucket", bb, "key", key, "part", partNumber, "etag", etag, "md5", want)
				return backends.PartInfo{}, fmt.Errorf("s3 upload part %d of %s/%s: backend etag %s, content md5 %s", partNumber, bb, key, etag, want)
			}
		} else if !isMD5Hex(etag) {
			return backends.PartInfo{}, fmt.Errorf("s3 upload part %d of %s/%s: backend etag %q is not an md5", partNumber, bb, key, etag)
		}
	}
	if err := b.store.savePart(bb, uploadID, partNumber, partRecord{ETag: etag, Checksums: digest.Checksums}); err != nil {
		return backends.PartInfo{}, err
	}
	return backends.PartInfo{
		PartNumber:   partNumber,
		ETag:         etag,
		Size:         opts.Size,
		LastModified: time.Now().UTC(),
		Checksums:    cloneMap(digest.Checksums),
	}, nil
}

// isMD5Hex reports whether s is 32 hex digits.
func isMD5Hex(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// CompleteMultipartUpload checks the part list (ascending numbers, else
// ErrInvalidPartOrder) and the write condition (HEAD before the request,
// best effort; also forwarded, which MinIO and AWS enforce atomically, Ceph
// RGW Pacific ignores), completes the upload at the backend, records the
// composite checksums of the algorithms every part has, and sets tags the
// backend did not take at creation. Errors: ErrUploadNotFound,
// ErrInvalidPart, ErrInvalidPartOrder, ErrEntityTooSmall,
// ErrPreconditionFailed, ErrObjectNotFound (If-Match on a missing key),
// ErrUnavailable. See the Amazon S3 API Reference, CompleteMultipartUpload.
func (b *Backend) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []backends.CompletePart, cond backends.WriteCondition) (info backends.ObjectInfo, err error) {
	defer b.m.done("CompleteMultipartUpload", time.Now(), &err)
	bb, rec, err := b.upload(bucket, key, uploadID)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return backends.ObjectInfo{}, fmt.Errorf("s3 complete %s/%s: no parts: %w", bb, key, backends.ErrInvalidPart)
	}
	cps := make([]minio.CompletePart, len(parts))
	etags := make([]string, len(parts))
	for i, p := range parts {
		if i > 0 && p.PartNumber <= parts[i-1].PartNumber {
			return backends.ObjectInfo{}, fmt.Errorf("s3 complete %s/%s: part %d after %d: %w", bb, key, p.PartNumber, parts[i-1].PartNumber, backends.ErrInvalidPartOrder)
		}
		if p.PartNumber < 1 || p.PartNumber > backends.MaxPartNumber {
			return backends.ObjectInfo{}, fmt.Errorf("s3 complete %s/%s: part number %d: %w", bb, key, p.PartNumber, backends.ErrInvalidPart)
		}
		etag := trimETag(p.ETag)
		cps[i] = minio.CompletePart{PartNumber: p.PartNumber, ETag: etag}
		etags[i] = etag
	}
	if err := b.checkCondition(ctx, bb, key, cond); err != nil {
		return backends.ObjectInfo{}, err
	}
	// Composite checksums for the algorithms every listed part has.
	partSums := make([]map[string]string, len(parts))
	for i, p := range parts {
		partSums[i] = b.store.loadPart(bb, uploadID, p.PartNumber, etags[i])
	}
	composite := map[string]string{}
	if len(partSums) > 0 {
		for algo := range partSums[0] {
			vals := make([]string, 0, len(parts))
			for _, s := range partSums {
				if v, ok := s[algo]; ok {
					vals = append(vals, v)
				}
			}
			if len(vals) != len(parts) {
				continue
			}
			if c, err := backends.CompositeChecksum(algo, vals); err == nil {
				composite[algo] = c
			}
		}
	}

	var popts minio.PutObjectOptions
	setWriteCondition(&popts, cond)
	up, err := b.core.CompleteMultipartUpload(ctx, bb, key, uploadID, cps, popts)
	if err != nil {
		terr := b.writeError(ctx, err, "complete multipart upload", bb, key, cond)
		if errorCode(err) == "NoSuchUpload" {
			// Completed by an earlier attempt whose answer was lost? Then
			// the object has the expected ETag.
			want, merr := backends.MultipartETag(etags)
			if oi, serr := b.statRaw(ctx, bb, key); merr == nil && serr == nil && trimETag(oi.ETag) == want {
				return b.finishComplete(ctx, bb, key, uploadID, rec, want, composite)
			}
		}
		return backends.ObjectInfo{}, b.uploadGone(bb, uploadID, terr)
	}
	etag := trimETag(up.ETag)
	if etag == "" {
		// Ceph RGW Pacific's CompleteMultipartUploadResult has no usable
		// ETag for minio-go; the object has it.
		if oi, serr := b.statRaw(ctx, bb, key); serr == nil {
			etag = trimETag(oi.ETag)
		}
	}
	if want, merr := backends.MultipartETag(etags); merr == nil && etag != want {
		b.log.Warn("s3 complete: backend multipart etag differs from the S3 formula", "bucket", bb, "key", key, "etag", etag, "want", want)
	}
	return b.finishComplete(ctx, bb, key, uploadID, rec, etag, composite)
}

// finishComplete records checksums, applies tags, removes the upload record
// and returns the object's info.
func (b *Backend) finishComplete(ctx context.Context, bb, key, uploadID string, rec uploadRecord, etag string, composite map[string]string) (backends.ObjectInfo, error) {
	if err := b.store.saveChecksums(bb, key, etag, composite); err != nil {
		b.log.Warn("s3 complete: checksums not recorded", "bucket", bb, "key", key, "err", err)
	}
	if len(rec.Metadata.Tags) > 0 {
		// Ceph RGW ignores x-amz-tagging on CreateMultipartUpload.
		if f := b.getFlavor(ctx); f != FlavorMinIO && f != FlavorAWS {
			if err := b.putTags(ctx, bb, key, rec.Metadata.Tags); err != nil {
				return backends.ObjectInfo{}, err
			}
		}
	}
	if err := b.store.removeUpload(bb, uploadID); err != nil {
		b.log.Warn("s3 complete: upload record kept", "bucket", bb, "upload_id", uploadID, "err", err)
	}
	info := backends.ObjectInfo{Key: key, ETag: etag, LastModified: time.Now().UTC(), Metadata: cloneMetadata(rec.Metadata), PartsCount: backends.PartsCountFromETag(etag)}
	info.Metadata.Checksums = mergeChecksums(nil, composite)
	if oi, err := b.statRaw(ctx, bb, key); err == nil && trimETag(oi.ETag) == etag {
		info.Size, info.LastModified = oi.Size, oi.LastModified
	}
	return info, nil
}

// AbortMultipartUpload aborts the upload at the backend and removes its
// record. Errors: ErrUploadNotFound, ErrUnavailable. See the Amazon S3 API
// Reference, AbortMultipartUpload.
func (b *Backend) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) (err error) {
	defer b.m.done("AbortMultipartUpload", time.Now(), &err)
	bb, _, err := b.upload(bucket, key, uploadID)
	if err != nil {
		return err
	}
	if err := b.core.AbortMultipartUpload(ctx, bb, key, uploadID); err != nil {
		terr := translate(err, "abort multipart upload", bb, key)
		if !errors.Is(terr, backends.ErrUploadNotFound) {
			return terr
		}
		// Already gone at the backend: the record was stale; the abort
		// still succeeds from the caller's point of view once.
	}
	return b.store.removeUpload(bb, uploadID)
}

// ListParts returns the upload's parts with numbers above partNumberMarker,
// at most maxParts (1..1000, default 1000), from the backend, with the
// checksums recorded at UploadPart. Errors: ErrUploadNotFound,
// ErrUnavailable. See the Amazon S3 API Reference, ListParts.
func (b *Backend) ListParts(ctx context.Context, bucket, key, uploadID string, partNumberMarker, maxParts int) (res backends.ListPartsResult, err error) {
	defer b.m.done("ListParts", time.Now(), &err)
	bb, rec, err := b.upload(bucket, key, uploadID)
	if err != nil {
		return backends.ListPartsResult{}, err
	}
	if maxParts <= 0 || maxParts > 1000 {
		maxParts = 1000
	}
	lr, err := b.core.ListObjectParts(ctx, bb, key, uploadID, partNumberMarker, maxParts)
	if err != nil {
		return backends.ListPartsResult{}, b.uploadGone(bb, uploadID, translate(err, "list parts", bb, key))
	}
	for _, p := range lr.ObjectParts {
		etag := trimETag(p.ETag)
		res.Parts = append(res.Parts, backends.PartInfo{
			PartNumber:   p.PartNumber,
			ETag:         etag,
			Size:         p.Size,
			LastModified: p.LastModified,
			Checksums:    cloneMap(b.store.loadPart(bb, uploadID, p.PartNumber, etag)),
		})
	}
	res.IsTruncated = lr.IsTruncated
	if lr.IsTruncated {
		res.NextPartNumberMarker = lr.NextPartNumberMarker
		if res.NextPartNumberMarker == 0 && len(res.Parts) > 0 {
			res.NextPartNumberMarker = res.Parts[len(res.Parts)-1].PartNumber
		}
	}
	res.Upload = backends.UploadInfo{Key: rec.Key, UploadID: rec.UploadID, Initiated: rec.Initiated, Metadata: cloneMetadata(rec.Metadata)}
	return res, nil
}

// ListMultipartUploads lists in-progress uploads from lakegate's records,
// with prefix, delimiter, key and upload-ID markers and paging applied here
// (so it works on backends that match only exact keys). Errors:
// ErrBucketNotFound, ErrUnavailable. See the Amazon S3 API Reference,
// ListMultipartUploads.
func (b *Backend) ListMultipartUploads(ctx context.Context, bucket string, q backends.ListUploadsQuery) (res backends.ListUploadsResult, err error) {
	defer b.m.done("ListMultipartUploads", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return backends.ListUploadsResult{}, err
	}
	found, err := b.bucketExists(ctx, bb)
	if err != nil {
		return backends.ListUploadsResult{}, translate(err, "list multipart uploads", bb, "")
	}
	if !found {
		return backends.ListUploadsResult{}, fmt.Errorf("s3 list multipart uploads %s: %w", bb, backends.ErrBucketNotFound)
	}
	recs, err := b.store.listUploads(bb)
	if err != nil {
		return backends.ListUploadsResult{}, err
	}
	return pageUploads(recs, q), nil
}
