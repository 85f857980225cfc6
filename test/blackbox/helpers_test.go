package blackbox

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// baseTransport is shared by every client so connections are reused.
var baseTransport = &http.Transport{
	Proxy:                 nil, // loopback only, never through a proxy
	MaxIdleConns:          64,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	ResponseHeaderTimeout: 5 * time.Minute,
	ExpectContinueTimeout: time.Second,
}

// bctx is one backend's view for one subtest: the suite's bucket on that
// backend and clients whose transport fails the test on any 5xx answer
// (501 NotImplemented excepted) and on any S3 response without
// x-amz-request-id.
type bctx struct {
	t       *testing.T
	backend string
	bucket  string
	// prefix is unique to the subtest; scenarios put their keys under it.
	prefix string
	// check is the checking transport; rec records every request it sends.
	check *checkTransport
	rec   *recorder
	// http is a plain HTTP client over check (presigned URLs, raw requests).
	http *http.Client
	// s3 is an AWS SDK for Go v2 client with default settings (path-style),
	// no retries, over check.
	s3 *s3.Client
}

// eachBackend runs fn as subtest t/<backend> for every configured backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b *bctx)) {
	t.Helper()
	for _, backend := range env.backends {
		t.Run(backend, func(t *testing.T) {
			if err := env.bucketErr[backend]; err != nil {
				t.Fatalf("no bucket on backend %s: %v", backend, err)
			}
			b := newBctx(t, backend, env.buckets[backend])
			watch5xx(t)
			fn(t, b)
		})
	}
}

func newBctx(t *testing.T, backend, bucket string) *bctx {
	rec := &recorder{}
	ct := &checkTransport{t: t, base: baseTransport, rec: rec}
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return &bctx{
		t:       t,
		backend: backend,
		bucket:  bucket,
		prefix:  name + "-" + randHex(3) + "/",
		check:   ct,
		rec:     rec,
		http:    &http.Client{Transport: ct, Timeout: 10 * time.Minute},
		s3:      newS3Client(ct),
	}
}

// newS3Client returns an SDK client on the gateway: path-style, the suite's
// credentials and region, the SDK's default checksum behaviour, no retries
// so that every failure surfaces.
func newS3Client(rt http.RoundTripper, opts ...func(*s3.Options)) *s3.Client {
	cfg := aws.Config{
		Region:      env.region,
		Credentials: credentials.NewStaticCredentialsProvider(env.accessKey, env.secretKey, ""),
		HTTPClient:  &http.Client{Transport: rt},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		// What config.LoadDefaultConfig resolves without any configuration:
		// a CRC32 on every upload and response checksum validation. (The
		// zero value of aws.Config means neither.)
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	all := append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(env.endpoint)
		o.UsePathStyle = true
	}}, opts...)
	return s3.NewFromConfig(cfg, all...)
}

// sdk returns an SDK client over b's checking transport with extra options.
func (b *bctx) sdk(opts ...func(*s3.Options)) *s3.Client { return newS3Client(b.check, opts...) }

// key returns name under the subtest's prefix.
func (b *bctx) key(name string) string { return b.prefix + name }

// checkTransport fails the test on any 5xx answer other than 501 (and 503
// when allow503 is set) and on any S3 response lacking x-amz-request-id.
type checkTransport struct {
	t        *testing.T
	base     http.RoundTripper
	rec      *recorder
	allow503 bool
	// httpsToHTTP sends requests addressed to https:// over plain HTTP, so
	// that the SDK uses the modes it reserves for TLS (trailing checksums,
	// unsigned payload) against a plain-HTTP gateway.
	httpsToHTTP bool
}

func (c *checkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.rec != nil {
		c.rec.add(r)
	}
	if c.httpsToHTTP && r.URL.Scheme == "https" {
		r2 := r.Clone(r.Context())
		r2.URL.Scheme = "http"
		r = r2
	}
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && !(resp.StatusCode == http.StatusServiceUnavailable && c.allow503) {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		c.t.Errorf("gateway answered %s to %s %s (x-amz-content-sha256 %q): a 5xx is never acceptable here; body: %s",
			resp.Status, r.Method, r.URL.RequestURI(), r.Header.Get("X-Amz-Content-Sha256"), body)
	}
	if isS3Path(r.URL.Path) && resp.Header.Get("x-amz-request-id") == "" {
		c.t.Errorf("%s %s: response %s has no x-amz-request-id header", r.Method, r.URL.RequestURI(), resp.Status)
	}
	return resp, nil
}

func isS3Path(p string) bool {
	switch p {
	case "/metrics", "/healthz", "/readyz":
		return false
	}
	return true
}

// recorded is one request as the client sent it.
type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
}

// recorder keeps the requests a client sent, to prove which payload mode
// a client really used.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) >= 10000 {
		r.reqs = r.reqs[1:]
	}
	r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone()})
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
}

// find returns the recorded requests matching method whose query has every
// key in queryKeys and lacks every key prefixed with "!".
func (r *recorder) find(method string, queryKeys ...string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
outer:
	for _, q := range r.reqs {
		if q.Method != method {
			continue
		}
		for _, k := range queryKeys {
			if strings.HasPrefix(k, "!") {
				if q.Query.Has(k[1:]) {
					continue outer
				}
			} else if !q.Query.Has(k) {
				continue outer
			}
		}
		out = append(out, q)
	}
	return out
}

// watch5xx fails t if the gateway's request counter shows a 5xx answer
// (other than 501) served while t ran: clients that retry silently (aws CLI,
// boto3, minio-go) would hide it otherwise. With a shared gateway this
// attributes to t any concurrent 5xx; the suite runs its subtests serially.
func watch5xx(t *testing.T) {
	before, err := scrape5xx()
	if err != nil {
		t.Errorf("scraping %s/metrics: %v", env.endpoint, err)
		return
	}
	t.Cleanup(func() {
		after, err := scrape5xx()
		if err != nil {
			t.Errorf("scraping %s/metrics: %v", env.endpoint, err)
			return
		}
		var bad []string
		for k, v := range after {
			if v > before[k] {
				bad = append(bad, fmt.Sprintf("%s: +%g", k, v-before[k]))
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("the gateway served 5xx answers during this test (lakegate_s3_requests_total): %s", strings.Join(bad, ", "))
		}
	})
}

// scrape5xx returns lakegate_s3_requests_total for every label set whose
// code is 5xx other than 501, keyed by "operation code backend".
func scrape5xx() (map[string]float64, error) {
	fams, err := scrapeMetrics()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	fam := fams["lakegate_s3_requests_total"]
	if fam == nil {
		return out, nil
	}
	for _, m := range fam.GetMetric() {
		l := labels(m.GetLabel())
		code := l["code"]
		if strings.HasPrefix(code, "5") && code != "501" {
			out[l["operation"]+" "+code+" "+l["backend"]] = m.GetCounter().GetValue()
		}
	}
	return out, nil
}

func labels(ls []*dto.LabelPair) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.GetName()] = l.GetValue()
	}
	return m
}

func scrapeMetrics() (map[string]*dto.MetricFamily, error) {
	c := &http.Client{Transport: baseTransport, Timeout: 30 * time.Second}
	resp, err := c.Get(env.endpoint + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// randBytes returns n pseudo-random bytes from seed (reproducible per test).
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(seedBytes(seed)).Read(b)
	return b
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	copy(s[8:], "lakegate-blackbox-seed-01234")
	return s
}

// newRandReader streams n pseudo-random bytes without holding them in memory.
func newRandReader(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8(seedBytes(seed)), n)
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// multipartETag is S3's ETag of a multipart object made of parts: the MD5 of
// the concatenated part MD5s, "-", the number of parts.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts))
}

// quoted returns s in double quotes, as S3 sends ETags.
func quoted(s string) string { return `"` + s + `"` }

// apiCode returns the S3 error code and HTTP status of an SDK error.
func apiCode(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// wantAPIError fails t unless err is an S3 error with the given HTTP status
// and, when codes are given, one of those codes.
func wantAPIError(t *testing.T, what string, err error, status int, codes ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want HTTP %d %v", what, status, codes)
		return
	}
	code, st := apiCode(err)
	if st != status {
		t.Errorf("%s: HTTP %d (code %q), want %d %v; error: %v", what, st, code, status, codes, err)
		return
	}
	if len(codes) > 0 && !contains(codes, code) {
		t.Errorf("%s: S3 error code %q, want one of %v; error: %v", what, code, codes, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// getBytes reads the whole object key through the SDK.
func (b *bctx) getBytes(key string) ([]byte, error) {
	out, err := b.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// mustPut stores body at key through the SDK and returns the ETag.
func (b *bctx) mustPut(key string, body []byte) string {
	b.t.Helper()
	out, err := b.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		b.t.Fatalf("PutObject %q: %v", key, err)
	}
	return aws.ToString(out.ETag)
}

// wantContent fails unless key holds exactly want.
func (b *bctx) wantContent(key string, want []byte) {
	b.t.Helper()
	got, err := b.getBytes(key)
	if err != nil {
		b.t.Errorf("GetObject %q: %v", key, err)
		return
	}
	if !bytes.Equal(got, want) {
		b.t.Errorf("GetObject %q: %d bytes (md5 %s), want %d bytes (md5 %s)", key, len(got), md5Hex(got), len(want), md5Hex(want))
	}
}

// wantAbsent fails unless key is not visible: HEAD is 404 and no listing
// under key's name shows it or anything starting with it (temporary files).
func (b *bctx) wantAbsent(key string) {
	b.t.Helper()
	_, err := b.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err == nil {
		b.t.Errorf("HeadObject %q: the object exists, want none", key)
	} else if _, st := apiCode(err); st != http.StatusNotFound {
		b.t.Errorf("HeadObject %q: %v, want 404", key, err)
	}
	out, err := b.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(key)})
	if err != nil {
		b.t.Errorf("ListObjectsV2 prefix %q: %v", key, err)
		return
	}
	for _, o := range out.Contents {
		b.t.Errorf("ListObjectsV2 prefix %q lists %q (%d bytes): want nothing", key, aws.ToString(o.Key), aws.ToInt64(o.Size))
	}
}

// listKeys lists every key under prefix with ListObjectsV2 (bounded).
func (b *bctx) listKeys(prefix string) []string {
	b.t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(prefix)})
	for i := 0; p.HasMorePages() && i < 1000; i++ {
		out, err := p.NextPage(context.Background())
		if err != nil {
			b.t.Fatalf("ListObjectsV2 prefix %q: %v", prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// s3Error is the XML error body S3 answers with.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

func parseS3Error(body []byte) s3Error {
	var e s3Error
	_ = xml.Unmarshal(body, &e)
	return e
}

// rawResp is a raw HTTP answer with its body read.
type rawResp struct {
	Status int
	Header http.Header
	Body   []byte
	Err    s3Error
}

func (r rawResp) String() string {
	body := r.Body
	if len(body) > 600 {
		body = body[:600]
	}
	return fmt.Sprintf("HTTP %d, S3 code %q, body %s", r.Status, r.Err.Code, body)
}

// wantRaw fails unless r has the status and (when given) one of the codes.
func wantRaw(t *testing.T, what string, r rawResp, status int, codes ...string) {
	t.Helper()
	if r.Status != status || (len(codes) > 0 && !contains(codes, r.Err.Code)) {
		t.Errorf("%s: %s; want HTTP %d with S3 code %v", what, r, status, codes)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
