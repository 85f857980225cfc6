package hdfs

import (
	"errors"
	"os"
	"path"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	hdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/proto"

	"github.com/lakegate/lakegate/backends"
)

const testBucketDir = "/lakegate/bkt"

func TestKeyToPath(t *testing.T) {
	long255 := strings.Repeat("x", 255)
	tests := []struct {
		key   string
		path  string
		isDir bool
		bad   bool
	}{
		{key: "a", path: "/lakegate/bkt/a"},
		{key: "a/b/c.txt", path: "/lakegate/bkt/a/b/c.txt"},
		{key: "dir/", path: "/lakegate/bkt/dir", isDir: true},
		{key: "x/y/z/", path: "/lakegate/bkt/x/y/z", isDir: true},
		{key: "...", path: "/lakegate/bkt/..."},
		{key: ".hidden", path: "/lakegate/bkt/.hidden"},
		{key: ".lakegate/tmp/x", path: "/lakegate/bkt/.lakegate/tmp/x"},
		{key: "a b/%2F/+", path: "/lakegate/bkt/a b/%2F/+"},
		{key: "日本語/ファイル.txt", path: "/lakegate/bkt/日本語/ファイル.txt"},
		{key: "tab\tkey", path: "/lakegate/bkt/tab\tkey"},
		{key: `back\slash`, path: `/lakegate/bkt/back\slash`},
		{key: long255, path: "/lakegate/bkt/" + long255},
		{key: "", bad: true},
		{key: "/", bad: true},
		{key: "//", bad: true},
		{key: "/leading", bad: true},
		{key: "a//b", bad: true},
		{key: "a//", bad: true},
		{key: ".", bad: true},
		{key: "..", bad: true},
		{key: "./a", bad: true},
		{key: "a/./b", bad: true},
		{key: "a/..", bad: true},
		{key: "a/../", bad: true},
		{key: "../escape", bad: true},
		{key: "a/.snapshot/b", bad: true},
		{key: ".snapshot/", bad: true},
		{key: "a:b", bad: true},
		{key: ":colon/", bad: true},
		{key: "a\x00b", bad: true},
		{key: "\xff\xfe invalid-utf8", bad: true},
		{key: strings.Repeat("k", 256), bad: true},
		{key: strings.Repeat("k/", 512) + "x", bad: true}, // 1025 bytes
	}
	for _, tc := range tests {
		p, isDir, err := keyToPath(testBucketDir, tc.key, DefaultMaxComponentLength)
		if tc.bad {
			if !errors.Is(err, backends.ErrInvalidObjectName) {
				t.Errorf("keyToPath(%q) = %q, %v; want ErrInvalidObjectName", tc.key, p, err)
			}
			continue
		}
		if err != nil || p != tc.path || isDir != tc.isDir {
			t.Errorf("keyToPath(%q) = %q, %v, %v; want %q, %v", tc.key, p, isDir, err, tc.path, tc.isDir)
			continue
		}
		if back := pathToKey(testBucketDir, p, isDir); back != tc.key {
			t.Errorf("pathToKey(%q) = %q, want %q", p, back, tc.key)
		}
	}
	// The segment limit follows the configuration; 0 lifts it.
	if _, _, err := keyToPath(testBucketDir, strings.Repeat("k", 300), 0); err != nil {
		t.Errorf("300-byte segment without limit: %v", err)
	}
	if _, _, err := keyToPath(testBucketDir, strings.Repeat("k", 101), 100); !errors.Is(err, backends.ErrInvalidObjectName) {
		t.Errorf("101-byte segment with limit 100: %v", err)
	}
}

func TestValidBucket(t *testing.T) {
	for _, n := range []string{"bucket", "my-bucket.1", "a", strings.Repeat("b", 255)} {
		if err := validBucket(n); err != nil {
			t.Errorf("validBucket(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"", ".", "..", ".lakegate", ".hidden", "a/b", "/abs", "../escape", "x\x00y", "a:b", strings.Repeat("b", 256), "\xff"} {
		if err := validBucket(n); !errors.Is(err, backends.ErrInvalidBucketName) {
			t.Errorf("validBucket(%q) = %v, want ErrInvalidBucketName", n, err)
		}
	}
}

func TestListBase(t *testing.T) {
	tests := []struct {
		prefix, base, rest string
		ok                 bool
	}{
		{"", "", "", true},
		{"photos", "", "photos", true},
		{"photos/", "photos/", "", true},
		{"photos/2006/F", "photos/2006/", "F", true},
		{"a//b", "", "", false},
		{"../x", "", "", false},
		{"a:b/c", "", "", false},
		{"a/.snapshot/", "", "", false},
		{"x\x00/y", "", "", false},
	}
	for _, tc := range tests {
		base, rest, ok := listBase(tc.prefix)
		if ok != tc.ok || (ok && (base != tc.base || rest != tc.rest)) {
			t.Errorf("listBase(%q) = %q, %q, %v; want %q, %q, %v", tc.prefix, base, rest, ok, tc.base, tc.rest, tc.ok)
		}
	}
}

func TestSuccessor(t *testing.T) {
	tests := map[string]string{"a/": "a0", "a": "b", "a\xff": "b", "\xff\xff": "", "": "", "dir/": "dir0"}
	for in, want := range tests {
		if got := successor(in); got != want {
			t.Errorf("successor(%q) = %q, want %q", in, got, want)
		}
	}
	// Every key with the prefix sorts below the successor.
	for _, k := range []string{"a/", "a/\xff\xff", "a/zzz", "a/\U0010FFFF"} {
		if !(k < successor("a/")) {
			t.Errorf("%q is not below successor(a/)", k)
		}
	}
}

// fakeInfo is an os.FileInfo with an HDFS status.
type fakeInfo struct {
	name  string
	size  int64
	mtime time.Time
	dir   bool
	id    uint64
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return f.mtime }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return &hdfs.FileStatus{FileId: proto.Uint64(f.id)} }

func TestObjectInfoStamp(t *testing.T) {
	mtime := time.UnixMilli(1_700_000_000_123)
	fi := fakeInfo{name: "k", size: 42, mtime: mtime, id: 1001}
	meta := newStoredMeta(backends.Metadata{ContentType: "text/plain", Checksums: map[string]string{"CRC32": "AAAAAA=="}, Tags: map[string]string{"a": "1"}}, "0123456789abcdef0123456789abcdef", 3)
	meta.Size, meta.MTime = 42, mtime.UnixMilli()
	v, err := meta.encode()
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{xattrMeta: v}

	info := objectInfo("k", fi, attrs)
	if info.ETag != meta.ETag || info.PartsCount != 3 || info.Size != 42 || info.Metadata.ContentType != "text/plain" ||
		info.Metadata.Checksums["CRC32"] != "AAAAAA==" || info.Metadata.Tags["a"] != "1" {
		t.Errorf("fresh stamp: %+v", info)
	}

	// Appended by another HDFS client: stored ETag and checksums no longer
	// describe the content.
	appended := fi
	appended.size, appended.mtime = 50, mtime.Add(time.Second)
	info = objectInfo("k", appended, attrs)
	if info.ETag == meta.ETag || info.Metadata.Checksums != nil || info.PartsCount != 0 || info.Metadata.ContentType != "text/plain" {
		t.Errorf("stale stamp: %+v", info)
	}
	if info.ETag != derivedETag(1001, 50, appended.mtime) {
		t.Errorf("stale stamp ETag %q, want the derived one", info.ETag)
	}

	// A file without attributes, then one tagged through lakegate.
	info = objectInfo("k", fi, nil)
	if info.ETag != derivedETag(1001, 42, mtime) || info.Size != 42 || info.Metadata.Tags != nil {
		t.Errorf("foreign file: %+v", info)
	}
	info = objectInfo("k", fi, map[string]string{xattrTags: `{"t":"v"}`})
	if info.ETag != derivedETag(1001, 42, mtime) || info.Metadata.Tags["t"] != "v" {
		t.Errorf("tagged foreign file: %+v", info)
	}
	// Directories are markers with the empty MD5.
	dir := fakeInfo{name: "d", dir: true, mtime: mtime, id: 7}
	if info := objectInfo("d/", dir, nil); info.ETag != emptyMD5 || info.Size != 0 {
		t.Errorf("directory: %+v", info)
	}
}

func TestDerivedETag(t *testing.T) {
	mt := time.UnixMilli(1_700_000_000_000)
	a := derivedETag(5, 100, mt)
	if a != derivedETag(5, 100, mt) {
		t.Error("derived ETag is not stable")
	}
	if len(a) != 34 || !strings.HasSuffix(a, "-1") {
		t.Errorf("derived ETag %q is not <32 hex>-1", a)
	}
	if backends.PartsCountFromETag(a) != 1 {
		t.Errorf("derived ETag %q does not parse as multipart form", a)
	}
	for _, other := range []string{derivedETag(6, 100, mt), derivedETag(5, 101, mt), derivedETag(5, 100, mt.Add(time.Millisecond))} {
		if other == a {
			t.Errorf("derived ETag does not change with inode, length or mtime")
		}
	}
}

func TestMetaTooLarge(t *testing.T) {
	m := newStoredMeta(backends.Metadata{User: map[string]string{"big": strings.Repeat("v", maxXAttrBytes)}}, emptyMD5, 0)
	if _, err := m.encode(); !errors.Is(err, backends.ErrMetadataTooLarge) {
		t.Errorf("encode of metadata above the xattr limit: %v, want ErrMetadataTooLarge", err)
	}
	if _, err := encodeTags(map[string]string{"big": strings.Repeat("v", maxXAttrBytes)}); !errors.Is(err, backends.ErrMetadataTooLarge) {
		t.Errorf("encodeTags of a tag set above the xattr limit: %v, want ErrMetadataTooLarge", err)
	}
	// Just below the limit is accepted.
	if _, err := newStoredMeta(backends.Metadata{User: map[string]string{"ok": strings.Repeat("v", maxXAttrBytes/2)}}, emptyMD5, 0).encode(); err != nil {
		t.Errorf("encode of metadata below the limit: %v", err)
	}
}

func TestPageUploads(t *testing.T) {
	t0 := time.Unix(1000, 0)
	mk := func(key, id string, s int) backends.UploadInfo {
		return backends.UploadInfo{Key: key, UploadID: id, Initiated: t0.Add(time.Duration(s) * time.Second)}
	}
	all := []backends.UploadInfo{mk("a", "1", 0), mk("a", "2", 1), mk("b/c", "3", 0), mk("b/d", "4", 0), mk("c", "5", 0)}
	ids := func(r backends.ListUploadsResult) string {
		var s []string
		for _, u := range r.Uploads {
			s = append(s, u.UploadID)
		}
		return strings.Join(s, ",") + "|" + strings.Join(r.CommonPrefixes, ",")
	}
	tests := []struct {
		q    backends.ListUploadsQuery
		max  int
		want string
		next [2]string
	}{
		{backends.ListUploadsQuery{}, 1000, "1,2,3,4,5|", [2]string{}},
		{backends.ListUploadsQuery{}, 2, "1,2|", [2]string{"a", "2"}},
		{backends.ListUploadsQuery{KeyMarker: "a"}, 1000, "3,4,5|", [2]string{}},
		{backends.ListUploadsQuery{KeyMarker: "a", UploadIDMarker: "1"}, 1000, "2,3,4,5|", [2]string{}},
		{backends.ListUploadsQuery{Delimiter: "/"}, 1000, "1,2,5|b/", [2]string{}},
		{backends.ListUploadsQuery{Delimiter: "/"}, 3, "1,2|b/", [2]string{"b/", ""}},
		{backends.ListUploadsQuery{Delimiter: "/", KeyMarker: "b/"}, 1000, "5|", [2]string{}},
	}
	for _, tc := range tests {
		r := pageUploads(all, tc.q, tc.max)
		if got := ids(r); got != tc.want {
			t.Errorf("pageUploads(%+v, %d) = %s, want %s", tc.q, tc.max, got, tc.want)
		}
		if r.IsTruncated != (tc.next[0] != "") || r.NextKeyMarker != tc.next[0] || r.NextUploadIDMarker != tc.next[1] {
			t.Errorf("pageUploads(%+v, %d): truncated %v next %q %q, want %q %q", tc.q, tc.max, r.IsTruncated, r.NextKeyMarker, r.NextUploadIDMarker, tc.next[0], tc.next[1])
		}
	}
}

func TestUploadDirRejectsForeignIDs(t *testing.T) {
	b := &Backend{uploadsDir: "/r/.lakegate/uploads"}
	for _, id := range []string{"", "no-such-upload-id", "../../../etc", "a/b", ".", strings.Repeat("A", 32), strings.Repeat("0", 31) + "/"} {
		if _, err := b.uploadDir("bkt", id); !errors.Is(err, backends.ErrUploadNotFound) {
			t.Errorf("uploadDir(%q) = %v, want ErrUploadNotFound", id, err)
		}
	}
	id := randomHex(16)
	if d, err := b.uploadDir("bkt", id); err != nil || d != "/r/.lakegate/uploads/bkt/"+id {
		t.Errorf("uploadDir(%q) = %q, %v", id, d, err)
	}
}

// FuzzKeyToPath checks the key mapping on arbitrary keys: it never panics,
// refuses only with ErrInvalidObjectName, and an accepted key maps to a
// clean path strictly inside the bucket directory, with no segment HDFS
// rejects, that maps back to the same key.
func FuzzKeyToPath(f *testing.F) {
	for _, s := range []string{"a", "a/b/", "..", "a/../b", "//", "a:b", "\x00", "日本/", ".snapshot", strings.Repeat("x", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p, isDir, err := keyToPath(testBucketDir, key, DefaultMaxComponentLength)
		if err != nil {
			if !errors.Is(err, backends.ErrInvalidObjectName) {
				t.Fatalf("keyToPath(%q): %v, want ErrInvalidObjectName", key, err)
			}
			return
		}
		if !strings.HasPrefix(p, testBucketDir+"/") || len(p) == len(testBucketDir)+1 {
			t.Fatalf("keyToPath(%q) = %q outside the bucket", key, p)
		}
		if path.Clean(p) != p {
			t.Fatalf("keyToPath(%q) = %q is not a clean path", key, p)
		}
		if !utf8.ValidString(p) || strings.ContainsAny(p, "\x00:") {
			t.Fatalf("keyToPath(%q) = %q holds characters HDFS rejects", key, p)
		}
		for _, seg := range strings.Split(strings.TrimPrefix(p, testBucketDir+"/"), "/") {
			if seg == "" || seg == "." || seg == ".." || seg == ".snapshot" || len(seg) > DefaultMaxComponentLength {
				t.Fatalf("keyToPath(%q) = %q has segment %q", key, p, seg)
			}
		}
		if isDir != strings.HasSuffix(key, "/") {
			t.Fatalf("keyToPath(%q): isDir %v", key, isDir)
		}
		if back := pathToKey(testBucketDir, p, isDir); back != key {
			t.Fatalf("keyToPath(%q) = %q maps back to %q", key, p, back)
		}
	})
}
