package sigv4

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestAWSSDKS3Client drives Verify with the AWS SDK for Go v2 S3 client
// itself, over plain HTTP and TLS, with its default checksum behaviour
// (since 2025 it sends CRC32 trailers on uploads) and with each checksum
// algorithm, and checks the payload modes it chose were decoded.
func TestAWSSDKS3Client(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	for _, tls := range []bool{false, true} {
		ts := newTestServer(t, v, tls)
		client := s3.New(s3.Options{
			BaseEndpoint: aws.String(ts.URL),
			Region:       "us-east-1",
			UsePathStyle: true,
			HTTPClient:   ts.Client(),
			Credentials:  credentials.NewStaticCredentialsProvider(testAK, testSK, ""),
			Retryer:      aws.NopRetryer{},
			// What config.LoadDefaultConfig gives since SDK 2025 releases.
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		})
		scheme := map[bool]string{false: "http", true: "https"}[tls]
		payload := bytes.Repeat([]byte("S3 client payload "), 20000) // 340000 bytes
		algs := []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
			types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256}
		for _, alg := range algs {
			for _, seekable := range []bool{true, false} {
				name := scheme + "/" + string(alg) + map[bool]string{true: "/seekable", false: "/stream"}[seekable]
				if !tls && !seekable {
					// The SDK refuses an unseekable body over plain HTTP
					// without sending anything: it can neither hash it
					// ahead nor send an unsigned trailer without TLS.
					continue
				}
				t.Run(name, func(t *testing.T) {
					var body io.Reader = bytes.NewReader(payload)
					if !seekable {
						body = struct{ io.Reader }{bytes.NewReader(payload)}
					}
					in := &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/key with space+plus"),
						Body: body, ChecksumAlgorithm: alg, ContentLength: aws.Int64(int64(len(payload)))}
					done := make(chan error, 1)
					go func() {
						_, err := client.PutObject(context.Background(), in)
						done <- err
					}()
					o := ts.next(t)
					if err := <-done; err != nil && o.code() == "" {
						t.Fatalf("client error %v although the server accepted", err)
					}
					if c := o.code(); c != "" {
						t.Fatalf("server refused (%s, trailer %q): %s", o.payload, o.trailer, c)
					}
					if !bytes.Equal(o.body, payload) {
						t.Fatalf("decoded %d bytes, want %d", len(o.body), len(payload))
					}
					if hex.EncodeToString(o.digest.MD5) != md5Hex(payload) {
						t.Fatal("MD5 differs")
					}
					if alg != "" {
						if _, ok := o.digest.Checksums[string(alg)]; !ok {
							t.Fatalf("no %s in digest %v (mode %s)", alg, o.digest.Checksums, o.payload)
						}
					}
					t.Logf("x-amz-content-sha256=%s x-amz-trailer=%q checksums=%v", o.payload, o.trailer, o.digest.Checksums)
				})
			}
		}

		t.Run(scheme+"/presigned", func(t *testing.T) {
			pc := s3.NewPresignClient(client, s3.WithPresignExpires(10*time.Minute))
			pr, err := pc.PresignPutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String("bucket"), Key: aws.String("a/b c=d"), ContentType: aws.String("text/plain")})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(pr.Method, pr.URL, strings.NewReader("presigned"))
			for k, vs := range pr.SignedHeader {
				if !strings.EqualFold(k, "Host") {
					req.Header[k] = vs
				}
			}
			o := ts.do(t, req)
			if c := o.code(); c != "" || string(o.body) != "presigned" {
				t.Fatalf("presigned PUT: %q body %q", c, o.body)
			}
		})
	}
}
