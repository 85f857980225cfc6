package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// awkwardKeys are object keys whose encoding differs between clients.
var awkwardKeys = []string{
	"plain.txt",
	"dir/sub dir/file name.txt",
	"a+b=c&d.txt",
	"100%/x%20y",
	"unicode/日本語/ñandú-€.bin",
	"double//slash/",
	"trailing/",
	"tilde~star*(paren)!quote'@colon:$,;",
	"hash#question?.txt",
	"backslash\\and\ttab",
}

// keyURL returns a URL for bucket/key whose wire path encodes the key as the
// AWS SDKs do (every byte except unreserved characters and '/').
func keyURL(base, key, rawQuery string) *url.URL {
	u, _ := url.Parse(base)
	u.Path = "/bucket/" + key
	u.RawPath = uriEncode(u.Path, true)
	u.RawQuery = rawQuery
	return u
}

func sdkCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
}

// sdkSign signs r with the AWS SDK for Go v2 signer configured as its S3
// client configures it (no double URI encoding).
func sdkSign(t *testing.T, r *http.Request, payloadHash, region string, when time.Time) {
	t.Helper()
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := s.SignHTTP(context.Background(), sdkCreds(), r, payloadHash, "s3", region, when); err != nil {
		t.Fatal(err)
	}
}

func sdkPresign(t *testing.T, r *http.Request, region string, when time.Time, expires time.Duration) *http.Request {
	t.Helper()
	q := r.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	r.URL.RawQuery = q.Encode()
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	uri, hdr, err := s.PresignHTTP(context.Background(), sdkCreds(), r, unsignedPayload, "s3", region, when)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := http.NewRequest(r.Method, uri, r.Body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if !strings.EqualFold(k, "Host") {
			pr.Header[k] = v
		}
	}
	pr.ContentLength = r.ContentLength
	return pr
}

func sha256HexBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestAWSSDKSignerHeaderAuth(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	payload := []byte("hello, lakegate\n")
	for _, key := range awkwardKeys {
		for _, mode := range []string{"signed", "unsigned", "empty-get"} {
			t.Run(mode+"/"+key, func(t *testing.T) {
				build := func() *http.Request {
					var r *http.Request
					if mode == "empty-get" {
						r, _ = http.NewRequest("GET", ts.URL, nil)
						r.URL = keyURL(ts.URL, key, "versionId=a%2Bb&list-type=2&prefix=a%20b%2Bc&empty=&x-id=GetObject")
					} else {
						r, _ = http.NewRequest("PUT", ts.URL, bytes.NewReader(payload))
						r.URL = keyURL(ts.URL, key, "")
						r.Header.Set("Content-Type", "text/plain")
						r.Header.Set("X-Amz-Meta-Note", "  spaced   value  ")
					}
					return r
				}
				hashFor := func() string {
					switch mode {
					case "signed":
						return sha256HexBytes(payload)
					case "unsigned":
						return unsignedPayload
					}
					return emptySHA256
				}
				r := build()
				sdkSign(t, r, hashFor(), "eu-central-1", time.Now())
				o := ts.do(t, r)
				if c := o.code(); c != "" {
					t.Fatalf("SDK-signed request refused: %s", c)
				}
				if mode != "empty-get" && !bytes.Equal(o.body, payload) {
					t.Fatalf("body %q", o.body)
				}
				if o.req.Identity.AccessKey != testAK {
					t.Fatalf("identity %+v", o.req.Identity)
				}

				// The same request with a header changed after signing.
				r = build()
				sdkSign(t, r, hashFor(), "eu-central-1", time.Now())
				r.Header.Set("X-Amz-Date", time.Now().Add(time.Second).UTC().Format(iso8601Basic))
				if c := ts.do(t, r).code(); c != "SignatureDoesNotMatch" {
					t.Fatalf("changed x-amz-date: %q", c)
				}
				// An x-amz-* header added after signing.
				r = build()
				sdkSign(t, r, hashFor(), "eu-central-1", time.Now())
				r.Header.Set("X-Amz-Meta-Injected", "1")
				if c := ts.do(t, r).code(); c != "AccessDenied" {
					t.Fatalf("unsigned x-amz-meta header: %q", c)
				}
			})
		}
	}
}

func TestAWSSDKSignerBodyTampered(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	r, _ := http.NewRequest("PUT", ts.URL+"/bucket/obj", bytes.NewReader(payload))
	sdkSign(t, r, sha256HexBytes(payload), "us-east-1", time.Now())
	evil := append([]byte(nil), payload...)
	evil[len(evil)/2] ^= 1
	r.Body = io.NopCloser(bytes.NewReader(evil))
	o := ts.do(t, r)
	if o.err != nil || o.code() != "XAmzContentSHA256Mismatch" {
		t.Fatalf("tampered body: %v / %q, want XAmzContentSHA256Mismatch from Read", o.err, o.code())
	}
	if len(o.body) >= len(payload) {
		t.Fatalf("all %d bytes of an unverified body were delivered", len(o.body))
	}
}

func TestAWSSDKSignerClockSkew(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	for _, c := range []struct {
		offset time.Duration
		code   string
	}{
		{-14 * time.Minute, ""},
		{14 * time.Minute, ""},
		{-16 * time.Minute, "RequestTimeTooSkewed"},
		{16 * time.Minute, "RequestTimeTooSkewed"},
		{-48 * time.Hour, "RequestTimeTooSkewed"},
	} {
		r, _ := http.NewRequest("GET", ts.URL+"/bucket/obj", nil)
		sdkSign(t, r, emptySHA256, "us-east-1", time.Now().Add(c.offset))
		if got := ts.do(t, r).code(); got != c.code {
			t.Errorf("signed %v from now: %q, want %q", c.offset, got, c.code)
		}
	}
}

func TestAWSSDKPresign(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	for _, key := range awkwardKeys {
		t.Run(key, func(t *testing.T) {
			r, _ := http.NewRequest("GET", ts.URL, nil)
			r.URL = keyURL(ts.URL, key, "response-content-type=text%2Fplain%3B%20charset%3Dutf-8")
			pr := sdkPresign(t, r, "us-west-2", time.Now(), time.Hour)
			if c := ts.do(t, pr).code(); c != "" {
				t.Fatalf("presigned GET refused: %s (%s)", c, pr.URL)
			}
			// A presigned PUT with a body: UNSIGNED-PAYLOAD.
			r, _ = http.NewRequest("PUT", ts.URL, strings.NewReader("presigned body"))
			r.URL = keyURL(ts.URL, key, "")
			pr = sdkPresign(t, r, "us-west-2", time.Now(), time.Hour)
			o := ts.do(t, pr)
			if c := o.code(); c != "" || string(o.body) != "presigned body" {
				t.Fatalf("presigned PUT: %q body %q", c, o.body)
			}
		})
	}
	// Expired: signed two hours ago for one hour.
	r, _ := http.NewRequest("GET", ts.URL+"/bucket/obj", nil)
	pr := sdkPresign(t, r, "us-east-1", time.Now().Add(-2*time.Hour), time.Hour)
	if c := ts.do(t, pr).code(); c != "AccessDenied" {
		t.Fatalf("expired presigned URL: %q", c)
	}
	// Seven days is the limit.
	r, _ = http.NewRequest("GET", ts.URL+"/bucket/obj", nil)
	pr = sdkPresign(t, r, "us-east-1", time.Now(), 7*24*time.Hour)
	if c := ts.do(t, pr).code(); c != "" {
		t.Fatalf("7-day presigned URL: %q", c)
	}
	r, _ = http.NewRequest("GET", ts.URL+"/bucket/obj", nil)
	pr = sdkPresign(t, r, "us-east-1", time.Now(), 7*24*time.Hour+time.Second)
	if c := ts.do(t, pr).code(); c != "AuthorizationQueryParametersError" {
		t.Fatalf("presigned URL over 7 days: %q", c)
	}
	// A parameter added to the signed URL.
	r, _ = http.NewRequest("GET", ts.URL+"/bucket/obj", nil)
	pr = sdkPresign(t, r, "us-east-1", time.Now(), time.Hour)
	pr.URL.RawQuery += "&partNumber=1"
	if c := ts.do(t, pr).code(); c != "SignatureDoesNotMatch" {
		t.Fatalf("query added to presigned URL: %q", c)
	}
}

// TestWirePathEncodings: clients send the same key with different escapes
// on the wire than they signed; S3 accepts both forms of CanonicalURI.
func TestWirePathEncodings(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	for _, c := range []struct{ signed, wire string }{
		{"/bucket/a%3Db%2Bc%40d", "/bucket/a=b+c@d"},       // signed escaped, sent raw
		{"/bucket/a%3Db", "/bucket/a%3db"},                 // lower-case hex on the wire
		{"/bucket/%E6%97%A5%20x", "/bucket/%e6%97%a5%20x"}, // unicode, lower-case hex
		{"/bucket/a=b+c", "/bucket/a=b+c"},                 // signed raw as sent
		{"/bucket/x%2Fy", "/bucket/x%2Fy"},                 // an encoded slash stays encoded
		{"/bucket/double//slash", "/bucket/double//slash"},
	} {
		r, _ := http.NewRequest("GET", ts.URL, nil)
		u, _ := url.Parse(ts.URL)
		u.Opaque = "//" + u.Host + c.signed
		r.URL = u
		sdkSign(t, r, emptySHA256, "us-east-1", time.Now())
		u2, _ := url.Parse(ts.URL)
		u2.Opaque = "//" + u2.Host + c.wire
		r.URL = u2
		if got := ts.do(t, r).code(); got != "" {
			t.Errorf("signed %s, sent %s: %s", c.signed, c.wire, got)
		}
	}
	// A different key is not accepted.
	r, _ := http.NewRequest("GET", ts.URL+"/bucket/a", nil)
	sdkSign(t, r, emptySHA256, "us-east-1", time.Now())
	r.URL.Path = "/bucket/b"
	if got := ts.do(t, r).code(); got != "SignatureDoesNotMatch" {
		t.Errorf("other key: %q", got)
	}
}

func TestMinioSignerHeaderAndPresign(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	payload := []byte("minio-go signed body")
	for _, key := range awkwardKeys {
		t.Run(key, func(t *testing.T) {
			r, _ := http.NewRequest("PUT", ts.URL, bytes.NewReader(payload))
			r.URL = keyURL(ts.URL, key, "")
			r.URL.RawPath = "" // minio-go encodes the path itself; Go sends its own form
			r.Header.Set("X-Amz-Content-Sha256", sha256HexBytes(payload))
			r.Header.Set("X-Amz-Meta-Key", "v")
			sr := signer.SignV4(*r, testAK, testSK, "", "us-east-1")
			o := ts.do(t, sr)
			if c := o.code(); c != "" || !bytes.Equal(o.body, payload) {
				t.Fatalf("minio-go SignV4: %q body %q", c, o.body)
			}

			r, _ = http.NewRequest("GET", ts.URL, nil)
			r.URL = keyURL(ts.URL, key, "response-content-disposition=attachment%3B%20filename%3D%22x%20y%22")
			r.URL.RawPath = ""
			pr := signer.PreSignV4(*r, testAK, testSK, "", "us-east-1", 3600)
			if c := ts.do(t, pr).code(); c != "" {
				t.Fatalf("minio-go PreSignV4: %q (%s)", c, pr.URL)
			}
		})
	}
	r, _ := http.NewRequest("PUT", ts.URL+"/bucket/x", bytes.NewReader(payload))
	r.Header.Set("X-Amz-Content-Sha256", sha256HexBytes(payload))
	sr := signer.SignV4(*r, testAK, "wrong-secret", "", "us-east-1")
	if c := ts.do(t, sr).code(); c != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %q", c)
	}
	sr = signer.SignV4(*r, "AKIDUNKNOWN", testSK, "", "us-east-1")
	if c := ts.do(t, sr).code(); c != "InvalidAccessKeyId" {
		t.Fatalf("unknown key: %q", c)
	}
}

// corruptingBody flips one byte at offset of what it reads.
type corruptingBody struct {
	r      io.ReadCloser
	offset int64
	pos    int64
}

func (c *corruptingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.offset >= c.pos && c.offset < c.pos+int64(n) {
		p[c.offset-c.pos] ^= 0x20
	}
	c.pos += int64(n)
	return n, err
}

func (c *corruptingBody) Close() error { return c.r.Close() }

func crc32cB64(b []byte) string {
	s := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString([]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
}

func TestMinioStreamingSigners(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	sizes := []int{0, 1, 65535, 65536, 65537, 3*65536 + 17}
	type variant struct {
		name    string
		trailer bool
		signed  bool
	}
	for _, va := range []variant{
		{"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", false, true},
		{"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", true, true},
		{"STREAMING-UNSIGNED-PAYLOAD-TRAILER", true, false},
	} {
		for _, size := range sizes {
			payload := bytes.Repeat([]byte("lakegate-"), size/9+1)[:size]
			trailerValue := crc32cB64(payload)
			build := func(corruptAt int64) *http.Request {
				r, _ := http.NewRequest("PUT", ts.URL+"/bucket/streamed%20key", bytes.NewReader(payload))
				var trailer http.Header
				if va.trailer {
					trailer = http.Header{"X-Amz-Checksum-Crc32c": {trailerValue}}
				}
				var sr *http.Request
				if va.signed {
					r.Trailer = trailer
					sr = signer.StreamingSignV4(r, testAK, testSK, "", "us-east-1", int64(size), time.Now().UTC(), sha256Hasher{sha256.New()})
				} else {
					r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
					r.ContentLength = int64(size)
					sr = signer.SignV4Trailer(*r, testAK, testSK, "", "us-east-1", trailer)
				}
				if corruptAt >= 0 {
					sr.Body = &corruptingBody{r: sr.Body, offset: corruptAt}
				}
				return sr
			}
			if size == 0 && !va.signed {
				// minio-go computes a zero Content-Length for an empty
				// unsigned-trailer body, so it cannot send one.
				continue
			}
			t.Run(va.name+"/"+strconv.Itoa(size), func(t *testing.T) {
				o := ts.do(t, build(-1))
				if c := o.code(); c != "" {
					t.Fatalf("refused: %s (%v %v)", c, o.err, o.readErr)
				}
				if !bytes.Equal(o.body, payload) {
					t.Fatalf("decoded %d bytes, want %d", len(o.body), size)
				}
				if o.req.Body.Size() != int64(size) {
					t.Fatalf("Size %d", o.req.Body.Size())
				}
				if got, want := hex.EncodeToString(o.digest.MD5), md5Hex(payload); got != want {
					t.Fatalf("MD5 %s want %s", got, want)
				}
				if va.trailer && o.digest.Checksums["CRC32C"] != crc32cB64(payload) {
					t.Fatalf("checksums %v", o.digest.Checksums)
				}
				if size == 0 {
					return
				}
				// One byte of payload flipped in transit.
				first := min(size, 65536)
				hdr := len(strconv.FormatInt(int64(first), 16)) + 2
				if va.signed {
					hdr += len(";chunk-signature=") + 64
				}
				o = ts.do(t, build(int64(hdr+first/2)))
				want := "SignatureDoesNotMatch"
				if !va.signed {
					want = "BadDigest" // only the trailing CRC32C protects it
				}
				if c := o.code(); c != want {
					t.Fatalf("corrupted payload: %q, want %s", c, want)
				}
				if len(o.body) >= size {
					t.Fatalf("all bytes of a corrupted body were delivered")
				}
				if va.trailer {
					// A (correctly signed) trailer with the checksum of other data.
					trailerValue = crc32cB64(append([]byte("x"), payload...))
					if c := ts.do(t, build(-1)).code(); c != "BadDigest" {
						t.Fatalf("trailer checksum of other data: %q, want BadDigest", c)
					}
				}
			})
		}
	}
}
