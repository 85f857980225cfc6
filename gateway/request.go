package gateway

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// maxXMLBody is the largest XML request body accepted (DeleteObjects with 1000
// keys of 1024 bytes fits comfortably), in bytes.
const maxXMLBody = 2 << 20

// maxUserMetadata is S3's limit on the size of user-defined metadata (names
// and values of x-amz-meta-* headers), in bytes.
const maxUserMetadata = 2048

// writeXML sends v as an XML document with the given status.
func writeXML(rc *reqCtx, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	rc.w.Header().Set("Content-Type", "application/xml")
	rc.w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	rc.w.WriteHeader(status)
	_, _ = io.WriteString(rc.w, xml.Header)
	_, _ = rc.w.Write(body)
	return nil
}

// readXML decodes an XML request body of at most maxXMLBody bytes into v.
// Errors: MaxMessageLengthExceeded, MalformedXML, and body verification errors.
func readXML(rc *reqCtx, v any) error {
	data, err := io.ReadAll(io.LimitReader(rc.body(), maxXMLBody+1))
	if err != nil {
		return err
	}
	if len(data) > maxXMLBody {
		return s3err.MaxMessageLengthExceeded
	}
	if len(data) == 0 {
		return s3err.MalformedXML.With("the request body is empty")
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return s3err.MalformedXML
	}
	return nil
}

// quoteETag returns the ETag header form of an unquoted ETag.
func quoteETag(etag string) string { return `"` + etag + `"` }

// unquoteETag strips quotes (and a weak validator prefix) from a client ETag.
func unquoteETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// metadataFromHeaders reads the object metadata a PutObject,
// CreateMultipartUpload or CopyObject (REPLACE) request carries: standard
// content headers, x-amz-meta-* user metadata (at most 2 KiB, S3's limit) and
// x-amz-tagging. Content-Encoding "aws-chunked" is transport framing and is
// removed. Errors: MetadataTooLarge, InvalidTag, InvalidArgument.
func metadataFromHeaders(h http.Header) (backends.Metadata, error) {
	m := backends.Metadata{
		ContentType:        h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}
	m.ContentEncoding = storedContentEncoding(h.Get("Content-Encoding"))
	size := 0
	for name, vals := range h {
		lname := strings.ToLower(name)
		if !strings.HasPrefix(lname, "x-amz-meta-") {
			continue
		}
		k := strings.TrimPrefix(lname, "x-amz-meta-")
		if k == "" {
			return m, s3err.InvalidArgument.With("empty user metadata name")
		}
		v := strings.Join(vals, ",")
		size += len(k) + len(v)
		if m.User == nil {
			m.User = map[string]string{}
		}
		m.User[k] = v
	}
	if size > maxUserMetadata {
		return m, s3err.MetadataTooLarge
	}
	if t := h.Get("x-amz-tagging"); t != "" {
		tags, err := parseTagQuery(t)
		if err != nil {
			return m, err
		}
		m.Tags = tags
	}
	return m, nil
}

// storedContentEncoding returns the Content-Encoding to store for an
// object: the request's value as sent, without the "aws-chunked" transport
// coding, which describes the request body only. A value without
// aws-chunked is kept byte for byte ("deflate, gzip" stays as is); when
// aws-chunked is removed, the remaining codings are joined with ", ".
func storedContentEncoding(v string) string {
	var enc []string
	chunked := false
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		switch {
		case strings.EqualFold(e, "aws-chunked"):
			chunked = true
		case e != "":
			enc = append(enc, e)
		}
	}
	if !chunked {
		return strings.TrimSpace(v)
	}
	return strings.Join(enc, ", ")
}

// parseTagQuery parses the URL-query form of a tag set (x-amz-tagging).
func parseTagQuery(s string) (map[string]string, error) {
	vals, err := url.ParseQuery(s)
	if err != nil {
		return nil, s3err.InvalidTag.With("the x-amz-tagging header is not a valid URL query")
	}
	tags := map[string]string{}
	for k, v := range vals {
		if len(v) != 1 {
			return nil, s3err.InvalidTag.With("duplicate tag key " + k)
		}
		tags[k] = v[0]
	}
	return tags, validateTags(tags)
}

// validateTags applies S3's tag limits: at most 10 tags, keys of 1..128 and
// values of 0..256 Unicode characters.
func validateTags(tags map[string]string) error {
	if len(tags) > 10 {
		return s3err.InvalidTag.With("object tags cannot be greater than 10")
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n == 0 || n > 128 || !utf8.ValidString(k) {
			return s3err.InvalidTag.With("the tag key is empty or longer than 128 characters")
		}
		if utf8.RuneCountInString(v) > 256 || !utf8.ValidString(v) {
			return s3err.InvalidTag.With("the tag value is longer than 256 characters")
		}
	}
	return nil
}

// setObjectHeaders writes the headers describing info on HEAD/GET responses.
// Checksums are added only when withChecksums (x-amz-checksum-mode: ENABLED
// on a whole-object read).
func setObjectHeaders(h http.Header, info backends.ObjectInfo, withChecksums bool) {
	h.Set("ETag", quoteETag(info.ETag))
	h.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	ct := info.Metadata.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Accept-Ranges", "bytes")
	for k, v := range map[string]string{
		"Content-Encoding":    info.Metadata.ContentEncoding,
		"Content-Disposition": info.Metadata.ContentDisposition,
		"Content-Language":    info.Metadata.ContentLanguage,
		"Cache-Control":       info.Metadata.CacheControl,
		"Expires":             info.Metadata.Expires,
	} {
		if v != "" {
			h.Set(k, v)
		}
	}
	keys := make([]string, 0, len(info.Metadata.User))
	for k := range info.Metadata.User {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h["X-Amz-Meta-"+canonicalMetaName(k)] = []string{info.Metadata.User[k]}
	}
	if n := len(info.Metadata.Tags); n > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(n))
	}
	if withChecksums {
		for algo, v := range info.Metadata.Checksums {
			h.Set("x-amz-checksum-"+strings.ToLower(algo), v)
			if strings.Contains(v, "-") {
				h.Set("x-amz-checksum-type", "COMPOSITE")
			} else {
				h.Set("x-amz-checksum-type", "FULL_OBJECT")
			}
		}
	}
}

// canonicalMetaName returns the name as sent (lower case); HTTP/1.1 header
// names are case-insensitive and SDKs lower-case them anyway.
func canonicalMetaName(k string) string { return k }

// errNotModified is returned by checkPreconditions for a GET/HEAD that should
// answer 304.
var errNotModified = s3err.NotModified

// checkPreconditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since (prefix "") or their x-amz-copy-source-if-* forms
// (prefix "x-amz-copy-source-") against info, with S3's precedence rules:
// If-Match true wins over a false If-Unmodified-Since, and a false
// If-None-Match wins over a true If-Modified-Since. For GET/HEAD (readOnly) a
// failed If-None-Match or If-Modified-Since answers 304; otherwise 412.
// See the Amazon S3 API Reference, GetObject and CopyObject.
func checkPreconditions(h http.Header, prefix string, info backends.ObjectInfo, readOnly bool) error {
	get := func(name string) string {
		if prefix == "" {
			return h.Get(name)
		}
		return h.Get(prefix + strings.ToLower(name))
	}
	ifMatch, ifNoneMatch := get("If-Match"), get("If-None-Match")
	ifModSince, ifUnmodSince := get("If-Modified-Since"), get("If-Unmodified-Since")
	lm := info.LastModified.UTC().Truncate(time.Second)
	if ifMatch != "" {
		if !etagListMatches(ifMatch, info.ETag) {
			return s3err.PreconditionFailed
		}
	} else if ifUnmodSince != "" {
		if t, err := http.ParseTime(ifUnmodSince); err == nil && lm.After(t) {
			return s3err.PreconditionFailed
		}
	}
	if ifNoneMatch != "" {
		if etagListMatches(ifNoneMatch, info.ETag) {
			if readOnly {
				return errNotModified
			}
			return s3err.PreconditionFailed
		}
	} else if ifModSince != "" {
		if t, err := http.ParseTime(ifModSince); err == nil && !lm.After(t) {
			if readOnly {
				return errNotModified
			}
			return s3err.PreconditionFailed
		}
	}
	return nil
}

// etagListMatches reports whether a comma-separated If-Match/If-None-Match
// list contains "*" or etag.
func etagListMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || unquoteETag(e) == etag {
			return true
		}
	}
	return false
}

// writeCondition reads If-None-Match / If-Match of a conditional write
// (PutObject, CompleteMultipartUpload). If-None-Match accepts only "*".
func writeCondition(h http.Header) (backends.WriteCondition, error) {
	var c backends.WriteCondition
	if v := strings.TrimSpace(h.Get("If-None-Match")); v != "" {
		if v != "*" {
			return c, s3err.NotImplemented.With("If-None-Match on writes supports only '*'")
		}
		c.IfNoneMatchStar = true
	}
	if v := strings.TrimSpace(h.Get("If-Match")); v != "" {
		if v == "*" {
			return c, s3err.NotImplemented.With("If-Match: * on writes is not supported")
		}
		c.IfMatch = unquoteETag(v)
	}
	return c, nil
}

// parseCopySource parses x-amz-copy-source: "bucket/key" or "/bucket/key",
// URL-encoded, optionally with "?versionId=null". Errors: InvalidArgument,
// NotImplemented for other version IDs.
func parseCopySource(v string) (bucket, key string, err error) {
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", s3err.InvalidArgument.With("invalid x-amz-copy-source")
		}
		if vid := q.Get("versionId"); vid != "" && vid != "null" {
			return "", "", s3err.NotImplemented.With("versioning is not implemented by lakegate")
		}
	}
	p, perr := url.PathUnescape(path)
	if perr != nil {
		return "", "", s3err.InvalidArgument.With("invalid x-amz-copy-source encoding")
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, ok := strings.Cut(p, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", s3err.InvalidArgument.With("x-amz-copy-source must be bucket/key")
	}
	if len(key) > 1024 {
		return "", "", s3err.KeyTooLongError
	}
	return bucket, key, nil
}

// sourceBackend resolves the bucket of a copy source, authorizing the read.
func (s *Server) sourceBackend(rc *reqCtx, bucket, key string) (backends.Backend, string, error) {
	d, err := s.cfg.Authorizer.Authorize(rc.ctx, AuthzRequest{
		Identity: rc.auth.Identity, Anonymous: rc.auth.Anonymous, Action: "s3:GetObject",
		Operation: rc.op, Bucket: bucket, Key: key, RequestID: rc.requestID,
	})
	if err != nil || !d.Allow {
		return nil, "", s3err.AccessDenied
	}
	name, b, err := s.buckets.lookup(rc.ctx, bucket)
	if err != nil {
		return nil, "", err
	}
	return b, name, nil
}

// isNotFound reports a missing object or bucket.
func isNotFound(err error) bool {
	return errors.Is(err, backends.ErrObjectNotFound) || errors.Is(err, backends.ErrBucketNotFound)
}
