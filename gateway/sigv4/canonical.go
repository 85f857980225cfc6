package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Constants of AWS Signature Version 4 for Amazon S3. See the Amazon S3 API
// Reference, "Authenticating Requests (AWS Signature Version 4)".
const (
	algorithmHMAC  = "AWS4-HMAC-SHA256"
	algorithmECDSA = "AWS4-ECDSA-P256-SHA256" // SigV4a: not implemented
	terminator     = "aws4_request"
	serviceS3      = "s3"
	iso8601Basic   = "20060102T150405Z"
	dateStamp      = "20060102"

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// Values of x-amz-content-sha256. See the Amazon S3 API Reference,
	// "Authenticating Requests: Using the Authorization Header".
	unsignedPayload           = "UNSIGNED-PAYLOAD"
	streamingSigned           = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer    = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer  = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingECDSA            = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	streamingECDSATrailer     = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
	chunkStringToSignPrefix   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerStringToSignPrefix = "AWS4-HMAC-SHA256-TRAILER"
)

// unreserved reports whether c is left as is by AWS URI encoding: A-Z, a-z,
// 0-9, '-', '.', '_' and '~'.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// uriEncode encodes s as SigV4 specifies ("UriEncode" in the Amazon S3 API
// Reference, "Create a canonical request"): every byte except the
// unreserved characters becomes %XX with upper-case hex; '/' is kept when
// keepSlash (object key paths) and encoded otherwise (query names/values).
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecode decodes %XX escapes; when plusSpace, '+' becomes ' ' (form
// encoding of query strings). ok is false for a malformed escape.
func percentDecode(s string, plusSpace bool) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", false
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, h<<4|l)
			i += 2
		case c == '+' && plusSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// rawPath returns the request path exactly as the client sent it, without
// the query, from the request line (r.RequestURI); absolute-form targets
// ("http://host/p") are reduced to their path.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" {
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		rest := p[strings.Index(p, "//")+2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		} else {
			p = "/"
		}
	}
	return p
}

// canonicalURIs returns the candidate canonical URIs for r: the path as
// sent, then, if different, the decoded path re-encoded with uriEncode. S3
// does not normalise or double-encode paths, but clients differ in which
// characters they escape on the wire ('=', '+', '@', '!', lower-case hex),
// and the second form is what the AWS SDKs sign. See the Amazon S3 API
// Reference, "Create a canonical request" (CanonicalURI).
func canonicalURIs(r *http.Request) []string {
	raw := rawPath(r)
	if raw == "" {
		raw = "/"
	}
	out := []string{raw}
	if dec, ok := percentDecode(raw, false); ok {
		if re := uriEncode(dec, true); re != raw {
			out = append(out, re)
		}
	}
	return out
}

// queryPair is one query parameter, URI-encoded for the canonical query.
type queryPair struct{ k, v string }

// canonicalQueries returns the candidate canonical query strings of
// rawQuery, excluding the parameter named skip (X-Amz-Signature for
// presigned URLs). Each name and value is decoded and re-encoded with
// uriEncode, and the pairs are sorted by name, then value. '+' in a query
// is ambiguous (a literal plus or a form-encoded space); when present, both
// readings are returned, the literal one first. See the Amazon S3 API
// Reference, "Create a canonical request" (CanonicalQueryString).
func canonicalQueries(rawQuery, skip string) []string {
	out := []string{canonicalQuery(rawQuery, skip, false)}
	if strings.IndexByte(rawQuery, '+') >= 0 {
		if alt := canonicalQuery(rawQuery, skip, true); alt != out[0] {
			out = append(out, alt)
		}
	}
	return out
}

func canonicalQuery(rawQuery, skip string, plusSpace bool) string {
	if rawQuery == "" {
		return ""
	}
	var pairs []queryPair
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, ok := percentDecode(k, plusSpace)
		if !ok {
			dk = k
		}
		if skip != "" && dk == skip {
			continue
		}
		dv, ok := percentDecode(v, plusSpace)
		if !ok {
			dv = v
		}
		pairs = append(pairs, queryPair{uriEncode(dk, false), uriEncode(dv, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// trimAll trims v and collapses runs of spaces to one, the "Trimall"
// function of SigV4 canonical headers.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// headerValue returns the canonical value of the signed header name (lower
// case) of r: values trimmed, inner spaces collapsed, several values joined
// with ','. Host comes from r.Host; Content-Length and Transfer-Encoding,
// which net/http may move out of r.Header, from r.ContentLength and
// r.TransferEncoding.
func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return trimAll(r.Host)
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return joinValues(v)
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	case "transfer-encoding":
		if v := r.Header.Values("Transfer-Encoding"); len(v) > 0 {
			return joinValues(v)
		}
		return strings.Join(r.TransferEncoding, ",")
	}
	return joinValues(r.Header.Values(name))
}

func joinValues(vs []string) string {
	if len(vs) == 1 {
		return trimAll(vs[0])
	}
	t := make([]string, len(vs))
	for i, v := range vs {
		t[i] = trimAll(v)
	}
	return strings.Join(t, ",")
}

// canonicalHeaders renders the CanonicalHeaders block ("name:value\n" for
// each signed header, in the order of SignedHeaders).
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalRequest assembles the SigV4 canonical request. See the Amazon S3
// API Reference, "Signature Calculations for the Authorization Header".
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(query) + len(headers) + len(signedHeaders) + len(payloadHash) + 5)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(headers)
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// stringToSign is "AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256 of
// the canonical request>".
func stringToSign(amzDate, scope, canonical string) string {
	return algorithmHMAC + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonical)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signHex returns the hex HMAC-SHA256 of s under the signing key.
func signHex(key []byte, s string) string {
	return hex.EncodeToString(hmacSHA256(key, s))
}

// deriveSigningKey computes HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date),
// region), service), "aws4_request").
func deriveSigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

// keyCache caches derived signing keys per (secret, date, region): they are
// valid for a whole day and cost four HMACs to derive. It holds at most
// maxKeys entries and is emptied when full (any region is accepted, so the
// key space is not bounded by configuration).
type keyCache struct {
	mu   sync.Mutex
	keys map[keyCacheKey][]byte
}

type keyCacheKey struct{ secret, date, region string }

const maxKeys = 1024

func (c *keyCache) get(secret, date, region string) []byte {
	k := keyCacheKey{secret, date, region}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.keys[k]; ok {
		return v
	}
	v := deriveSigningKey(secret, date, region, serviceS3)
	if c.keys == nil || len(c.keys) >= maxKeys {
		c.keys = make(map[keyCacheKey][]byte)
	}
	c.keys[k] = v
	return v
}

// scope is "<yyyymmdd>/<region>/s3/aws4_request".
func scope(date, region string) string {
	return date + "/" + region + "/" + serviceS3 + "/" + terminator
}

// parseAmzDate parses an ISO 8601 basic timestamp ("20130524T000000Z").
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(iso8601Basic) {
		return time.Time{}, false
	}
	t, err := time.Parse(iso8601Basic, s)
	return t, err == nil
}
