package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
)

// readFromRecorder is an http.ResponseWriter with ReadFrom, as net/http's
// own, that records what it was handed.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	src io.Reader
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.src = src
	return io.Copy(r.ResponseRecorder, src)
}

// TestStreamBodyHandsFileToReadFrom: a posix object reaches the underlying
// writer's ReadFrom as an *io.LimitedReader over the *os.File (what net/http
// sends with sendfile), for a whole object and for a range, and the bytes
// are counted. Over TLS (no sendfile) the buffered copy is used.
func TestStreamBodyHandsFileToReadFrom(t *testing.T) {
	ctx := context.Background()
	pb, err := posix.New(ctx, posix.Config{Root: t.TempDir()}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3*streamBufSize+17)
	for i := range data {
		data[i] = byte(i * 13)
	}
	if _, err := pb.Put(ctx, "bkt", "k", bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	for _, rng := range []backends.Range{backends.FullRange, {Offset: 1000, Length: streamBufSize}} {
		rd, info, err := pb.Open(ctx, "bkt", "k", rng)
		if err != nil {
			t.Fatal(err)
		}
		want := data[rng.Offset:]
		if rng.Length >= 0 {
			want = want[:rng.Length]
		}
		rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
		rw := &responseWriter{ResponseWriter: rec}
		rc := &reqCtx{w: rw, r: httptest.NewRequest("GET", "/bkt/k", nil), ctx: ctx, bucket: "bkt", key: "k", log: slog.New(slog.DiscardHandler)}
		err = streamBody(rc, rd, int64(len(want)))
		rd.Close()
		if err != nil {
			t.Fatalf("range %+v: %v", rng, err)
		}
		lr, ok := rec.src.(*io.LimitedReader)
		if !ok {
			t.Fatalf("range %+v: ReadFrom got %T, want *io.LimitedReader", rng, rec.src)
		}
		if _, ok := lr.R.(*os.File); !ok {
			t.Errorf("range %+v: ReadFrom got a LimitedReader over %T, want *os.File", rng, lr.R)
		}
		if !bytes.Equal(rec.Body.Bytes(), want) || rw.written != int64(len(want)) || rw.status != http.StatusOK {
			t.Errorf("range %+v: %d bytes (equal %v), counted %d, status %d; size %d",
				rng, rec.Body.Len(), bytes.Equal(rec.Body.Bytes(), want), rw.written, rw.status, info.Size)
		}
	}

	rd, info, err := pb.Open(ctx, "bkt", "k", backends.FullRange)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	rw := &responseWriter{ResponseWriter: rec}
	req := httptest.NewRequest("GET", "https://example.test/bkt/k", nil)
	rc := &reqCtx{w: rw, r: req, ctx: ctx, bucket: "bkt", key: "k", log: slog.New(slog.DiscardHandler)}
	if err := streamBody(rc, rd, info.Size); err != nil {
		t.Fatal(err)
	}
	if rec.src != nil || !bytes.Equal(rec.Body.Bytes(), data) || rw.written != info.Size {
		t.Errorf("TLS: ReadFrom got %T (want none), %d bytes (equal %v), counted %d", rec.src, rec.Body.Len(), bytes.Equal(rec.Body.Bytes(), data), rw.written)
	}
}

// writerToReader is a backend reader with WriteTo that writes n bytes of
// data and then fails with err (nil: ends there).
type writerToReader struct {
	data []byte
	err  error
}

func (w *writerToReader) Read(p []byte) (int, error) { return 0, errors.New("Read must not be used") }
func (w *writerToReader) Close() error               { return nil }
func (w *writerToReader) WriteTo(dst io.Writer) (int64, error) {
	n, err := dst.Write(w.data)
	if err != nil {
		return int64(n), err
	}
	return int64(n), w.err
}

// writerToBackend serves every object through a writerToReader holding
// the first half of its content.
type writerToBackend struct {
	*posix.Backend
	err error
}

func (b writerToBackend) Open(ctx context.Context, bucket, key string, rng backends.Range) (io.ReadCloser, backends.ObjectInfo, error) {
	rd, info, err := b.Backend.Open(ctx, bucket, key, rng)
	if err != nil {
		return nil, info, err
	}
	defer rd.Close()
	half := make([]byte, info.Size/2)
	if _, err := io.ReadFull(rd, half); err != nil {
		return nil, info, err
	}
	return &writerToReader{data: half, err: b.err}, info, nil
}

// TestGetObjectWriterToShortAbortsResponse: a backend reader that writes
// itself (io.WriterTo) and fails, or ends early, after the headers were
// sent must leave the client with a broken response, never a
// complete-looking short object; the gateway keeps serving.
func TestGetObjectWriterToShortAbortsResponse(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{{"fails", errors.New("disk read error")}, {"ends early", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			g := newMultiGateway(t, func(b *posix.Backend) backends.Backend { return writerToBackend{b, tc.err} }, "posix")
			objTestBucket(t, g, "bkt")
			data := bytes.Repeat([]byte("y"), 1<<20)
			objPut(t, g, "bkt", "k", data)
			resp, err := http.DefaultClient.Do(objRequest(t, g, "GET", "/bkt/k", nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength != int64(len(data)) {
				t.Fatalf("status %d length %d", resp.StatusCode, resp.ContentLength)
			}
			got, err := io.ReadAll(resp.Body)
			if err == nil || len(got) >= len(data) {
				t.Errorf("read %d of %d bytes, err %v: the truncation was not signalled", len(got), len(data), err)
			}
			if r := objSend(t, g, "HEAD", "/bkt/k", nil, nil); r.Status != 200 {
				t.Errorf("HEAD after an aborted GET: %d", r.Status)
			}
		})
	}
}

// TestGetObjectSentBytesMetric: the bytes of a GetObject served from a
// posix file (the sendfile path) are counted in lakegate_s3_sent_bytes_total.
func TestGetObjectSentBytesMetric(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	data := bytes.Repeat([]byte("z"), 2*streamBufSize+5)
	objPut(t, g, "bkt", "k", data)
	if r := objSend(t, g, "GET", "/bkt/k", nil, nil); r.Status != 200 || !bytes.Equal(r.Body, data) {
		t.Fatalf("GET: %d, %d bytes", r.Status, len(r.Body))
	}
	if r := objSend(t, g, "GET", "/bkt/k", nil, http.Header{"Range": {"bytes=10-19"}}); r.Status != 206 || string(r.Body) != "zzzzzzzzzz" {
		t.Fatalf("GET range: %d, %q", r.Status, r.Body)
	}
	if n := testutil.ToFloat64(g.Server.metrics.bytesOut.WithLabelValues("GetObject", "posix")); n != float64(len(data)+10) {
		t.Errorf("sent bytes %v, want %d", n, len(data)+10)
	}
}
