package s3

import (
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// rgwTransport adapts two headers for Ceph RGW (Pacific), which reads them
// differently from S3:
//   - If-Match: minio-go sends it quoted, as HTTP specifies; RGW compares the
//     raw header with the stored (unquoted) ETag, so a matching ETag would
//     fail. The quotes are removed.
//   - x-amz-tagging: minio-go encodes spaces as "+"; RGW does not decode "+"
//     (a tag "a b" would be stored as "a+b"). "+" becomes "%20" (a literal
//     "+" is already "%2B").
//
// The request is then signed again. Only requests whose payload is not part
// of the signature chain (UNSIGNED-PAYLOAD or a SHA-256 of the body) can be
// re-signed; streaming-signed bodies pass unchanged, so with
// payload_signing: streaming conditional If-Match writes and tags with
// spaces do not work on Ceph.
type rgwTransport struct {
	b    *Backend
	next http.RoundTripper
}

func (t *rgwTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ifMatch := req.Header.Get("If-Match")
	fixIfMatch := len(ifMatch) >= 2 && ifMatch[0] == '"' && ifMatch[len(ifMatch)-1] == '"'
	tagging := req.Header.Get("X-Amz-Tagging")
	fixTagging := strings.Contains(tagging, "+")
	if !fixIfMatch && !fixTagging {
		return t.next.RoundTrip(req)
	}
	if f, _ := t.b.flavor.Load().(string); f != FlavorCeph {
		return t.next.RoundTrip(req)
	}
	if strings.HasPrefix(req.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") || req.Header.Get("Authorization") == "" {
		return t.next.RoundTrip(req)
	}
	r2 := req.Clone(req.Context())
	if fixIfMatch {
		r2.Header.Set("If-Match", ifMatch[1:len(ifMatch)-1])
	}
	if fixTagging {
		r2.Header.Set("X-Amz-Tagging", strings.ReplaceAll(tagging, "+", "%20"))
	}
	r2.Header.Del("Authorization")
	r2 = signer.SignV4(*r2, t.b.cfg.AccessKey, t.b.cfg.SecretKey, "", t.b.cfg.Region)
	return t.next.RoundTrip(r2)
}
