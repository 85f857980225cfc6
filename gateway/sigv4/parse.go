package sigv4

import (
	"strconv"
	"strings"
	"time"

	"github.com/lakegate/lakegate/gateway/s3err"
)

// credential is the parsed Credential (header) or X-Amz-Credential (query)
// value "<access key>/<yyyymmdd>/<region>/<service>/aws4_request".
type credential struct {
	accessKey, date, region, service string
}

// authFields are the signature parameters of a request, from the
// Authorization header or from presigned query parameters.
type authFields struct {
	cred          credential
	signedHeaders []string // lower-case names, in the order sent
	signedRaw     string   // SignedHeaders exactly as sent
	signature     string   // as sent; matched against lower-case hex
	// Presigned URLs only.
	amzDate       string
	expires       time.Duration
	securityToken string
}

// Messages AWS uses for malformed credentials, reused for the header
// (AuthorizationHeaderMalformed) and query (AuthorizationQueryParametersError)
// forms.
const (
	msgCredentialFormat = `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
	msgHeaderComponents = "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature."
	msgHeaderPrefix     = "The authorization header is malformed; "
	msgQueryPrefix      = "Error parsing the X-Amz-Credential parameter; "
	msgQueryRequired    = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)

// maxExpires is the longest validity of a presigned URL: 7 days, in seconds.
// See the Amazon S3 API Reference, "Authenticating Requests: Using Query
// Parameters (AWS Signature Version 4)".
const maxExpires = 604800

// parseCredential splits "<access key>/<date>/<region>/<service>/aws4_request".
// The access key is everything before the last four '/'. It returns a
// message (without prefix) on failure.
func parseCredential(s string) (credential, string) {
	parts := strings.Split(s, "/")
	if len(parts) < 5 {
		return credential{}, msgCredentialFormat
	}
	n := len(parts)
	c := credential{
		accessKey: strings.Join(parts[:n-4], "/"),
		date:      parts[n-4],
		region:    parts[n-3],
		service:   parts[n-2],
	}
	term := parts[n-1]
	if c.accessKey == "" || c.region == "" {
		return credential{}, msgCredentialFormat
	}
	if _, err := time.Parse(dateStamp, c.date); err != nil || len(c.date) != 8 {
		return credential{}, `incorrect date format "` + c.date + `". This date in the credential must be in the format "yyyyMMdd".`
	}
	if c.service != serviceS3 {
		return credential{}, `incorrect service "` + c.service + `". This endpoint belongs to "s3".`
	}
	if term != terminator {
		return credential{}, `incorrect terminal "` + term + `". This endpoint uses "aws4_request".`
	}
	return c, ""
}

// parseSignedHeaders splits "host;x-amz-date". Names must be non-empty,
// lower case and free of separators and white space.
func parseSignedHeaders(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	hs := strings.Split(s, ";")
	for _, h := range hs {
		if h == "" {
			return nil, false
		}
		for i := 0; i < len(h); i++ {
			c := h[i]
			if c <= ' ' || c >= 0x7f || c == ':' || c == ',' || 'A' <= c && c <= 'Z' {
				return nil, false
			}
		}
	}
	return hs, true
}

// parseAuthorization parses an "AWS4-HMAC-SHA256 Credential=...,
// SignedHeaders=..., Signature=..." Authorization header value. Components
// may come in any order, separated by ',' and optional white space; each is
// required exactly once. Errors are AuthorizationHeaderMalformed. See the
// Amazon S3 API Reference, "Authenticating Requests: Using the Authorization
// Header (AWS Signature Version 4)".
func parseAuthorization(v string) (authFields, *s3err.Error) {
	rest, ok := strings.CutPrefix(v, algorithmHMAC)
	if !ok || rest == "" || rest[0] != ' ' {
		return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
	}
	var f authFields
	var haveCred, haveSigned, haveSig bool
	for _, comp := range strings.Split(rest, ",") {
		comp = strings.TrimSpace(comp)
		k, val, found := strings.Cut(comp, "=")
		if !found {
			return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
		}
		switch k {
		case "Credential":
			if haveCred {
				return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
			}
			haveCred = true
			c, msg := parseCredential(val)
			if msg != "" {
				return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderPrefix + msg)
			}
			f.cred = c
		case "SignedHeaders":
			if haveSigned {
				return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
			}
			haveSigned = true
			hs, ok := parseSignedHeaders(val)
			if !ok {
				return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderPrefix + "the SignedHeaders component is malformed.")
			}
			f.signedHeaders, f.signedRaw = hs, val
		case "Signature":
			if haveSig || val == "" {
				return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
			}
			haveSig = true
			f.signature = val
		default:
			return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		return authFields{}, s3err.AuthorizationHeaderMalformed.With(msgHeaderComponents)
	}
	return f, nil
}

// Presigned URL query parameter names (case-sensitive, as AWS sends them).
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"
	qContentSHA256 = "X-Amz-Content-Sha256"
)

// presignParams collects the X-Amz-* parameters of a raw query string
// (decoded; '+' read as a space, as in form encoding). A parameter given
// twice is an error.
func presignParams(rawQuery string) (map[string]string, bool) {
	m := make(map[string]string)
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if !strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		dv, ok := percentDecode(v, true)
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		m[k] = dv
	}
	return m, true
}

// queryHas reports whether the raw query has a parameter named exactly one
// of names (compared before decoding, as AWS clients send them).
func queryHas(rawQuery string, names ...string) bool {
	for _, part := range strings.Split(rawQuery, "&") {
		k, _, _ := strings.Cut(part, "=")
		for _, n := range names {
			if k == n {
				return true
			}
		}
	}
	return false
}

// isPresigned reports whether the raw query carries SigV4 presigned
// parameters.
func isPresigned(rawQuery string) bool {
	return queryHas(rawQuery, qAlgorithm, qSignature, qCredential)
}

// isPresignedV2 reports whether the raw query carries Signature Version 2
// query authentication (AWSAccessKeyId and Signature).
func isPresignedV2(rawQuery string) bool {
	return queryHas(rawQuery, "AWSAccessKeyId") && queryHas(rawQuery, "Signature")
}

// parsePresigned parses the query parameters of a SigV4 presigned URL.
// Errors are AuthorizationQueryParametersError, and NotImplemented for SigV4a
// (AWS4-ECDSA-P256-SHA256). See the Amazon S3 API Reference, "Authenticating
// Requests: Using Query Parameters (AWS Signature Version 4)".
func parsePresigned(rawQuery string) (authFields, *s3err.Error) {
	m, ok := presignParams(rawQuery)
	if !ok {
		return authFields{}, s3err.AuthorizationQueryParametersError.With("X-Amz-* query parameters must appear once and be correctly percent-encoded.")
	}
	alg, cred, date, exp, signed, sig := m[qAlgorithm], m[qCredential], m[qDate], m[qExpires], m[qSignedHeaders], m[qSignature]
	if alg == algorithmECDSA {
		return authFields{}, s3err.NotImplemented.With("AWS Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not implemented.")
	}
	if alg == "" || cred == "" || date == "" || exp == "" || signed == "" || sig == "" {
		return authFields{}, s3err.AuthorizationQueryParametersError.With(msgQueryRequired)
	}
	if alg != algorithmHMAC {
		return authFields{}, s3err.AuthorizationQueryParametersError.With(`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`)
	}
	var f authFields
	c, msg := parseCredential(cred)
	if msg != "" {
		return authFields{}, s3err.AuthorizationQueryParametersError.With(msgQueryPrefix + msg)
	}
	f.cred = c
	if _, ok := parseAmzDate(date); !ok {
		return authFields{}, s3err.AuthorizationQueryParametersError.With(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	f.amzDate = date
	secs, err := strconv.ParseInt(exp, 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		if strings.HasPrefix(exp, "-") {
			secs, err = -1, nil
		} else {
			secs, err = maxExpires+1, nil
		}
	}
	switch {
	case err != nil:
		return authFields{}, s3err.AuthorizationQueryParametersError.With("X-Amz-Expires should be a number")
	case secs < 0:
		return authFields{}, s3err.AuthorizationQueryParametersError.With("X-Amz-Expires must be non-negative")
	case secs > maxExpires:
		return authFields{}, s3err.AuthorizationQueryParametersError.With("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	f.expires = time.Duration(secs) * time.Second
	hs, ok := parseSignedHeaders(signed)
	if !ok {
		return authFields{}, s3err.AuthorizationQueryParametersError.With("X-Amz-SignedHeaders is malformed.")
	}
	f.signedHeaders, f.signedRaw = hs, signed
	f.signature = sig
	f.securityToken = m[qSecurityToken]
	return f, nil
}
