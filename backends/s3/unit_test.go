package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lakegate/lakegate/backends"
)

// TestTranslate: every backend error code and network failure the backend
// can produce maps to the documented sentinel, and the backend's message is
// not passed on.
func TestTranslate(t *testing.T) {
	resp := func(code string, status int) error {
		return minio.ErrorResponse{Code: code, StatusCode: status, Message: "backend secret detail"}
	}
	cases := []struct {
		name string
		err  error
		key  string
		want error
	}{
		{"NoSuchKey", resp("NoSuchKey", 404), "k", backends.ErrObjectNotFound},
		{"NoSuchBucket", resp("NoSuchBucket", 404), "k", backends.ErrBucketNotFound},
		{"NoSuchUpload", resp("NoSuchUpload", 404), "k", backends.ErrUploadNotFound},
		{"BucketAlreadyOwnedByYou", resp("BucketAlreadyOwnedByYou", 409), "", backends.ErrBucketExists},
		{"BucketAlreadyExists", resp("BucketAlreadyExists", 409), "", backends.ErrBucketExists},
		{"BucketNotEmpty", resp("BucketNotEmpty", 409), "", backends.ErrBucketNotEmpty},
		{"PreconditionFailed", resp("PreconditionFailed", 412), "k", backends.ErrPreconditionFailed},
		{"ConditionalRequestConflict", resp("ConditionalRequestConflict", 409), "k", backends.ErrConditionalConflict},
		{"InvalidPart", resp("InvalidPart", 400), "k", backends.ErrInvalidPart},
		{"InvalidPartOrder", resp("InvalidPartOrder", 400), "k", backends.ErrInvalidPartOrder},
		{"EntityTooSmall", resp("EntityTooSmall", 400), "k", backends.ErrEntityTooSmall},
		{"InvalidRange", resp("InvalidRange", 416), "k", backends.ErrInvalidRange},
		{"SlowDown", resp("SlowDown", 503), "k", backends.ErrSlowDown},
		{"Throttling 429 without code", resp("429 Too Many Requests", 429), "k", backends.ErrSlowDown},
		{"ServiceUnavailable", resp("ServiceUnavailable", 503), "k", backends.ErrUnavailable},
		{"502", resp("502 Bad Gateway", 502), "k", backends.ErrUnavailable},
		{"MinIO invalid name", resp("XMinioInvalidObjectName", 400), "k", backends.ErrInvalidObjectName},
		{"MinIO invalid resource", resp("XMinioInvalidResourceName", 400), "k", backends.ErrInvalidObjectName},
		{"RGW bare 400 for a key", resp("400 Bad Request", 400), "k", backends.ErrInvalidObjectName},
		{"HEAD 404 key", resp("404 Not Found", 404), "k", backends.ErrObjectNotFound},
		{"HEAD 404 bucket", resp("404 Not Found", 404), "", backends.ErrBucketNotFound},
		{"HEAD 412", resp("412 Precondition Failed", 412), "k", backends.ErrPreconditionFailed},
		{"NotImplemented", resp("NotImplemented", 501), "k", backends.ErrNotImplemented},
		{"refused", &url.Error{Op: "Put", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, "k", backends.ErrUnavailable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), "k", backends.ErrUnavailable},
		{"unexpected EOF", io.ErrUnexpectedEOF, "k", backends.ErrUnavailable},
		{"canceled", context.Canceled, "k", context.Canceled},
	}
	for _, c := range cases {
		got := translate(c.err, "op", "b", c.key)
		if !errors.Is(got, c.want) {
			t.Errorf("%s: translate = %v, want it to wrap %v", c.name, got, c.want)
		}
		if strings.Contains(got.Error(), "backend secret detail") {
			t.Errorf("%s: backend message passed on: %v", c.name, got)
		}
	}
	// Unknown backend errors stay plain errors (500 in the gateway).
	for _, err := range []error{resp("InternalError", 500), resp("AccessDenied", 403)} {
		got := translate(err, "op", "b", "k")
		for _, s := range []error{backends.ErrObjectNotFound, backends.ErrUnavailable, backends.ErrSlowDown, backends.ErrBucketNotFound} {
			if errors.Is(got, s) {
				t.Errorf("translate(%v) = %v, wraps %v", err, got, s)
			}
		}
	}
	if translate(nil, "op", "b", "k") != nil {
		t.Error("translate(nil) != nil")
	}
}

// TestExactReader: the reader hands over exactly the declared size, and
// fails before handing over the last byte when the body is longer or
// shorter, so that no request with a wrong body ever completes.
func TestExactReader(t *testing.T) {
	errBody := errors.New("body broke")
	cases := []struct {
		name    string
		body    io.Reader
		size    int64
		wantErr error
		wantN   int64 // bytes delivered before the error; -1: all
	}{
		{"exact", strings.NewReader("hello world"), 11, nil, -1},
		{"empty", strings.NewReader(""), 0, nil, -1},
		{"longer", strings.NewReader("hello world!"), 11, errBodyTooLong, 0},
		{"longer empty", strings.NewReader("x"), 0, errBodyTooLong, 0},
		{"shorter", strings.NewReader("hello"), 11, io.ErrUnexpectedEOF, 5},
		{"body error", io.MultiReader(strings.NewReader("hel"), &errReader{errBody}), 11, errBody, 3},
		{"error at the end", io.MultiReader(strings.NewReader("hello world"), &errReader{errBody}), 11, errBody, 0},
	}
	for _, c := range cases {
		er := newExactReader(context.Background(), c.body, c.size)
		var got bytes.Buffer
		buf := make([]byte, 4)
		var err error
		for {
			var n int
			n, err = er.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if c.wantErr == nil {
			if err != io.EOF || int64(got.Len()) != c.size {
				t.Errorf("%s: %d bytes, %v; want %d bytes, io.EOF", c.name, got.Len(), err, c.size)
			}
			continue
		}
		if !errors.Is(err, c.wantErr) || !errors.Is(er.err, c.wantErr) {
			t.Errorf("%s: error %v (kept %v), want %v", c.name, err, er.err, c.wantErr)
		}
		if int64(got.Len()) >= c.size && c.size > 0 {
			t.Errorf("%s: handed over all %d bytes despite the error", c.name, got.Len())
		}
		if err := er.bodyError("put", "b", "k"); !errors.Is(err, c.wantErr) {
			t.Errorf("%s: bodyError = %v", c.name, err)
		}
	}
}

// TestExactReaderCancel: after the upload's context is cancelled the reader
// hands over nothing more, even though the body could still be read, so the
// request cannot complete and the backend cannot store the object.
func TestExactReaderCancel(t *testing.T) {
	for _, at := range []int{0, 3, 10, 11} { // cancel after this many bytes
		ctx, cancel := context.WithCancel(context.Background())
		body := &cancelAfter{data: []byte("hello world"), at: at, cancel: cancel}
		er := newExactReader(ctx, body, 11)
		var got bytes.Buffer
		buf := make([]byte, 4)
		var err error
		for err == nil {
			var n int
			n, err = er.Read(buf)
			got.Write(buf[:n])
		}
		cancel()
		if !errors.Is(err, context.Canceled) || !errors.Is(er.bodyError("put", "b", "k"), context.Canceled) {
			t.Errorf("cancel after %d: error %v, want context.Canceled", at, err)
		}
		if got.Len() >= 11 {
			t.Errorf("cancel after %d: handed over all %d bytes", at, got.Len())
		}
	}
}

// cancelAfter serves data, calling cancel once at bytes have been read.
type cancelAfter struct {
	data   []byte
	off    int
	at     int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.off >= c.at {
		c.cancel()
	}
	if c.off == len(c.data) {
		return 0, io.EOF
	}
	n := copy(p[:1], c.data[c.off:])
	c.off += n
	return n, nil
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// TestMetadataHeadersRoundTrip: metadata written as headers reads back
// unchanged, reserved names stay hidden, callers' own "lakegate-" names
// survive, a missing content type stays missing, and a non-HTTP-date
// Expires keeps its exact text.
func TestMetadataHeadersRoundTrip(t *testing.T) {
	meta := backends.Metadata{
		ContentType:        "",
		ContentEncoding:    "gzip",
		ContentDisposition: `attachment; filename="x y.json"`,
		ContentLanguage:    "de-CH",
		CacheControl:       "no-cache",
		Expires:            "0",
		User:               map[string]string{"owner": "team-a", "lakegate-checksums": "mine", "content-type": "user value"},
	}
	sums := map[string]string{backends.ChecksumCRC32C: "yZRlqg==", backends.ChecksumSHA256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}
	opts := putOptions(meta, sums, true)
	h := opts.Header()
	// What a backend answers on HEAD: the same headers, names canonical.
	resp := http.Header{}
	for k, v := range h {
		resp[http.CanonicalHeaderKey(k)] = v
	}
	got := metadataFromHeaders(resp)
	if got.ContentType != "" || got.ContentEncoding != "gzip" || got.ContentDisposition != meta.ContentDisposition ||
		got.ContentLanguage != "de-CH" || got.CacheControl != "no-cache" || got.Expires != "0" {
		t.Errorf("standard headers: %+v", got)
	}
	if len(got.User) != 3 || got.User["owner"] != "team-a" || got.User["lakegate-checksums"] != "mine" || got.User["content-type"] != "user value" {
		t.Errorf("user metadata: %v", got.User)
	}
	if got.Checksums[backends.ChecksumCRC32C] != sums[backends.ChecksumCRC32C] || got.Checksums[backends.ChecksumSHA256] != sums[backends.ChecksumSHA256] || len(got.Checksums) != 2 {
		t.Errorf("checksums: %v", got.Checksums)
	}
	// A wrong weekday is not an exact HTTP date: kept as text.
	if h := putOptions(backends.Metadata{Expires: "Thu, 01 Dec 2094 16:00:00 GMT"}, nil, true).Header(); h.Get("Expires") != "" || metadataFromHeaders(h).Expires != "Thu, 01 Dec 2094 16:00:00 GMT" {
		t.Errorf("inexact date: header %q", h.Get("Expires"))
	}
	// An HTTP date goes into the real Expires header.
	meta2 := backends.Metadata{ContentType: "text/plain", Expires: "Thu, 01 Dec 2044 16:00:00 GMT"}
	h2 := putOptions(meta2, nil, true).Header()
	if h2.Get("Expires") != meta2.Expires {
		t.Errorf("Expires header %q", h2.Get("Expires"))
	}
	if got := metadataFromHeaders(h2); got.Expires != meta2.Expires || got.ContentType != "text/plain" || len(got.User) != 0 {
		t.Errorf("round trip: %+v", got)
	}
}

// TestEncodeTags: tags are encoded with %20 for spaces (Ceph RGW does not
// decode "+"), a literal "+" as %2B, in key order.
func TestEncodeTags(t *testing.T) {
	got := encodeTags(map[string]string{"with space": "v a l", "a+b": "1&2=3", "empty": ""})
	want := "a%2Bb=1%262%3D3&empty=&with%20space=v%20a%20l"
	if got != want {
		t.Errorf("encodeTags = %q, want %q", got, want)
	}
}

// TestDecodeChecksums: malformed entries from the backend are dropped.
func TestDecodeChecksums(t *testing.T) {
	got := decodeChecksums("CRC32:AAAAAA==,SHA1:bad value,MD5:AAAA,CRC32C:HEd9aQ==-2,:x,SHA256")
	if len(got) != 2 || got["CRC32"] != "AAAAAA==" || got["CRC32C"] != "HEd9aQ==-2" {
		t.Errorf("decodeChecksums = %v", got)
	}
	if decodeChecksums("") != nil {
		t.Error("empty not nil")
	}
}

// FuzzDecodeChecksums: any stored value decodes without panicking into
// entries that encode back to themselves.
func FuzzDecodeChecksums(f *testing.F) {
	f.Add("CRC32C:yZRlqg==")
	f.Add("CRC32:AAAAAA==,SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")
	f.Add("CRC32C:HEd9aQ==-2")
	f.Fuzz(func(t *testing.T, s string) {
		got := decodeChecksums(s)
		for a, v := range got {
			if !isChecksumAlgo(a) || !isBase64(v) {
				t.Fatalf("decoded invalid entry %q=%q from %q", a, v, s)
			}
		}
		if again := decodeChecksums(encodeChecksums(got)); len(again) != len(got) {
			t.Fatalf("re-encoding %v lost entries: %v", got, again)
		}
	})
}

// TestPageUploads: ListMultipartUploads semantics over the records.
func TestPageUploads(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(key, id string, sec int) uploadRecord {
		return uploadRecord{Key: key, UploadID: id, Initiated: t0.Add(time.Duration(sec) * time.Second)}
	}
	recs := []uploadRecord{
		rec("dest/part-1", "u1", 1), rec("dest/sub/part-2", "u2", 2), rec("destination", "u3", 3),
		rec("other/x", "u4", 4), rec("top", "u5", 5), rec("top", "u0", 6), rec("dest/part-1", "u6", 0),
	}
	keys := func(r backends.ListUploadsResult) string {
		var s []string
		for _, u := range r.Uploads {
			s = append(s, u.Key+"#"+u.UploadID)
		}
		return fmt.Sprint(s, r.CommonPrefixes, r.IsTruncated)
	}
	cases := []struct {
		q    backends.ListUploadsQuery
		want string
	}{
		{backends.ListUploadsQuery{}, "[dest/part-1#u6 dest/part-1#u1 dest/sub/part-2#u2 destination#u3 other/x#u4 top#u5 top#u0] [] false"},
		{backends.ListUploadsQuery{Prefix: "dest/"}, "[dest/part-1#u6 dest/part-1#u1 dest/sub/part-2#u2] [] false"},
		{backends.ListUploadsQuery{Prefix: "dest/", Delimiter: "/"}, "[dest/part-1#u6 dest/part-1#u1] [dest/sub/] false"},
		{backends.ListUploadsQuery{Delimiter: "/"}, "[destination#u3 top#u5 top#u0] [dest/ other/] false"},
		{backends.ListUploadsQuery{Delimiter: "/", MaxUploads: 2}, "[destination#u3] [dest/] true"},
		{backends.ListUploadsQuery{Delimiter: "/", KeyMarker: "dest/"}, "[destination#u3 top#u5 top#u0] [other/] false"},
		{backends.ListUploadsQuery{KeyMarker: "dest/part-1"}, "[dest/sub/part-2#u2 destination#u3 other/x#u4 top#u5 top#u0] [] false"},
		{backends.ListUploadsQuery{KeyMarker: "dest/part-1", UploadIDMarker: "u6"}, "[dest/part-1#u1 dest/sub/part-2#u2 destination#u3 other/x#u4 top#u5 top#u0] [] false"},
		{backends.ListUploadsQuery{KeyMarker: "top", UploadIDMarker: "u5"}, "[top#u0] [] false"},
		{backends.ListUploadsQuery{MaxUploads: 1}, "[dest/part-1#u6] [] true"},
	}
	for _, c := range cases {
		if got := keys(pageUploads(recs, c.q)); got != c.want {
			t.Errorf("pageUploads(%+v) = %s, want %s", c.q, got, c.want)
		}
	}
	// Paging one by one visits everything once.
	q := backends.ListUploadsQuery{MaxUploads: 1}
	var seen []string
	for range 20 {
		r := pageUploads(recs, q)
		for _, u := range r.Uploads {
			seen = append(seen, u.UploadID)
		}
		if !r.IsTruncated {
			break
		}
		q.KeyMarker, q.UploadIDMarker = r.NextKeyMarker, r.NextUploadIDMarker
	}
	if fmt.Sprint(seen) != "[u6 u1 u2 u3 u4 u5 u0]" {
		t.Errorf("paged = %v", seen)
	}
}

// TestStateStore: records survive a new store over the same directory, a
// record never answers for another key, hostile upload IDs stay inside the
// directory, and checksums are bound to the ETag.
func TestStateStore(t *testing.T) {
	dir := t.TempDir()
	s, err := openStateStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := uploadRecord{Key: "k", UploadID: "../../../etc/passwd", Initiated: time.Now().UTC(), Metadata: backends.Metadata{ContentType: "x/y"}}
	if err := s.saveUpload("bkt", rec); err != nil {
		t.Fatal(err)
	}
	s2, _ := openStateStore(dir)
	got, err := s2.loadUpload("bkt", "k", rec.UploadID)
	if err != nil || got.Metadata.ContentType != "x/y" {
		t.Fatalf("loadUpload after reopen: %+v, %v", got, err)
	}
	if _, err := s2.loadUpload("bkt", "other", rec.UploadID); !errors.Is(err, backends.ErrUploadNotFound) {
		t.Errorf("record answered for another key: %v", err)
	}
	if err := s2.savePart("bkt", rec.UploadID, 3, partRecord{ETag: "e1", Checksums: map[string]string{"CRC32": "AAAAAA=="}}); err != nil {
		t.Fatal(err)
	}
	if s2.loadPart("bkt", rec.UploadID, 3, "e2") != nil || s2.loadPart("bkt", rec.UploadID, 3, "e1")["CRC32"] != "AAAAAA==" {
		t.Error("part checksums not bound to the part ETag")
	}
	if err := s2.removeUpload("bkt", rec.UploadID); err != nil {
		t.Fatal(err)
	}
	if all, _ := s2.listUploads("bkt"); len(all) != 0 {
		t.Errorf("uploads after remove: %+v", all)
	}
	s2.saveChecksums("bkt", "k", "etag1", map[string]string{"SHA1": "AAAA"})
	if s2.loadChecksums("bkt", "k", "etag2") != nil || s2.loadChecksums("bkt", "k", "etag1")["SHA1"] != "AAAA" {
		t.Error("object checksums not bound to the ETag")
	}
}

// TestFlavorFromHeaders recognises backends from response headers.
func TestFlavorFromHeaders(t *testing.T) {
	cases := []struct {
		h    http.Header
		want string
	}{
		{http.Header{"Server": {"MinIO"}}, FlavorMinIO},
		{http.Header{"Server": {"AmazonS3"}}, FlavorAWS},
		{http.Header{"X-Amz-Request-Id": {"tx00000a00ff723f0174c21-006b017746-1044-default"}}, FlavorCeph},
		{http.Header{"X-Amz-Request-Id": {"18EA09CE43ED2CB6"}}, FlavorGeneric},
		{http.Header{}, FlavorGeneric},
	}
	for _, c := range cases {
		if got := flavorFromHeaders(c.h); got != c.want {
			t.Errorf("flavorFromHeaders(%v) = %s, want %s", c.h, got, c.want)
		}
	}
}

// TestContentRangeTotal parses the complete length of a ranged response.
func TestContentRangeTotal(t *testing.T) {
	for v, want := range map[string]int64{"bytes 0-0/1": 1, "bytes 10-19/3000000000": 3000000000} {
		if n, ok := contentRangeTotal(v); !ok || n != want {
			t.Errorf("%q: %d %v", v, n, ok)
		}
	}
	for _, v := range []string{"", "bytes 0-1/*", "0-1/2", "bytes 0-1/-3"} {
		if _, ok := contentRangeTotal(v); ok {
			t.Errorf("%q accepted", v)
		}
	}
}

// TestConfig: required fields, defaults and bad values.
func TestConfig(t *testing.T) {
	good := Config{Endpoint: "http://127.0.0.1:7480", AccessKey: "a", SecretKey: "s", StateDir: t.TempDir()}
	c, err := good.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "us-east-1" || c.PartSize != 16<<20 || c.MaxRetries != 4 || c.BucketLookup != "path" || c.PayloadSigning != "unsigned" || c.Flavor != FlavorAuto {
		t.Errorf("defaults: %+v", c)
	}
	bad := []func(*Config){
		func(c *Config) { c.Endpoint = "" },
		func(c *Config) { c.Endpoint = "127.0.0.1:7480" },
		func(c *Config) { c.Endpoint = "http://h/path" },
		func(c *Config) { c.SecretKey = "" },
		func(c *Config) { c.StateDir = "" },
		func(c *Config) { c.PartSize = 1 << 20 },
		func(c *Config) { c.Flavor = "swift" },
		func(c *Config) { c.PayloadSigning = "chunked" },
	}
	for i, mod := range bad {
		c := good
		mod(&c)
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("bad config %d accepted: %+v", i, c)
		}
	}
}

// TestBucketNames: S3 bucket-name rules, and the prefix is part of the
// backend name.
func TestBucketNames(t *testing.T) {
	for _, n := range []string{"abc", "a.b-c", "lgt-x-0123", strings.Repeat("a", 63)} {
		if !backends.ValidBucketName(n) {
			t.Errorf("%q refused", n)
		}
	}
	for _, n := range []string{"", "ab", ".", "..", "a/b", "Abc", "a..b", "-ab", "ab-", "192.168.1.1", "a\x00b", strings.Repeat("a", 64)} {
		if backends.ValidBucketName(n) {
			t.Errorf("%q accepted", n)
		}
	}
	b := &Backend{cfg: Config{BucketPrefix: "team-"}}
	if bb, err := b.backendBucket("data"); err != nil || bb != "team-data" {
		t.Errorf("backendBucket = %q, %v", bb, err)
	}
	if _, err := b.dataBucket("../x"); !errors.Is(err, backends.ErrBucketNotFound) {
		t.Errorf("dataBucket(../x) = %v", err)
	}
}

// TestMetricsLint registers the metrics and runs promlint on them.
func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"backend": "rgw"}, reg))
	if err != nil {
		t.Fatal(err)
	}
	m.observe("Stat", time.Now(), nil)
	m.observe("Put", time.Now(), backends.ErrUnavailable)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(m.requests); n != 2 {
		t.Errorf("%d request series, want 2", n)
	}
	// The caller tells several s3 backends apart by wrapping the registerer.
	if _, err := newMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"backend": "minio"}, reg)); err != nil {
		t.Errorf("a second backend with another label: %v", err)
	}
}

// TestNewDoesNotNeedBackend: New succeeds with an unreachable endpoint, and
// operations then fail with ErrUnavailable, not a hang or a panic.
func TestNewDoesNotNeedBackend(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	b, err := New(context.Background(), Config{Endpoint: "http://" + addr, AccessKey: "a", SecretKey: "s", StateDir: t.TempDir(), MaxRetries: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Stat(t.Context(), "bucket", "key"); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Stat: %v, want ErrUnavailable", err)
	}
	if _, err := b.Put(t.Context(), "bucket", "key", strings.NewReader("x"), backends.PutOptions{Size: 1}); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Put: %v, want ErrUnavailable", err)
	}
	if _, err := b.List(t.Context(), "bucket", backends.ListQuery{MaxKeys: 10}); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("List: %v, want ErrUnavailable", err)
	}
}
