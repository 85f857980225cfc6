package s3

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"

	"github.com/lakegate/lakegate/backends"
)

// Reserved user-metadata names (after "x-amz-meta-"), hidden from callers.
const (
	reservedPrefix   = "lakegate-"
	metaChecksums    = "lakegate-checksums"
	metaNoType       = "lakegate-no-content-type"
	metaExpires      = "lakegate-expires"
	userEscapePrefix = "lakegate-user-" // a caller's own "lakegate-*" names are stored behind this
	amzMetaPrefix    = "X-Amz-Meta-"
	headerTagging    = "X-Amz-Tagging"
)

// putOptions translates meta into minio-go PutObjectOptions (headers of a
// PutObject, CreateMultipartUpload or CopyObject with REPLACE). checksums
// are stored in the reserved metadata when not empty.
func putOptions(meta backends.Metadata, checksums map[string]string, unsigned bool) minio.PutObjectOptions {
	opts := minio.PutObjectOptions{
		ContentType:          meta.ContentType,
		ContentEncoding:      meta.ContentEncoding,
		ContentDisposition:   meta.ContentDisposition,
		ContentLanguage:      meta.ContentLanguage,
		CacheControl:         meta.CacheControl,
		DisableContentSha256: unsigned,
		UserMetadata:         metadataHeaders(meta, checksums),
		UserTags:             meta.Tags,
	}
	if t, ok := exactHTTPDate(meta.Expires); ok {
		opts.Expires = t
	}
	return opts
}

// metadataHeaders returns the x-amz-meta-* headers (user and reserved) for
// meta, as raw header names that minio-go passes through.
func metadataHeaders(meta backends.Metadata, checksums map[string]string) map[string]string {
	h := make(map[string]string, len(meta.User)+3)
	for k, v := range meta.User {
		k = strings.ToLower(k)
		if strings.HasPrefix(k, reservedPrefix) {
			k = userEscapePrefix + k
		}
		h[amzMetaPrefix+k] = v
	}
	if meta.ContentType == "" {
		h[amzMetaPrefix+metaNoType] = "1"
	}
	if meta.Expires != "" {
		if _, ok := exactHTTPDate(meta.Expires); !ok {
			h[amzMetaPrefix+metaExpires] = meta.Expires
		}
	}
	if len(checksums) > 0 {
		h[amzMetaPrefix+metaChecksums] = encodeChecksums(checksums)
	}
	return h
}

// copyHeaders is metadataHeaders plus the standard headers, for CopyObject
// with x-amz-metadata-directive REPLACE (minio-go's CopyObject takes raw
// headers only). Tags are not included.
func copyHeaders(meta backends.Metadata, checksums map[string]string) map[string]string {
	h := metadataHeaders(meta, checksums)
	set := func(k, v string) {
		if v != "" {
			h[k] = v
		}
	}
	set("Content-Type", meta.ContentType)
	set("Content-Encoding", meta.ContentEncoding)
	set("Content-Disposition", meta.ContentDisposition)
	set("Content-Language", meta.ContentLanguage)
	set("Cache-Control", meta.CacheControl)
	if _, ok := exactHTTPDate(meta.Expires); ok {
		h["Expires"] = meta.Expires
	}
	return h
}

// exactHTTPDate parses s as an HTTP date that minio-go re-formats to exactly
// s (http.TimeFormat), so it can be sent as the Expires header.
func exactHTTPDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(http.TimeFormat, s)
	if err != nil || t.UTC().Format(http.TimeFormat) != s {
		return time.Time{}, false
	}
	return t, true
}

// encodeTags encodes a tag set for the x-amz-tagging header as a URL query
// with %20 for spaces: Ceph RGW does not decode "+" in this header.
func encodeTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(queryEscape(k))
		sb.WriteByte('=')
		sb.WriteString(queryEscape(tags[k]))
	}
	return sb.String()
}

// queryEscape is url.QueryEscape with spaces as %20.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// encodeChecksums encodes algorithm -> base64 pairs as "ALGO:value,..." in
// algorithm order. Base64 never contains ':' or ','.
func encodeChecksums(sums map[string]string) string {
	algos := make([]string, 0, len(sums))
	for a := range sums {
		algos = append(algos, a)
	}
	sort.Strings(algos)
	var sb strings.Builder
	for i, a := range algos {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(a)
		sb.WriteByte(':')
		sb.WriteString(sums[a])
	}
	return sb.String()
}

// decodeChecksums parses encodeChecksums' format; malformed entries are
// dropped (the value comes from the backend, which anyone with its
// credentials may have written).
func decodeChecksums(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for _, e := range strings.Split(s, ",") {
		a, v, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok || a == "" || v == "" || !isChecksumAlgo(a) || !isBase64(v) {
			continue
		}
		out[a] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isChecksumAlgo reports whether a is an S3 checksum algorithm name.
func isChecksumAlgo(a string) bool {
	switch a {
	case backends.ChecksumCRC32, backends.ChecksumCRC32C, backends.ChecksumCRC64NVME,
		backends.ChecksumSHA1, backends.ChecksumSHA256:
		return true
	}
	return false
}

// isBase64 reports whether v consists of standard base64 characters, with
// an optional "-N" suffix of a composite checksum.
func isBase64(v string) bool {
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		if strings.Trim(v[i+1:], "0123456789") != "" || i+1 == len(v) {
			return false
		}
		v = v[:i]
	}
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// metadataFromHeaders rebuilds the caller-visible Metadata from the
// backend's response headers (HEAD or GET). Tags are not in the headers and
// are filled in separately; Checksums holds the reserved-metadata ones.
func metadataFromHeaders(h http.Header) backends.Metadata {
	var m backends.Metadata
	var noType bool
	var expires string
	for k, vs := range h {
		if len(k) <= len(amzMetaPrefix) || !strings.EqualFold(k[:len(amzMetaPrefix)], amzMetaPrefix) {
			continue
		}
		name := strings.ToLower(k[len(amzMetaPrefix):])
		v := strings.Join(vs, ",")
		switch {
		case name == metaChecksums:
			m.Checksums = decodeChecksums(v)
		case name == metaNoType:
			noType = true
		case name == metaExpires:
			expires = v
		case strings.HasPrefix(name, userEscapePrefix):
			setUser(&m, strings.TrimPrefix(name, userEscapePrefix), v)
		case strings.HasPrefix(name, reservedPrefix):
			// reserved for lakegate: not the caller's
		default:
			setUser(&m, name, v)
		}
	}
	if !noType {
		m.ContentType = h.Get("Content-Type")
	}
	m.ContentEncoding = h.Get("Content-Encoding")
	m.ContentDisposition = h.Get("Content-Disposition")
	m.ContentLanguage = h.Get("Content-Language")
	m.CacheControl = h.Get("Cache-Control")
	m.Expires = h.Get("Expires")
	if expires != "" {
		m.Expires = expires
	}
	return m
}

func setUser(m *backends.Metadata, k, v string) {
	if m.User == nil {
		m.User = map[string]string{}
	}
	m.User[k] = v
}

// trimETag removes the quotes around an ETag.
func trimETag(etag string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(etag), `"`), `"`)
}

// utf8Valid is utf8.ValidString, named for what the key check needs.
func utf8Valid(s string) bool { return utf8.ValidString(s) }

// mergeChecksums returns a's entries overlaid with b's (nil when both empty).
func mergeChecksums(a, b map[string]string) map[string]string {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// cloneMetadata returns a deep copy of m.
func cloneMetadata(m backends.Metadata) backends.Metadata {
	cp := m
	cp.User = cloneMap(m.User)
	cp.Checksums = cloneMap(m.Checksums)
	cp.Tags = cloneMap(m.Tags)
	return cp
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
