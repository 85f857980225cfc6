package blackbox

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// shiftedPresigner presigns as if the clock were shift away from now.
type shiftedPresigner struct {
	shift time.Duration
	v4    *v4.Signer
}

func (p shiftedPresigner) PresignHTTP(ctx context.Context, credentials aws.Credentials, r *http.Request, payloadHash, service, region string,
	signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.v4.PresignHTTP(ctx, credentials, r, payloadHash, service, region, signingTime.Add(p.shift), optFns...)
}

func TestSDKPresigned(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		ps := s3.NewPresignClient(b.s3, s3.WithPresignExpires(10*time.Minute))
		key := b.key("presigned/obj")
		data := randBytes(81, 100000)

		put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), ContentType: aws.String("text/x-presigned")})
		if err != nil {
			t.Fatalf("PresignPutObject: %v", err)
		}
		req, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(data))
		for k, v := range put.SignedHeader {
			if !strings.EqualFold(k, "Host") && !strings.EqualFold(k, "Content-Length") {
				req.Header[k] = v
			}
		}
		if r := b.send(req); r.Status != http.StatusOK || r.Header.Get("ETag") != quoted(md5Hex(data)) {
			t.Fatalf("PUT to a presigned URL: %s, ETag %s; want 200 with ETag %s", r, r.Header.Get("ETag"), quoted(md5Hex(data)))
		}
		b.wantContent(key, data)

		get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		req, _ = http.NewRequest("GET", get.URL, nil)
		r := b.send(req)
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
			t.Errorf("GET of a presigned URL: %s", r)
		}
		if ct := r.Header.Get("Content-Type"); ct != "text/x-presigned" {
			t.Errorf("GET of a presigned URL: Content-Type %q, want the one signed into the PUT URL", ct)
		}
		req, _ = http.NewRequest("GET", get.URL, nil)
		req.Header.Set("Range", "bytes=0-9")
		if r := b.send(req); r.Status != http.StatusPartialContent || !bytes.Equal(r.Body, data[:10]) {
			t.Errorf("ranged GET of a presigned URL: %s", r)
		}
		head, err := ps.PresignHeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("PresignHeadObject: %v", err)
		}
		req, _ = http.NewRequest("HEAD", head.URL, nil)
		if r := b.send(req); r.Status != http.StatusOK || r.Header.Get("Content-Length") != "100000" {
			t.Errorf("HEAD of a presigned URL: %s, Content-Length %q", r, r.Header.Get("Content-Length"))
		}

		// The URL is bound to its method and key.
		req, _ = http.NewRequest("DELETE", get.URL, nil)
		wantRaw(t, "DELETE with a presigned GET URL", b.send(req), http.StatusForbidden, "SignatureDoesNotMatch")
		req, _ = http.NewRequest("GET", strings.Replace(get.URL, "presigned/obj", "presigned/other", 1), nil)
		wantRaw(t, "presigned GET URL with another key", b.send(req), http.StatusForbidden, "SignatureDoesNotMatch")
		b.wantContent(key, data)

		// Expired: signed two hours ago for one hour.
		old := s3.NewPresignClient(b.s3, s3.WithPresignExpires(time.Hour), func(o *s3.PresignOptions) {
			o.Presigner = shiftedPresigner{shift: -2 * time.Hour, v4: v4.NewSigner()}
		})
		exp, err := old.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		req, _ = http.NewRequest("GET", exp.URL, nil)
		wantRaw(t, "GET of an expired presigned URL", b.send(req), http.StatusForbidden, "AccessDenied")
		expPut, err := old.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("presigned/expired-put"))})
		if err != nil {
			t.Fatalf("PresignPutObject: %v", err)
		}
		req, _ = http.NewRequest("PUT", expPut.URL, strings.NewReader("late"))
		wantRaw(t, "PUT to an expired presigned URL", b.send(req), http.StatusForbidden, "AccessDenied")
		b.wantAbsent(b.key("presigned/expired-put"))

		// More than seven days is refused outright.
		long := s3.NewPresignClient(b.s3, s3.WithPresignExpires(7*24*time.Hour+time.Second))
		lg, err := long.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		req, _ = http.NewRequest("GET", lg.URL, nil)
		wantRaw(t, "presigned URL valid for 7 days + 1 s", b.send(req), http.StatusBadRequest, "AuthorizationQueryParametersError")
	})
}
