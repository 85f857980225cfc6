package backendtest

import (
	"bytes"
	"crypto/md5"
	"io"
	"strings"
	"testing"

	"github.com/lakegate/lakegate/backends"
)

// TestModel checks the reference listing model against the ListObjectsV2
// examples of the Amazon S3 User Guide ("Organizing objects using prefixes")
// and the contract's StartAfter rule for common prefixes.
func TestModel(t *testing.T) {
	keys := []string{"a-b/x", "a/", "a/b", "a/c/d", "a0", "photos/2006/February/sample2.jpg", "photos/2006/January/sample.jpg", "photos/2006/index.html"}
	cases := []struct {
		q     backends.ListQuery
		want  string
		trunc bool
	}{
		{backends.ListQuery{}, `"a-b/x" "a/" "a/b" "a/c/d" "a0" "photos/2006/February/sample2.jpg" "photos/2006/January/sample.jpg" "photos/2006/index.html"`, false},
		{backends.ListQuery{Delimiter: "/"}, `CP("a-b/") CP("a/") "a0" CP("photos/")`, false},
		{backends.ListQuery{Delimiter: "/", MaxKeys: 2}, `CP("a-b/") CP("a/")`, true},
		{backends.ListQuery{Delimiter: "/", StartAfter: "a/"}, `"a0" CP("photos/")`, false},
		{backends.ListQuery{Delimiter: "/", StartAfter: "a-b/x"}, `CP("a/") "a0" CP("photos/")`, false},
		{backends.ListQuery{Prefix: "a/", Delimiter: "/"}, `"a/" "a/b" CP("a/c/")`, false},
		{backends.ListQuery{Prefix: "photos/2006/", Delimiter: "/"}, `CP("photos/2006/February/") CP("photos/2006/January/") "photos/2006/index.html"`, false},
		{backends.ListQuery{Prefix: "a", Delimiter: "/", MaxKeys: 3}, `CP("a-b/") CP("a/") "a0"`, false},
		{backends.ListQuery{Prefix: "zzz"}, ``, false},
	}
	for _, c := range cases {
		got, trunc := model(keys, c.q)
		if g := strings.Join(names(got), " "); g != c.want || trunc != c.trunc {
			t.Errorf("model(%+v) = %s truncated %v, want %s truncated %v", c.q, g, trunc, c.want, c.trunc)
		}
	}
}

// TestParseSize checks LAKEGATE_TEST_LARGE_SIZE parsing.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"123": 123, "64M": 64 << 20, "2G": 2 << 30, "512KiB": 512 << 10, "3MB": 3 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1T"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

// TestGenReaderRandomAccess checks that generated content read from an
// offset equals the same bytes of a read from the start, for every
// alignment, so range checks on large objects compare the right bytes.
func TestGenReaderRandomAccess(t *testing.T) {
	all := gen(9, 100)
	for off := range 100 {
		g := newGen(9, 100)
		g.off = int64(off)
		got, _ := io.ReadAll(g)
		if !bytes.Equal(got, all[off:]) {
			t.Fatalf("offset %d differs", off)
		}
	}
	// Odd-sized reads give the same stream.
	g := newGen(9, 100)
	var buf bytes.Buffer
	p := make([]byte, 3)
	for {
		n, err := g.Read(p)
		buf.Write(p[:n])
		if err == io.EOF {
			break
		}
	}
	if !bytes.Equal(buf.Bytes(), all) {
		t.Fatal("3-byte reads differ")
	}
	if md5.Sum(gen(1, 100)) == md5.Sum(gen(2, 100)) {
		t.Fatal("seeds give equal content")
	}
}
