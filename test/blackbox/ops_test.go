package blackbox

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// requestCount is lakegate_s3_requests_total for operation, code, backend.
func requestCount(t *testing.T, operation, code, backend string) float64 {
	t.Helper()
	fams, err := scrapeMetrics()
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	fam := fams["lakegate_s3_requests_total"]
	if fam == nil {
		t.Fatalf("/metrics has no lakegate_s3_requests_total")
	}
	for _, m := range fam.GetMetric() {
		l := labels(m.GetLabel())
		if l["operation"] == operation && l["code"] == code && l["backend"] == backend {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestOperationalEndpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		c := &http.Client{Transport: baseTransport, Timeout: 30 * time.Second}
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			resp, err := c.Get(env.endpoint + p)
			if err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %s, want 200", p, resp.Status)
			}
		}

		putBefore := requestCount(t, "PutObject", "200", b.backend)
		getBefore := requestCount(t, "GetObject", "200", b.backend)
		missBefore := requestCount(t, "GetObject", "404", b.backend)
		key := b.key("metered")
		b.mustPut(key, []byte("count me"))
		b.mustPut(key, []byte("count me again"))
		b.wantContent(key, []byte("count me again"))
		r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: b.key("metered-missing")})
		wantRaw(t, "GET of a missing key", r, http.StatusNotFound, "NoSuchKey")
		if r.Err.RequestID == "" || r.Err.RequestID != r.Header.Get("x-amz-request-id") {
			t.Errorf("error body RequestId %q, header x-amz-request-id %q: want the same, non-empty", r.Err.RequestID, r.Header.Get("x-amz-request-id"))
		}
		if d := requestCount(t, "PutObject", "200", b.backend) - putBefore; d < 2 {
			t.Errorf(`lakegate_s3_requests_total{operation="PutObject",code="200",backend=%q} rose by %g after two PUTs`, b.backend, d)
		}
		if d := requestCount(t, "GetObject", "200", b.backend) - getBefore; d < 1 {
			t.Errorf(`lakegate_s3_requests_total{operation="GetObject",code="200",backend=%q} rose by %g after a GET`, b.backend, d)
		}
		if d := requestCount(t, "GetObject", "404", b.backend) - missBefore; d < 1 {
			t.Errorf(`lakegate_s3_requests_total{operation="GetObject",code="404",backend=%q} rose by %g after a 404`, b.backend, d)
		}
		fams, err := scrapeMetrics()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"lakegate_s3_request_duration_seconds", "lakegate_s3_requests_in_flight", "lakegate_s3_received_bytes_total", "lakegate_s3_sent_bytes_total"} {
			if fams[name] == nil {
				t.Errorf("/metrics has no %s", name)
			}
		}
		// Request IDs are unique per request.
		r1 := b.do(rawReq{Method: "HEAD", Bucket: b.bucket, Key: key})
		r2 := b.do(rawReq{Method: "HEAD", Bucket: b.bucket, Key: key})
		if id1, id2 := r1.Header.Get("x-amz-request-id"), r2.Header.Get("x-amz-request-id"); id1 == "" || id1 == id2 {
			t.Errorf("two requests got x-amz-request-id %q and %q: want distinct, non-empty", id1, id2)
		}
	})
}
