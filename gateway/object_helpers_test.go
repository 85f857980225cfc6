package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
)

// rawResponse is a response read whole by objSend.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// code returns the S3 error code of an XML error body, "" if none.
func (r rawResponse) code() string {
	var e struct {
		Code string `xml:"Code"`
	}
	_ = xml.Unmarshal(r.Body, &e)
	return e.Code
}

// objSend sends a request to the test gateway signed with the test
// credentials (payload signed with its SHA-256 unless hdr already sets
// x-amz-content-sha256) and returns the whole response. path is the
// escaped path plus optional query ("/bucket/key?tagging"). Any 5xx other
// than 501 fails the test: bad input must never be an internal error.
func objSend(t *testing.T, g *testGateway, method, path string, body []byte, hdr http.Header) rawResponse {
	t.Helper()
	req := objRequest(t, g, method, path, body, hdr)
	return objDo(t, req)
}

// objRequest builds and signs a request; see objSend.
func objRequest(t *testing.T, g *testGateway, method, path string, body []byte, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(g.URL + path)
	req.URL = u
	req.ContentLength = int64(len(body))
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	payload := req.Header.Get("x-amz-content-sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
		req.Header.Set("x-amz-content-sha256", payload)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	if err := signer.SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func objDo(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("%s %s: status %d (never a 5xx for client input): %s", req.Method, req.URL, resp.StatusCode, b)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// wantS3Error checks a raw response's status and S3 error code.
func wantS3Error(t *testing.T, what string, r rawResponse, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.code() != code) {
		t.Errorf("%s: got %d %q (%s), want %d %s", what, r.Status, r.code(), r.Body, status, code)
	}
}

// wantAPIError checks an SDK error's S3 code and HTTP status.
func wantAPIError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %d %s", what, status, code)
		return
	}
	var re interface{ HTTPStatusCode() int }
	gotStatus := 0
	if errors.As(err, &re) {
		gotStatus = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	gotCode := ""
	if errors.As(err, &ae) {
		gotCode = ae.ErrorCode()
	}
	if gotStatus != status || (code != "" && gotCode != code) {
		t.Errorf("%s: got %d %q (%v), want %d %s", what, gotStatus, gotCode, err, status, code)
	}
}

// objTestBucket creates a bucket through the gateway.
func objTestBucket(t *testing.T, g *testGateway, name string) {
	t.Helper()
	if _, err := g.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// objPut stores data at bucket/key through the SDK and returns its ETag.
func objPut(t *testing.T, g *testGateway, bucket, key string, data []byte) string {
	t.Helper()
	out, err := g.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.ETag)
}

// objGet returns the content of bucket/key through the SDK.
func objGet(t *testing.T, g *testGateway, bucket, key string) []byte {
	t.Helper()
	out, err := g.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return b
}

// objExists reports whether HEAD finds bucket/key.
func objExists(t *testing.T, g *testGateway, bucket, key string) bool {
	t.Helper()
	_, err := g.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return false
	}
	t.Fatalf("head %s/%s: %v", bucket, key, err)
	return false
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func md5B64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// pathKey escapes a key for a request path the way SDKs do (each segment
// URI-encoded, "/" kept).
func pathKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// newMultiGateway is newTestGateway with several posix backends (named
// names, the first the default) and an optional wrapper around each backend,
// for tests of LocationConstraint, cross-backend copies and failing
// backends.
func newMultiGateway(t *testing.T, wrap func(*posix.Backend) backends.Backend, names ...string) *testGateway {
	t.Helper()
	logger := testLogger()
	var nbs []NamedBackend
	root := t.TempDir()
	for _, n := range names {
		pb, err := posix.New(context.Background(), posix.Config{Root: root + "/" + n}, logger, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		var b backends.Backend = pb
		if wrap != nil {
			b = wrap(pb)
		}
		nbs = append(nbs, NamedBackend{Name: n, Backend: b})
	}
	g := serveGateway(t, nbs, logger, prometheus.NewRegistry())
	g.Root = root
	return g
}
