package backendtest

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lakegate/lakegate/backends"
)

// orderKeys are keys whose byte order differs from path order, locale order
// and code-point-blind orders. None is a prefix-conflict of another (no "a"
// beside "a/x"), so hierarchical backends can hold them all.
var orderKeys = []string{
	"a-b/x",    // '-' (0x2d) sorts before '/' (0x2f)
	"a.b",      // '.' (0x2e) too
	"a/y",      // so "a/" sorts between "a.b" and "a0"
	"a/z/deep", //
	"a!",       // 0x21
	"a0",       // '0' (0x30) after '/'
	"A",        // upper case before lower case
	"Z",        //
	"_under",   // 0x5f between upper and lower
	"z",        //
	"~tilde",   // 0x7e
	"é",        // U+00E9, 0xc3 0xa9
	"ÿ",        // U+00FF, 0xc3 0xbf
	"日本",       // 0xe6 ...
	"😀",        // 0xf0 ... (4-byte UTF-8, beyond the BMP)
	"\uff01",   // U+FF01 0xef 0xbc 0x81, sorts before U+1F600 in bytes
	"a b",      // space 0x20
	"a+b",      // 0x2b
	"a%2Fb",    // an encoded slash is not a delimiter
}

// testListOrderBytewise: a flat listing returns keys in ascending byte order
// of the whole key ("a-b/x" < "a/y" < "a0"), including multi-byte UTF-8;
// the same order holds page by page with MaxKeys 1, 2 and 5 and with
// delimiter "/" (where "a-b/" < "a.b" < "a/" < "a0"). Listed ETags and sizes
// match Stat.
func testListOrderBytewise(e *env) {
	for i, k := range orderKeys {
		e.put(k, []byte(fmt.Sprintf("content %d", i)))
	}
	keys := e.sortedKeys(orderKeys...)
	if !sort.StringsAreSorted(keys) {
		panic("unsorted")
	}
	got := e.expectListAll(keys, backends.ListQuery{})
	for _, en := range got {
		if en.prefix || strings.HasSuffix(en.name, "/") {
			continue
		}
		st := e.stat(en.name)
		if en.obj.ETag != st.ETag || en.obj.Size != st.Size {
			e.t.Errorf("%s: listed ETag/size %q/%d, Stat %q/%d", quote(en.name), en.obj.ETag, en.obj.Size, st.ETag, st.Size)
		}
	}
	for _, mk := range []int{1, 2, 5} {
		e.expectListAll(keys, backends.ListQuery{MaxKeys: mk})
		e.expectListAll(keys, backends.ListQuery{MaxKeys: mk, Delimiter: "/"})
	}
	e.expectList(keys, backends.ListQuery{Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Prefix: "a", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Prefix: "a/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{StartAfter: "a/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{StartAfter: "a/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{StartAfter: "a-b/x", Delimiter: "/", MaxKeys: 3})
	e.expectList(keys, backends.ListQuery{StartAfter: "é", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{StartAfter: "\U0010FFFF", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{StartAfter: "zzz-not-a-key", MaxKeys: 1000})
}

// treeKeys is the AWS documentation's delimiter example plus neighbours.
var treeKeys = []string{
	"photos/2006/January/sample.jpg",
	"photos/2006/February/sample2.jpg",
	"photos/2006/February/sample3.jpg",
	"photos/2006/February/sample4.jpg",
	"photos/2006/index.html",
	"photos/readme",
	"photos2/x",
	"photos-old/y",
	"top.txt",
	"zeta/omega/leaf",
}

// testListDelimiterPrefix: prefix and delimiter "/" roll keys up into common
// prefixes exactly as ListObjectsV2 does: prefixes that end in "/", prefixes
// that end mid-name ("photos" matches "photos/", "photos2/" and
// "photos-old/"), prefixes with no match (empty, not truncated), deep
// prefixes, and MaxKeys counting objects and common prefixes together.
func testListDelimiterPrefix(e *env) {
	for _, k := range treeKeys {
		e.put(k, []byte(k))
	}
	keys := e.sortedKeys(treeKeys...)
	queries := []backends.ListQuery{
		{Delimiter: "/"},
		{Prefix: "photos/", Delimiter: "/"},
		{Prefix: "photos/2006/", Delimiter: "/"},
		{Prefix: "photos/2006/F", Delimiter: "/"},
		{Prefix: "photos/2006/February/", Delimiter: "/"},
		{Prefix: "photos", Delimiter: "/"},
		{Prefix: "photos/20"},
		{Prefix: "photos/2006/February/sample3.jpg"},
		{Prefix: "photos/2006/February/sample3.jpg", Delimiter: "/"},
		{Prefix: "nope/", Delimiter: "/"},
		{Prefix: "nope"},
		{Prefix: "zeta/", Delimiter: "/"},
		{Prefix: "photos/", Delimiter: "/", MaxKeys: 1},
		{Prefix: "photos/2006/", Delimiter: "/", MaxKeys: 2},
		{Delimiter: "/", MaxKeys: 3},
		{Delimiter: "/", StartAfter: "photos-old/"},
		{Delimiter: "/", StartAfter: "photos/"},
		{Prefix: "photos/", StartAfter: "photos/2006/February/sample3.jpg"},
	}
	for _, q := range queries {
		if q.MaxKeys == 0 {
			q.MaxKeys = 1000
		}
		e.expectList(keys, q)
		e.expectListAll(keys, q)
	}
}

// testListDelimiterNonSlash: a delimiter other than "/" (S3 allows any
// string) rolls keys up at that delimiter.
func testListDelimiterNonSlash(e *env) {
	ks := []string{"2024-01-a", "2024-01-b", "2024-02-a", "2025-x", "plain", "dir/x-y"}
	for _, k := range ks {
		e.put(k, []byte(k))
	}
	keys := e.sortedKeys(ks...)
	for _, q := range []backends.ListQuery{
		{Delimiter: "-", MaxKeys: 1000},
		{Prefix: "2024-", Delimiter: "-", MaxKeys: 1000},
		{Prefix: "2024-", Delimiter: "-", MaxKeys: 1},
		{Delimiter: "-0", MaxKeys: 1000},
	} {
		e.expectList(keys, q)
		e.expectListAll(keys, q)
	}
}

// testListPagingStable: paging with a small MaxKeys while keys are added and
// removed between pages never skips or repeats a key that exists throughout,
// returns keys in strictly increasing order across pages, and never returns
// a key removed before the listing reached it. With a delimiter, a
// StartAfter equal to a common prefix skips everything under that prefix
// (the way NextStartAfter resumes after a returned common prefix).
func testListPagingStable(e *env) {
	var stable []string
	for i := range 60 {
		k := fmt.Sprintf("k/%03d", i*2)
		stable = append(stable, k)
		e.put(k, nil)
	}
	// Keys that will be removed in the middle of the listing.
	var doomed []string
	for i := range 30 {
		k := fmt.Sprintf("k/%03d-doomed", i*4+1)
		doomed = append(doomed, k)
		e.put(k, []byte("x"))
	}
	q := backends.ListQuery{Prefix: "k/", MaxKeys: 7}
	var seen []string
	added := 0
	for page := 0; ; page++ {
		if page > 1000 {
			e.t.Fatal("more than 1000 pages")
		}
		res, err := e.b.List(e.ctx(), e.bucket, q)
		if err != nil {
			e.t.Fatalf("List: %v", err)
		}
		for _, en := range checkPage(e.t, q, res) {
			seen = append(seen, en.name)
		}
		if !res.IsTruncated {
			break
		}
		// Between pages: add keys before and after the cursor, remove a
		// doomed key that the listing has not reached and one it passed.
		cursor := res.NextStartAfter
		e.put(fmt.Sprintf("k/%03d-added-%d", page, page), []byte("a"))
		e.put(fmt.Sprintf("k/999-added-%02d", page), []byte("a"))
		added += 2
		for _, d := range doomed {
			if d > cursor {
				e.del(d)
				break
			}
		}
		for _, d := range doomed {
			if d < cursor {
				e.del(d)
				break
			}
		}
		q.StartAfter = cursor
	}
	if !sort.StringsAreSorted(seen) {
		e.t.Errorf("keys across pages not increasing: %v", seen)
	}
	count := map[string]int{}
	for _, k := range seen {
		count[k]++
	}
	for k, n := range count {
		if n > 1 {
			e.t.Errorf("key %s listed %d times", k, n)
		}
	}
	for _, k := range stable {
		if count[k] != 1 {
			e.t.Errorf("stable key %s listed %d times, want once", k, count[k])
		}
	}
	// Every later-added key after the final cursor must have been seen.
	for i := 0; i < added/2; i++ {
		k := fmt.Sprintf("k/999-added-%02d", i)
		if count[k] != 1 {
			e.t.Errorf("key %s added ahead of the cursor was listed %d times, want once", k, count[k])
		}
	}

	// StartAfter equal to a common prefix skips the whole prefix.
	for _, k := range []string{"p/a", "p/b/c", "p/b/d", "p/b0", "p/c/x", "p/d"} {
		e.put(k, nil)
	}
	keys := e.sortedKeys("p/a", "p/b/c", "p/b/d", "p/b0", "p/c/x", "p/d")
	e.expectList(keys, backends.ListQuery{Prefix: "p/", Delimiter: "/", StartAfter: "p/b/", MaxKeys: 1000})
	res, err := e.b.List(e.ctx(), e.bucket, backends.ListQuery{Prefix: "p/", Delimiter: "/", StartAfter: "p/b/", MaxKeys: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, cp := range res.CommonPrefixes {
		if cp == "p/b/" {
			e.t.Errorf("StartAfter p/b/ returned common prefix p/b/ again")
		}
	}
	for _, o := range res.Objects {
		if strings.HasPrefix(o.Key, "p/b/") {
			e.t.Errorf("StartAfter p/b/ returned %s under the skipped prefix", o.Key)
		}
	}
}

// testListContinuationAfterCommonPrefix: with delimiter "/" and MaxKeys 1,
// a page that ends with a common prefix resumes after everything under it:
// each common prefix and object appears exactly once, in order, however many
// keys a prefix holds, and MaxKeys counts common prefixes.
func testListContinuationAfterCommonPrefix(e *env) {
	var ks []string
	for i := range 12 {
		ks = append(ks, fmt.Sprintf("dir/%02d", i))
	}
	ks = append(ks, "dir/sub/deep", "a", "dir0", "dir-x/y", "e", "f/g/h", "f/i")
	for _, k := range ks {
		e.put(k, nil)
	}
	keys := e.sortedKeys(ks...)
	for _, mk := range []int{1, 2, 3} {
		got := e.expectListAll(keys, backends.ListQuery{Delimiter: "/", MaxKeys: mk})
		if len(got) != 6 {
			e.t.Errorf("MaxKeys %d: %v, want a dir-x/ dir/ dir0 e f/", mk, names(got))
		}
		e.expectListAll(keys, backends.ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: mk})
	}
	// A first page of exactly one common prefix.
	res, err := e.b.List(e.ctx(), e.bucket, backends.ListQuery{Prefix: "dir", Delimiter: "/", MaxKeys: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	page := checkPage(e.t, backends.ListQuery{Prefix: "dir", Delimiter: "/", MaxKeys: 1}, res)
	if len(page) != 1 || !page[0].prefix || page[0].name != "dir-x/" || !res.IsTruncated {
		e.t.Errorf("first page %v truncated %v, want CP(dir-x/) truncated", names(page), res.IsTruncated)
	}
}

// testDirectoryMarkers: S3A directory markers. A zero-byte "dir/" with
// Content-Type application/x-directory is an object: Stat "dir/" finds it,
// Stat "dir" is ErrObjectNotFound; the empty directory lists exactly its
// marker under prefix "dir/" delimiter "/" and as common prefix "dir/" one
// level up. Adding a child lists marker and child; deleting "dir/" while it
// has children removes only the marker and leaves the children (Stat "dir/"
// is then ErrObjectNotFound, also on hierarchical backends where the
// directory remains). A nested marker "x/y/z/" does not create markers for
// "x/" and "x/y/".
func testDirectoryMarkers(e *env) {
	meta := backends.Metadata{ContentType: "application/x-directory"}
	info := e.putOpts("dir/", nil, backends.PutOptions{Metadata: meta})
	if info.ETag != emptyMD5 {
		e.t.Errorf("marker ETag %q, want %q", info.ETag, emptyMD5)
	}
	st := e.expectContent("dir/", nil)
	if st.Metadata.ContentType != meta.ContentType {
		e.t.Errorf("marker content type %q, want %q", st.Metadata.ContentType, meta.ContentType)
	}
	e.expectAbsent("dir")
	keys := e.sortedKeys("dir/")
	e.expectList(keys, backends.ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: 2})
	e.expectList(keys, backends.ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{MaxKeys: 1000})
	// S3A's emptiness probe: exactly the marker, nothing else.
	res, err := e.b.List(e.ctx(), e.bucket, backends.ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: 2})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Key != "dir/" || res.Objects[0].Size != 0 || len(res.CommonPrefixes) != 0 {
		e.t.Errorf("empty dir listing = %+v, want exactly the marker", res)
	}

	e.put("dir/child", []byte("c"))
	e.put("dir/sub/grandchild", []byte("g"))
	keys = e.sortedKeys("dir/", "dir/child", "dir/sub/grandchild")
	e.expectList(keys, backends.ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: 1000})
	e.expectListAll(keys, backends.ListQuery{})
	// Overwriting the marker keeps the children.
	e.putOpts("dir/", nil, backends.PutOptions{Metadata: meta})
	e.expectContent("dir/child", []byte("c"))

	e.del("dir/")
	e.expectContent("dir/child", []byte("c"))
	e.expectContent("dir/sub/grandchild", []byte("g"))
	e.expectAbsent("dir/")
	keys = e.sortedKeys("dir/child", "dir/sub/grandchild")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectList(keys, backends.ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: 1000})

	// Marker re-created over existing children.
	e.putOpts("dir/", nil, backends.PutOptions{Metadata: meta})
	e.stat("dir/")
	e.del("dir/child")
	e.del("dir/sub/grandchild")
	keys = e.sortedKeys("dir/")
	e.expectListAll(keys, backends.ListQuery{})
	e.del("dir/")
	e.expectListAll(nil, backends.ListQuery{})

	// Nested marker without parents.
	e.putOpts("x/y/z/", nil, backends.PutOptions{Metadata: meta})
	keys = e.sortedKeys("x/y/z/")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectList(keys, backends.ListQuery{Prefix: "x/", Delimiter: "/", MaxKeys: 1000})
	e.expectAbsent("x/")
	e.expectAbsent("x/y/")
	e.del("x/y/z/")
	e.expectListAll(nil, backends.ListQuery{})

	// A marker with content is still just an object with a trailing slash.
	_, err = e.b.Put(e.ctx(), e.bucket, "withdata/", strings.NewReader("data"), backends.PutOptions{Size: 4})
	if err == nil {
		e.expectContent("withdata/", []byte("data"))
		e.del("withdata/")
	} else if !errors.Is(err, backends.ErrInvalidObjectName) {
		e.t.Errorf("Put non-empty \"withdata/\": %v, want success or ErrInvalidObjectName", err)
	}
}

// testImplicitDirectories: writing "i/j/k" does not make "i/" or "i/j/"
// objects (in listings or Stat, nor Stat of "i" or "i/j"); after the last object under a prefix
// is deleted, the prefix disappears from listings (no empty common
// prefixes left behind), while siblings stay.
func testImplicitDirectories(e *env) {
	e.put("i/j/k", []byte("k"))
	e.put("i/j2/k", []byte("k"))
	keys := e.sortedKeys("i/j/k", "i/j2/k")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectAbsent("i/")
	e.expectAbsent("i/j/")
	e.expectList(keys, backends.ListQuery{Prefix: "i/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Prefix: "i/j/", Delimiter: "/", MaxKeys: 1000})
	// Deleting "i/", which is no object, removes nothing.
	e.del("i/")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectAbsent("i")
	e.expectAbsent("i/j")
	e.del("i/j/k")
	keys = e.sortedKeys("i/j2/k")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectList(keys, backends.ListQuery{Prefix: "i/", Delimiter: "/", MaxKeys: 1000})
	e.del("i/j2/k")
	e.expectListAll(nil, backends.ListQuery{})
	e.expectList(nil, backends.ListQuery{Delimiter: "/", MaxKeys: 1000})
}

// testEmptyDirectories: with Options.EmptyDirsAreMarkers, an empty
// directory made outside the contract (MakeEmptyDir) is the marker object
// "dir/": listed (exactly the marker under prefix "dir/" delimiter "/", as
// S3A's emptiness probe wants; a common prefix one level up), found by Stat
// and Open with zero bytes and the ETag of empty content, while "dir" and
// its non-empty parents are no objects. Once it has a child it is no object
// either (only the child is listed, Stat "dir/" is ErrObjectNotFound, and
// DELETE "dir/" removes nothing); deleting that last child removes the
// prefix from listings, and deleting an empty directory's marker removes
// it and the parents it alone kept. Without the option the subtest skips.
func testEmptyDirectories(e *env) {
	if !e.opts.EmptyDirsAreMarkers {
		e.t.Skip("backend has no empty directories outside its objects (Options.EmptyDirsAreMarkers is false)")
	}
	if e.opts.MakeEmptyDir == nil {
		e.t.Fatal("backendtest: Options.EmptyDirsAreMarkers needs Options.MakeEmptyDir")
	}
	mkdir := func(dir string) { e.opts.MakeEmptyDir(e.t, e.b, e.bucket, dir) }
	mkdir("e/")
	mkdir("n/deep/empty/")
	e.put("n/f", []byte("f"))
	keys := e.sortedKeys("e/", "n/deep/empty/", "n/f")
	e.expectListAll(keys, backends.ListQuery{})
	for _, mk := range []int{1, 2, 1000} {
		e.expectListAll(keys, backends.ListQuery{Delimiter: "/", MaxKeys: mk})
		e.expectListAll(keys, backends.ListQuery{Prefix: "n/", Delimiter: "/", MaxKeys: mk})
		e.expectListAll(keys, backends.ListQuery{Prefix: "n/", MaxKeys: mk})
	}
	e.expectList(keys, backends.ListQuery{Prefix: "n/deep/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Prefix: "n/deep/empty/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Prefix: "e", Delimiter: "/", MaxKeys: 1000})
	// S3A's emptiness probe: exactly the marker, nothing else.
	res, err := e.b.List(e.ctx(), e.bucket, backends.ListQuery{Prefix: "e/", Delimiter: "/", MaxKeys: 2})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Key != "e/" || res.Objects[0].Size != 0 || res.Objects[0].ETag != emptyMD5 || len(res.CommonPrefixes) != 0 {
		e.t.Errorf("empty directory listing = %+v, want exactly the marker", res)
	}
	for _, k := range []string{"e/", "n/deep/empty/"} {
		if st := e.expectContent(k, nil); st.ETag != emptyMD5 {
			e.t.Errorf("Stat %s: ETag %q, want %q", k, st.ETag, emptyMD5)
		}
	}
	e.expectAbsent("e")
	e.expectAbsent("n/")
	e.expectAbsent("n/deep/")
	e.expectAbsent("n/deep/empty")

	// A child turns the directory into a mere prefix.
	e.put("e/child", []byte("c"))
	keys = e.sortedKeys("e/child", "n/deep/empty/", "n/f")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectList(keys, backends.ListQuery{Prefix: "e/", Delimiter: "/", MaxKeys: 1000})
	e.expectList(keys, backends.ListQuery{Delimiter: "/", MaxKeys: 1000})
	e.expectAbsent("e/")
	e.del("e/")
	e.expectContent("e/child", []byte("c"))
	e.expectListAll(keys, backends.ListQuery{})
	// Its last child gone, the directory goes too: it was no marker.
	e.del("e/child")
	keys = e.sortedKeys("n/deep/empty/", "n/f")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectList(keys, backends.ListQuery{Delimiter: "/", MaxKeys: 1000})
	e.expectAbsent("e/")
	// Deleting the empty directory's marker removes it and the parent it
	// alone kept; "n/" stays while "n/f" exists.
	e.del("n/deep/empty/")
	keys = e.sortedKeys("n/f")
	e.expectListAll(keys, backends.ListQuery{})
	e.expectList(keys, backends.ListQuery{Prefix: "n/", Delimiter: "/", MaxKeys: 1000})
	e.expectAbsent("n/deep/")
	e.del("n/f")
	e.expectListAll(nil, backends.ListQuery{})
	e.expectList(nil, backends.ListQuery{Delimiter: "/", MaxKeys: 1000})
}

// testKeyConflict: the file-versus-prefix conflict. With KeyConflictIsError
// a key that is an object and a prefix of others at once ("a" with "a/b",
// "c/d" then "c", "m/" then "m", "f" then "f/") is refused with
// ErrKeyConflict and the existing object is untouched; otherwise both are
// stored and listed. Either way Stat of a name that is only a directory
// ("c" while "c/d" exists) and of a key below an object ("a/b" while "a" is
// an object, on hierarchical stores) is ErrObjectNotFound, listing below
// such an object is empty, and deleting such names succeeds without removing
// anything.
func testKeyConflict(e *env) {
	ctx := e.ctx()
	try := func(key string, data []byte) error {
		_, err := e.b.Put(ctx, e.bucket, key, strings.NewReader(string(data)), backends.PutOptions{Size: int64(len(data))})
		return err
	}
	e.put("a", []byte("file a"))
	e.put("c/d", []byte("file c/d"))
	e.put("m/", nil)
	e.put("f", []byte("file f"))
	stored := []string{"a", "c/d", "m/", "f"}
	for _, c := range []struct{ key, existing string }{{"a/b", "a"}, {"c", "c/d"}, {"m", "m/"}, {"f/", "f"}, {"a/b/c/", "a"}} {
		var data []byte
		if !strings.HasSuffix(c.key, "/") {
			data = []byte("file " + c.key)
		}
		err := try(c.key, data)
		if e.opts.KeyConflictIsError {
			wantErr(e.t, "Put "+c.key+" beside "+c.existing, err, backends.ErrKeyConflict)
			e.expectAbsent(c.key)
		} else {
			if err != nil {
				e.t.Errorf("Put %s beside %s: %v, want both stored", c.key, c.existing, err)
				continue
			}
			e.expectContent(c.key, data)
			stored = append(stored, c.key)
		}
	}
	e.expectContent("a", []byte("file a"))
	e.expectContent("c/d", []byte("file c/d"))
	e.expectContent("f", []byte("file f"))
	e.stat("m/")
	e.expectListAll(e.sortedKeys(stored...), backends.ListQuery{})
	if e.opts.KeyConflictIsError {
		e.expectAbsent("a/b")
		e.expectAbsent("a/")
		e.expectAbsent("c")
		e.expectAbsent("m")
		// Listing below an object finds nothing, without an error
		// (S3A's getFileStatus of "a/b" lists the prefix "a/b/").
		for _, prefix := range []string{"a/", "a/b/", "a/b/c", "f/x/"} {
			e.expectListAll(nil, backends.ListQuery{Prefix: prefix})
			e.expectListAll(nil, backends.ListQuery{Prefix: prefix, Delimiter: "/"})
		}
		// Deleting names that are not objects removes nothing.
		e.del("c")
		e.del("a/b")
		e.del("f/")
		e.expectContent("c/d", []byte("file c/d"))
		e.expectContent("a", []byte("file a"))
		e.expectContent("f", []byte("file f"))
		e.expectListAll(e.sortedKeys(stored...), backends.ListQuery{})
		// Once the conflicting object is gone, the other key can be written.
		e.del("a")
		e.put("a/b", []byte("now a dir"))
		e.expectContent("a/b", []byte("now a dir"))
		e.del("c/d")
		e.put("c", []byte("now a file"))
		e.expectContent("c", []byte("now a file"))
	}
}
