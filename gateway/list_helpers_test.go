package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
)

// Helpers shared by the list, multipart and token tests.

// listGatewayOver serves a gateway over backend b (typically a wrapper around
// a real posix backend), with an AWS SDK client, like newTestGateway.
func listGatewayOver(t *testing.T, b backends.Backend) *testGateway {
	t.Helper()
	return serveGateway(t, []NamedBackend{{Name: "posix", Backend: b}}, testLogger(), prometheus.NewRegistry())
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
type listRawResponse = rawResponse

// listS3Error is the XML error document.
type listS3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
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
	return objDo(t, listRawRequest(t, g, method, path, query, hdr, body))
}

// listWantRaw checks the status and S3 error code of a raw response.
func listWantRaw(t *testing.T, what string, r listRawResponse, status int, code string) {
	t.Helper()
	wantS3Error(t, what, r, status, code)
}

// listWantErr checks that an SDK call failed with the S3 code and status.
func listWantErr(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	wantAPIError(t, what, err, status, code)
}
