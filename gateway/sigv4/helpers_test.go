package sigv4

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
	"github.com/lakegate/lakegate/internal/identity"
)

// Test credentials. The secret has '/', '+' and '=' like real AWS secrets.
const (
	testAK = "AKIDLAKEGATETEST"
	testSK = "lakegate/test+Secret=Key0123456789abcdefgh"

	// The credentials of the AWS documentation examples.
	awsExampleAK = "AKIAIOSFODNN7EXAMPLE"
	awsExampleSK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func envOf(ak, sk string) func(string) string {
	return func(k string) string {
		switch k {
		case identity.EnvRootAccessKey:
			return ak
		case identity.EnvRootSecretKey:
			return sk
		}
		return ""
	}
}

func newTestVerifier(t testing.TB, ak, sk string) *Verifier {
	t.Helper()
	ids, err := identity.Load("", envOf(ak, sk))
	if err != nil {
		t.Fatal(err)
	}
	return &Verifier{Credentials: ids}
}

// outcome is what a server running Verify saw for one request.
type outcome struct {
	req     *Request
	err     error // from Verify
	body    []byte
	readErr error // from reading Body to the end
	digest  backends.Digest
	payload string // x-amz-content-sha256 as received
	trailer string // x-amz-trailer as received
}

// code returns the S3 error code of the first failure, or "" for success.
func (o outcome) code() string {
	err := o.err
	if err == nil {
		err = o.readErr
	}
	if err == nil {
		return ""
	}
	var se *s3err.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return "non-S3 error: " + err.Error()
}

// verifyAndRead runs Verify on r and reads the whole body.
func verifyAndRead(v *Verifier, r *http.Request) outcome {
	o := outcome{payload: r.Header.Get("X-Amz-Content-Sha256"), trailer: r.Header.Get("X-Amz-Trailer")}
	o.req, o.err = v.Verify(r)
	if o.err != nil {
		return o
	}
	defer o.req.Body.Close()
	o.body, o.readErr = io.ReadAll(o.req.Body)
	if o.readErr == nil {
		o.digest = o.req.Body.Digest()
	}
	return o
}

// testServer runs Verify on every request it receives and hands the outcome
// to the test, so requests go through a real client and net/http server.
type testServer struct {
	*httptest.Server
	v   *Verifier
	out chan outcome
}

func newTestServer(t testing.TB, v *Verifier, tls bool) *testServer {
	ts := &testServer{v: v, out: make(chan outcome, 1)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := verifyAndRead(v, r)
		if c := o.code(); c != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, c)
		} else {
			w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		}
		ts.out <- o
	})
	if tls {
		ts.Server = httptest.NewTLSServer(h)
	} else {
		ts.Server = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

// do sends r and returns what the server saw.
func (ts *testServer) do(t testing.TB, r *http.Request) outcome {
	t.Helper()
	resp, err := ts.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return ts.next(t)
}

func (ts *testServer) next(t testing.TB) outcome {
	t.Helper()
	select {
	case o := <-ts.out:
		return o
	case <-time.After(30 * time.Second):
		t.Fatal("server saw no request")
		return outcome{}
	}
}

// sha256Hasher adapts a hash.Hash to the md5simd.Hasher interface that
// minio-go's streaming signer takes for its SHA-256.
type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func sha256New() hash.Hash { return sha256.New() }

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
