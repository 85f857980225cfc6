package gateway

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// errMarkerWithContent answers a write of a non-empty object at a key ending
// in "/". Documented lakegate behaviour: such keys are directory markers
// (Hadoop S3A's convention) and are stored only empty, on every backend, so
// that objects behave the same on hierarchical backends (posix, HDFS), which
// cannot hold bytes at a directory path, and on object stores.
var errMarkerWithContent = s3err.InvalidObjectName.With("lakegate stores a key ending in '/' only as an empty directory marker")

// errCopyToItself is S3's answer to a copy onto the source without a change.
var errCopyToItself = s3err.InvalidRequest.With("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")

// rejectUnsupportedWriteHeaders refuses write requests asking for features
// lakegate does not provide, rather than storing the object without them:
// server-side encryption (SSE-S3, SSE-KMS, SSE-C), Object Lock, website
// redirects, ACL grants other than private, storage classes other than
// STANDARD.
func rejectUnsupportedWriteHeaders(h http.Header) error {
	for name := range h {
		l := strings.ToLower(name)
		switch {
		case strings.HasPrefix(l, "x-amz-server-side-encryption"),
			strings.HasPrefix(l, "x-amz-copy-source-server-side-encryption"):
			return s3err.NotImplemented.With("server-side encryption is not implemented by lakegate")
		case strings.HasPrefix(l, "x-amz-object-lock-"):
			return s3err.NotImplemented.With("object lock is not implemented by lakegate")
		case l == "x-amz-website-redirect-location":
			return s3err.NotImplemented.With("website redirects are not implemented by lakegate")
		case strings.HasPrefix(l, "x-amz-grant-"):
			return s3err.NotImplemented.With("ACL grants are not implemented by lakegate")
		}
	}
	switch acl := h.Get("x-amz-acl"); acl {
	case "", "private", "bucket-owner-full-control":
	default:
		return s3err.NotImplemented.With("the canned ACL " + acl + " is not implemented by lakegate (objects are private)")
	}
	switch sc := h.Get("x-amz-storage-class"); sc {
	case "", "STANDARD":
	default:
		return s3err.InvalidStorageClass.With("lakegate stores every object in the STANDARD storage class")
	}
	return nil
}

// md5Optional is implemented by backends whose Put may go without the MD5
// of the body in PutOptions.Digest (backends/s3 with skip_etag_check: the
// backend computes the ETag itself and it is not checked). putObject then
// does not hash the body, unless the request carries Content-MD5, which is
// always verified. Hashing is most of the gateway's CPU on such PUTs
// (bench/RESULTS.md).
type md5Optional interface {
	// PutNeedsMD5 reports whether Put uses PutOptions.Digest().MD5.
	PutNeedsMD5() bool
}

// putOrCopyObject serves PUT on an object: CopyObject when
// x-amz-copy-source is present, PutObject otherwise.
func (s *Server) putOrCopyObject(rc *reqCtx) error {
	if len(rc.r.Header.Values("x-amz-copy-source")) > 0 {
		rc.op = "CopyObject"
		rc.log = s.log.With("request_id", rc.requestID, "op", rc.op)
		if !rc.auth.Anonymous {
			rc.log = rc.log.With("user", rc.auth.Identity.Name)
		}
		return s.copyObject(rc)
	}
	return s.putObject(rc)
}

// putObject streams the request body into the backend. See the Amazon S3 API
// Reference, PutObject.
//
// The body is never buffered. Its length, MD5 and verified checksums come
// from the authenticated body (package sigv4); a verification failure
// (BadDigest, XAmzContentSHA256Mismatch, ...) makes the backend discard the
// upload and is answered as that error. Conditional writes (If-None-Match: *,
// If-Match) are checked by the backend when the object becomes visible: 412
// PreconditionFailed, or 404 NoSuchKey for If-Match on a missing key. The
// response carries the quoted ETag and the x-amz-checksum-* values that were
// verified. Bodies over Config.MaxObjectSize are EntityTooLarge; a
// non-empty body at a key ending in "/" is InvalidObjectName (see
// errMarkerWithContent).
func (s *Server) putObject(rc *reqCtx) error {
	h := rc.r.Header
	if err := rejectUnsupportedWriteHeaders(h); err != nil {
		return err
	}
	meta, err := metadataFromHeaders(h)
	if err != nil {
		return err
	}
	cond, err := writeCondition(h)
	if err != nil {
		return err
	}
	size := rc.auth.Body.Size()
	if size < 0 && rc.r.ContentLength < 0 && h.Get("x-amz-decoded-content-length") == "" {
		return s3err.MissingContentLength
	}
	if size > s.cfg.MaxObjectSize {
		return s3err.EntityTooLarge
	}
	marker := strings.HasSuffix(rc.key, "/")
	if marker && size > 0 {
		return errMarkerWithContent
	}
	if mo, ok := rc.backend.(md5Optional); ok && !mo.PutNeedsMD5() {
		rc.auth.Body.SkipMD5()
	}
	body := &putBody{r: rc.body(), size: size, max: s.cfg.MaxObjectSize, markerOnly: marker}
	if size == 0 {
		// A backend may store an empty object without reading its body;
		// read to the end first so Content-MD5 and checksums are verified.
		if err := body.readEOF(); err != nil {
			return err
		}
	}
	info, err := rc.backend.Put(rc.ctx, rc.bucket, rc.key, body, backends.PutOptions{
		Size:      size,
		Metadata:  meta,
		Condition: cond,
		Digest:    rc.auth.Body.Digest,
	})
	if body.err != nil {
		// The body's own error (a failed verification, a short body) is the
		// cause, whatever the backend made of it.
		return body.err
	}
	if err != nil {
		return err
	}
	out := rc.w.Header()
	out.Set("ETag", quoteETag(info.ETag))
	setChecksumHeaders(out, rc.auth.Body.Digest().Checksums)
	out.Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
	return nil
}

// setChecksumHeaders echoes verified full-object checksums.
func setChecksumHeaders(h http.Header, sums map[string]string) {
	for algo, v := range sums {
		h.Set("x-amz-checksum-"+strings.ToLower(algo), v)
	}
	if len(sums) > 0 {
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
}

// putBody guards a PutObject body on its way to the backend. It remembers
// the first error the body returned, so that error is answered even if a
// backend reports it differently; it enforces the size limit and the
// directory-marker rule; and when the declared size has been delivered it
// reads on to the end of the body, so that trailing checksums are verified
// and the digest is final before the backend sees the last bytes.
type putBody struct {
	r          io.Reader
	size       int64 // declared decoded length, -1 if unknown
	max        int64
	markerOnly bool
	n          int64
	err        error
	eof        bool
}

func (b *putBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case n > 0 && b.markerOnly:
		b.err = errMarkerWithContent
		return 0, b.err
	case b.n > b.max:
		b.err = s3err.EntityTooLarge
		return 0, b.err
	case b.size >= 0 && b.n > b.size:
		b.err = s3err.IncompleteBody.With("the request body is longer than its declared length")
		return 0, b.err
	case err == io.EOF:
		b.eof = true
		if b.size >= 0 && b.n < b.size {
			b.err = s3err.IncompleteBody
			return 0, b.err
		}
		return n, io.EOF
	case err != nil:
		b.err = err
		return n, err
	}
	if b.size >= 0 && b.n == b.size {
		if err := b.readEOF(); err != nil {
			b.err = err
			return 0, err
		}
		return n, io.EOF
	}
	return n, nil
}

// readEOF reads past the declared end of the body and expects io.EOF.
func (b *putBody) readEOF() error {
	var one [1]byte
	for i := 0; i < 100; i++ {
		m, err := b.r.Read(one[:])
		if m > 0 {
			return s3err.IncompleteBody.With("the request body is longer than its declared length")
		}
		if err == io.EOF {
			b.eof = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// copyObjectResult is the body of a CopyObject response.
type copyObjectResult struct {
	XMLName           xml.Name `xml:"CopyObjectResult"`
	Xmlns             string   `xml:"xmlns,attr"`
	ETag              string   `xml:"ETag"`
	LastModified      string   `xml:"LastModified"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
}

// copyDirective reads x-amz-metadata-directive or x-amz-tagging-directive:
// COPY (the default) or REPLACE.
func copyDirective(h http.Header, name string) (replace bool, err error) {
	switch v := strings.ToUpper(strings.TrimSpace(h.Get(name))); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	default:
		return false, s3err.InvalidArgument.With("unknown " + name + " " + v + ": it must be COPY or REPLACE")
	}
}

// copyObject copies an object, server-side when source and destination are
// on the same backend and it implements backends.Copier, by streaming Open
// into Put otherwise. See the Amazon S3 API Reference, CopyObject.
//
// x-amz-metadata-directive and x-amz-tagging-directive choose between the
// source's metadata or tags (COPY, the default) and the request's (REPLACE).
// x-amz-copy-source-if-* are checked against the source (412 when they fail);
// If-None-Match: * and If-Match apply to the destination as on PutObject.
// Copying an object onto itself needs REPLACE (InvalidRequest otherwise, as
// S3). Sources larger than Config.MaxObjectSize are InvalidRequest, as S3's
// 5 GiB copy limit. The copy keeps the source's ETag when the source is a
// single-part object; the streamed copy of a multipart object gets the MD5
// of its content as ETag and keeps only full-object checksums.
func (s *Server) copyObject(rc *reqCtx) error {
	h := rc.r.Header
	if err := rejectUnsupportedWriteHeaders(h); err != nil {
		return err
	}
	if h.Get("x-amz-copy-source-range") != "" {
		return s3err.InvalidArgument.With("x-amz-copy-source-range is supported only by UploadPartCopy")
	}
	srcBucket, srcKey, err := parseCopySource(h.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	replaceMeta, err := copyDirective(h, "x-amz-metadata-directive")
	if err != nil {
		return err
	}
	replaceTags, err := copyDirective(h, "x-amz-tagging-directive")
	if err != nil {
		return err
	}
	cond, err := writeCondition(h)
	if err != nil {
		return err
	}
	if srcBucket == rc.bucket && srcKey == rc.key && !replaceMeta {
		return errCopyToItself
	}
	var reqMeta backends.Metadata
	if replaceMeta || replaceTags {
		if reqMeta, err = metadataFromHeaders(h); err != nil {
			return err
		}
	}
	src, srcBackend, err := s.sourceBackend(rc, srcBucket, srcKey)
	if err != nil {
		return err
	}
	if copier, ok := rc.backend.(backends.Copier); ok && srcBackend == rc.backendName {
		for attempt := 0; ; attempt++ {
			info, err := src.Stat(rc.ctx, srcBucket, srcKey)
			if err != nil {
				return err
			}
			if err := s.checkCopySource(rc, info); err != nil {
				return err
			}
			// SourceIfMatch pins the copy to the version the conditions and
			// the metadata were taken from.
			meta := copyMetadata(info, reqMeta, replaceMeta, replaceTags, true)
			out, err := copier.CopyObject(rc.ctx, srcBucket, srcKey, rc.bucket, rc.key, backends.CopyOptions{
				ReplaceMetadata: replaceMeta,
				ReplaceTags:     replaceTags,
				Metadata:        meta,
				SourceIfMatch:   info.ETag,
				Condition:       cond,
			})
			if errors.Is(err, backends.ErrPreconditionFailed) && attempt < 2 {
				if now, serr := src.Stat(rc.ctx, srcBucket, srcKey); serr == nil && now.ETag != info.ETag {
					continue // the source was replaced after Stat: copy the new version
				}
			}
			if err != nil {
				return err
			}
			return writeCopyResult(rc, out)
		}
	}
	rd, info, err := src.Open(rc.ctx, srcBucket, srcKey, backends.FullRange)
	if err != nil {
		return err
	}
	defer rd.Close()
	if err := s.checkCopySource(rc, info); err != nil {
		return err
	}
	meta := copyMetadata(info, reqMeta, replaceMeta, replaceTags, false)
	out, err := rc.backend.Put(rc.ctx, rc.bucket, rc.key, rd, backends.PutOptions{
		Size: info.Size, Metadata: meta, Condition: cond,
	})
	if err != nil {
		return err
	}
	return writeCopyResult(rc, out)
}

// checkCopySource applies x-amz-copy-source-if-*, the copy size limit and the
// directory-marker rule to the source object.
func (s *Server) checkCopySource(rc *reqCtx, info backends.ObjectInfo) error {
	if err := checkPreconditions(rc.r.Header, "x-amz-copy-source-", info, false); err != nil {
		return err
	}
	if info.Size > s.cfg.MaxObjectSize {
		return s3err.InvalidRequest.With("The specified copy source is larger than the maximum allowable size for a copy source: " +
			strconv.FormatInt(s.cfg.MaxObjectSize, 10))
	}
	if strings.HasSuffix(rc.key, "/") && info.Size > 0 {
		return errMarkerWithContent
	}
	return nil
}

// copyMetadata returns the destination's metadata: the source's or the
// request's (replaceMeta), with the source's or the request's tags
// (replaceTags). The source's checksums stay valid for the same bytes; a
// streamed copy (serverSide false) becomes a single-part object and keeps
// only full-object checksums.
func copyMetadata(src backends.ObjectInfo, req backends.Metadata, replaceMeta, replaceTags, serverSide bool) backends.Metadata {
	var m backends.Metadata
	if replaceMeta {
		m = req
	} else {
		m = src.Metadata
		m.User = cloneMap(src.Metadata.User)
	}
	m.Checksums = nil
	for algo, v := range src.Metadata.Checksums {
		if !serverSide && strings.Contains(v, "-") {
			continue
		}
		if m.Checksums == nil {
			m.Checksums = map[string]string{}
		}
		m.Checksums[algo] = v
	}
	if replaceTags {
		m.Tags = req.Tags
	} else {
		m.Tags = cloneMap(src.Metadata.Tags)
	}
	return m
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func writeCopyResult(rc *reqCtx, info backends.ObjectInfo) error {
	res := copyObjectResult{Xmlns: s3XMLNS, ETag: quoteETag(info.ETag), LastModified: xmlTime(info.LastModified)}
	for algo, v := range info.Metadata.Checksums {
		if strings.Contains(v, "-") {
			continue
		}
		switch algo {
		case backends.ChecksumCRC32:
			res.ChecksumCRC32 = v
		case backends.ChecksumCRC32C:
			res.ChecksumCRC32C = v
		case backends.ChecksumCRC64NVME:
			res.ChecksumCRC64NVME = v
		case backends.ChecksumSHA1:
			res.ChecksumSHA1 = v
		case backends.ChecksumSHA256:
			res.ChecksumSHA256 = v
		}
	}
	return writeXML(rc, http.StatusOK, res)
}

// deleteObject removes an object and answers 204 whether or not it existed.
// Conditional deletes (If-Match and the x-amz-if-match-* headers) are not
// implemented and are refused rather than ignored. See the Amazon S3 API
// Reference, DeleteObject.
func (s *Server) deleteObject(rc *reqCtx) error {
	h := rc.r.Header
	if h.Get("If-Match") != "" || h.Get("x-amz-if-match-last-modified-time") != "" || h.Get("x-amz-if-match-size") != "" {
		return s3err.NotImplemented.With("conditional deletes are not implemented by lakegate")
	}
	if err := rc.backend.Delete(rc.ctx, rc.bucket, rc.key); err != nil && !errors.Is(err, backends.ErrObjectNotFound) {
		return fmt.Errorf("delete %s/%s: %w", rc.bucket, rc.key, err)
	}
	rc.w.WriteHeader(http.StatusNoContent)
	return nil
}
