package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/s3"
)

// TestMinIOFaults stops the dev stack's MinIO in the middle of a multipart
// upload and of a large GET.
func TestMinIOFaults(t *testing.T) { runFaults(t, minioService) }

// TestRGWFaults stops the dev stack's radosgw in the middle of a multipart
// upload and of a large GET.
func TestRGWFaults(t *testing.T) { runFaults(t, rgwService) }

// genReader yields size deterministic pseudo-random bytes for seed.
type genReader struct {
	r    *mrand.ChaCha8
	left int64
}

func newGen(seed byte, size int64) *genReader {
	var s [32]byte
	s[0] = seed
	return &genReader{r: mrand.NewChaCha8(s), left: size}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, _ := g.r.Read(p)
	g.left -= int64(n)
	return n, nil
}

func genBytes(seed byte, size int) []byte {
	b := make([]byte, size)
	io.ReadFull(newGen(seed, int64(size)), b)
	return b
}

// pausingReader yields data, but after pauseAt bytes signals paused and
// waits for release before yielding the rest.
type pausingReader struct {
	data    []byte
	off     int
	pauseAt int
	paused  chan struct{}
	release chan struct{}
	once    bool
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.off >= len(p.data) {
		return 0, io.EOF
	}
	if p.off >= p.pauseAt && !p.once {
		p.once = true
		close(p.paused)
		<-p.release
	}
	end := len(p.data)
	if p.off < p.pauseAt {
		end = p.pauseAt
	}
	n := copy(b, p.data[p.off:end])
	p.off += n
	return n, nil
}

func runFaults(t *testing.T, svc devService) {
	if testing.Short() {
		t.Skip("skipping under -short: the fault tests stop and restart the dev stack's " + svc.name)
	}
	cfg := serviceConfig(t, svc, t.TempDir())
	b := newBackend(t, cfg)
	var rnd [4]byte
	rand.Read(rnd[:])
	bucket := "lgt-fault-" + svc.name + "-" + hex.EncodeToString(rnd[:])
	if err := b.CreateBucket(t.Context(), bucket); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	// Whatever happens, leave the service running and the bucket gone.
	t.Cleanup(func() {
		devScript(t, svc.script, "s3-start")
		cleanupBucket(t, b, bucket)
	})
	t.Run("MultipartUpload", func(t *testing.T) { faultMultipart(t, b, svc, bucket) })
	t.Run("LargeGet", func(t *testing.T) { faultLargeGet(t, b, svc, bucket) })
}

// faultMultipart: the backend stops while part 2 is being sent. The part
// upload fails with ErrUnavailable, so do Complete and Stat while it is
// down; nothing of the object is visible afterwards; once the backend is
// back, the same Backend continues the upload (part 1 survived) and
// completes it.
func faultMultipart(t *testing.T, b *s3.Backend, svc devService, bucket string) {
	ctx := t.Context()
	key := "fault/multipart.bin"
	id, err := b.CreateMultipartUpload(ctx, bucket, key, backends.Metadata{ContentType: "application/x-fault"})
	if err != nil {
		t.Fatal(err)
	}
	part1, part2 := genBytes(1, backends.MinPartSize), genBytes(2, backends.MinPartSize+12345)
	p1, err := b.UploadPart(ctx, bucket, key, id, 1, bytes.NewReader(part1), backends.PutOptions{Size: int64(len(part1))})
	if err != nil {
		t.Fatal(err)
	}

	pr := &pausingReader{data: part2, pauseAt: 2 << 20, paused: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := b.UploadPart(ctx, bucket, key, id, 2, pr, backends.PutOptions{Size: int64(len(part2))})
		done <- err
	}()
	select {
	case <-pr.paused:
	case err := <-done:
		t.Fatalf("UploadPart returned before the pause: %v", err)
	}
	devScript(t, svc.script, "s3-stop")
	close(pr.release)
	err = <-done
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("UploadPart with the backend stopped mid-part: %v, want ErrUnavailable", err)
	}
	_, err = b.CompleteMultipartUpload(ctx, bucket, key, id, []backends.CompletePart{{PartNumber: 1, ETag: p1.ETag}}, backends.WriteCondition{})
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Complete while stopped: %v, want ErrUnavailable", err)
	}
	if _, err := b.Stat(ctx, bucket, key); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Stat while stopped: %v, want ErrUnavailable", err)
	}

	devScript(t, svc.script, "s3-start")
	if _, err := b.Stat(ctx, bucket, key); !errors.Is(err, backends.ErrObjectNotFound) {
		t.Fatalf("Stat after restart: %v, want ErrObjectNotFound (nothing partial visible)", err)
	}
	ups, err := b.ListMultipartUploads(ctx, bucket, backends.ListUploadsQuery{Prefix: "fault/", MaxUploads: 10})
	if err != nil || len(ups.Uploads) != 1 || ups.Uploads[0].UploadID != id {
		t.Fatalf("ListMultipartUploads after restart: %+v, %v", ups, err)
	}
	lp, err := b.ListParts(ctx, bucket, key, id, 0, 100)
	if err != nil {
		t.Fatalf("ListParts after restart: %v", err)
	}
	if len(lp.Parts) != 1 || lp.Parts[0].ETag != p1.ETag {
		t.Errorf("parts after restart: %+v, want only part 1", lp.Parts)
	}
	p2, err := b.UploadPart(ctx, bucket, key, id, 2, bytes.NewReader(part2), backends.PutOptions{Size: int64(len(part2))})
	if err != nil {
		t.Fatalf("UploadPart after restart: %v", err)
	}
	info, err := b.CompleteMultipartUpload(ctx, bucket, key, id, []backends.CompletePart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}, backends.WriteCondition{})
	if err != nil {
		t.Fatalf("Complete after restart: %v", err)
	}
	want, _ := backends.MultipartETag([]string{p1.ETag, p2.ETag})
	if info.ETag != want {
		t.Errorf("ETag %q, want %q", info.ETag, want)
	}
	rc, _, err := b.Open(ctx, bucket, key, backends.FullRange)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, append(part1, part2...)) {
		t.Errorf("content after restart: %d bytes, %v", len(got), err)
	}
}

// faultLargeGet: the backend stops while a 256 MiB object is being read.
// The read fails with an error wrapping ErrUnavailable (never a silent
// short read); once the backend is back, the same Backend reads the whole
// object.
func faultLargeGet(t *testing.T, b *s3.Backend, svc devService, bucket string) {
	ctx := t.Context()
	const size = 256 << 20
	key := "fault/large.bin"
	h := md5.New()
	if _, err := b.Put(ctx, bucket, key, io.TeeReader(newGen(3, size), h), backends.PutOptions{Size: size}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	want := hex.EncodeToString(h.Sum(nil))

	rc, info, err := b.Open(ctx, bucket, key, backends.FullRange)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size {
		t.Fatalf("Open info size %d", info.Size)
	}
	if _, err := io.CopyN(io.Discard, rc, 8<<20); err != nil {
		t.Fatalf("first 8 MiB: %v", err)
	}
	devScript(t, svc.script, "s3-stop")
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err == nil {
		t.Fatalf("read the remaining %d bytes without error after the backend stopped (object has %d)", n, size)
	}
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("read error %v, want it to wrap ErrUnavailable", err)
	}
	if 8<<20+n >= size {
		t.Errorf("read all %d bytes although the backend stopped", 8<<20+n)
	}
	t.Logf("read %d bytes before the error: %v", 8<<20+n, err)

	devScript(t, svc.script, "s3-start")
	start := time.Now()
	rc, _, err = b.Open(ctx, bucket, key, backends.FullRange)
	if err != nil {
		t.Fatalf("Open after restart: %v", err)
	}
	rh := md5.New()
	n, err = io.Copy(rh, rc)
	rc.Close()
	if err != nil || n != size || hex.EncodeToString(rh.Sum(nil)) != want {
		t.Errorf("read after restart: %d bytes, md5 %x, %v; want %d bytes md5 %s", n, rh.Sum(nil), err, size, want)
	}
	t.Logf("full read after restart in %v", time.Since(start))
}

// cleanupBucket removes every upload and object in bucket and the bucket.
func cleanupBucket(t *testing.T, b *s3.Backend, bucket string) {
	ctx := context.Background() // t.Context() is already cancelled in cleanups
	if ups, err := b.ListMultipartUploads(ctx, bucket, backends.ListUploadsQuery{MaxUploads: 1000}); err == nil {
		for _, u := range ups.Uploads {
			b.AbortMultipartUpload(ctx, bucket, u.Key, u.UploadID)
		}
	}
	if res, err := b.List(ctx, bucket, backends.ListQuery{MaxKeys: 1000}); err == nil {
		for _, o := range res.Objects {
			b.Delete(ctx, bucket, o.Key)
		}
	}
	if err := b.DeleteBucket(ctx, bucket); err != nil {
		t.Errorf("cleanup: DeleteBucket: %v", err)
	}
}
