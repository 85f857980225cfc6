package hdfs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lakegate/lakegate/backends"
)

// TestForeignFiles: files written into HDFS by Hadoop's own FsShell (hdfs
// dfs -mkdir / -put / -appendToFile, not through lakegate) are listed without
// markers for their (non-empty) directories, while an empty directory made
// by FsShell is the marker object S3A expects; files are read whole and by range byte for byte, and carry a
// stable, non-empty ETag (the same across Stat, Open, List and a second
// backend process) that changes when the file changes. A lakegate object
// appended to by FsShell stops reporting its stored (now wrong) MD5 ETag.
func TestForeignFiles(t *testing.T) {
	d := loadDev(t)
	cfg := d.config(t)
	t.Cleanup(func() { removeRoot(t, cfg) })
	b, _ := open(t, cfg)
	ctx := context.Background()
	const bucket = "foreign"
	if err := b.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}

	// 3 MiB + 17 bytes of random content, put by FsShell.
	data := make([]byte, 3<<20+17)
	rnd := rand.NewChaCha8([32]byte{1})
	rnd.Read(data)
	local := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := cfg.Root + "/" + bucket + "/spark/out/part-00000.bin"
	d.fsshell(t, nil, "-mkdir", "-p", cfg.Root+"/"+bucket+"/spark/out", cfg.Root+"/"+bucket+"/spark/empty")
	d.fsshell(t, nil, "-put", local, dst)

	res, err := b.List(ctx, bucket, backends.ListQuery{MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var listed backends.ObjectInfo
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
		if o.Key == "spark/out/part-00000.bin" {
			listed = o
		}
	}
	// The non-empty directories spark and spark/out are no objects; the
	// empty spark/empty is one.
	if want := []string{"spark/empty/", "spark/out/part-00000.bin"}; !equalStrings(keys, want) {
		t.Fatalf("List = %v, want %v", keys, want)
	}
	if listed.Size != int64(len(data)) || listed.ETag == "" || listed.LastModified.IsZero() {
		t.Fatalf("listed %+v", listed)
	}
	res, err = b.List(ctx, bucket, backends.ListQuery{Prefix: "spark/", Delimiter: "/", MaxKeys: 1000})
	if err != nil || len(res.Objects) != 0 || !equalStrings(res.CommonPrefixes, []string{"spark/empty/", "spark/out/"}) {
		t.Fatalf("List(spark/, /) = %+v, %v", res, err)
	}
	res, err = b.List(ctx, bucket, backends.ListQuery{Prefix: "spark/empty/", Delimiter: "/", MaxKeys: 2})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Key != "spark/empty/" || res.Objects[0].Size != 0 || len(res.CommonPrefixes) != 0 {
		t.Fatalf("List(spark/empty/, /) = %+v, %v, want exactly the marker", res, err)
	}
	if st, err := b.Stat(ctx, bucket, "spark/empty/"); err != nil || st.Size != 0 || st.ETag != emptyMD5 {
		t.Errorf("Stat spark/empty/ = %+v, %v, want the empty marker", st, err)
	}
	for _, k := range []string{"spark/", "spark/out/"} {
		if _, err := b.Stat(ctx, bucket, k); !errors.Is(err, backends.ErrObjectNotFound) {
			t.Errorf("Stat %s (a non-empty directory made by FsShell): %v, want ErrObjectNotFound", k, err)
		}
	}

	st, err := b.Stat(ctx, bucket, "spark/out/part-00000.bin")
	if err != nil {
		t.Fatal(err)
	}
	if st.ETag != listed.ETag || st.Size != listed.Size {
		t.Errorf("Stat %+v differs from List %+v", st, listed)
	}
	if st.ETag == md5hex(data) {
		t.Logf("foreign ETag happens to be the content MD5")
	}
	t.Logf("foreign file ETag %s", st.ETag)

	got, info := readRange(t, b, bucket, "spark/out/part-00000.bin", backends.FullRange)
	if !bytes.Equal(got, data) || info.ETag != st.ETag {
		t.Fatalf("Open: %d bytes (md5 %s) ETag %s, want %d bytes (md5 %s) ETag %s", len(got), md5hex(got), info.ETag, len(data), md5hex(data), st.ETag)
	}
	for _, r := range []backends.Range{{Offset: 0, Length: 1}, {Offset: 1 << 20, Length: 65536}, {Offset: int64(len(data)) - 10, Length: -1}, {Offset: 12345, Length: 1 << 21}} {
		got, _ := readRange(t, b, bucket, "spark/out/part-00000.bin", r)
		end := int64(len(data))
		if r.Length >= 0 && r.Offset+r.Length < end {
			end = r.Offset + r.Length
		}
		if !bytes.Equal(got, data[r.Offset:end]) {
			t.Errorf("range %+v: %d bytes differ from the file", r, len(got))
		}
	}
	if _, _, err := b.Open(ctx, bucket, "spark/out/part-00000.bin", backends.Range{Offset: int64(len(data)), Length: -1}); !errors.Is(err, backends.ErrInvalidRange) {
		t.Errorf("range past the end: %v", err)
	}

	// Stable: again, and from another backend instance (another process).
	b2, _ := open(t, cfg)
	for _, bk := range []*Backend{b, b2} {
		if st2, err := bk.Stat(ctx, bucket, "spark/out/part-00000.bin"); err != nil || st2.ETag != st.ETag {
			t.Errorf("ETag not stable: %q then %q (%v)", st.ETag, st2.ETag, err)
		}
	}
	// Reading does not change it either (HDFS updates access times).
	if st2, _ := b.Stat(ctx, bucket, "spark/out/part-00000.bin"); st2.ETag != st.ETag {
		t.Errorf("ETag changed by reading: %q then %q", st.ETag, st2.ETag)
	}

	// Tagging a foreign file keeps its ETag.
	if err := b.PutObjectTagging(ctx, bucket, "spark/out/part-00000.bin", map[string]string{"team": "lake"}); err != nil {
		t.Fatal(err)
	}
	if st2, err := b.Stat(ctx, bucket, "spark/out/part-00000.bin"); err != nil || st2.ETag != st.ETag || st2.Metadata.Tags["team"] != "lake" {
		t.Errorf("after tagging: %+v, %v", st2, err)
	}

	// An append by FsShell changes size and ETag; content follows.
	tail := []byte("appended by hdfs dfs\n")
	tailFile := filepath.Join(t.TempDir(), "tail")
	os.WriteFile(tailFile, tail, 0o644)
	d.fsshell(t, nil, "-appendToFile", tailFile, dst)
	st3, err := b.Stat(ctx, bucket, "spark/out/part-00000.bin")
	if err != nil {
		t.Fatal(err)
	}
	if st3.ETag == st.ETag || st3.Size != int64(len(data)+len(tail)) {
		t.Errorf("after append: ETag %q (was %q), size %d", st3.ETag, st.ETag, st3.Size)
	}
	got, _ = readRange(t, b, bucket, "spark/out/part-00000.bin", backends.FullRange)
	if !bytes.Equal(got, append(append([]byte{}, data...), tail...)) {
		t.Errorf("after append: content differs")
	}

	// An object written through lakegate, then appended to by FsShell: its
	// stored MD5 no longer describes it, so it is not reported.
	small := []byte("written by lakegate\n")
	put, err := b.Put(ctx, bucket, "own.txt", bytes.NewReader(small), backends.PutOptions{Size: int64(len(small)), Metadata: backends.Metadata{ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Stat(ctx, bucket, "own.txt"); st.ETag != md5hex(small) {
		t.Fatalf("own object ETag %q, want %q", st.ETag, md5hex(small))
	}
	d.fsshell(t, nil, "-appendToFile", tailFile, cfg.Root+"/"+bucket+"/own.txt")
	st4, err := b.Stat(ctx, bucket, "own.txt")
	if err != nil {
		t.Fatal(err)
	}
	if st4.ETag == put.ETag || st4.Size != int64(len(small)+len(tail)) || st4.Metadata.ContentType != "text/plain" {
		t.Errorf("own object after append: %+v (put ETag %q)", st4, put.ETag)
	}
	got, _ = readRange(t, b, bucket, "own.txt", backends.FullRange)
	if !bytes.Equal(got, append(append([]byte{}, small...), tail...)) {
		t.Errorf("own object after append: content %q", got)
	}
}

// readRange reads rng of key, failing the test on error.
func readRange(t *testing.T, b *Backend, bucket, key string, rng backends.Range) ([]byte, backends.ObjectInfo) {
	t.Helper()
	rc, info, err := b.Open(context.Background(), bucket, key, rng)
	if err != nil {
		t.Fatalf("Open(%s, %+v): %v", key, rng, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s %+v: %v", key, rng, err)
	}
	return data, info
}

// md5hex returns the hex MD5 of p.
func md5hex(p []byte) string {
	s := md5.Sum(p)
	return hex.EncodeToString(s[:])
}

// equalStrings compares two string slices.
func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
