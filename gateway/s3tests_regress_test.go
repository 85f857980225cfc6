package gateway

// Regression tests for gateway bugs found by running ceph/s3-tests against
// lakegate (test/s3tests). Each test names the s3-tests case that showed it.

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// rawExpectContinue sends a request head announcing a 123-byte body with
// "Expect: 100-continue" and no body, as a client waiting for the interim
// response does, and returns the first response it reads. The deadline only
// keeps a broken gateway from hanging the test; before the fix the gateway
// sent nothing at all until the client gave up.
func rawExpectContinue(t *testing.T, g *testGateway, path string, signed bool) *http.Response {
	t.Helper()
	u, _ := url.Parse(g.URL + path)
	hdr := http.Header{}
	if signed {
		req, _ := http.NewRequest(http.MethodPut, u.String(), nil)
		req.ContentLength = 123
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
		creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		hdr = req.Header
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	b.WriteString("PUT " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Length: 123\r\nExpect: 100-continue\r\n")
	for k, v := range hdr {
		if k != "Expect" {
			b.WriteString(k + ": " + v[0] + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("PUT %s with Expect: 100-continue and no body sent: no response: %v", path, err)
	}
	resp.Body.Close()
	return resp
}

// TestExpectContinueRefusedWithoutBody: a request refused before its body is
// read gets its error answer at once, without the client having to send the
// body it offered (s3-tests test_100_continue; AWS CLI, boto3 and the Go SDK
// send "Expect: 100-continue" on uploads).
func TestExpectContinueRefusedWithoutBody(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "expect-refused")
	if resp := rawExpectContinue(t, g, "/expect-refused/anon", false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous PUT: status %d, want 403", resp.StatusCode)
	}
	if resp := rawExpectContinue(t, g, "/no-such-bucket-here/k", true); resp.StatusCode != http.StatusNotFound {
		t.Errorf("signed PUT to a missing bucket: status %d, want 404", resp.StatusCode)
	}
	if objExists(t, g, "expect-refused", "anon") {
		t.Error("the refused PUT stored an object")
	}
}

// TestBucketTaggingNotImplemented: Get/Put/DeleteBucketTagging answer
// NotImplemented and leave the bucket alone. They used to be routed as
// ListObjects, CreateBucket and DeleteBucket, so DeleteBucketTagging deleted
// an empty bucket (s3-tests test_set_bucket_tagging).
func TestBucketTaggingNotImplemented(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bucket-tags")
	tagging := []byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`)
	for _, c := range []struct {
		method string
		body   []byte
	}{{http.MethodGet, nil}, {http.MethodPut, tagging}, {http.MethodDelete, nil}} {
		r := objSend(t, g, c.method, "/bucket-tags?tagging", c.body, nil)
		wantS3Error(t, c.method+" /bucket?tagging", r, http.StatusNotImplemented, "NotImplemented")
	}
	if _, err := g.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bucket-tags")}); err != nil {
		t.Fatalf("bucket gone after DeleteBucketTagging: %v", err)
	}
	// Object tagging is unaffected.
	objPut(t, g, "bucket-tags", "k", []byte("v"))
	if r := objSend(t, g, http.MethodGet, "/bucket-tags/k?tagging", nil, nil); r.Status != http.StatusOK {
		t.Errorf("GetObjectTagging: status %d: %s", r.Status, r.Body)
	}
}
