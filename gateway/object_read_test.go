package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
)

func TestParseRange(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		spec rangeSpec
	}{
		{"bytes=0-9", true, rangeSpec{first: 0, last: 9}},
		{"bytes=10-", true, rangeSpec{first: 10, last: -1}},
		{"bytes=-5", true, rangeSpec{last: 5, suffix: true}},
		{" bytes = 3 - 4 ", true, rangeSpec{first: 3, last: 4}},
		{"BYTES=1-1", true, rangeSpec{first: 1, last: 1}},
		{"bytes=5-3", false, rangeSpec{}},
		{"bytes=0-1,3-4", false, rangeSpec{}},
		{"items=0-1", false, rangeSpec{}},
		{"bytes=", false, rangeSpec{}},
		{"bytes=-", false, rangeSpec{}},
		{"bytes=a-b", false, rangeSpec{}},
		{"bytes=+1-2", false, rangeSpec{}},
		{"bytes=1", false, rangeSpec{}},
		{"bytes=--1", false, rangeSpec{}},
		{"bytes=99999999999999999999-", false, rangeSpec{}},
		{"0-1", false, rangeSpec{}},
		{"", false, rangeSpec{}},
	}
	for _, c := range cases {
		spec, ok := parseRange(c.in)
		if ok != c.ok || (ok && spec != c.spec) {
			t.Errorf("parseRange(%q) = %+v, %v; want %+v, %v", c.in, spec, ok, c.spec, c.ok)
		}
	}
	res := []struct {
		spec          rangeSpec
		size          int64
		start, length int64
		ok            bool
	}{
		{rangeSpec{first: 0, last: 9}, 100, 0, 10, true},
		{rangeSpec{first: 90, last: 200}, 100, 90, 10, true},
		{rangeSpec{first: 99, last: -1}, 100, 99, 1, true},
		{rangeSpec{first: 100, last: -1}, 100, 0, 0, false},
		{rangeSpec{first: 0, last: -1}, 0, 0, 0, false},
		{rangeSpec{last: 10, suffix: true}, 100, 90, 10, true},
		{rangeSpec{last: 1000, suffix: true}, 100, 0, 100, true},
		{rangeSpec{last: 0, suffix: true}, 100, 0, 0, false},
		{rangeSpec{last: 5, suffix: true}, 0, 0, 0, false},
		{rangeSpec{first: 0, last: math.MaxInt64}, 100, 0, 100, true},
	}
	for _, c := range res {
		start, length, ok := c.spec.resolve(c.size)
		if ok != c.ok || (ok && (start != c.start || length != c.length)) {
			t.Errorf("%+v.resolve(%d) = %d, %d, %v; want %d, %d, %v", c.spec, c.size, start, length, ok, c.start, c.length, c.ok)
		}
	}
}

// FuzzParseRange checks that any Range header either is ignored or selects
// a non-empty range inside the object, for several object sizes.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=10-", "bytes=-5", "bytes=5-3", "bytes=0-1,2-3", "bytes=-0",
		"bytes=9223372036854775807-", "bytes=0-9223372036854775807", "bytes= 1 - 2", "items=1-2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		spec, ok := parseRange(v)
		if !ok {
			return
		}
		if spec.suffix && spec.last < 0 || !spec.suffix && (spec.first < 0 || spec.last < -1 || spec.last >= 0 && spec.last < spec.first) {
			t.Fatalf("parseRange(%q) = %+v: inconsistent", v, spec)
		}
		or := spec.openRange()
		if !spec.suffix && (or.Offset != spec.first || or.Length == 0 || or.Length < -1) {
			t.Fatalf("parseRange(%q).openRange() = %+v", v, or)
		}
		for _, size := range []int64{0, 1, 7, 1000, math.MaxInt64} {
			start, length, ok := spec.resolve(size)
			if !ok {
				continue
			}
			if start < 0 || length < 1 || start >= size || length > size-start {
				t.Fatalf("parseRange(%q).resolve(%d) = %d, %d outside the object", v, size, start, length)
			}
		}
	})
}

func TestGetObjectRanges(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz") // 36 bytes
	objPut(t, g, "bkt", "k", data)
	objPut(t, g, "bkt", "empty", nil)
	size := len(data)
	cases := []struct {
		rng        string
		status     int
		start, end int // body = data[start:end]
	}{
		{"bytes=0-9", 206, 0, 10},
		{"bytes=10-", 206, 10, 36},
		{"bytes=-5", 206, 31, 36},
		{"bytes=30-1000", 206, 30, 36},
		{"bytes=-1000", 206, 0, 36},
		{"bytes=35-35", 206, 35, 36},
		{"bytes=0-", 206, 0, 36},
		{"bytes=0-1,5-6", 200, 0, 36},
		{"bytes=9-3", 200, 0, 36},
		{"items=0-3", 200, 0, 36},
		{"bytes=36-", 416, 0, 0},
		{"bytes=100-200", 416, 0, 0},
		{"bytes=-0", 416, 0, 0},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "HEAD"} {
			r := objSend(t, g, method, "/bkt/k", nil, http.Header{"Range": {c.rng}})
			what := method + " Range " + c.rng
			if c.status == 416 {
				wantS3Error(t, what, r, 416, map[bool]string{true: "InvalidRange", false: ""}[method == "GET"])
				if r.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
					t.Errorf("%s: Content-Range %q", what, r.Header.Get("Content-Range"))
				}
				continue
			}
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d (%s)", what, r.Status, c.status, r.Body)
				continue
			}
			want := data[c.start:c.end]
			if r.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
				t.Errorf("%s: Content-Length %q, want %d", what, r.Header.Get("Content-Length"), len(want))
			}
			if method == "GET" && !bytes.Equal(r.Body, want) {
				t.Errorf("%s: body %q, want %q", what, r.Body, want)
			}
			if method == "HEAD" && len(r.Body) != 0 {
				t.Errorf("%s: HEAD has a body", what)
			}
			cr := r.Header.Get("Content-Range")
			if c.status == 206 && cr != fmt.Sprintf("bytes %d-%d/%d", c.start, c.end-1, size) {
				t.Errorf("%s: Content-Range %q", what, cr)
			}
			if c.status == 200 && cr != "" {
				t.Errorf("%s: Content-Range %q on a 200", what, cr)
			}
		}
	}
	// Any range of an empty object is unsatisfiable; the whole is fine.
	r := objSend(t, g, "GET", "/bkt/empty", nil, http.Header{"Range": {"bytes=0-"}})
	wantS3Error(t, "GET empty Range bytes=0-", r, 416, "InvalidRange")
	if r.Header.Get("Content-Range") != "bytes */0" {
		t.Errorf("GET empty range: Content-Range %q", r.Header.Get("Content-Range"))
	}
	r = objSend(t, g, "GET", "/bkt/empty", nil, nil)
	if r.Status != 200 || len(r.Body) != 0 || r.Header.Get("Content-Length") != "0" {
		t.Errorf("GET empty: %d %q length %q", r.Status, r.Body, r.Header.Get("Content-Length"))
	}
	// A ranged GET through the SDK.
	out, err := g.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String("bytes=3-5")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "345" || aws.ToString(out.ContentRange) != "bytes 3-5/36" {
		t.Errorf("SDK ranged GET = %q, %q", b, aws.ToString(out.ContentRange))
	}
}

func TestGetObjectChecksumModeNotOnRanges(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	data := []byte("checksummed content")
	if _, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatal(err)
	}
	r := objSend(t, g, "GET", "/bkt/k", nil, http.Header{"x-amz-checksum-mode": {"ENABLED"}})
	if r.Header.Get("x-amz-checksum-sha256") == "" || r.Header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
		t.Errorf("whole GET with checksum mode: sha256 %q type %q", r.Header.Get("x-amz-checksum-sha256"), r.Header.Get("x-amz-checksum-type"))
	}
	for _, rng := range []string{"bytes=0-3", "bytes=0-", "bytes=-1000"} {
		r := objSend(t, g, "GET", "/bkt/k", nil, http.Header{"x-amz-checksum-mode": {"ENABLED"}, "Range": {rng}})
		if r.Status != 206 || r.Header.Get("x-amz-checksum-sha256") != "" {
			t.Errorf("ranged GET %s with checksum mode: %d sha256 %q", rng, r.Status, r.Header.Get("x-amz-checksum-sha256"))
		}
	}
	// The SDK validates the checksum it gets back on a whole-object GET.
	out, err := g.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(b, data) {
		t.Errorf("SDK GET with checksum validation: %q %v", b, err)
	}
}

func TestGetObjectPreconditions(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	data := []byte("conditional")
	etag := objPut(t, g, "bkt", "k", data)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		h      http.Header
		status int
	}{
		{http.Header{"If-Match": {etag}}, 200},
		{http.Header{"If-Match": {`"nope", ` + etag}}, 200},
		{http.Header{"If-Match": {"*"}}, 200},
		{http.Header{"If-Match": {`"nope"`}}, 412},
		{http.Header{"If-None-Match": {etag}}, 304},
		{http.Header{"If-None-Match": {"*"}}, 304},
		{http.Header{"If-None-Match": {`"nope"`}}, 200},
		{http.Header{"If-Modified-Since": {future}}, 304},
		{http.Header{"If-Modified-Since": {past}}, 200},
		{http.Header{"If-Unmodified-Since": {past}}, 412},
		{http.Header{"If-Unmodified-Since": {future}}, 200},
		{http.Header{"If-Modified-Since": {"not a date"}}, 200},
		{http.Header{"If-Unmodified-Since": {"not a date"}}, 200},
		// S3 precedence: a true If-Match wins over a false If-Unmodified-Since,
		{http.Header{"If-Match": {etag}, "If-Unmodified-Since": {past}}, 200},
		// and a false If-None-Match wins over a true If-Modified-Since.
		{http.Header{"If-None-Match": {etag}, "If-Modified-Since": {past}}, 304},
		// Preconditions are checked before the range.
		{http.Header{"If-Match": {`"nope"`}, "Range": {"bytes=1000-"}}, 412},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "HEAD"} {
			r := objSend(t, g, method, "/bkt/k", nil, c.h)
			if r.Status != c.status {
				t.Errorf("%s with %v: %d, want %d", method, c.h, r.Status, c.status)
			}
			if c.status == 304 && (len(r.Body) != 0 || r.Header.Get("ETag") != etag) {
				t.Errorf("%s with %v: 304 with body %q ETag %q", method, c.h, r.Body, r.Header.Get("ETag"))
			}
			if c.status == 412 && method == "GET" && r.code() != "PreconditionFailed" {
				t.Errorf("%s with %v: code %q", method, c.h, r.code())
			}
			if c.status == 200 && method == "GET" && !bytes.Equal(r.Body, data) {
				t.Errorf("%s with %v: body %q", method, c.h, r.Body)
			}
		}
	}
}

func TestGetObjectResponseOverridesAndPartNumber(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	data := []byte("override me")
	objPut(t, g, "bkt", "k", data)
	out, err := g.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		ResponseContentType: aws.String("text/csv"), ResponseContentDisposition: aws.String(`attachment; filename="x y.csv"`),
		ResponseCacheControl: aws.String("no-store"), ResponseContentLanguage: aws.String("fr"),
		ResponseContentEncoding: aws.String("identity"), ResponseExpires: aws.Time(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if aws.ToString(out.ContentType) != "text/csv" || aws.ToString(out.ContentDisposition) != `attachment; filename="x y.csv"` ||
		aws.ToString(out.CacheControl) != "no-store" || aws.ToString(out.ContentLanguage) != "fr" ||
		aws.ToString(out.ContentEncoding) != "identity" || !strings.Contains(aws.ToString(out.ExpiresString), "2031") {
		t.Errorf("response overrides: type %q disp %q cache %q lang %q enc %q expires %q", aws.ToString(out.ContentType),
			aws.ToString(out.ContentDisposition), aws.ToString(out.CacheControl), aws.ToString(out.ContentLanguage),
			aws.ToString(out.ContentEncoding), aws.ToString(out.ExpiresString))
	}
	// partNumber=1 of a single-part object is the whole object.
	r := objSend(t, g, "GET", "/bkt/k?partNumber=1", nil, nil)
	if r.Status != 206 || !bytes.Equal(r.Body, data) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-%d/%d", len(data)-1, len(data)) {
		t.Errorf("GET partNumber=1: %d %q %q", r.Status, r.Body, r.Header.Get("Content-Range"))
	}
	r = objSend(t, g, "HEAD", "/bkt/k?partNumber=1", nil, nil)
	if r.Status != 206 || r.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Errorf("HEAD partNumber=1: %d length %q", r.Status, r.Header.Get("Content-Length"))
	}
	r = objSend(t, g, "GET", "/bkt/k?partNumber=2", nil, nil)
	wantS3Error(t, "GET partNumber=2 of a single-part object", r, 416, "InvalidPartNumber")
	for _, pn := range []string{"0", "10001", "x", "-1", ""} {
		r = objSend(t, g, "GET", "/bkt/k?partNumber="+pn, nil, nil)
		wantS3Error(t, "GET partNumber="+pn, r, 400, "InvalidArgument")
	}
	r = objSend(t, g, "GET", "/bkt/k?partNumber=1", nil, http.Header{"Range": {"bytes=0-1"}})
	wantS3Error(t, "GET partNumber with Range", r, 400, "InvalidRequest")
	// Missing keys and buckets.
	r = objSend(t, g, "GET", "/bkt/missing", nil, nil)
	wantS3Error(t, "GET missing", r, 404, "NoSuchKey")
	r = objSend(t, g, "HEAD", "/bkt/missing", nil, nil)
	if r.Status != 404 || len(r.Body) != 0 {
		t.Errorf("HEAD missing: %d %q", r.Status, r.Body)
	}
	r = objSend(t, g, "GET", "/nobucket/k", nil, nil)
	wantS3Error(t, "GET in a missing bucket", r, 404, "NoSuchBucket")
}

// TestGetObjectLarge streams an object larger than the copy buffer and
// checks the bytes and the length.
func TestGetObjectLarge(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	data := make([]byte, 3*streamBufSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	objPut(t, g, "bkt", "big", data)
	r := objSend(t, g, "GET", "/bkt/big", nil, nil)
	if r.Status != 200 || !bytes.Equal(r.Body, data) || r.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Errorf("GET big: %d, %d bytes (equal %v), length %q", r.Status, len(r.Body), bytes.Equal(r.Body, data), r.Header.Get("Content-Length"))
	}
	r = objSend(t, g, "GET", "/bkt/big", nil, http.Header{"Range": {fmt.Sprintf("bytes=%d-", streamBufSize-1)}})
	if r.Status != 206 || !bytes.Equal(r.Body, data[streamBufSize-1:]) {
		t.Errorf("GET big range: %d, %d bytes", r.Status, len(r.Body))
	}
}

// failingBackend serves objects whose reads fail after half the content.
type failingBackend struct{ *posix.Backend }

type failAfter struct {
	r    io.ReadCloser
	left int64
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("disk read error")
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= int64(n)
	return n, err
}

func (f *failAfter) Close() error { return f.r.Close() }

func (b failingBackend) Open(ctx context.Context, bucket, key string, rng backends.Range) (io.ReadCloser, backends.ObjectInfo, error) {
	rd, info, err := b.Backend.Open(ctx, bucket, key, rng)
	if err != nil {
		return nil, info, err
	}
	return &failAfter{r: rd, left: info.Size / 2}, info, nil
}

// TestGetObjectBackendFailureAbortsResponse: when the backend fails after
// the headers were sent, the client must see a broken response, never a
// complete-looking short object.
func TestGetObjectBackendFailureAbortsResponse(t *testing.T) {
	g := newMultiGateway(t, func(b *posix.Backend) backends.Backend { return failingBackend{b} }, "posix")
	objTestBucket(t, g, "bkt")
	data := bytes.Repeat([]byte("x"), 1<<20)
	objPut(t, g, "bkt", "k", data)
	req := objRequest(t, g, "GET", "/bkt/k", nil, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(data)) {
		t.Fatalf("status %d length %d", resp.StatusCode, resp.ContentLength)
	}
	got, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("read %d of %d bytes without an error: the truncation was not signalled", len(got), len(data))
	}
	if len(got) >= len(data) {
		t.Errorf("read %d bytes, expected a truncated body", len(got))
	}
	// The gateway keeps serving.
	r := objSend(t, g, "HEAD", "/bkt/k", nil, nil)
	if r.Status != 200 {
		t.Errorf("HEAD after an aborted GET: %d", r.Status)
	}
}

// TestMultipartObjectReadAndCopy reads and copies an object made by a
// multipart upload: its "-N" ETag is the same on Complete, HEAD, GET and a
// server-side copy; partNumber reads of its parts are NotImplemented (the
// storage contract keeps no part boundaries), numbers beyond its parts are
// InvalidPartNumber; a copy streamed to another backend becomes a
// single-part object with the MD5 of its content as ETag.
func TestMultipartObjectReadAndCopy(t *testing.T) {
	g := newMultiGateway(t, nil, "hot", "cold")
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	if _, err := g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("coldb"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "cold"}}); err != nil {
		t.Fatal(err)
	}
	part1 := bytes.Repeat([]byte("a"), backends.MinPartSize)
	part2 := []byte("tail")
	cu, err := g.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, p := range [][]byte{part1, part2} {
		up, err := g.Client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
			UploadId: cu.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	done, err := g.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	etag := aws.ToString(done.ETag)
	if !strings.HasSuffix(etag, `-2"`) {
		t.Fatalf("Complete ETag %s", etag)
	}
	whole := append(append([]byte(nil), part1...), part2...)
	r := objSend(t, g, "GET", "/bkt/mp", nil, nil)
	if r.Status != 200 || r.Header.Get("ETag") != etag || !bytes.Equal(r.Body, whole) {
		t.Errorf("GET multipart object: %d ETag %s, %d bytes", r.Status, r.Header.Get("ETag"), len(r.Body))
	}
	r = objSend(t, g, "HEAD", "/bkt/mp", nil, nil)
	if r.Header.Get("ETag") != etag || r.Header.Get("Content-Length") != strconv.Itoa(len(whole)) {
		t.Errorf("HEAD multipart object: ETag %s length %s", r.Header.Get("ETag"), r.Header.Get("Content-Length"))
	}
	r = objSend(t, g, "GET", "/bkt/mp", nil, http.Header{"Range": {fmt.Sprintf("bytes=%d-", len(part1)-1)}})
	if r.Status != 206 || string(r.Body) != "atail" {
		t.Errorf("ranged GET across the part boundary: %d %q", r.Status, r.Body)
	}
	r = objSend(t, g, "GET", "/bkt/mp?partNumber=1", nil, nil)
	wantS3Error(t, "GET partNumber=1 of a multipart object", r, 501, "NotImplemented")
	r = objSend(t, g, "GET", "/bkt/mp?partNumber=3", nil, nil)
	wantS3Error(t, "GET partNumber=3 of a two-part object", r, 416, "InvalidPartNumber")

	out, err := g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp-copy"), CopySource: aws.String("bkt/mp")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != etag {
		t.Errorf("server-side copy of a multipart object: ETag %s, want %s", aws.ToString(out.CopyObjectResult.ETag), etag)
	}
	out, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("coldb"), Key: aws.String("mp-copy"), CopySource: aws.String("bkt/mp")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != `"`+md5Hex(whole)+`"` {
		t.Errorf("streamed copy of a multipart object: ETag %s, want the content MD5", aws.ToString(out.CopyObjectResult.ETag))
	}
	if got := objGet(t, g, "coldb", "mp-copy"); !bytes.Equal(got, whole) {
		t.Errorf("streamed copy content: %d bytes", len(got))
	}
}
