package posix

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakegate/lakegate/backends"
)

// TestKeyToPath checks the key-to-path mapping on keys that must map (and
// where) and keys that must be refused.
func TestKeyToPath(t *testing.T) {
	const dir = "/srv/root/bucket"
	ok := []struct {
		key, path string
		marker    bool
	}{
		{"a", dir + "/a", false},
		{"a/b/c.txt", dir + "/a/b/c.txt", false},
		{"dir/", dir + "/dir", true},
		{"a/b/", dir + "/a/b", true},
		{"...", dir + "/...", false},
		{".hidden/x", dir + "/.hidden/x", false},
		{".lakegate/tmp/x", dir + "/.lakegate/tmp/x", false},
		{"a b/%2F/+", dir + "/a b/%2F/+", false},
		{`..\..\x`, dir + `/..\..\x`, false},
		{"日本/ファイル", dir + "/日本/ファイル", false},
		{strings.Repeat("x", 255), dir + "/" + strings.Repeat("x", 255), false},
	}
	for _, c := range ok {
		op, err := keyToPath(dir, c.key, 255)
		if err != nil || op.path != c.path || op.marker != c.marker {
			t.Errorf("keyToPath(%q) = %+v, %v; want %q marker %v", c.key, op, err, c.path, c.marker)
		}
	}
	bad := []string{
		"", ".", "..", "./a", "a/.", "a/..", "a/../b", "../x", "a/./b",
		"/", "/a", "//", "a//b", "a//", "a/b//", "\x00", "a\x00b",
		"\xff\xfe", strings.Repeat("x", 256), "a/" + strings.Repeat("x", 256) + "/b",
		strings.Repeat("a/", 513),
	}
	for _, key := range bad {
		op, err := keyToPath(dir, key, 255)
		if !errors.Is(err, backends.ErrInvalidObjectName) {
			t.Errorf("keyToPath(%q) = %+v, %v; want ErrInvalidObjectName", key, op, err)
		}
	}
}

// TestValidBucket checks that bucket names cannot reach the private
// directory or leave the root.
func TestValidBucket(t *testing.T) {
	for _, n := range []string{"bucket", "my-bucket.example", "a", "UPPER_ok"} {
		if err := validBucket(n, 255); err != nil {
			t.Errorf("validBucket(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"", ".", "..", ".lakegate", ".x", "a/b", "a\x00", "\xff", strings.Repeat("b", 256)} {
		if err := validBucket(n, 255); !errors.Is(err, backends.ErrInvalidBucketName) {
			t.Errorf("validBucket(%q) = %v, want ErrInvalidBucketName", n, err)
		}
	}
}

// FuzzKeyToPath checks for any key that it is either refused with
// ErrInvalidObjectName or mapped to a clean path strictly inside the bucket
// directory from which the key can be recovered exactly.
func FuzzKeyToPath(f *testing.F) {
	for _, s := range []string{"a", "a/b/", "..", "a/../b", "//", "/x", "a\x00", "日本/x", `a\..\b`, ".lakegate/x", "a/./b/", "x/"} {
		f.Add(s)
	}
	const dir = "/srv/root/bucket"
	f.Fuzz(func(t *testing.T, key string) {
		op, err := keyToPath(dir, key, 255)
		if err != nil {
			if !errors.Is(err, backends.ErrInvalidObjectName) {
				t.Fatalf("keyToPath(%q): %v, want ErrInvalidObjectName", key, err)
			}
			return
		}
		if !strings.HasPrefix(op.path, dir+"/") {
			t.Fatalf("keyToPath(%q) = %q, outside %s", key, op.path, dir)
		}
		if filepath.Clean(op.path) != op.path {
			t.Fatalf("keyToPath(%q) = %q, not clean (a segment was . or .. or empty)", key, op.path)
		}
		rel, err := filepath.Rel(dir, op.path)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("keyToPath(%q) = %q: relative %q escapes", key, op.path, rel)
		}
		back := op.path[len(dir)+1:]
		if op.marker {
			back += "/"
		}
		if back != key {
			t.Fatalf("keyToPath(%q) = %q does not map back (got %q)", key, op.path, back)
		}
		for seg := range strings.SplitSeq(strings.TrimSuffix(key, "/"), "/") {
			if len(seg) > 255 || seg == "" {
				t.Fatalf("keyToPath(%q) accepted segment %q", key, seg)
			}
		}
	})
}
