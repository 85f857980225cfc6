package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/sigv4"
	"github.com/lakegate/lakegate/internal/identity"
)

// Helpers shared by the list, multipart and token tests.

// listGatewayOver serves a gateway over backend b (typically a wrapper around
// a real posix backend), with an AWS SDK client, like newTestGateway.
func listGatewayOver(t *testing.T, b backends.Backend) *testGateway {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	ids, err := identity.Load("", func(k string) string {
		switch k {
		case "LAKEGATE_ROOT_ACCESS_KEY":
			return testAccessKey
		case "LAKEGATE_ROOT_SECRET_KEY":
			return testSecretKey
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{
		Backends:   []NamedBackend{{Name: "posix", Backend: b}},
		Verifier:   &sigv4.Verifier{Credentials: ids},
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(hs.URL),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
	})
	return &testGateway{URL: hs.URL, Server: srv, Registry: reg, Client: client}
}

// listNewBucket creates a bucket with a unique name through the gateway and
// fails the test on any later 500 answer of that gateway.
func listNewBucket(t *testing.T, g *testGateway) string {
	t.Helper()
	name := fmt.Sprintf("b%d", time.Now().UnixNano()%1e12)
	if _, err := g.Client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	t.Cleanup(func() { listAssertNo500(t, g) })
	return name
}

// listAssertNo500 fails if the gateway answered any request with a 5xx
// status, according to its own request metrics.
func listAssertNo500(t *testing.T, g *testGateway) {
	t.Helper()
	mfs, err := g.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "lakegate_s3_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			op, code := "", ""
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "operation":
					op = l.GetValue()
				case "code":
					code = l.GetValue()
				}
			}
			if strings.HasPrefix(code, "5") && code != "501" {
				t.Errorf("%v %s requests answered %s", m.GetCounter().GetValue(), op, code)
			}
		}
	}
}

// listPut stores small objects (see listBody) concurrently through the SDK.
func listPut(t *testing.T, g *testGateway, bucket string, keys ...string) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(keys))
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func(k string) {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := g.Client.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(listBody(k)),
			})
			if err != nil {
				errs <- fmt.Errorf("put %q: %w", k, err)
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// listBody is what listPut stores at k: "v:" + k, or nothing for a
// directory marker (a key ending in "/").
func listBody(k string) string {
	if strings.HasSuffix(k, "/") {
		return ""
	}
	return "v:" + k
}

// listDelete removes objects through the SDK.
func listDelete(t *testing.T, g *testGateway, bucket string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := g.Client.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
			t.Fatalf("delete %q: %v", k, err)
		}
	}
}

// listRawResponse is a raw HTTP answer with its body read.
type listRawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// listS3Error is the XML error document.
type listS3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (r listRawResponse) errorCode() string {
	var e listS3Error
	_ = xml.Unmarshal(r.Body, &e)
	return e.Code
}

// listEscapeQuery encodes a query value strictly (space as %20, "+" as %2B).
func listEscapeQuery(s string) string {
	return strings.ReplaceAll(listURLEncode(s), "/", "%2F")
}

// listRawRequest builds a request signed with SigV4 (signed SHA-256
// payload) by the AWS SDK's signer. path is the escaped path
// ("/bucket/key"); query maps raw names to raw values, encoded here.
func listRawRequest(t *testing.T, g *testGateway, method, path string, query map[string]string, hdr map[string]string, body []byte) *http.Request {
	t.Helper()
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		qs = append(qs, listEscapeQuery(k)+"="+listEscapeQuery(query[k]))
	}
	u := g.URL + path
	if len(qs) > 0 {
		u += "?" + strings.Join(qs, "&")
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// listRaw sends a signed request (see listRawRequest) and reads the answer;
// any 5xx other than 501 fails the test.
func listRaw(t *testing.T, g *testGateway, method, path string, query map[string]string, hdr map[string]string, body []byte) listRawResponse {
	t.Helper()
	req := listRawRequest(t, g, method, path, query, hdr, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 500 && resp.StatusCode != 501 {
		t.Errorf("%s %s: status %d: %s", method, req.URL, resp.StatusCode, data)
	}
	return listRawResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// listWantRaw checks the status and S3 error code of a raw response.
func listWantRaw(t *testing.T, what string, r listRawResponse, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.errorCode() != code) {
		t.Errorf("%s: got %d %q, want %d %q; body %s", what, r.Status, r.errorCode(), status, code, r.Body)
	}
}

// listAPIError returns the S3 error code and HTTP status of an SDK error.
func listAPIError(err error) (string, int) {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// listWantErr checks that an SDK call failed with the S3 code and status.
func listWantErr(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %s (%d)", what, code, status)
		return
	}
	gotCode, gotStatus := listAPIError(err)
	if gotCode != code || gotStatus != status {
		t.Errorf("%s: got %s (%d), want %s (%d): %v", what, gotCode, gotStatus, code, status, err)
	}
}
