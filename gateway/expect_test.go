package gateway

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

// TestExpectContinueEmptyBody sends a signed zero-length PUT with
// "Expect: 100-continue" on a raw connection, as botocore does for empty
// files, and checks the gateway answers "100 Continue" before the final
// response, so a client waiting for it does not stall.
func TestExpectContinueEmptyBody(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	if _, err := g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("expect")}); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(g.URL + "/expect/empty")
	req, _ := http.NewRequest(http.MethodPut, u.String(), nil)
	req.ContentLength = 0
	req.Header.Set("Expect", "100-continue")
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("x-amz-content-sha256", emptySHA)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}, req, emptySHA, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString("PUT /expect/empty HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Length: 0\r\n")
	for k, v := range req.Header {
		b.WriteString(k + ": " + v[0] + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	first, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first, "HTTP/1.1 100") {
		t.Fatalf("first status line %q, want 100 Continue", first)
	}
	for { // the interim response's header block
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("final status %d", resp.StatusCode)
	}
}
