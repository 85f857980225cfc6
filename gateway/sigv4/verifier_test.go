package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signed returns a server-side request for method/target with body,
// signed by the AWS SDK v2 signer after mutate ran on it.
func signed(t *testing.T, method, target, body string, mutate func(*http.Request)) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	if mutate != nil {
		mutate(r)
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := s.SignHTTP(context.Background(), sdkCreds(), r, r.Header.Get("X-Amz-Content-Sha256"), "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

func b64md5(s string) string {
	h := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(h[:])
}

func TestVerifyErrors(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	const target = "http://gw.example:9080/bucket/key"
	auth := func(s string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", s) }
	}
	raw := func(method, target string, mutate func(*http.Request)) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	cred := "Credential=" + testAK + "/" + time.Now().UTC().Format(dateStamp) + "/us-east-1/s3/aws4_request"
	sig64 := strings.Repeat("0", 64)
	cases := []struct {
		name string
		req  func() *http.Request
		code string
	}{
		{"SigV2 header", func() *http.Request { return raw("GET", target, auth("AWS "+testAK+":c2lnbmF0dXJl")) }, "NotImplemented"},
		{"SigV4a header", func() *http.Request {
			return raw("GET", target, auth("AWS4-ECDSA-P256-SHA256 Credential=x/20240101/s3/aws4_request, SignedHeaders=host, Signature=00"))
		}, "NotImplemented"},
		{"unknown scheme", func() *http.Request { return raw("GET", target, auth("Bearer abc")) }, "InvalidArgument"},
		{"SigV2 query", func() *http.Request {
			return raw("GET", target+"?AWSAccessKeyId="+testAK+"&Expires=1&Signature=abc", nil)
		}, "NotImplemented"},
		{"SigV4a query", func() *http.Request {
			return raw("GET", target+"?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=a", nil)
		}, "NotImplemented"},
		{"header and query", func() *http.Request {
			return signed(t, "GET", target+"?X-Amz-Signature=abc", "", nil)
		}, "InvalidArgument"},
		{"two Authorization headers", func() *http.Request {
			r := signed(t, "GET", target, "", nil)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, "InvalidArgument"},
		{"no components", func() *http.Request { return raw("GET", target, auth("AWS4-HMAC-SHA256 ")) }, "AuthorizationHeaderMalformed"},
		{"missing Signature", func() *http.Request {
			return raw("GET", target, auth("AWS4-HMAC-SHA256 "+cred+", SignedHeaders=host"))
		}, "AuthorizationHeaderMalformed"},
		{"credential too short", func() *http.Request {
			return raw("GET", target, auth("AWS4-HMAC-SHA256 Credential="+testAK+"/us-east-1/s3/aws4_request, SignedHeaders=host, Signature="+sig64))
		}, "AuthorizationHeaderMalformed"},
		{"wrong service", func() *http.Request {
			return raw("GET", target, auth("AWS4-HMAC-SHA256 "+strings.Replace(cred, "/s3/", "/sts/", 1)+", SignedHeaders=host, Signature="+sig64))
		}, "AuthorizationHeaderMalformed"},
		{"wrong terminator", func() *http.Request {
			return raw("GET", target, auth("AWS4-HMAC-SHA256 "+strings.Replace(cred, "aws4_request", "aws5_request", 1)+", SignedHeaders=host, Signature="+sig64))
		}, "AuthorizationHeaderMalformed"},
		{"empty signed header", func() *http.Request {
			return raw("GET", target, auth("AWS4-HMAC-SHA256 "+cred+", SignedHeaders=host;;x-amz-date, Signature="+sig64))
		}, "AuthorizationHeaderMalformed"},
		{"unknown access key", func() *http.Request {
			return raw("GET", target, auth("AWS4-HMAC-SHA256 "+strings.Replace(cred, testAK, "AKIDNOBODY", 1)+", SignedHeaders=host, Signature="+sig64))
		}, "InvalidAccessKeyId"},
		{"session token", func() *http.Request {
			return signed(t, "GET", target, "", func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") })
		}, "InvalidToken"},
		{"no date", func() *http.Request {
			r := signed(t, "GET", target, "", nil)
			r.Header.Del("X-Amz-Date")
			return r
		}, "AccessDenied"},
		{"credential date not request date", func() *http.Request {
			r := signed(t, "GET", target, "", nil)
			r.Header.Set("X-Amz-Date", time.Now().Add(-24*time.Hour).UTC().Format(iso8601Basic))
			return r
		}, "AuthorizationHeaderMalformed"},
		{"missing x-amz-content-sha256", func() *http.Request {
			r := signed(t, "GET", target, "", nil)
			r.Header.Del("X-Amz-Content-Sha256")
			return r
		}, "InvalidRequest"},
		{"x-amz-content-sha256 not signed", func() *http.Request {
			r := signed(t, "GET", target, "", func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") })
			r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
			return r
		}, "InvalidRequest"},
		{"bad x-amz-content-sha256", func() *http.Request {
			return signed(t, "GET", target, "", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "abc") })
		}, "InvalidArgument"},
		{"SigV4a streaming payload", func() *http.Request {
			return signed(t, "PUT", target, "x", func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
			})
		}, "NotImplemented"},
		{"host not signed", func() *http.Request {
			r := signed(t, "GET", target, "", nil)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(a, "SignedHeaders=host;", "SignedHeaders=", 1))
			return r
		}, "AccessDenied"},
		{"signature not hex", func() *http.Request {
			r := signed(t, "GET", target, "", nil)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, "Signature=")]+"Signature=zz")
			return r
		}, "SignatureDoesNotMatch"},
		{"Content-MD5 malformed", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set("Content-MD5", "not-md5") })
		}, "InvalidDigest"},
		{"Content-MD5 of other data", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set("Content-MD5", b64md5("other")) })
		}, "BadDigest"},
		{"checksum malformed", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set("X-Amz-Checksum-Crc32", "AAAA") })
		}, "InvalidRequest"},
		{"checksum of other data", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==") })
		}, "BadDigest"},
		{"two checksums", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) {
				r.Header.Set("X-Amz-Checksum-Crc32", "rfPzYw==")
				r.Header.Set("X-Amz-Checksum-Sha1", "oXyaqmHoChv3HQ2FCvTluqmAC70=")
			})
		}, "InvalidRequest"},
		{"unknown sdk checksum algorithm", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "MD4") })
		}, "InvalidRequest"},
		{"sdk algorithm differs from header", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) {
				r.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "SHA256")
				r.Header.Set("X-Amz-Checksum-Crc32", "rfPzYw==")
			})
		}, "InvalidRequest"},
		{"unsupported trailer", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
				r.Header.Set("X-Amz-Trailer", "x-amz-checksum-md5")
			})
		}, "InvalidRequest"},
		{"trailer without trailer mode", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32") })
		}, "InvalidRequest"},
		{"bad decoded length", func() *http.Request {
			return signed(t, "PUT", target, "data", func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
				r.Header.Set("X-Amz-Decoded-Content-Length", "-4")
			})
		}, "InvalidArgument"},
		{"anonymous signed streaming", func() *http.Request {
			return raw("PUT", target, func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", streamingSigned) })
		}, "InvalidRequest"},
		{"anonymous bad payload hash", func() *http.Request {
			r := httptest.NewRequest("PUT", target, strings.NewReader("data"))
			r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
			return r
		}, "XAmzContentSHA256Mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := verifyAndRead(v, c.req()).code(); got != c.code {
				t.Fatalf("%q, want %q", got, c.code)
			}
		})
	}
}

func TestVerifyIntegrityHeadersAccepted(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	const target = "http://gw.example/bucket/key"
	for _, c := range []struct {
		name   string
		header [2]string
		alg    string
		value  string
	}{
		{"Content-MD5", [2]string{"Content-MD5", b64md5("data")}, "", ""},
		{"CRC32", [2]string{"X-Amz-Checksum-Crc32", "rfPzYw=="}, "CRC32", "rfPzYw=="},
		{"SHA1", [2]string{"X-Amz-Checksum-Sha1", "oXyaqmHoChv3HQ2FCvTluqmAC70="}, "SHA1", "oXyaqmHoChv3HQ2FCvTluqmAC70="},
		{"SDK algorithm only", [2]string{"X-Amz-Sdk-Checksum-Algorithm", "crc64nvme"}, "CRC64NVME", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := verifyAndRead(v, signed(t, "PUT", target, "data", func(r *http.Request) { r.Header.Set(c.header[0], c.header[1]) }))
			if code := o.code(); code != "" {
				t.Fatalf("refused: %s", code)
			}
			if c.alg == "" {
				if len(o.digest.Checksums) != 0 {
					t.Fatalf("checksums %v", o.digest.Checksums)
				}
				return
			}
			got, ok := o.digest.Checksums[c.alg]
			if !ok || c.value != "" && got != c.value {
				t.Fatalf("digest %v, want %s=%s", o.digest.Checksums, c.alg, c.value)
			}
		})
	}
}

func TestVerifyRegionConfigured(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	v.Region = "lake-1"
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	for _, region := range []string{"lake-1", "us-east-1"} {
		r := httptest.NewRequest("GET", "http://gw/bucket", nil)
		r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := s.SignHTTP(context.Background(), sdkCreds(), r, emptySHA256, "s3", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"lake-1": "", "us-east-1": "AuthorizationHeaderMalformed"}[region]
		if got := verifyAndRead(v, r).code(); got != want {
			t.Errorf("header auth in %s: %q, want %q", region, got, want)
		}
		r = httptest.NewRequest("GET", "http://gw/bucket?X-Amz-Expires=60", nil)
		uri, _, err := s.PresignHTTP(context.Background(), sdkCreds(), r, unsignedPayload, "s3", region, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want = map[string]string{"lake-1": "", "us-east-1": "AuthorizationQueryParametersError"}[region]
		if got := verifyAndRead(v, httptest.NewRequest("GET", uri, nil)).code(); got != want {
			t.Errorf("presigned in %s: %q, want %q", region, got, want)
		}
	}
}

func TestPresignedQueryErrors(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	now := time.Now().UTC()
	base := map[string]string{
		"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
		"X-Amz-Credential":    testAK + "%2F" + now.Format(dateStamp) + "%2Fus-east-1%2Fs3%2Faws4_request",
		"X-Amz-Date":          now.Format(iso8601Basic),
		"X-Amz-Expires":       "60",
		"X-Amz-SignedHeaders": "host",
		"X-Amz-Signature":     strings.Repeat("a", 64),
	}
	for _, c := range []struct {
		name, key, value, code string
	}{
		{"no expiry", "X-Amz-Expires", "", "AuthorizationQueryParametersError"},
		{"negative expiry", "X-Amz-Expires", "-1", "AuthorizationQueryParametersError"},
		{"expiry not a number", "X-Amz-Expires", "1h", "AuthorizationQueryParametersError"},
		{"expiry overflow", "X-Amz-Expires", "99999999999999999999999", "AuthorizationQueryParametersError"},
		{"expiry over a week", "X-Amz-Expires", "604801", "AuthorizationQueryParametersError"},
		{"bad date", "X-Amz-Date", "2024-01-01T00:00:00Z", "AuthorizationQueryParametersError"},
		{"other algorithm", "X-Amz-Algorithm", "AWS4-HMAC-SHA512", "AuthorizationQueryParametersError"},
		{"bad credential", "X-Amz-Credential", "abc", "AuthorizationQueryParametersError"},
		{"no signed headers", "X-Amz-SignedHeaders", "", "AuthorizationQueryParametersError"},
		{"wrong signature", "", "", "SignatureDoesNotMatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var q []string
			for k, val := range base {
				if k == c.key {
					val = c.value
				}
				if val != "" {
					q = append(q, k+"="+val)
				}
			}
			r := httptest.NewRequest("GET", "http://gw/bucket/key?"+strings.Join(q, "&"), nil)
			if got := verifyAndRead(v, r).code(); got != c.code {
				t.Fatalf("%q, want %q", got, c.code)
			}
		})
	}
	// A parameter given twice.
	r := httptest.NewRequest("GET", "http://gw/bucket/key?X-Amz-Expires=1&X-Amz-Expires=2&X-Amz-Algorithm=AWS4-HMAC-SHA256", nil)
	if got := verifyAndRead(v, r).code(); got != "AuthorizationQueryParametersError" {
		t.Fatalf("duplicate parameter: %q", got)
	}
}

func TestAnonymous(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	o := verifyAndRead(v, httptest.NewRequest("PUT", "http://gw/bucket/key", strings.NewReader("anonymous data")))
	if o.code() != "" || !o.req.Anonymous || o.req.Identity.Name != "" || string(o.body) != "anonymous data" {
		t.Fatalf("anonymous: %+v %q", o.req, o.code())
	}
	if md5Hex([]byte("anonymous data")) != fmt.Sprintf("%x", o.digest.MD5) {
		t.Fatal("MD5 of an anonymous body")
	}
}

// TestShortBody sends fewer bytes than Content-Length over a real
// connection and then closes it.
func TestShortBody(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	r := signed(t, "PUT", ts.URL+"/bucket/key", "", nil)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /bucket/key HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n", r.Host)
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		fmt.Fprintf(conn, "%s: %s\r\n", h, r.Header.Get(h))
	}
	io.WriteString(conn, "\r\n"+strings.Repeat("x", 50))
	conn.(*net.TCPConn).CloseWrite()
	o := ts.next(t)
	if o.err != nil {
		t.Fatalf("Verify: %v (content-length is signed? %s)", o.err, r.Header.Get("Authorization"))
	}
	if c := o.code(); c != "IncompleteBody" {
		t.Fatalf("%q, want IncompleteBody", c)
	}
}

// TestChunkedLengthMismatch: aws-chunked bodies whose decoded size differs
// from x-amz-decoded-content-length.
func TestChunkedLengthMismatch(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
	for _, c := range []struct {
		decoded string
		code    string
	}{
		{"5", ""}, {"4", "IncompleteBody"}, {"6", "IncompleteBody"}, {"", ""},
	} {
		r := signed(t, "PUT", "http://gw/bucket/key", body, func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
			r.Header.Set("Content-Encoding", "aws-chunked")
			r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			if c.decoded != "" {
				r.Header.Set("X-Amz-Decoded-Content-Length", c.decoded)
			}
		})
		o := verifyAndRead(v, r)
		if got := o.code(); got != c.code {
			t.Errorf("decoded length %q: %q, want %q", c.decoded, got, c.code)
		}
		if c.code == "" && (string(o.body) != "hello" || o.digest.Checksums["CRC32"] != "NhCmhg==") {
			t.Errorf("decoded length %q: body %q digest %v", c.decoded, o.body, o.digest)
		}
	}
}

// TestAuthFailureDoesNotReadBody: with Expect: 100-continue the client
// sends the body only after the server asks for it, which net/http does on
// the first Read; a request that fails authentication must never read it.
func TestAuthFailureDoesNotReadBody(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	ts := newTestServer(t, v, false)
	var read atomic.Bool
	body := readFunc(func(p []byte) (int, error) { read.Store(true); return 0, io.EOF })
	r, _ := http.NewRequest("PUT", ts.URL+"/bucket/key", body)
	r.ContentLength = 10
	r.Header.Set("Expect", "100-continue")
	sdkSign(t, r, unsignedPayload, "us-east-1", time.Now())
	r.Header.Set("X-Amz-Date", time.Now().Add(time.Second).UTC().Format(iso8601Basic)) // breaks the signature
	tr := &http.Transport{ExpectContinueTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(r)
	if err == nil {
		resp.Body.Close()
	}
	o := ts.next(t)
	if o.code() != "SignatureDoesNotMatch" {
		t.Fatalf("%q", o.code())
	}
	if read.Load() {
		t.Fatal("the client was asked for the body of a request that failed authentication")
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

func TestKeyCacheConcurrent(t *testing.T) {
	var c keyCache
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				region := fmt.Sprintf("r%d", (g*7919+i)%1500)
				k := c.get("secret", "20240101", region)
				if !bytes.Equal(k, deriveSigningKey("secret", "20240101", region, "s3")) {
					t.Errorf("wrong key for %s", region)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	c.mu.Lock()
	n := len(c.keys)
	c.mu.Unlock()
	if n > maxKeys {
		t.Fatalf("cache holds %d keys, limit %d", n, maxKeys)
	}
}

func TestStripAWSChunked(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"aws-chunked":       "",
		"AWS-Chunked, gzip": "gzip",
		"gzip,aws-chunked":  "gzip",
		"gzip, br":          "gzip, br",
	} {
		if got := StripAWSChunked(in); got != want {
			t.Errorf("StripAWSChunked(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQueryLooksLikePresign: a value that merely contains a presign
// parameter name is not a presigned URL.
func TestQueryLooksLikePresign(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	r := signed(t, "GET", "http://gw/bucket?list-type=2&prefix=X-Amz-Signature=abc&delimiter=AWSAccessKeyId=x&start-after=Signature=y", "", nil)
	if c := verifyAndRead(v, r).code(); c != "" {
		t.Fatalf("%q", c)
	}
}
