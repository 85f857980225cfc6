package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/lakegate/lakegate/backends"
)

// Stat returns the object's info: size, ETag, last modified time, metadata
// (content type and standard headers, user metadata, tags, checksums) and
// parts count. Errors: ErrBucketNotFound, ErrObjectNotFound,
// ErrInvalidObjectName, ErrUnavailable. See the Amazon S3 API Reference,
// HeadObject.
func (b *Backend) Stat(ctx context.Context, bucket, key string) (info backends.ObjectInfo, err error) {
	defer b.m.done("Stat", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := validKey(key); err != nil {
		return backends.ObjectInfo{}, err
	}
	oi, err := b.statRaw(ctx, bb, key)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	return b.objectInfo(ctx, bb, key, oi.Headers, oi.Size, oi.LastModified, oi.UserTagCount)
}

// statRaw HEADs the object and tells a missing bucket from a missing key
// (HEAD errors have no body).
func (b *Backend) statRaw(ctx context.Context, bb, key string) (minio.ObjectInfo, error) {
	oi, err := b.core.StatObject(ctx, bb, key, minio.StatObjectOptions{})
	if err == nil {
		b.bucketSeen(bb)
		return oi, nil
	}
	if isNotFound(err) {
		found, berr := b.bucketExists(ctx, bb)
		if berr != nil {
			return minio.ObjectInfo{}, translate(berr, "head bucket", bb, "")
		}
		if !found {
			return minio.ObjectInfo{}, fmt.Errorf("s3 stat %s/%s: %w", bb, key, backends.ErrBucketNotFound)
		}
		return minio.ObjectInfo{}, fmt.Errorf("s3 stat %s/%s: %w", bb, key, backends.ErrObjectNotFound)
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode == http.StatusBadRequest && strings.HasPrefix(resp.Code, "400 ") {
		// A HEAD has no error body: a bare 400 is a key the backend refuses
		// (MinIO: "..", "." path segments).
		return minio.ObjectInfo{}, fmt.Errorf("s3 stat %s/%s: backend status 400: %w", bb, key, backends.ErrInvalidObjectName)
	}
	return minio.ObjectInfo{}, translate(err, "stat", bb, key)
}

// objectInfo builds ObjectInfo from the backend's headers, adding tags
// (one GetObjectTagging when the object has any) and recorded checksums.
func (b *Backend) objectInfo(ctx context.Context, bb, key string, h http.Header, size int64, mtime time.Time, tagCount int) (backends.ObjectInfo, error) {
	etag := trimETag(h.Get("ETag"))
	info := backends.ObjectInfo{
		Key:          key,
		Size:         size,
		ETag:         etag,
		LastModified: mtime,
		Metadata:     metadataFromHeaders(h),
		PartsCount:   backends.PartsCountFromETag(etag),
	}
	if sums := b.store.loadChecksums(bb, key, etag); len(sums) > 0 {
		info.Metadata.Checksums = mergeChecksums(info.Metadata.Checksums, sums)
	}
	if tagCount > 0 {
		t, err := b.core.GetObjectTagging(ctx, bb, key, minio.GetObjectTaggingOptions{})
		if err != nil {
			return backends.ObjectInfo{}, translate(err, "get tagging", bb, key)
		}
		info.Metadata.Tags = t.ToMap()
	}
	return info, nil
}

// Open streams bytes [rng.Offset, rng.Offset+rng.Length) of the object from
// one GET (so the bytes and the returned info belong to the same object).
// Read errors after the backend went away wrap ErrUnavailable; a short body
// is never reported as io.EOF. Errors as Stat, plus ErrInvalidRange when
// rng.Offset >= Size of a non-empty object. See the Amazon S3 API
// Reference, GetObject.
func (b *Backend) Open(ctx context.Context, bucket, key string, rng backends.Range) (rc io.ReadCloser, info backends.ObjectInfo, err error) {
	defer b.m.done("Open", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	if err := validKey(key); err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	if rng.Offset < 0 {
		return nil, backends.ObjectInfo{}, fmt.Errorf("s3 get %s/%s: negative offset: %w", bucket, key, backends.ErrInvalidRange)
	}
	if rng.Length == 0 {
		// An empty range: no GET needed, but the object must exist and the
		// offset be valid.
		st, err := b.Stat(ctx, bucket, key)
		if err != nil {
			return nil, backends.ObjectInfo{}, err
		}
		if st.Size > 0 && rng.Offset >= st.Size {
			return nil, backends.ObjectInfo{}, fmt.Errorf("s3 get %s/%s: %w", bucket, key, backends.ErrInvalidRange)
		}
		return io.NopCloser(bytes.NewReader(nil)), st, nil
	}
	var gopts minio.GetObjectOptions
	switch {
	case rng.Offset == 0 && rng.Length < 0:
		// whole object: no Range header (a zero-byte object has no byte 0)
	case rng.Length < 0:
		gopts.SetRange(rng.Offset, 0)
	default:
		gopts.SetRange(rng.Offset, rng.Offset+rng.Length-1)
	}
	body, oi, h, err := b.core.GetObject(ctx, bb, key, gopts)
	if err != nil {
		terr := translate(err, "get", bb, key)
		if errors.Is(terr, backends.ErrInvalidRange) && rng.Offset == 0 {
			// bytes=0-N of a zero-byte object: the contract serves it empty.
			st, serr := b.Stat(ctx, bucket, key)
			if serr == nil && st.Size == 0 {
				return io.NopCloser(bytes.NewReader(nil)), st, nil
			}
		}
		return nil, backends.ObjectInfo{}, terr
	}
	b.bucketSeen(bb)
	size := oi.Size
	if total, ok := contentRangeTotal(h.Get("Content-Range")); ok {
		size = total
	}
	info, err = b.objectInfo(ctx, bb, key, h, size, oi.LastModified, oi.UserTagCount)
	if err != nil {
		body.Close()
		return nil, backends.ObjectInfo{}, err
	}
	return &failingReadCloser{rc: body, bucket: bb, key: key}, info, nil
}

// contentRangeTotal returns the complete length from a Content-Range header
// "bytes a-b/total".
func contentRangeTotal(v string) (int64, bool) {
	i := strings.LastIndexByte(v, '/')
	if i < 0 || !strings.HasPrefix(v, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Put stores body at key with one PUT when the size is known (streamed, not
// retried: the body cannot be replayed). With opts.Size -1 it buffers up to
// part_size bytes: a body that fits is stored with one PUT, a longer one
// with a multipart upload of part_size parts (ETag "<hex>-N"). The ETag the
// backend returns must equal the gateway's MD5 (opts.Digest), else Put
// fails. Conditions are forwarded to the backend, which checks them
// atomically (the multipart path checks them before completing only).
// Errors: ErrBucketNotFound, ErrInvalidObjectName, ErrPreconditionFailed,
// ErrObjectNotFound (If-Match on a missing key), ErrUnavailable, or the body's
// own error. See the Amazon S3 API Reference, PutObject.
func (b *Backend) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (info backends.ObjectInfo, err error) {
	defer b.m.done("Put", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := validKey(key); err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := b.checkKeyForFlavor(ctx, key); err != nil {
		return backends.ObjectInfo{}, err
	}
	if opts.Size < 0 {
		return b.putUnknownSize(ctx, bucket, bb, key, body, opts)
	}
	return b.putSized(ctx, bb, key, body, opts.Size, opts)
}

// PutNeedsMD5 reports whether Put uses the MD5 of PutOptions.Digest: to
// check the ETag the backend returns, unless skip_etag_check is set. The
// gateway does not hash a PutObject body this method says is not needed.
func (b *Backend) PutNeedsMD5() bool { return !b.cfg.SkipETagCheck }

// checkKeyForFlavor refuses keys the backend would silently store under
// another name: MinIO drops a leading "/" ("/a" becomes "a"). It also makes
// sure the flavor is known before a write (rgwTransport needs it).
func (b *Backend) checkKeyForFlavor(ctx context.Context, key string) error {
	if b.getFlavor(ctx) == FlavorMinIO && strings.HasPrefix(key, "/") {
		return fmt.Errorf("s3 key %q: minio cannot store a leading slash: %w", key, backends.ErrInvalidObjectName)
	}
	return nil
}

// putSized is one streaming PUT of exactly size bytes.
func (b *Backend) putSized(ctx context.Context, bb, key string, body io.Reader, size int64, opts backends.PutOptions) (backends.ObjectInfo, error) {
	er := newExactReader(ctx, body, size)
	if size == 0 {
		// minio-go sends no body for size 0: check the body is empty now.
		if _, err := er.Read(make([]byte, 1)); err != io.EOF {
			return backends.ObjectInfo{}, er.bodyError("put", bb, key)
		}
	}
	popts := putOptions(opts.Metadata, opts.Metadata.Checksums, b.unsigned)
	setWriteCondition(&popts, opts.Condition)
	up, err := b.core.PutObject(ctx, bb, key, er, size, "", "", popts)
	if err != nil {
		if berr := er.bodyError("put", bb, key); berr != nil {
			return backends.ObjectInfo{}, berr
		}
		if cerr := ctx.Err(); cerr != nil {
			return backends.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: %w", bb, key, cerr)
		}
		return backends.ObjectInfo{}, b.writeError(ctx, err, "put", bb, key, opts.Condition)
	}
	b.bucketSeen(bb)
	return b.finishPut(bb, key, trimETag(up.ETag), size, opts, false)
}

// finishPut checks the backend's ETag against the gateway's digest, records
// checksums that arrived with the digest, and returns the new object's info.
func (b *Backend) finishPut(bb, key, etag string, size int64, opts backends.PutOptions, multipart bool) (backends.ObjectInfo, error) {
	var digest backends.Digest
	if opts.Digest != nil {
		digest = opts.Digest()
	}
	if !multipart && !b.cfg.SkipETagCheck && len(digest.MD5) > 0 {
		if want := hex.EncodeToString(digest.MD5); !strings.EqualFold(etag, want) {
			b.log.Error("s3 put: backend etag differs from the content md5", "bucket", bb, "key", key, "etag", etag, "md5", want)
			return backends.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: backend stored etag %s, content md5 is %s", bb, key, etag, want)
		}
	}
	// Checksums that were not in the request headers: bind them to the ETag.
	extra := map[string]string{}
	for a, v := range digest.Checksums {
		if opts.Metadata.Checksums[a] != v {
			extra[a] = v
		}
	}
	if err := b.store.saveChecksums(bb, key, etag, extra); err != nil {
		b.log.Warn("s3 put: checksums not recorded", "bucket", bb, "key", key, "err", err)
	}
	meta := cloneMetadata(opts.Metadata)
	meta.Checksums = mergeChecksums(meta.Checksums, extra)
	return backends.ObjectInfo{
		Key:          key,
		Size:         size,
		ETag:         etag,
		LastModified: time.Now().UTC(),
		Metadata:     meta,
		PartsCount:   backends.PartsCountFromETag(etag),
	}, nil
}

// putUnknownSize buffers up to part_size bytes; see Put.
func (b *Backend) putUnknownSize(ctx context.Context, bucket, bb, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	buf := make([]byte, b.cfg.PartSize)
	n, err := io.ReadFull(body, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return b.putSized(ctx, bb, key, bytes.NewReader(buf[:n]), int64(n), opts)
	case err != nil:
		return backends.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: reading body: %w", bb, key, err)
	}
	// Longer than one part: a multipart upload. Conditions can only be
	// checked before it completes.
	if err := b.checkCondition(ctx, bb, key, opts.Condition); err != nil {
		return backends.ObjectInfo{}, err
	}
	counter := &countingReader{ctx: ctx, r: io.MultiReader(bytes.NewReader(buf), body)}
	popts := putOptions(opts.Metadata, opts.Metadata.Checksums, b.unsigned)
	popts.PartSize = uint64(b.cfg.PartSize)
	popts.NumThreads = 1
	up, err := b.core.Client.PutObject(ctx, bb, key, counter, -1, popts)
	if err != nil {
		if counter.err != nil {
			return backends.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: reading body: %w", bb, key, counter.err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return backends.ObjectInfo{}, fmt.Errorf("s3 put %s/%s: %w", bb, key, cerr)
		}
		return backends.ObjectInfo{}, translate(err, "put", bb, key)
	}
	b.bucketSeen(bb)
	etag := trimETag(up.ETag)
	if etag == "" {
		// Ceph RGW Pacific: no ETag minio-go can read from the completion.
		if oi, serr := b.statRaw(ctx, bb, key); serr == nil {
			etag = trimETag(oi.ETag)
		}
	}
	if len(opts.Metadata.Tags) > 0 && b.getFlavor(ctx) != FlavorMinIO && b.getFlavor(ctx) != FlavorAWS {
		if err := b.putTags(ctx, bb, key, opts.Metadata.Tags); err != nil {
			return backends.ObjectInfo{}, err
		}
	}
	return b.finishPut(bb, key, etag, counter.n, opts, true)
}

// countingReader counts bytes and keeps the first read error; once ctx is
// done it fails every Read (see exactReader).
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.err == nil {
		c.err = c.ctx.Err()
	}
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// setWriteCondition adds If-None-Match / If-Match headers.
func setWriteCondition(popts *minio.PutObjectOptions, c backends.WriteCondition) {
	if c.IfNoneMatchStar {
		popts.SetMatchETagExcept("*")
	}
	if c.IfMatch != "" {
		popts.SetMatchETag(c.IfMatch)
	}
}

// writeError translates a failed conditional or plain write. A 412 for
// If-Match is ErrObjectNotFound when the key is absent (Ceph RGW answers
// 412 there, the contract says not found).
func (b *Backend) writeError(ctx context.Context, err error, op, bb, key string, c backends.WriteCondition) error {
	terr := translate(err, op, bb, key)
	var resp minio.ErrorResponse
	if (c.IfMatch != "" || c.IfNoneMatchStar) && errors.As(err, &resp) && resp.StatusCode == http.StatusInternalServerError {
		// Ceph RGW answers a conditional write that lost a race (its RADOS
		// compare-and-write was cancelled) with 500 UnknownError. If the
		// object no longer satisfies the condition, another writer won.
		oi, serr := b.statRaw(ctx, bb, key)
		switch {
		case c.IfNoneMatchStar && serr == nil,
			c.IfMatch != "" && serr == nil && trimETag(oi.ETag) != c.IfMatch:
			return fmt.Errorf("s3 %s %s/%s: lost a race with another writer: %w", op, bb, key, backends.ErrConditionalConflict)
		}
	}
	if c.IfMatch != "" && errors.Is(terr, backends.ErrPreconditionFailed) {
		if _, serr := b.statRaw(ctx, bb, key); errors.Is(serr, backends.ErrObjectNotFound) {
			return fmt.Errorf("s3 %s %s/%s: if-match on a missing key: %w", op, bb, key, backends.ErrObjectNotFound)
		}
	}
	return terr
}

// checkCondition checks c against the current object with a HEAD (best
// effort: not atomic with the write that follows).
func (b *Backend) checkCondition(ctx context.Context, bb, key string, c backends.WriteCondition) error {
	if !c.IfNoneMatchStar && c.IfMatch == "" {
		return nil
	}
	oi, err := b.statRaw(ctx, bb, key)
	switch {
	case errors.Is(err, backends.ErrObjectNotFound):
		if c.IfMatch != "" {
			return fmt.Errorf("s3 %s/%s: if-match on a missing key: %w", bb, key, backends.ErrObjectNotFound)
		}
		return nil
	case err != nil:
		return err
	case c.IfNoneMatchStar:
		return fmt.Errorf("s3 %s/%s: if-none-match: object exists: %w", bb, key, backends.ErrPreconditionFailed)
	case trimETag(oi.ETag) != c.IfMatch:
		return fmt.Errorf("s3 %s/%s: if-match: etag differs: %w", bb, key, backends.ErrPreconditionFailed)
	}
	return nil
}

// Delete removes the object at key; a missing key succeeds. Errors:
// ErrBucketNotFound, ErrUnavailable. See the Amazon S3 API Reference,
// DeleteObject.
func (b *Backend) Delete(ctx context.Context, bucket, key string) (err error) {
	defer b.m.done("Delete", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return err
	}
	if err := validKey(key); err != nil {
		return err
	}
	if err := b.core.RemoveObject(ctx, bb, key, minio.RemoveObjectOptions{}); err != nil {
		return translate(err, "delete", bb, key)
	}
	b.bucketSeen(bb)
	if err := b.store.saveChecksums(bb, key, "", nil); err != nil {
		b.log.Warn("s3 delete: stale checksum record kept", "bucket", bb, "key", key, "err", err)
	}
	return nil
}

// List returns one page of ListObjectsV2 with StartAfter. Entries are
// objects and common prefixes in byte order, at most q.MaxKeys together.
// Listed objects carry key, size, ETag and last modified time only (S3
// listings have no metadata). Errors: ErrBucketNotFound, ErrUnavailable.
// See the Amazon S3 API Reference, ListObjectsV2.
func (b *Backend) List(ctx context.Context, bucket string, q backends.ListQuery) (res backends.ListResult, err error) {
	defer b.m.done("List", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return backends.ListResult{}, err
	}
	max := q.MaxKeys
	if max <= 0 || max > 1000 {
		max = 1000
	}
	if !utf8Valid(q.Prefix) || !utf8Valid(q.StartAfter) {
		// No stored key can start with invalid UTF-8 (S3 refuses such
		// keys); minio-go would refuse the request.
		found, err := b.bucketExists(ctx, bb)
		if err != nil {
			return backends.ListResult{}, translate(err, "list", bb, "")
		}
		if !found {
			return backends.ListResult{}, fmt.Errorf("s3 list %s: %w", bb, backends.ErrBucketNotFound)
		}
		return backends.ListResult{}, nil
	}
	// One more than asked: an entry equal to StartAfter (a common prefix
	// the backend rolls up again) is dropped below.
	ask := min(max+1, 1000)
	type result struct {
		r   minio.ListBucketV2Result
		err error
	}
	ch := make(chan result, 1)
	startAfter, token := q.StartAfter, ""
	if startAfter != "" && b.getFlavor(ctx) == FlavorMinIO {
		startAfter, token = "", minioContinuationToken(q.StartAfter)
	}
	go func() {
		// minio-go's Core.ListObjectsV2 takes no context; the transport's
		// timeouts bound it, ctx bounds the wait.
		r, err := b.core.ListObjectsV2(bb, q.Prefix, startAfter, token, q.Delimiter, ask)
		ch <- result{r, err}
	}()
	var lr minio.ListBucketV2Result
	select {
	case <-ctx.Done():
		return backends.ListResult{}, fmt.Errorf("s3 list %s: %w", bb, ctx.Err())
	case r := <-ch:
		if r.err != nil {
			return backends.ListResult{}, translate(r.err, "list", bb, "")
		}
		lr = r.r
	}
	b.bucketSeen(bb)
	type entry struct {
		name string
		obj  *backends.ObjectInfo
	}
	var entries []entry
	for _, o := range lr.Contents {
		if q.StartAfter != "" && o.Key <= q.StartAfter {
			continue
		}
		etag := trimETag(o.ETag)
		entries = append(entries, entry{o.Key, &backends.ObjectInfo{
			Key: o.Key, Size: o.Size, ETag: etag, LastModified: o.LastModified,
			PartsCount: backends.PartsCountFromETag(etag),
		}})
	}
	for _, p := range lr.CommonPrefixes {
		if q.StartAfter != "" && p.Prefix <= q.StartAfter {
			continue
		}
		entries = append(entries, entry{name: p.Prefix})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	if len(entries) > max {
		entries = entries[:max]
		res.IsTruncated = true
	} else if lr.IsTruncated {
		res.IsTruncated = true
	}
	for _, e := range entries {
		if e.obj != nil {
			res.Objects = append(res.Objects, *e.obj)
		} else {
			res.CommonPrefixes = append(res.CommonPrefixes, e.name)
		}
	}
	if res.IsTruncated {
		if len(entries) > 0 {
			res.NextStartAfter = entries[len(entries)-1].name
		} else {
			res.NextStartAfter = q.StartAfter
		}
	}
	return res, nil
}

// minioContinuationToken returns a MinIO continuation token that resumes a
// listing after startAfter. MinIO (verified with the pinned
// v0.0.0-20260212201848-7aac2a2c5b7c) loses keys when paging with
// start-after below nested prefixes ("a/y" skips "a/z/deep" and ends the
// listing early), while its own continuation tokens, base64 of the last key
// plus "[minio_cache:v2,return:]", page correctly; this builds one.
func minioContinuationToken(startAfter string) string {
	return base64.StdEncoding.EncodeToString([]byte(startAfter + "[minio_cache:v2,return:]"))
}

// PutObjectTagging replaces the object's tag set; an empty map removes all
// tags. Content, ETag and metadata are unchanged. Errors: ErrObjectNotFound,
// ErrBucketNotFound, ErrUnavailable. See the Amazon S3 API Reference,
// PutObjectTagging.
func (b *Backend) PutObjectTagging(ctx context.Context, bucket, key string, tagSet map[string]string) (err error) {
	defer b.m.done("PutObjectTagging", time.Now(), &err)
	bb, err := b.dataBucket(bucket)
	if err != nil {
		return err
	}
	if err := validKey(key); err != nil {
		return err
	}
	if len(tagSet) == 0 {
		// Removing tags of a missing object must fail as for putting them.
		if _, err := b.statRaw(ctx, bb, key); err != nil {
			return err
		}
		if err := b.core.RemoveObjectTagging(ctx, bb, key, minio.RemoveObjectTaggingOptions{}); err != nil {
			return translate(err, "delete tagging", bb, key)
		}
		return nil
	}
	return b.putTags(ctx, bb, key, tagSet)
}

// putTags sets the tag set of an existing object.
func (b *Backend) putTags(ctx context.Context, bb, key string, tagSet map[string]string) error {
	t, err := tags.NewTags(tagSet, true)
	if err != nil {
		return fmt.Errorf("s3 put tagging %s/%s: %w", bb, key, err)
	}
	if err := b.core.PutObjectTagging(ctx, bb, key, t, minio.PutObjectTaggingOptions{}); err != nil {
		return translate(err, "put tagging", bb, key)
	}
	return nil
}
