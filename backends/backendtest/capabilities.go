package backendtest

import (
	"bytes"
	"errors"
	"maps"
	"slices"

	"github.com/lakegate/lakegate/backends"
)

// copier returns the Copier capability or skips.
func (e *env) copier() backends.Copier {
	c, ok := e.b.(backends.Copier)
	if !ok {
		e.t.Skip("capability not implemented: backends.Copier")
	}
	return c
}

// testCopy: CopyObject copies content and keeps the source ETag. With the
// COPY directive the destination gets the source's metadata and tags; with
// REPLACE it gets the given metadata and keeps the source tags unless
// ReplaceTags. SourceIfMatch guards the source (ErrPreconditionFailed), the
// write condition guards the destination, a missing source is
// ErrObjectNotFound, copying an object onto itself with REPLACE rewrites its
// metadata only, and copying between buckets works when the backend has
// Buckets.
func testCopy(e *env) {
	c := e.copier()
	data := gen(80, 300000)
	srcMeta := backends.Metadata{
		ContentType: "application/x-src", CacheControl: "no-cache",
		User: map[string]string{"from": "source"}, Tags: map[string]string{"k": "src"},
	}
	src := e.putOpts("src/object", data, backends.PutOptions{Metadata: srcMeta})

	info, err := c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/copy", backends.CopyOptions{})
	if err != nil {
		e.t.Fatalf("CopyObject COPY: %v", err)
	}
	if info.ETag != src.ETag || info.Size != int64(len(data)) {
		e.t.Errorf("copy info ETag %q size %d, want %q %d", info.ETag, info.Size, src.ETag, len(data))
	}
	st := e.expectContent("dst/copy", data)
	if st.ETag != src.ETag {
		e.t.Errorf("copy ETag %q, want source's %q", st.ETag, src.ETag)
	}
	e.expectMetadata("COPY directive", st.Metadata, srcMeta)

	newMeta := backends.Metadata{ContentType: "text/replaced", User: map[string]string{"from": "replace"}}
	if _, err := c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/replaced", backends.CopyOptions{ReplaceMetadata: true, Metadata: newMeta}); err != nil {
		e.t.Fatalf("CopyObject REPLACE: %v", err)
	}
	st = e.expectContent("dst/replaced", data)
	want := newMeta
	want.Tags = srcMeta.Tags
	e.expectMetadata("REPLACE directive, tags copied", st.Metadata, want)

	newMeta.Tags = map[string]string{"k": "replaced"}
	if _, err := c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/tags", backends.CopyOptions{ReplaceMetadata: true, ReplaceTags: true, Metadata: newMeta}); err != nil {
		e.t.Fatalf("CopyObject REPLACE tags: %v", err)
	}
	e.expectMetadata("REPLACE directive and tags", e.stat("dst/tags").Metadata, newMeta)

	_, err = c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/guarded", backends.CopyOptions{SourceIfMatch: md5hex([]byte("other"))})
	wantErr(e.t, "SourceIfMatch wrong", err, backends.ErrPreconditionFailed)
	e.expectAbsent("dst/guarded")
	if _, err := c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/guarded", backends.CopyOptions{SourceIfMatch: src.ETag}); err != nil {
		e.t.Errorf("SourceIfMatch right: %v", err)
	}
	_, err = c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/guarded", backends.CopyOptions{Condition: backends.WriteCondition{IfNoneMatchStar: true}})
	wantErr(e.t, "copy with IfNoneMatchStar onto existing", err, backends.ErrPreconditionFailed)

	_, err = c.CopyObject(e.ctx(), e.bucket, "src/missing", e.bucket, "dst/x", backends.CopyOptions{})
	wantErr(e.t, "copy of missing source", err, backends.ErrObjectNotFound)
	e.expectAbsent("dst/x")

	selfMeta := backends.Metadata{ContentType: "text/self", User: map[string]string{"self": "yes"}}
	if _, err := c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "src/object", backends.CopyOptions{ReplaceMetadata: true, Metadata: selfMeta}); err != nil {
		e.t.Fatalf("self copy REPLACE: %v", err)
	}
	st = e.expectContent("src/object", data)
	if st.ETag != src.ETag || st.Metadata.ContentType != "text/self" || st.Metadata.User["self"] != "yes" {
		e.t.Errorf("self copy: ETag %q metadata %+v", st.ETag, st.Metadata)
	}

	// Overwriting an existing destination replaces it.
	e.put("dst/existing", []byte("old"))
	if _, err := c.CopyObject(e.ctx(), e.bucket, "src/object", e.bucket, "dst/existing", backends.CopyOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.expectContent("dst/existing", data)

	// Markers copy as markers.
	e.put("srcdir/", nil)
	if _, err := c.CopyObject(e.ctx(), e.bucket, "srcdir/", e.bucket, "dstdir/", backends.CopyOptions{}); err != nil {
		e.t.Errorf("copy marker: %v", err)
	} else {
		e.expectContent("dstdir/", nil)
	}

	if bk, ok := e.b.(backends.Buckets); ok && e.opts.NewBucket == nil {
		other := uniqueBucketName(e.t)
		if err := bk.CreateBucket(e.ctx(), other); err != nil {
			e.t.Fatalf("CreateBucket: %v", err)
		}
		e.t.Cleanup(func() { emptyBucket(e.t, e.b, other, true) })
		if _, err := c.CopyObject(e.ctx(), e.bucket, "src/object", other, "x/y", backends.CopyOptions{}); err != nil {
			e.t.Fatalf("cross-bucket copy: %v", err)
		}
		oe := &env{t: e.t, b: e.b, opts: e.opts, bucket: other, path: e.path}
		oe.expectContent("x/y", data)
		_, err := c.CopyObject(e.ctx(), e.bucket, "src/object", other+"-missing", "x", backends.CopyOptions{})
		wantErr(e.t, "copy into missing bucket", err, backends.ErrBucketNotFound)
	}
}

// testCopyMultipartETag: a copy of a multipart object keeps the source's
// multipart ETag ("hex-N") and PartsCount, as the contract requires (S3A
// change detection compares ETags across rename = copy).
func testCopyMultipartETag(e *env) {
	c := e.copier()
	m := mpEnv{env: e, mp: e.multipartCap()}
	id := m.create("mpsrc", backends.Metadata{})
	p1 := m.upload("mpsrc", id, 1, gen(81, partSize), backends.PutOptions{})
	p2 := m.upload("mpsrc", id, 2, []byte("end"), backends.PutOptions{})
	src := m.complete("mpsrc", id, partsFor(p1, p2))
	info, err := c.CopyObject(e.ctx(), e.bucket, "mpsrc", e.bucket, "mpdst", backends.CopyOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	st := e.expectContent("mpdst", append(gen(81, partSize), []byte("end")...))
	if info.ETag != src.ETag || st.ETag != src.ETag || st.PartsCount != 2 {
		e.t.Errorf("copy ETag %q / Stat %q parts %d, want %q 2", info.ETag, st.ETag, st.PartsCount, src.ETag)
	}
}

// testTagging: PutObjectTagging replaces the tag set (read back through
// Stat), an empty set removes all tags, content, ETag and other metadata are
// untouched, and a missing key is ErrObjectNotFound.
func testTagging(e *env) {
	tg, ok := e.b.(backends.Tagger)
	if !ok {
		e.t.Skip("capability not implemented: backends.Tagger")
	}
	data := []byte("tagged content")
	meta := backends.Metadata{ContentType: "text/tagged", User: map[string]string{"u": "1"}, Tags: map[string]string{"a": "1", "b": "2"}}
	put := e.putOpts("t", data, backends.PutOptions{Metadata: meta})
	newTags := map[string]string{"c": "3", "with space": "v a l", "empty": ""}
	if err := tg.PutObjectTagging(e.ctx(), e.bucket, "t", newTags); err != nil {
		e.t.Fatalf("PutObjectTagging: %v", err)
	}
	st := e.expectContent("t", data)
	if !maps.Equal(st.Metadata.Tags, newTags) {
		e.t.Errorf("tags %v, want %v", st.Metadata.Tags, newTags)
	}
	if st.ETag != put.ETag || st.Metadata.ContentType != "text/tagged" || st.Metadata.User["u"] != "1" {
		e.t.Errorf("tagging changed the object: %+v", st)
	}
	if err := tg.PutObjectTagging(e.ctx(), e.bucket, "t", map[string]string{}); err != nil {
		e.t.Fatalf("PutObjectTagging(empty): %v", err)
	}
	if st := e.stat("t"); len(st.Metadata.Tags) != 0 {
		e.t.Errorf("tags after removal: %v", st.Metadata.Tags)
	}
	err := tg.PutObjectTagging(e.ctx(), e.bucket, "missing", map[string]string{"a": "b"})
	wantErr(e.t, "PutObjectTagging(missing)", err, backends.ErrObjectNotFound)
	e.expectAbsent("missing")
	e.put("dir/", nil)
	if err := tg.PutObjectTagging(e.ctx(), e.bucket, "dir/", map[string]string{"m": "1"}); err != nil {
		e.t.Errorf("PutObjectTagging(marker): %v", err)
	} else if st := e.stat("dir/"); st.Metadata.Tags["m"] != "1" {
		e.t.Errorf("marker tags %v", st.Metadata.Tags)
	}
}

// testBuckets groups the Buckets capability checks.
func testBuckets(e *env) {
	e.bucketsCap()
	e.run("Lifecycle", bucketLifecycle)
	e.run("NotEmpty", bucketNotEmpty)
	e.run("InvalidNames", bucketInvalidNames)
}

// bucketLifecycle: CreateBucket makes a bucket that HeadBucket finds (with a
// creation time) and ListBuckets lists in name order; creating it again is
// ErrBucketExists; DeleteBucket removes it (HeadBucket then
// ErrBucketNotFound, not listed); deleting a missing bucket is
// ErrBucketNotFound.
func bucketLifecycle(e *env) {
	bk := e.bucketsCap()
	ctx := e.ctx()
	name := uniqueBucketName(e.t)
	names := []string{name + "-b", name + "-a"}
	for _, n := range names {
		if err := bk.CreateBucket(ctx, n); err != nil {
			e.t.Fatalf("CreateBucket(%q): %v", n, err)
		}
		e.t.Cleanup(func() { emptyBucket(e.t, e.b, n, true) })
	}
	wantErr(e.t, "CreateBucket again", bk.CreateBucket(ctx, names[0]), backends.ErrBucketExists)
	info, err := bk.HeadBucket(ctx, names[0])
	if err != nil {
		e.t.Fatalf("HeadBucket: %v", err)
	}
	if info.Name != names[0] || info.Created.IsZero() {
		e.t.Errorf("HeadBucket = %+v", info)
	}
	all, err := bk.ListBuckets(ctx)
	if err != nil {
		e.t.Fatalf("ListBuckets: %v", err)
	}
	var listed []string
	for _, b := range all {
		listed = append(listed, b.Name)
		if b.Created.IsZero() {
			e.t.Errorf("bucket %q: zero Created", b.Name)
		}
	}
	if !slices.IsSorted(listed) {
		e.t.Errorf("ListBuckets not sorted: %v", listed)
	}
	for _, n := range append(names, e.bucket) {
		if !slices.Contains(listed, n) {
			e.t.Errorf("ListBuckets %v lacks %q", listed, n)
		}
	}
	for _, n := range listed {
		if n == "" || n[0] == '.' {
			e.t.Errorf("ListBuckets shows private name %q", n)
		}
	}
	if err := bk.DeleteBucket(ctx, names[1]); err != nil {
		e.t.Fatalf("DeleteBucket: %v", err)
	}
	_, err = bk.HeadBucket(ctx, names[1])
	wantErr(e.t, "HeadBucket after delete", err, backends.ErrBucketNotFound)
	wantErr(e.t, "DeleteBucket again", bk.DeleteBucket(ctx, names[1]), backends.ErrBucketNotFound)
	all, _ = bk.ListBuckets(ctx)
	for _, b := range all {
		if b.Name == names[1] {
			e.t.Errorf("deleted bucket still listed")
		}
	}
	// A deleted bucket can be re-created empty.
	if err := bk.CreateBucket(ctx, names[1]); err != nil {
		e.t.Fatalf("re-create: %v", err)
	}
	res, err := e.b.List(ctx, names[1], backends.ListQuery{MaxKeys: 10})
	if err != nil || len(res.Objects)+len(res.CommonPrefixes) != 0 {
		e.t.Errorf("re-created bucket lists %+v, %v", res, err)
	}
}

// bucketNotEmpty: DeleteBucket is ErrBucketNotEmpty while the bucket holds an
// object, a lone directory marker, or an in-progress multipart upload, and
// succeeds once they are gone (directories left empty by deletes do not
// count).
func bucketNotEmpty(e *env) {
	bk := e.bucketsCap()
	ctx := e.ctx()
	name := uniqueBucketName(e.t)
	if err := bk.CreateBucket(ctx, name); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { emptyBucket(e.t, e.b, name, true) })
	put := func(key string, data []byte) {
		if _, err := e.b.Put(ctx, name, key, bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))}); err != nil {
			e.t.Fatalf("Put: %v", err)
		}
	}
	put("deep/dir/obj", []byte("x"))
	wantErr(e.t, "DeleteBucket with object", bk.DeleteBucket(ctx, name), backends.ErrBucketNotEmpty)
	if err := e.b.Delete(ctx, name, "deep/dir/obj"); err != nil {
		e.t.Fatal(err)
	}
	put("marker/", nil)
	wantErr(e.t, "DeleteBucket with marker", bk.DeleteBucket(ctx, name), backends.ErrBucketNotEmpty)
	if err := e.b.Delete(ctx, name, "marker/"); err != nil {
		e.t.Fatal(err)
	}
	if mp, ok := e.b.(backends.Multipart); ok {
		id, err := mp.CreateMultipartUpload(ctx, name, "pending", backends.Metadata{})
		if err != nil {
			e.t.Fatal(err)
		}
		wantErr(e.t, "DeleteBucket with upload", bk.DeleteBucket(ctx, name), backends.ErrBucketNotEmpty)
		if err := mp.AbortMultipartUpload(ctx, name, "pending", id); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := bk.DeleteBucket(ctx, name); err != nil {
		e.t.Errorf("DeleteBucket after emptying: %v", err)
	}
}

// bucketInvalidNames: names that no backend can hold safely (empty, ".",
// "..", containing "/" or NUL, path traversal) are ErrInvalidBucketName on
// CreateBucket, never created; HeadBucket answers ErrInvalidBucketName or
// ErrBucketNotFound for them.
func bucketInvalidNames(e *env) {
	bk := e.bucketsCap()
	for _, n := range []string{"", ".", "..", "a/b", "../escape", "x\x00y", "/abs"} {
		err := bk.CreateBucket(e.ctx(), n)
		wantErr(e.t, "CreateBucket("+quote(n)+")", err, backends.ErrInvalidBucketName)
		_, err = bk.HeadBucket(e.ctx(), n)
		if !errors.Is(err, backends.ErrInvalidBucketName) && !errors.Is(err, backends.ErrBucketNotFound) {
			e.t.Errorf("HeadBucket(%s): %v, want ErrInvalidBucketName or ErrBucketNotFound", quote(n), err)
		}
	}
}
