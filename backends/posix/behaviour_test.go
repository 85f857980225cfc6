package posix

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/xattr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lakegate/lakegate/backends"
)

// md5hex returns the hex MD5 of b.
func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// newBucket opens a backend over a fresh root with bucket "b".
func newBucket(t *testing.T, cfg Config) *Backend {
	t.Helper()
	b := newTestBackend(t, cfg)
	if err := b.CreateBucket(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForeignFiles: files written into a bucket by other programs are
// objects with an ETag equal to the MD5 of their content, computed once
// and cached until the file's size or mtime changes.
func TestForeignFiles(t *testing.T) {
	for _, sidecar := range []bool{false, true} {
		t.Run(map[bool]string{false: "xattr", true: "sidecar"}[sidecar], func(t *testing.T) {
			b := newBucket(t, Config{Sidecar: sidecar})
			ctx := t.Context()
			p := filepath.Join(b.root, "b", "dir", "foreign.csv")
			os.MkdirAll(filepath.Dir(p), 0o755)
			v1 := []byte("id,name\n1,alpha\n")
			if err := os.WriteFile(p, v1, 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := b.Stat(ctx, "b", "dir/foreign.csv")
			if err != nil || st.ETag != md5hex(v1) || st.Size != int64(len(v1)) {
				t.Fatalf("Stat = %+v, %v; want ETag %s", st, err, md5hex(v1))
			}
			res, err := b.List(ctx, "b", backends.ListQuery{MaxKeys: 10})
			if err != nil || len(res.Objects) != 1 || res.Objects[0].ETag != md5hex(v1) {
				t.Fatalf("List = %+v, %v", res, err)
			}
			if _, err := b.Stat(ctx, "b", "dir/foreign.csv"); err != nil {
				t.Fatal(err)
			}
			if n := testutil.ToFloat64(b.metrics.lazyETags); n != 1 {
				t.Errorf("lazy ETag computed %v times for an unchanged file, want 1", n)
			}
			// Another program rewrites the file: the ETag follows.
			v2 := []byte("id,name\n1,alpha\n2,beta\n")
			if err := os.WriteFile(p, v2, 0o644); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Minute)
			os.Chtimes(p, later, later)
			st, err = b.Stat(ctx, "b", "dir/foreign.csv")
			if err != nil || st.ETag != md5hex(v2) {
				t.Fatalf("after rewrite Stat = %+v, %v; want ETag %s", st, err, md5hex(v2))
			}
			// Same-size rewrite with a new mtime is detected too.
			v3 := bytes.ToUpper(v2)
			os.WriteFile(p, v3, 0o644)
			later = later.Add(time.Minute)
			os.Chtimes(p, later, later)
			rc, info, err := b.Open(ctx, "b", "dir/foreign.csv", backends.FullRange)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, v3) || info.ETag != md5hex(v3) {
				t.Errorf("Open = %q ETag %s, want %q %s", got, info.ETag, v3, md5hex(v3))
			}
		})
	}
}

// TestLakegateFileChangedByOthers: a file lakegate wrote and another program
// then modified gets a fresh ETag, keeps its content type, and is no longer
// reported as multipart.
func TestLakegateFileChangedByOthers(t *testing.T) {
	b := newBucket(t, Config{})
	ctx := t.Context()
	if _, err := b.Put(ctx, "b", "k", strings.NewReader("original"), backends.PutOptions{Size: 8, Metadata: backends.Metadata{ContentType: "text/plain"}}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(b.root, "b", "k")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(" appended")
	f.Close()
	st, err := b.Stat(ctx, "b", "k")
	if err != nil || st.ETag != md5hex([]byte("original appended")) || st.Metadata.ContentType != "text/plain" {
		t.Errorf("Stat = %+v, %v", st, err)
	}
}

// TestLargeMetadataOverflowsToSidecar: a record too large for an ext4 xattr
// block goes to the sidecar store and still round-trips, and removing the
// object removes it.
func TestLargeMetadataOverflowsToSidecar(t *testing.T) {
	b := newBucket(t, Config{})
	if b.sidecar {
		t.Skip("file system without user xattrs: the overflow path is the normal path")
	}
	ctx := t.Context()
	user := map[string]string{}
	for i := range 20 {
		user["key-"+strings.Repeat("k", i)] = strings.Repeat("v", 100)
	}
	tags := map[string]string{}
	for i := range 10 {
		tags[strings.Repeat("t", 100+i)] = strings.Repeat("x", 250)
	}
	meta := backends.Metadata{User: user, Tags: tags}
	if _, err := b.Put(ctx, "b", "big", strings.NewReader("x"), backends.PutOptions{Size: 1, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.sidecarPath("b", "big")); err != nil {
		t.Errorf("no sidecar record for oversized metadata: %v", err)
	}
	st, err := b.Stat(ctx, "b", "big")
	if err != nil || len(st.Metadata.User) != 20 || len(st.Metadata.Tags) != 10 || st.ETag != md5hex([]byte("x")) {
		t.Fatalf("Stat = %d user, %d tags, ETag %s, %v", len(st.Metadata.User), len(st.Metadata.Tags), st.ETag, err)
	}
	// Overwriting with small metadata drops the sidecar record.
	if _, err := b.Put(ctx, "b", "big", strings.NewReader("y"), backends.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.sidecarPath("b", "big")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale sidecar record kept: %v", err)
	}
}

// TestSymlinksNotFollowed: a symbolic link placed in a bucket (pointing
// outside the root) is neither listed nor readable through the backend.
func TestSymlinksNotFollowed(t *testing.T) {
	b := newBucket(t, Config{})
	ctx := t.Context()
	secret := filepath.Join(filepath.Dir(b.root), "secret")
	os.WriteFile(secret, []byte("outside"), 0o600)
	t.Cleanup(func() { os.Remove(secret) })
	os.Symlink(secret, filepath.Join(b.root, "b", "link"))
	os.Symlink(filepath.Dir(b.root), filepath.Join(b.root, "b", "dirlink"))
	if _, err := b.Stat(ctx, "b", "link"); !errors.Is(err, backends.ErrObjectNotFound) {
		t.Errorf("Stat(link) = %v, want ErrObjectNotFound", err)
	}
	if _, _, err := b.Open(ctx, "b", "link", backends.FullRange); !errors.Is(err, backends.ErrObjectNotFound) {
		t.Errorf("Open(link) = %v, want ErrObjectNotFound", err)
	}
	res, err := b.List(ctx, "b", backends.ListQuery{MaxKeys: 100})
	if err != nil || len(res.Objects)+len(res.CommonPrefixes) != 0 {
		t.Errorf("List = %+v, %v; want nothing", res, err)
	}

	// A link in the middle of a key path: nothing outside the root is read,
	// written, listed, tagged or deleted through it.
	outside := filepath.Join(filepath.Dir(b.root), "outside")
	os.MkdirAll(filepath.Join(outside, "ssl"), 0o755)
	os.WriteFile(filepath.Join(outside, "ssl", "file"), []byte("outside"), 0o600)
	t.Cleanup(func() { os.RemoveAll(outside) })
	os.Symlink(outside, filepath.Join(b.root, "b", "mid"))
	if _, err := b.Stat(ctx, "b", "mid/ssl/file"); !errors.Is(err, backends.ErrObjectNotFound) {
		t.Errorf("Stat through link = %v, want ErrObjectNotFound", err)
	}
	if _, err := b.Put(ctx, "b", "mid/ssl/evil", strings.NewReader("x"), backends.PutOptions{Size: 1}); !errors.Is(err, backends.ErrKeyConflict) {
		t.Errorf("Put through link = %v, want ErrKeyConflict", err)
	}
	if _, err := b.Put(ctx, "b", "mid/ssl/newdir/", strings.NewReader(""), backends.PutOptions{Size: 0}); !errors.Is(err, backends.ErrKeyConflict) {
		t.Errorf("Put marker through link = %v, want ErrKeyConflict", err)
	}
	if err := b.PutObjectTagging(ctx, "b", "mid/ssl/file", map[string]string{"a": "b"}); !errors.Is(err, backends.ErrObjectNotFound) {
		t.Errorf("tagging through link = %v, want ErrObjectNotFound", err)
	}
	if err := b.Delete(ctx, "b", "mid/ssl/file"); err != nil {
		t.Errorf("Delete through link = %v", err)
	}
	if _, err := b.CopyObject(ctx, "b", "mid/ssl/file", "b", "copied", backends.CopyOptions{}); !errors.Is(err, backends.ErrObjectNotFound) {
		t.Errorf("Copy from link = %v, want ErrObjectNotFound", err)
	}
	res, err = b.List(ctx, "b", backends.ListQuery{Prefix: "mid/ssl/", MaxKeys: 100})
	if err != nil || len(res.Objects)+len(res.CommonPrefixes) != 0 {
		t.Errorf("List through link = %+v, %v; want nothing", res, err)
	}
	entries, _ := os.ReadDir(filepath.Join(outside, "ssl"))
	if len(entries) != 1 || entries[0].Name() != "file" {
		t.Errorf("outside directory changed: %v", entries)
	}
	if xs, _ := xattrList(filepath.Join(outside, "ssl", "file")); len(xs) != 0 {
		t.Errorf("outside file got xattrs %v", xs)
	}
	os.Remove(filepath.Join(b.root, "b", "link"))
	os.Remove(filepath.Join(b.root, "b", "dirlink"))
	os.Remove(filepath.Join(b.root, "b", "mid"))
}

// xattrList lists the xattrs of path.
func xattrList(path string) ([]string, error) { return xattr.List(path) }

// TestPrivateDirectoryIsNotABucket: the private directory cannot be created,
// listed or addressed as a bucket, and keys named like it stay inside their
// bucket.
func TestPrivateDirectoryIsNotABucket(t *testing.T) {
	for _, sidecar := range []bool{false, true} {
		b := newBucket(t, Config{Sidecar: sidecar})
		ctx := t.Context()
		if err := b.CreateBucket(ctx, privateDir); !errors.Is(err, backends.ErrInvalidBucketName) {
			t.Errorf("CreateBucket(%s) = %v", privateDir, err)
		}
		if _, err := b.HeadBucket(ctx, privateDir); !errors.Is(err, backends.ErrBucketNotFound) {
			t.Errorf("HeadBucket(%s) = %v", privateDir, err)
		}
		if _, err := b.List(ctx, privateDir, backends.ListQuery{MaxKeys: 10}); !errors.Is(err, backends.ErrBucketNotFound) {
			t.Errorf("List(%s) = %v", privateDir, err)
		}
		bs, _ := b.ListBuckets(ctx)
		if len(bs) != 1 || bs[0].Name != "b" {
			t.Errorf("ListBuckets = %+v, want only b", bs)
		}
		if _, err := b.Put(ctx, "b", ".lakegate/tmp/x", strings.NewReader("x"), backends.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(b.root, "b", ".lakegate", "tmp", "x")); err != nil {
			t.Errorf("key .lakegate/tmp/x not stored inside the bucket: %v", err)
		}
		res, _ := b.List(ctx, "b", backends.ListQuery{MaxKeys: 10})
		if len(res.Objects) != 1 || res.Objects[0].Key != ".lakegate/tmp/x" {
			t.Errorf("List = %+v", res.Objects)
		}
	}
}

// TestStaleTempFilesRemovedAtStart: New removes temporary files older than
// a day and keeps younger ones (which may belong to a live writer).
func TestStaleTempFilesRemovedAtStart(t *testing.T) {
	b := newTestBackend(t, Config{})
	old, young := filepath.Join(b.tmp, "put-old"), filepath.Join(b.tmp, "put-young")
	os.WriteFile(old, []byte("x"), 0o644)
	os.WriteFile(young, []byte("x"), 0o644)
	past := time.Now().Add(-2 * staleTempAge)
	os.Chtimes(old, past, past)
	newTestBackend(t, Config{Root: b.root})
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young temporary file removed: %v", err)
	}
	os.Remove(young)
}

// TestMetadataOnDisk: the record is one JSON xattr on the file itself, so it
// travels with the file (e.g. cp --preserve=xattr, rsync -X).
func TestMetadataOnDisk(t *testing.T) {
	b := newBucket(t, Config{})
	if b.sidecar {
		t.Skip("file system without user xattrs")
	}
	if _, err := b.Put(t.Context(), "b", "a/b", strings.NewReader("hello"), backends.PutOptions{Size: 5, Metadata: backends.Metadata{ContentType: "text/x-hello"}}); err != nil {
		t.Fatal(err)
	}
	rec, err := b.loadRecord(nil, filepath.Join(b.root, "b", "a", "b"), statInfo{}, "b", "a/b", false)
	if err != nil || rec == nil || rec.ETag != md5hex([]byte("hello")) || rec.Meta.ContentType != "text/x-hello" {
		t.Errorf("xattr record = %+v, %v", rec, err)
	}
}

// TestMetricsLint checks the backend's metrics against promlint.
func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(t.Context(), Config{Root: t.TempDir()}, nil, reg); err != nil {
		t.Fatal(err)
	}
	// A second backend on the same registry shares the collectors.
	if _, err := New(t.Context(), Config{Root: t.TempDir()}, nil, reg); err != nil {
		t.Fatalf("second backend on one registry: %v", err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
