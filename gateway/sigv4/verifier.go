package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakegate/lakegate/gateway/s3err"
	"github.com/lakegate/lakegate/internal/identity"
)

// CredentialLookup finds the identity and secret key of an access key ID.
// It must be safe for concurrent use; *identity.Store implements it.
type CredentialLookup interface {
	Lookup(accessKey string) (identity.Identity, string, bool)
}

// Verifier authenticates S3 requests signed with AWS Signature Version 4,
// in the Authorization header or as a presigned URL, and wraps their
// bodies. A Verifier is safe for concurrent use; its fields must not change
// after the first call to Verify. See the Amazon S3 API Reference,
// "Authenticating Requests (AWS Signature Version 4)".
type Verifier struct {
	// Credentials resolves access key IDs. Required.
	Credentials CredentialLookup
	// Region, when set, is the only region accepted in the credential
	// scope. Default: "" (any region).
	Region string
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// MaxSkew is the largest accepted difference between the request time
	// and Now. Default: 15 minutes, as Amazon S3.
	MaxSkew time.Duration

	keys keyCache
}

// Request is the result of a successful Verify.
type Request struct {
	// Identity is who signed the request; the zero value when Anonymous.
	Identity identity.Identity
	// Anonymous is true for a request without any signature.
	Anonymous bool
	// Body is the decoded, verified payload. Never nil.
	Body *Body
}

// defaultMaxSkew is Amazon S3's allowance between request and server time.
const defaultMaxSkew = 15 * time.Minute

// errInvalidToken answers a request carrying x-amz-security-token: lakegate issues no temporary credentials.
var errInvalidToken = s3err.InvalidToken

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return defaultMaxSkew
}

// Verify authenticates r and wraps its body. A request is authenticated by
// its Authorization header (AWS4-HMAC-SHA256), by presigned query
// parameters (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders, X-Amz-Signature), or is anonymous when it has
// neither. The payload mode comes from x-amz-content-sha256 (required with
// the Authorization header; UNSIGNED-PAYLOAD by default for presigned URLs):
// UNSIGNED-PAYLOAD, a hex SHA-256 of the body,
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
// or STREAMING-UNSIGNED-PAYLOAD-TRAILER. Verify does not read the body, so
// net/http answers "Expect: 100-continue" only after authentication
// succeeded; body checks happen in Body.Read.
//
// Errors are *s3err.Error values: AccessDenied (unsigned x-amz-* headers,
// expired or not yet valid presigned URLs, missing date),
// SignatureDoesNotMatch, InvalidAccessKeyId, AuthorizationHeaderMalformed,
// AuthorizationQueryParametersError, RequestTimeTooSkewed, InvalidDigest
// (Content-MD5), InvalidArgument (both header and query signatures, an
// unknown authorization type or x-amz-content-sha256 value), InvalidRequest
// (missing x-amz-content-sha256, malformed x-amz-checksum-*, unsupported
// x-amz-trailer or checksum algorithm), InvalidToken (session tokens are not
// supported), and NotImplemented for Signature Version 2 and 4A.
func (v *Verifier) Verify(r *http.Request) (*Request, error) {
	authz := r.Header.Get("Authorization")
	presigned := isPresigned(r.URL.RawQuery)
	q2 := isPresignedV2(r.URL.RawQuery)
	switch {
	case len(r.Header.Values("Authorization")) > 1:
		return nil, s3err.InvalidArgument.With("Only one Authorization header is allowed.")
	case authz != "" && (presigned || q2):
		return nil, s3err.InvalidArgument.With("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case authz != "":
		return v.verifyHeader(r, authz)
	case presigned:
		return v.verifyPresigned(r)
	case q2:
		return nil, s3err.NotImplemented.With("AWS Signature Version 2 is not supported; use Signature Version 4.")
	}
	return v.anonymous(r)
}

// signedRequest is what the two signed forms share once parsed.
type signedRequest struct {
	f        authFields
	id       identity.Identity
	secret   string
	amzDate  string
	payload  string // the hashed payload line of the canonical request
	query    string // skip this query parameter (X-Amz-Signature)
	presign  bool
	malform  *s3err.Error // AuthorizationHeaderMalformed or AuthorizationQueryParametersError
	msgStart string       // its message prefix
}

func (v *Verifier) verifyHeader(r *http.Request, authz string) (*Request, error) {
	switch {
	case strings.HasPrefix(authz, algorithmHMAC+" "):
	case strings.HasPrefix(authz, algorithmECDSA):
		return nil, s3err.NotImplemented.With("AWS Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not implemented.")
	case strings.HasPrefix(authz, "AWS "):
		return nil, s3err.NotImplemented.With("AWS Signature Version 2 is not supported; use Signature Version 4.")
	default:
		return nil, s3err.InvalidArgument.With("Unsupported Authorization Type")
	}
	f, perr := parseAuthorization(authz)
	if perr != nil {
		return nil, perr
	}
	sr := signedRequest{f: f, malform: s3err.AuthorizationHeaderMalformed, msgStart: msgHeaderPrefix}
	if err := v.credentials(&sr, r.Header.Get("X-Amz-Security-Token")); err != nil {
		return nil, err
	}

	// The request time: x-amz-date, else Date (ISO 8601 basic or HTTP date).
	var t time.Time
	var ok bool
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, ok = parseAmzDate(d)
	} else if d := r.Header.Get("Date"); d != "" {
		if t, ok = parseAmzDate(d); !ok {
			var err error
			t, err = http.ParseTime(d)
			ok = err == nil
		}
	}
	if !ok {
		return nil, s3err.AccessDenied.With("AWS authentication requires a valid Date or x-amz-date header")
	}
	sr.amzDate = t.UTC().Format(iso8601Basic)
	if err := sr.checkScopeDate(); err != nil {
		return nil, err
	}
	if d := v.now().Sub(t); d > v.maxSkew() || -d > v.maxSkew() {
		return nil, s3err.RequestTimeTooSkewed
	}

	sr.payload = r.Header.Get("X-Amz-Content-Sha256")
	if sr.payload == "" {
		return nil, s3err.InvalidRequest.With("Missing required header for this request: x-amz-content-sha256")
	}
	if !contains(f.signedHeaders, "x-amz-content-sha256") {
		return nil, s3err.InvalidRequest.With("header 'x-amz-content-sha256' must be included in signature")
	}
	return v.finish(r, &sr)
}

func (v *Verifier) verifyPresigned(r *http.Request) (*Request, error) {
	f, perr := parsePresigned(r.URL.RawQuery)
	if perr != nil {
		return nil, perr
	}
	sr := signedRequest{f: f, presign: true, query: qSignature,
		malform: s3err.AuthorizationQueryParametersError, msgStart: msgQueryPrefix}
	token := f.securityToken
	if token == "" {
		token = r.Header.Get("X-Amz-Security-Token")
	}
	if err := v.credentials(&sr, token); err != nil {
		return nil, err
	}
	sr.amzDate = f.amzDate
	if err := sr.checkScopeDate(); err != nil {
		return nil, err
	}
	t, _ := parseAmzDate(f.amzDate)
	now := v.now()
	if t.Sub(now) > v.maxSkew() {
		return nil, s3err.AccessDenied.With("Request is not valid yet")
	}
	if now.After(t.Add(f.expires)) {
		return nil, s3err.AccessDenied.With("Request has expired")
	}
	// Presigned URLs sign UNSIGNED-PAYLOAD unless the client says otherwise.
	sr.payload = r.Header.Get("X-Amz-Content-Sha256")
	if sr.payload == "" {
		if p, ok := presignParams(r.URL.RawQuery); ok {
			sr.payload = p[qContentSHA256]
		}
	}
	if sr.payload == "" {
		sr.payload = unsignedPayload
	}
	return v.finish(r, &sr)
}

// credentials checks the credential scope and resolves the access key.
func (v *Verifier) credentials(sr *signedRequest, token string) error {
	c := sr.f.cred
	if v.Region != "" && c.region != v.Region {
		return sr.malform.With(sr.msgStart + "the region '" + c.region + "' is wrong; expecting '" + v.Region + "'")
	}
	id, secret, ok := v.Credentials.Lookup(c.accessKey)
	if !ok {
		return s3err.InvalidAccessKeyID
	}
	if token != "" {
		// lakegate issues no temporary credentials.
		return errInvalidToken
	}
	sr.id, sr.secret = id, secret
	return nil
}

// checkScopeDate requires the credential date to be the request's date.
func (sr *signedRequest) checkScopeDate() error {
	if sr.f.cred.date != sr.amzDate[:8] {
		msg := `Invalid credential date "` + sr.f.cred.date + `". This date is not the same as X-Amz-Date: "` + sr.amzDate[:8] + `".`
		if !sr.presign {
			msg = msgHeaderPrefix + msg
		}
		return sr.malform.With(msg)
	}
	return nil
}

// finish checks the signed headers and the signature, then wraps the body.
func (v *Verifier) finish(r *http.Request, sr *signedRequest) (*Request, error) {
	mode, err := classifyPayload(sr.payload)
	if err != nil {
		return nil, err
	}
	if err := checkSignedHeaders(r, sr.f.signedHeaders, sr.presign); err != nil {
		return nil, err
	}
	key := v.keys.get(sr.secret, sr.f.cred.date, sr.f.cred.region)
	sc := scope(sr.f.cred.date, sr.f.cred.region)
	headers := canonicalHeaders(r, sr.f.signedHeaders)
	var matched string
	for _, uri := range canonicalURIs(r) {
		for _, q := range canonicalQueries(r.URL.RawQuery, sr.query) {
			cr := canonicalRequest(r.Method, uri, q, headers, sr.f.signedRaw, sr.payload)
			sig := signHex(key, stringToSign(sr.amzDate, sc, cr))
			if subtle.ConstantTimeCompare([]byte(sig), []byte(sr.f.signature)) == 1 {
				matched = sig
			}
		}
	}
	if matched == "" {
		return nil, s3err.SignatureDoesNotMatch
	}
	var signer *chunkSigner
	if mode.streaming && mode.chunk.signed() {
		signer = &chunkSigner{key: key, amzDate: sr.amzDate, scope: sc, prev: matched}
	}
	body, err := newRequestBody(r, mode, signer)
	if err != nil {
		return nil, err
	}
	return &Request{Identity: sr.id, Body: body}, nil
}

func (v *Verifier) anonymous(r *http.Request) (*Request, error) {
	mode := payloadMode{}
	if p := r.Header.Get("X-Amz-Content-Sha256"); p != "" {
		var err error
		if mode, err = classifyPayload(p); err != nil {
			return nil, err
		}
		if mode.streaming && mode.chunk.signed() {
			return nil, s3err.InvalidRequest.With("A signed streaming payload requires a signed request.")
		}
	}
	body, err := newRequestBody(r, mode, nil)
	if err != nil {
		return nil, err
	}
	return &Request{Anonymous: true, Body: body}, nil
}

// payloadMode is the meaning of an x-amz-content-sha256 value.
type payloadMode struct {
	sha256    []byte // a hex SHA-256 of the body, decoded; nil otherwise
	streaming bool
	chunk     chunkMode
}

// classifyPayload interprets x-amz-content-sha256. See the Amazon S3 API
// Reference, "Authenticating Requests: Using the Authorization Header".
func classifyPayload(p string) (payloadMode, error) {
	switch p {
	case unsignedPayload:
		return payloadMode{}, nil
	case streamingSigned:
		return payloadMode{streaming: true, chunk: modeSigned}, nil
	case streamingSignedTrailer:
		return payloadMode{streaming: true, chunk: modeSignedTrailer}, nil
	case streamingUnsignedTrailer:
		return payloadMode{streaming: true, chunk: modeUnsignedTrailer}, nil
	case streamingECDSA, streamingECDSATrailer:
		return payloadMode{}, s3err.NotImplemented.With("AWS Signature Version 4A streaming payloads are not implemented.")
	}
	if sum, ok := decodeHexSHA256(p); ok {
		return payloadMode{sha256: sum}, nil
	}
	return payloadMode{}, s3err.InvalidArgument.With("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.")
}

// checkSignedHeaders requires host and every x-amz-* header of the request
// to be signed, as Amazon S3 does.
func checkSignedHeaders(r *http.Request, signed []string, presign bool) error {
	if !contains(signed, "host") {
		return s3err.AccessDenied.With("There were headers present in the request which were not signed: host")
	}
	var unsigned []string
	for name := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-amz-") && !contains(signed, l) {
			if presign && l == "x-amz-content-sha256" {
				// Its value is the payload line of the canonical request,
				// hence signed anyway.
				continue
			}
			unsigned = append(unsigned, l)
		}
	}
	if len(unsigned) > 0 {
		sort.Strings(unsigned)
		return s3err.AccessDenied.With("There were headers present in the request which were not signed: " + strings.Join(unsigned, ", "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// newRequestBody validates the integrity headers of r (Content-MD5,
// x-amz-checksum-*, x-amz-sdk-checksum-algorithm, x-amz-trailer,
// x-amz-decoded-content-length) and wraps r.Body accordingly. See the
// Amazon S3 User Guide, "Checking object integrity in Amazon S3".
func newRequestBody(r *http.Request, mode payloadMode, signer *chunkSigner) (*Body, error) {
	h := r.Header
	var wantMD5 []byte
	if vals := h.Values("Content-Md5"); len(vals) > 0 {
		b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(vals[0]))
		if err != nil || len(b) != 16 || len(vals) > 1 {
			return nil, s3err.InvalidDigest
		}
		wantMD5 = b
	}

	// At most one checksum algorithm, from a header or a trailer.
	var sum *runningChecksum
	multiple := s3err.InvalidRequest.With("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	// On CompleteMultipartUpload the x-amz-checksum-* headers describe the
	// assembled object (a composite "<base64>-N"), not the XML body; the
	// gateway checks them against the parts.
	complete := r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
	for _, a := range checksumAlgorithms {
		v := h.Get(a.header)
		if v == "" || complete {
			continue
		}
		if sum != nil {
			return nil, multiple
		}
		want, ok := a.decode(strings.TrimSpace(v))
		if !ok {
			return nil, s3err.InvalidRequest.With("Value for " + a.header + " header is invalid.")
		}
		sum = &runningChecksum{alg: a, want: want}
	}
	var declared []string
	if tv := h.Values("X-Amz-Trailer"); len(tv) > 0 {
		if !mode.streaming || mode.chunk == modeSigned {
			return nil, s3err.InvalidRequest.With("x-amz-trailer requires x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.")
		}
		for _, v := range tv {
			for _, name := range strings.Split(v, ",") {
				name = strings.ToLower(strings.TrimSpace(name))
				if name == "" {
					continue
				}
				a := checksumByHeader(name)
				if a == nil {
					return nil, s3err.InvalidRequest.With("The value specified in the x-amz-trailer header is not supported")
				}
				if sum != nil {
					return nil, multiple
				}
				sum = &runningChecksum{alg: a, fromTrailer: true}
				declared = append(declared, name)
			}
		}
	}
	if v := h.Get("X-Amz-Sdk-Checksum-Algorithm"); v != "" {
		a := checksumByName(strings.TrimSpace(v))
		if a == nil {
			return nil, s3err.InvalidRequest.With("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		if sum != nil && sum.alg != a {
			return nil, s3err.InvalidRequest.With("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		if sum == nil {
			sum = &runningChecksum{alg: a}
		}
	}
	if sum != nil {
		sum.h = sum.alg.newFn()
	}

	size := r.ContentLength
	var chunked *chunkedReader
	var src io.Reader
	if mode.streaming {
		size = -1
		if v := h.Get("X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, s3err.InvalidArgument.With("x-amz-decoded-content-length must be a non-negative integer.")
			}
			size = n
		}
		raw := r.Body
		if raw == nil {
			raw = noBody{}
		}
		chunked = newChunkedReader(raw, mode.chunk, signer, declared, size)
		src = chunked
	}
	b := newBody(r.Context(), r.Body, src, chunked, size)
	b.wantMD5 = wantMD5
	b.sum = sum
	if mode.sha256 != nil {
		b.wantSHA256 = mode.sha256
		b.sha = sha256.New()
	}
	return b, nil
}
