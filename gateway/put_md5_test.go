package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
)

// md5Recorder is a posix backend that declares (PutNeedsMD5) whether it
// needs the body's MD5, and records the MD5 its Put received in the digest.
type md5Recorder struct {
	*posix.Backend
	needs bool
	mu    *sync.Mutex
	got   *[]byte
}

func (b md5Recorder) PutNeedsMD5() bool { return b.needs }

func (b md5Recorder) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	if d := opts.Digest; d != nil {
		opts.Digest = func() backends.Digest {
			dg := d()
			b.mu.Lock()
			*b.got = dg.MD5
			b.mu.Unlock()
			return dg
		}
	}
	return b.Backend.Put(ctx, bucket, key, body, opts)
}

// TestPutObjectSkipsMD5WhenBackendDoesNotNeedIt: a backend that says it
// does not need the MD5 gets none (the body is not hashed), unless the
// request has Content-MD5, which is still verified (BadDigest); a backend
// that needs it gets it. The stored ETag is the content's MD5 either way
// (posix computes it itself when the digest has none).
func TestPutObjectSkipsMD5WhenBackendDoesNotNeedIt(t *testing.T) {
	data := bytes.Repeat([]byte("md5?"), 200000) // several async MD5 buffers
	sum := md5.Sum(data)
	wrong := sum
	wrong[3] ^= 1
	for _, c := range []struct {
		name     string
		needs    bool
		cmd5     []byte
		wantCode string
		wantMD5  bool
	}{
		{name: "not needed", needs: false},
		{name: "not needed, content-md5", needs: false, cmd5: sum[:], wantMD5: true},
		{name: "not needed, wrong content-md5", needs: false, cmd5: wrong[:], wantCode: "BadDigest"},
		{name: "needed", needs: true, wantMD5: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []byte
			g := newMultiGateway(t, func(b *posix.Backend) backends.Backend {
				return md5Recorder{Backend: b, needs: c.needs, mu: &mu, got: &got}
			}, "posix")
			objTestBucket(t, g, "bkt")
			hdr := http.Header{}
			if c.cmd5 != nil {
				hdr.Set("Content-MD5", base64.StdEncoding.EncodeToString(c.cmd5))
			}
			r := objSend(t, g, "PUT", "/bkt/k", data, hdr)
			if c.wantCode != "" {
				if r.Status != 400 || r.code() != c.wantCode {
					t.Fatalf("PUT: %d %s, want 400 %s", r.Status, r.code(), c.wantCode)
				}
				if h := objSend(t, g, "HEAD", "/bkt/k", nil, nil); h.Status != 404 {
					t.Errorf("HEAD after a refused PUT: %d", h.Status)
				}
				return
			}
			want := hex.EncodeToString(sum[:])
			if r.Status != 200 || strings.Trim(r.Header.Get("ETag"), `"`) != want {
				t.Fatalf("PUT: %d, ETag %s, want %s", r.Status, r.Header.Get("ETag"), want)
			}
			mu.Lock()
			defer mu.Unlock()
			if c.wantMD5 && !bytes.Equal(got, sum[:]) || !c.wantMD5 && got != nil {
				t.Errorf("backend got MD5 %x in the digest, want it: %v", got, c.wantMD5)
			}
			if b := objGet(t, g, "bkt", "k"); !bytes.Equal(b, data) {
				t.Errorf("GET: %d bytes, not the object", len(b))
			}
		})
	}
}
