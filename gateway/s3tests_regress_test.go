package gateway

// Regression tests for gateway bugs found by running ceph/s3-tests against
// lakegate (test/s3tests). Each test names the s3-tests case that showed it.

import (
	"bufio"
	"context"
	"encoding/xml"
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

// TestContentEncodingKeptAsSent: Content-Encoding is stored as the client
// sent it, minus the aws-chunked transport coding (s3-tests
// test_object_content_encoding_aws_chunked: "deflate, gzip" came back as
// "deflate,gzip").
func TestContentEncodingKeptAsSent(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "encodings")
	for _, c := range []struct{ sent, want string }{
		{"gzip", "gzip"},
		{"deflate, gzip", "deflate, gzip"},
		{"deflate,gzip", "deflate,gzip"},
		{"gzip, aws-chunked", "gzip"},
		{"aws-chunked, gzip", "gzip"},
		{"aws-chunked,deflate,gzip", "deflate, gzip"},
		{"aws-chunked", ""},
		{"aws-chunked, aws-chunked", ""},
	} {
		r := objSend(t, g, http.MethodPut, "/encodings/obj", []byte("data"), http.Header{"Content-Encoding": {c.sent}})
		if r.Status != http.StatusOK {
			t.Fatalf("PUT with Content-Encoding %q: %d %s", c.sent, r.Status, r.Body)
		}
		head := objSend(t, g, http.MethodHead, "/encodings/obj", nil, nil)
		got, present := head.Header["Content-Encoding"]
		switch {
		case c.want == "" && present:
			t.Errorf("sent %q: HEAD has Content-Encoding %q, want none", c.sent, got)
		case c.want != "" && head.Header.Get("Content-Encoding") != c.want:
			t.Errorf("sent %q: HEAD has Content-Encoding %q, want %q", c.sent, head.Header.Get("Content-Encoding"), c.want)
		}
	}
}

// TestListObjectsV2EchoesEmptyContinuationToken: a continuation-token sent
// empty is echoed as an empty ContinuationToken element (s3-tests
// test_bucket_listv2_continuationtoken_empty).
func TestListObjectsV2EchoesEmptyContinuationToken(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "echo-token")
	objPut(t, g, "echo-token", "a", []byte("1"))
	var doc struct {
		ContinuationToken *string `xml:"ContinuationToken"`
		Contents          []struct {
			Key string `xml:"Key"`
		} `xml:"Contents"`
	}
	r := objSend(t, g, http.MethodGet, "/echo-token?list-type=2&continuation-token=", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("ListObjectsV2: %d %s", r.Status, r.Body)
	}
	if err := xml.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ContinuationToken == nil || *doc.ContinuationToken != "" || len(doc.Contents) != 1 {
		t.Errorf("empty continuation-token: got %s", r.Body)
	}
	doc.ContinuationToken = nil
	r = objSend(t, g, http.MethodGet, "/echo-token?list-type=2", nil, nil)
	if err := xml.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ContinuationToken != nil {
		t.Errorf("no continuation-token sent, but one is echoed: %s", r.Body)
	}
}

// TestCreateBucketHyphenNextToDot: a name with a DNS label that begins or
// ends with '-' ("foo.-bar", "foo-.bar") is InvalidBucketName (s3-tests
// test_bucket_create_naming_dns_dot_dash and _dash_dot); hyphens inside a
// label stay valid.
func TestCreateBucketHyphenNextToDot(t *testing.T) {
	g := newTestGateway(t)
	for _, name := range []string{"foo.-bar", "foo-.bar", "a-.-b"} {
		wantS3Error(t, "CreateBucket "+name, objSend(t, g, http.MethodPut, "/"+name, nil, nil), http.StatusBadRequest, "InvalidBucketName")
	}
	for _, name := range []string{"foo-bar.baz-qux", "a.b-c"} {
		if r := objSend(t, g, http.MethodPut, "/"+name, nil, nil); r.Status != http.StatusOK {
			t.Errorf("CreateBucket %s: %d %s", name, r.Status, r.Body)
		}
	}
}

// TestDeleteObjectsConditionsRefused: DeleteObjects entries carrying ETag,
// LastModifiedTime or Size conditions are answered NotImplemented per key and
// the object stays; they were ignored and the object deleted (s3-tests
// test_delete_objects_if_match and its _size/_last_modified_time variants).
func TestDeleteObjectsConditionsRefused(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "cond-delete")
	etag := objPut(t, g, "cond-delete", "obj", []byte("payload"))
	for _, cond := range []string{
		"<ETag>badetag</ETag>",
		"<ETag>" + etag + "</ETag>",
		"<Size>7</Size>",
		"<LastModifiedTime>2020-01-01T00:00:00.000Z</LastModifiedTime>",
	} {
		body := []byte("<Delete><Object><Key>obj</Key>" + cond + "</Object><Object><Key>gone</Key></Object></Delete>")
		r := objSend(t, g, http.MethodPost, "/cond-delete?delete", body, http.Header{"Content-MD5": {md5B64(body)}})
		if r.Status != http.StatusOK {
			t.Fatalf("DeleteObjects %s: %d %s", cond, r.Status, r.Body)
		}
		var res struct {
			Deleted []struct{ Key string }       `xml:"Deleted"`
			Errors  []struct{ Key, Code string } `xml:"Error"`
		}
		if err := xml.Unmarshal(r.Body, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 1 || res.Errors[0].Key != "obj" || res.Errors[0].Code != "NotImplemented" ||
			len(res.Deleted) != 1 || res.Deleted[0].Key != "gone" {
			t.Errorf("DeleteObjects with %s: %s", cond, r.Body)
		}
		if !objExists(t, g, "cond-delete", "obj") {
			t.Fatalf("DeleteObjects with %s deleted the object", cond)
		}
	}
}

// TestCreateMultipartUploadChecksumType: x-amz-checksum-type is validated
// against the algorithm, and FULL_OBJECT for CRC32/CRC32C, which lakegate
// cannot compute for multipart objects, is NotImplemented instead of being
// silently replaced by a composite checksum (s3-tests
// test_multipart_use_cksum_helper_crc32 and _crc32c).
func TestCreateMultipartUploadChecksumType(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "cktype")
	for _, c := range []struct {
		algo, typ string
		status    int
		code      string
	}{
		{"CRC32", "FULL_OBJECT", http.StatusNotImplemented, "NotImplemented"},
		{"CRC32C", "full_object", http.StatusNotImplemented, "NotImplemented"},
		{"SHA256", "FULL_OBJECT", http.StatusBadRequest, "InvalidRequest"},
		{"CRC64NVME", "COMPOSITE", http.StatusBadRequest, "InvalidRequest"},
		{"CRC32", "PARTIAL", http.StatusBadRequest, "InvalidRequest"},
		{"", "COMPOSITE", http.StatusBadRequest, "InvalidRequest"},
		{"CRC32", "COMPOSITE", http.StatusOK, ""},
		{"SHA1", "", http.StatusOK, ""},
		{"CRC64NVME", "FULL_OBJECT", http.StatusOK, ""},
	} {
		h := http.Header{}
		if c.algo != "" {
			h.Set("x-amz-checksum-algorithm", c.algo)
		}
		if c.typ != "" {
			h.Set("x-amz-checksum-type", c.typ)
		}
		r := objSend(t, g, http.MethodPost, "/cktype/obj?uploads", nil, h)
		what := "CreateMultipartUpload " + c.algo + "/" + c.typ
		if c.status != http.StatusOK {
			wantS3Error(t, what, r, c.status, c.code)
			continue
		}
		if r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", what, r.Status, r.Body)
		}
		if c.algo != "CRC64NVME" && r.Header.Get("x-amz-checksum-type") != "COMPOSITE" {
			t.Errorf("%s: x-amz-checksum-type %q, want COMPOSITE", what, r.Header.Get("x-amz-checksum-type"))
		}
	}
}
