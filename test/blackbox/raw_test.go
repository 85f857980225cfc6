package blackbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Payload hash values of x-amz-content-sha256 (Amazon S3 API Reference,
// "Authenticating Requests: AWS Signature Version 4").
const (
	unsignedPayload        = "UNSIGNED-PAYLOAD"
	streamingSigned        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrail = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256            = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// rawReq is a hand-built S3 request.
type rawReq struct {
	Method   string
	Bucket   string // "" for a service-level request
	Key      string
	RawQuery string // exactly as sent, e.g. "uploadId=x&partNumber=1"
	Header   http.Header
	Body     []byte
	// BodyReader, when set, is sent instead of Body with ContentLength.
	BodyReader    io.Reader
	ContentLength int64
	// PayloadHash is x-amz-content-sha256 and the signed payload hash.
	// Default: the hex SHA-256 of Body.
	PayloadHash string
	Anonymous   bool
	// Creds overrides the suite's credentials.
	Creds *aws.Credentials
	// Time is the signing time. Default: now.
	Time time.Time
	// AfterSign runs on the signed request before it is sent (tampering).
	AfterSign func(*http.Request)
}

func (b *bctx) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: env.accessKey, SecretAccessKey: env.secretKey}
}

// s3Escape URI-encodes a key as SigV4 and S3 expect: every byte except
// unreserved characters and '/'.
func s3Escape(key string) string {
	var sb strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

func rawURL(bucket, key, rawQuery string) string {
	u := env.endpoint + "/"
	if bucket != "" {
		u += bucket
		if key != "" {
			u += "/" + s3Escape(key)
		}
	}
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

// build returns the signed (or anonymous) request.
func (b *bctx) build(r rawReq) *http.Request {
	b.t.Helper()
	var body io.Reader = bytes.NewReader(r.Body)
	if r.BodyReader != nil {
		body = r.BodyReader
	}
	req, err := http.NewRequest(r.Method, rawURL(r.Bucket, r.Key, r.RawQuery), body)
	if err != nil {
		b.t.Fatalf("building %s request: %v", r.Method, err)
	}
	if r.BodyReader != nil {
		req.ContentLength = r.ContentLength
	} else if len(r.Body) == 0 {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if !r.Anonymous {
		ph := r.PayloadHash
		if ph == "" {
			s := sha256.Sum256(r.Body)
			ph = hex.EncodeToString(s[:])
		}
		req.Header.Set("X-Amz-Content-Sha256", ph)
		creds := b.creds()
		if r.Creds != nil {
			creds = *r.Creds
		}
		when := r.Time
		if when.IsZero() {
			when = time.Now()
		}
		err := v4.NewSigner().SignHTTP(context.Background(), creds, req, ph, "s3", env.region, when,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			b.t.Fatalf("signing: %v", err)
		}
	}
	if r.AfterSign != nil {
		r.AfterSign(req)
	}
	return req
}

// do sends r through the checking transport and reads the whole answer.
func (b *bctx) do(r rawReq) rawResp {
	b.t.Helper()
	return b.send(b.build(r))
}

func (b *bctx) send(req *http.Request) rawResp {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		b.t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.RequestURI(), err)
	}
	return rawResp{Status: resp.StatusCode, Header: resp.Header, Body: body, Err: parseS3Error(body)}
}

var sigRE = regexp.MustCompile(`Signature=([0-9a-f]{64})`)

// seedSignature returns the signature of a signed request's Authorization
// header, the seed of an aws-chunked signature chain.
func seedSignature(req *http.Request) string {
	m := sigRE.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

func hmacSHA256(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// chunkSigner computes the chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// (Amazon S3 API Reference, "Signature Calculations for the Authorization
// Header: Transferring Payload in Multiple Chunks").
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string
}

func newChunkSigner(secret string, signed time.Time, seed string) *chunkSigner {
	t := signed.UTC()
	day := t.Format("20060102")
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, env.region)
	k = hmacSHA256(k, "s3")
	k = hmacSHA256(k, "aws4_request")
	return &chunkSigner{key: k, amzDate: t.Format("20060102T150405Z"), scope: day + "/" + env.region + "/s3/aws4_request", prev: seed}
}

func (c *chunkSigner) sign(chunk []byte) string {
	sts := strings.Join([]string{"AWS4-HMAC-SHA256-PAYLOAD", c.amzDate, c.scope, c.prev, emptySHA256, sha256Hex(chunk)}, "\n")
	c.prev = hex.EncodeToString(hmacSHA256(c.key, sts))
	return c.prev
}

// chunkSizes splits n bytes into chunks of size (the last one shorter).
func chunkSizes(n, size int) []int {
	var out []int
	for n > 0 {
		c := min(n, size)
		out = append(out, c)
		n -= c
	}
	return out
}

// signedChunkedLen is the encoded length of data split into sizes plus the
// final zero-length chunk.
func signedChunkedLen(sizes []int) int {
	n := 0
	for _, s := range append(sizes, 0) {
		n += len(fmt.Sprintf("%x", s)) + len(";chunk-signature=") + 64 + 2 + s + 2
	}
	return n
}

// encodeSignedChunks encodes data as aws-chunked with a chunk-signature chain.
func encodeSignedChunks(data []byte, size int, cs *chunkSigner) []byte {
	var buf bytes.Buffer
	for _, s := range append(chunkSizes(len(data), size), 0) {
		chunk := data[:s]
		data = data[s:]
		fmt.Fprintf(&buf, "%x;chunk-signature=%s\r\n", s, cs.sign(chunk))
		buf.Write(chunk)
		buf.WriteString("\r\n")
	}
	return buf.Bytes()
}

// encodeUnsignedTrailer encodes data as aws-chunked without signatures,
// ending with the given trailer header (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
func encodeUnsignedTrailer(data []byte, size int, trailerName, trailerValue string) []byte {
	var buf bytes.Buffer
	for _, s := range chunkSizes(len(data), size) {
		fmt.Fprintf(&buf, "%x\r\n", s)
		buf.Write(data[:s])
		buf.WriteString("\r\n")
		data = data[s:]
	}
	fmt.Fprintf(&buf, "0\r\n%s:%s\r\n\r\n", trailerName, trailerValue)
	return buf.Bytes()
}
