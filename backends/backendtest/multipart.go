package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/lakegate/lakegate/backends"
)

// partSize is the size of full parts in the multipart tests: the minimum.
const partSize = backends.MinPartSize

// mpEnv bundles the Multipart capability with the env.
type mpEnv struct {
	*env
	mp backends.Multipart
}

// create starts an upload, failing on error.
func (m mpEnv) create(key string, meta backends.Metadata) string {
	m.t.Helper()
	id, err := m.mp.CreateMultipartUpload(m.ctx(), m.bucket, key, meta)
	if err != nil {
		m.t.Fatalf("CreateMultipartUpload(%q): %v", key, err)
	}
	if id == "" {
		m.t.Fatalf("CreateMultipartUpload(%q): empty upload ID", key)
	}
	return id
}

// upload uploads data as part n, failing on error, and checks the PartInfo.
func (m mpEnv) upload(key, id string, n int, data []byte, opts backends.PutOptions) backends.PartInfo {
	m.t.Helper()
	opts.Size = int64(len(data))
	pi, err := m.mp.UploadPart(m.ctx(), m.bucket, key, id, n, bytes.NewReader(data), opts)
	if err != nil {
		m.t.Fatalf("UploadPart(%q, %d): %v", key, n, err)
	}
	if pi.PartNumber != n || pi.ETag != md5hex(data) || pi.Size != int64(len(data)) {
		m.t.Errorf("UploadPart(%d) = number %d ETag %q size %d, want %d %q %d", n, pi.PartNumber, pi.ETag, pi.Size, n, md5hex(data), len(data))
	}
	return pi
}

// complete completes an upload, failing on error.
func (m mpEnv) complete(key, id string, parts []backends.CompletePart) backends.ObjectInfo {
	m.t.Helper()
	info, err := m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, parts, backends.WriteCondition{})
	if err != nil {
		m.t.Fatalf("CompleteMultipartUpload(%q): %v", key, err)
	}
	return info
}

// listUploads pages through ListMultipartUploads with q.MaxUploads per page.
func (m mpEnv) listUploads(q backends.ListUploadsQuery) ([]backends.UploadInfo, []string) {
	m.t.Helper()
	var ups []backends.UploadInfo
	var cps []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			m.t.Fatal("ListMultipartUploads: too many pages")
		}
		res, err := m.mp.ListMultipartUploads(m.ctx(), m.bucket, q)
		if err != nil {
			m.t.Fatalf("ListMultipartUploads(%+v): %v", q, err)
		}
		if len(res.Uploads)+len(res.CommonPrefixes) > q.MaxUploads {
			m.t.Errorf("ListMultipartUploads(%+v): %d entries, more than MaxUploads", q, len(res.Uploads)+len(res.CommonPrefixes))
		}
		ups = append(ups, res.Uploads...)
		cps = append(cps, res.CommonPrefixes...)
		if !res.IsTruncated {
			return ups, cps
		}
		if res.NextKeyMarker == "" {
			m.t.Fatalf("ListMultipartUploads(%+v): truncated without NextKeyMarker", q)
		}
		q.KeyMarker, q.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

// partsFor returns the CompletePart list for infos.
func partsFor(infos ...backends.PartInfo) []backends.CompletePart {
	out := make([]backends.CompletePart, len(infos))
	for i, pi := range infos {
		out[i] = backends.CompletePart{PartNumber: pi.PartNumber, ETag: pi.ETag}
	}
	return out
}

// testMultipart groups the multipart behaviours; it skips when the backend
// lacks backends.Multipart.
func testMultipart(e *env) {
	m := mpEnv{env: e, mp: e.multipartCap()}
	e.run("PartsParallelOutOfOrder", func(e *env) { mpParallel(mpEnv{e, m.mp}) })
	e.run("CompleteErrors", func(e *env) { mpCompleteErrors(mpEnv{e, m.mp}) })
	e.run("EntityTooSmall", func(e *env) { mpEntityTooSmall(mpEnv{e, m.mp}) })
	e.run("CompleteSubsetOfParts", func(e *env) { mpSubset(mpEnv{e, m.mp}) })
	e.run("Abort", func(e *env) { mpAbort(mpEnv{e, m.mp}) })
	e.run("UploadNotFound", func(e *env) { mpNotFound(mpEnv{e, m.mp}) })
	e.run("ListPartsPaging", func(e *env) { mpListParts(mpEnv{e, m.mp}) })
	e.run("ListMultipartUploadsPaging", func(e *env) { mpListUploadsPaging(mpEnv{e, m.mp}) })
	e.run("ListMultipartUploadsPrefix", func(e *env) { mpListUploadsPrefix(mpEnv{e, m.mp}) })
	e.run("CompositeChecksums", func(e *env) { mpChecksums(mpEnv{e, m.mp}) })
	e.run("FailedPartLeavesPrevious", func(e *env) { mpFailedPart(mpEnv{e, m.mp}) })
	e.run("ConditionalComplete", func(e *env) { mpConditional(mpEnv{e, m.mp}) })
	e.run("ReplacesExistingObject", func(e *env) { mpReplaces(mpEnv{e, m.mp}) })
}

// mpParallel: parts uploaded from parallel goroutines in reverse order, one
// part re-uploaded with new content (the later upload wins), are invisible
// until completion; Complete assembles them in part order, returns the
// multipart ETag (backends.MultipartETag) and PartsCount, keeps the
// metadata given at creation, and removes the upload.
func mpParallel(m mpEnv) {
	key := "mp/object"
	meta := backends.Metadata{ContentType: "application/octet-stream", User: map[string]string{"origin": "multipart"}, Tags: map[string]string{"t": "v"}}
	id := m.create(key, meta)
	parts := [][]byte{gen(1, partSize), gen(2, partSize), gen(3, partSize), gen(4, 1234567)}
	infos := make([]backends.PartInfo, len(parts))
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	start := make(chan struct{})
	for i := len(parts) - 1; i >= 0; i-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			infos[i], errs[i] = m.mp.UploadPart(m.ctx(), m.bucket, key, id, i+1, bytes.NewReader(parts[i]), backends.PutOptions{Size: int64(len(parts[i]))})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			m.t.Fatalf("UploadPart(%d): %v", i+1, err)
		}
		if infos[i].ETag != md5hex(parts[i]) {
			m.t.Errorf("part %d ETag %q, want %q", i+1, infos[i].ETag, md5hex(parts[i]))
		}
	}
	// Re-upload part 2 with different content: the last upload wins.
	parts[1] = gen(22, partSize)
	infos[1] = m.upload(key, id, 2, parts[1], backends.PutOptions{})
	// Invisible before completion.
	m.expectAbsent(key)
	m.expectListAll(nil, backends.ListQuery{})
	ups, _ := m.listUploads(backends.ListUploadsQuery{MaxUploads: 1000})
	if len(ups) != 1 || ups[0].Key != key || ups[0].UploadID != id {
		m.t.Errorf("ListMultipartUploads = %+v, want the one upload", ups)
	}

	info := m.complete(key, id, partsFor(infos...))
	var etags []string
	for _, p := range parts {
		etags = append(etags, md5hex(p))
	}
	wantETag, _ := backends.MultipartETag(etags)
	if info.ETag != wantETag {
		m.t.Errorf("Complete ETag %q, want %q", info.ETag, wantETag)
	}
	all := bytes.Join(parts, nil)
	st := m.expectContent(key, all)
	if st.ETag != wantETag || st.PartsCount != len(parts) {
		m.t.Errorf("Stat ETag %q parts %d, want %q %d", st.ETag, st.PartsCount, wantETag, len(parts))
	}
	if st.Metadata.ContentType != meta.ContentType || !maps.Equal(st.Metadata.User, meta.User) || !maps.Equal(st.Metadata.Tags, meta.Tags) {
		m.t.Errorf("Stat metadata %+v, want %+v", st.Metadata, meta)
	}
	es := m.expectListAll(m.sortedKeys(key), backends.ListQuery{})
	for _, en := range es {
		if en.name == key && (en.obj.ETag != wantETag || en.obj.Size != int64(len(all))) {
			m.t.Errorf("List after complete: %s ETag %q size %d, want %q %d", key, en.obj.ETag, en.obj.Size, wantETag, len(all))
		}
	}
	// A range across the part boundary.
	got, _ := m.readRange(key, backends.Range{Offset: partSize - 10, Length: 20})
	if !bytes.Equal(got, all[partSize-10:partSize+10]) {
		m.t.Errorf("range across part boundary differs")
	}
	// The upload is gone.
	_, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, 0, 1000)
	wantErr(m.t, "ListParts after complete", err, backends.ErrUploadNotFound)
	err = m.mp.AbortMultipartUpload(m.ctx(), m.bucket, key, id)
	wantErr(m.t, "Abort after complete", err, backends.ErrUploadNotFound)
	if ups, _ := m.listUploads(backends.ListUploadsQuery{MaxUploads: 1000}); len(ups) != 0 {
		m.t.Errorf("uploads after complete: %+v", ups)
	}
}

// mpCompleteErrors: Complete with a wrong part ETag or a part that was never
// uploaded is ErrInvalidPart; parts out of order or repeated are
// ErrInvalidPartOrder; an empty part list fails; after each failure the
// upload is intact and a correct Complete succeeds.
func mpCompleteErrors(m mpEnv) {
	key := "mp/errors"
	id := m.create(key, backends.Metadata{})
	p1 := m.upload(key, id, 1, gen(10, partSize), backends.PutOptions{})
	p2 := m.upload(key, id, 2, gen(11, partSize), backends.PutOptions{})
	p3 := m.upload(key, id, 3, gen(12, 100), backends.PutOptions{})
	tryComplete := func(what string, parts []backends.CompletePart, target error) {
		m.t.Helper()
		_, err := m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, parts, backends.WriteCondition{})
		if target != nil {
			wantErr(m.t, what, err, target)
		} else if err == nil {
			m.t.Errorf("%s: succeeded, want an error", what)
		}
		m.expectAbsent(key)
	}
	bad := p2
	bad.ETag = md5hex([]byte("not the part"))
	tryComplete("wrong ETag", partsFor(p1, bad, p3), backends.ErrInvalidPart)
	tryComplete("missing part", append(partsFor(p1, p2), backends.CompletePart{PartNumber: 4, ETag: p3.ETag}), backends.ErrInvalidPart)
	tryComplete("out of order", partsFor(p2, p1, p3), backends.ErrInvalidPartOrder)
	tryComplete("repeated part", partsFor(p1, p1, p3), backends.ErrInvalidPartOrder)
	tryComplete("no parts", nil, nil)
	if _, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, 0, 1000); err != nil {
		m.t.Fatalf("ListParts after failed completes: %v", err)
	}
	m.complete(key, id, partsFor(p1, p2, p3))
	m.expectContent(key, bytes.Join([][]byte{gen(10, partSize), gen(11, partSize), gen(12, 100)}, nil))
}

// mpEntityTooSmall: a part other than the last below MinPartSize makes
// Complete fail with ErrEntityTooSmall (nothing becomes visible); an upload
// of one small part, or of one empty part, completes (the last part may be
// small). No subset of the uploaded parts is ever completed here (that is
// CompleteSubsetOfParts).
func mpEntityTooSmall(m mpEnv) {
	id := m.create("mp/small", backends.Metadata{})
	a := m.upload("mp/small", id, 1, []byte("tiny"), backends.PutOptions{})
	b := m.upload("mp/small", id, 2, []byte("tiny too"), backends.PutOptions{})
	_, err := m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, "mp/small", id, partsFor(a, b), backends.WriteCondition{})
	wantErr(m.t, "Complete with small first part", err, backends.ErrEntityTooSmall)
	m.expectAbsent("mp/small")
	if err := m.mp.AbortMultipartUpload(m.ctx(), m.bucket, "mp/small", id); err != nil {
		m.t.Fatalf("Abort: %v", err)
	}
	id = m.create("mp/small", backends.Metadata{})
	a = m.upload("mp/small", id, 1, []byte("tiny"), backends.PutOptions{})
	info := m.complete("mp/small", id, partsFor(a))
	want, _ := backends.MultipartETag([]string{a.ETag})
	if info.ETag != want {
		m.t.Errorf("single-part multipart ETag %q, want %q", info.ETag, want)
	}
	m.expectContent("mp/small", []byte("tiny"))
	// An empty single part.
	id = m.create("mp/empty", backends.Metadata{})
	e := m.upload("mp/empty", id, 1, nil, backends.PutOptions{})
	m.complete("mp/empty", id, partsFor(e))
	m.expectContent("mp/empty", nil)
}

// mpSubset: Complete may list a subset of the uploaded parts with gaps in
// the numbering (1 and 3 of 1..3); unlisted parts are discarded.
func mpSubset(m mpEnv) {
	key := "mp/subset"
	id := m.create(key, backends.Metadata{})
	p1 := m.upload(key, id, 1, gen(31, partSize), backends.PutOptions{})
	m.upload(key, id, 2, gen(32, partSize), backends.PutOptions{})
	p3 := m.upload(key, id, 3, gen(33, 5000), backends.PutOptions{})
	info := m.complete(key, id, partsFor(p1, p3))
	want, _ := backends.MultipartETag([]string{p1.ETag, p3.ETag})
	if info.ETag != want || info.PartsCount != 2 {
		m.t.Errorf("Complete ETag %q parts %d, want %q 2", info.ETag, info.PartsCount, want)
	}
	m.expectContent(key, append(gen(31, partSize), gen(33, 5000)...))
}

// mpAbort: Abort removes the upload and its parts: ListParts, UploadPart and
// Complete then answer ErrUploadNotFound, ListMultipartUploads omits it,
// nothing is visible at the key, and a second Abort is ErrUploadNotFound.
func mpAbort(m mpEnv) {
	key := "mp/aborted"
	id := m.create(key, backends.Metadata{})
	p := m.upload(key, id, 1, gen(40, 1000), backends.PutOptions{})
	if err := m.mp.AbortMultipartUpload(m.ctx(), m.bucket, key, id); err != nil {
		m.t.Fatalf("Abort: %v", err)
	}
	_, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, 0, 100)
	wantErr(m.t, "ListParts after abort", err, backends.ErrUploadNotFound)
	_, err = m.mp.UploadPart(m.ctx(), m.bucket, key, id, 2, strings.NewReader("x"), backends.PutOptions{Size: 1})
	wantErr(m.t, "UploadPart after abort", err, backends.ErrUploadNotFound)
	_, err = m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, partsFor(p), backends.WriteCondition{})
	wantErr(m.t, "Complete after abort", err, backends.ErrUploadNotFound)
	err = m.mp.AbortMultipartUpload(m.ctx(), m.bucket, key, id)
	wantErr(m.t, "second Abort", err, backends.ErrUploadNotFound)
	if ups, _ := m.listUploads(backends.ListUploadsQuery{MaxUploads: 100}); len(ups) != 0 {
		m.t.Errorf("uploads after abort: %+v", ups)
	}
	m.expectAbsent(key)
	m.expectListAll(nil, backends.ListQuery{})
}

// mpNotFound: unknown, malformed and path-like upload IDs, and a real ID
// used with another key, answer ErrUploadNotFound from every method.
func mpNotFound(m mpEnv) {
	real := m.create("mp/real", backends.Metadata{})
	type call struct {
		key, id string
	}
	calls := []call{
		{"mp/real", "no-such-upload-id"},
		{"mp/real", "../../../etc"},
		{"mp/real", "..%2F..%2Fx"},
		{"mp/real", "a/b"},
		{"mp/real", "."},
		{"mp/other", real},
	}
	for _, c := range calls {
		_, err := m.mp.ListParts(m.ctx(), m.bucket, c.key, c.id, 0, 10)
		wantErr(m.t, fmt.Sprintf("ListParts(%q, %q)", c.key, c.id), err, backends.ErrUploadNotFound)
		_, err = m.mp.UploadPart(m.ctx(), m.bucket, c.key, c.id, 1, strings.NewReader("x"), backends.PutOptions{Size: 1})
		wantErr(m.t, fmt.Sprintf("UploadPart(%q, %q)", c.key, c.id), err, backends.ErrUploadNotFound)
		_, err = m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, c.key, c.id, []backends.CompletePart{{PartNumber: 1, ETag: md5hex([]byte("x"))}}, backends.WriteCondition{})
		wantErr(m.t, fmt.Sprintf("Complete(%q, %q)", c.key, c.id), err, backends.ErrUploadNotFound)
		err = m.mp.AbortMultipartUpload(m.ctx(), m.bucket, c.key, c.id)
		wantErr(m.t, fmt.Sprintf("Abort(%q, %q)", c.key, c.id), err, backends.ErrUploadNotFound)
	}
	// The real upload survived the attempts on it through another key.
	if _, err := m.mp.ListParts(m.ctx(), m.bucket, "mp/real", real, 0, 10); err != nil {
		m.t.Errorf("ListParts(real): %v", err)
	}
	_, err := m.mp.CreateMultipartUpload(m.ctx(), m.bucket, "bad/../key", backends.Metadata{})
	if err != nil && !errors.Is(err, backends.ErrInvalidObjectName) {
		m.t.Errorf("CreateMultipartUpload(bad/../key): %v, want success or ErrInvalidObjectName", err)
	}
}

// mpListParts: ListParts returns parts in ascending number with size and
// ETag, pages with maxParts and partNumberMarker (NextPartNumberMarker
// resumes), and describes the upload.
func mpListParts(m mpEnv) {
	key := "mp/listparts"
	id := m.create(key, backends.Metadata{ContentType: "text/x-parts"})
	want := map[int]string{}
	for _, n := range []int{7, 1, 3, 10, 2} {
		data := gen(uint64(n), 100+n)
		want[n] = m.upload(key, id, n, data, backends.PutOptions{}).ETag
	}
	var got []backends.PartInfo
	marker := 0
	for pages := 0; ; pages++ {
		if pages > 10 {
			m.t.Fatal("too many ListParts pages")
		}
		res, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, marker, 2)
		if err != nil {
			m.t.Fatalf("ListParts: %v", err)
		}
		if len(res.Parts) > 2 {
			m.t.Errorf("ListParts returned %d parts, more than maxParts 2", len(res.Parts))
		}
		if res.Upload.Key != key || res.Upload.UploadID != id {
			m.t.Errorf("ListParts Upload = %+v", res.Upload)
		}
		got = append(got, res.Parts...)
		if !res.IsTruncated {
			break
		}
		if res.NextPartNumberMarker <= marker {
			m.t.Fatalf("NextPartNumberMarker %d does not advance past %d", res.NextPartNumberMarker, marker)
		}
		marker = res.NextPartNumberMarker
	}
	var nums []int
	for _, p := range got {
		nums = append(nums, p.PartNumber)
		if p.ETag != want[p.PartNumber] || p.Size != int64(100+p.PartNumber) || p.LastModified.IsZero() {
			m.t.Errorf("part %+v, want ETag %q size %d", p, want[p.PartNumber], 100+p.PartNumber)
		}
	}
	if fmt.Sprint(nums) != "[1 2 3 7 10]" {
		m.t.Errorf("ListParts numbers %v, want [1 2 3 7 10]", nums)
	}
	res, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, 3, 1000)
	if err != nil {
		m.t.Fatal(err)
	}
	if len(res.Parts) != 2 || res.Parts[0].PartNumber != 7 || res.IsTruncated {
		m.t.Errorf("ListParts after marker 3 = %+v", res.Parts)
	}
}

// mpListUploadsPaging: ListMultipartUploads orders uploads by key (then
// initiation), pages with MaxUploads 1 and 2 through NextKeyMarker and
// NextUploadIDMarker without skipping or repeating, resumes after every
// upload of KeyMarker when UploadIDMarker is empty, and after one upload
// when it is set.
func mpListUploadsPaging(m mpEnv) {
	keys := []string{"u/b", "u/a", "u/c", "u/a", "u/d/e"}
	ids := map[string]string{}
	for _, k := range keys {
		id := m.create(k, backends.Metadata{})
		ids[id] = k
	}
	full, _ := m.listUploads(backends.ListUploadsQuery{MaxUploads: 1000})
	if len(full) != len(keys) {
		m.t.Fatalf("ListMultipartUploads = %d uploads, want %d", len(full), len(keys))
	}
	if !sort.SliceIsSorted(full, func(i, j int) bool { return full[i].Key < full[j].Key }) {
		m.t.Errorf("uploads not ordered by key: %+v", full)
	}
	for _, u := range full {
		if ids[u.UploadID] != u.Key {
			m.t.Errorf("upload %+v: unknown ID or wrong key", u)
		}
		if u.Initiated.IsZero() {
			m.t.Errorf("upload %+v: zero Initiated", u)
		}
	}
	for _, max := range []int{1, 2} {
		paged, _ := m.listUploads(backends.ListUploadsQuery{MaxUploads: max})
		if fmt.Sprint(uploadIDs(paged)) != fmt.Sprint(uploadIDs(full)) {
			m.t.Errorf("MaxUploads %d: %v, want %v", max, uploadIDs(paged), uploadIDs(full))
		}
	}
	after, _ := m.listUploads(backends.ListUploadsQuery{KeyMarker: "u/a", MaxUploads: 1000})
	if fmt.Sprint(uploadIDs(after)) != fmt.Sprint(uploadIDs(full[2:])) {
		m.t.Errorf("KeyMarker u/a: %v, want %v", uploadIDs(after), uploadIDs(full[2:]))
	}
	after, _ = m.listUploads(backends.ListUploadsQuery{KeyMarker: "u/a", UploadIDMarker: full[0].UploadID, MaxUploads: 1000})
	if fmt.Sprint(uploadIDs(after)) != fmt.Sprint(uploadIDs(full[1:])) {
		m.t.Errorf("KeyMarker u/a UploadIDMarker %s: %v, want %v", full[0].UploadID, uploadIDs(after), uploadIDs(full[1:]))
	}
}

// uploadIDs returns the IDs of ups.
func uploadIDs(ups []backends.UploadInfo) []string {
	var out []string
	for _, u := range ups {
		out = append(out, u.Key+"#"+u.UploadID)
	}
	return out
}

// mpListUploadsPrefix: ListMultipartUploads with Prefix returns only uploads
// whose key starts with it (not only exact key matches: the S3A committers
// list pending uploads under a destination directory), and with Delimiter
// "/" rolls deeper keys into common prefixes.
func mpListUploadsPrefix(m mpEnv) {
	for _, k := range []string{"dest/part-0000", "dest/part-0001", "dest/sub/part-0002", "destination", "other/x", "top"} {
		m.create(k, backends.Metadata{})
	}
	ups, cps := m.listUploads(backends.ListUploadsQuery{Prefix: "dest/", MaxUploads: 1000})
	if got := fmt.Sprint(uploadKeys(ups), cps); got != "[dest/part-0000 dest/part-0001 dest/sub/part-0002] []" {
		m.t.Errorf("Prefix dest/: %s", got)
	}
	ups, cps = m.listUploads(backends.ListUploadsQuery{Prefix: "dest/", Delimiter: "/", MaxUploads: 1000})
	if got := fmt.Sprint(uploadKeys(ups), cps); got != "[dest/part-0000 dest/part-0001] [dest/sub/]" {
		m.t.Errorf("Prefix dest/ Delimiter /: %s", got)
	}
	ups, cps = m.listUploads(backends.ListUploadsQuery{Delimiter: "/", MaxUploads: 1000})
	if got := fmt.Sprint(uploadKeys(ups), cps); got != "[destination top] [dest/ other/]" {
		m.t.Errorf("Delimiter /: %s", got)
	}
	ups, cps = m.listUploads(backends.ListUploadsQuery{Delimiter: "/", MaxUploads: 1})
	if got := fmt.Sprint(uploadKeys(ups), cps); got != "[destination top] [dest/ other/]" {
		m.t.Errorf("Delimiter / MaxUploads 1: %s", got)
	}
	ups, _ = m.listUploads(backends.ListUploadsQuery{Prefix: "dest", MaxUploads: 1000})
	if len(ups) != 4 {
		m.t.Errorf("Prefix dest: %v, want 4 uploads", uploadKeys(ups))
	}
}

// uploadKeys returns the keys of ups.
func uploadKeys(ups []backends.UploadInfo) []string {
	var out []string
	for _, u := range ups {
		out = append(out, u.Key)
	}
	return out
}

// mpChecksums: part checksums supplied by the gateway (Digest().Checksums)
// are reported by ListParts, and Complete stores the composite checksum
// (backends.CompositeChecksum) for the algorithm every part has.
func mpChecksums(m mpEnv) {
	key := "mp/checksums"
	algo := backends.ChecksumCRC32C
	id := m.create(key, backends.Metadata{})
	parts := [][]byte{gen(51, partSize), gen(52, 777)}
	var infos []backends.PartInfo
	var sums []string
	for i, p := range parts {
		sum := checksum(algo, p)
		sums = append(sums, sum)
		body := &eofTracker{r: bytes.NewReader(p)}
		pi, err := m.mp.UploadPart(m.ctx(), m.bucket, key, id, i+1, body, backends.PutOptions{
			Size: int64(len(p)), Digest: digestOf(m.t, body, p, map[string]string{algo: sum}),
		})
		if err != nil {
			m.t.Fatalf("UploadPart: %v", err)
		}
		if pi.Checksums[algo] != sum || pi.ETag != md5hex(p) {
			m.t.Errorf("part %d: checksums %v ETag %q, want %s=%s %q", i+1, pi.Checksums, pi.ETag, algo, sum, md5hex(p))
		}
		infos = append(infos, pi)
	}
	res, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, 0, 100)
	if err != nil {
		m.t.Fatal(err)
	}
	for i, p := range res.Parts {
		if p.Checksums[algo] != sums[i] {
			m.t.Errorf("ListParts part %d checksums %v, want %s", p.PartNumber, p.Checksums, sums[i])
		}
	}
	info := m.complete(key, id, partsFor(infos...))
	want, _ := backends.CompositeChecksum(algo, sums)
	if info.Metadata.Checksums[algo] != want {
		m.t.Errorf("Complete checksums %v, want %s=%s", info.Metadata.Checksums, algo, want)
	}
	if st := m.stat(key); st.Metadata.Checksums[algo] != want {
		m.t.Errorf("Stat checksums %v, want %s=%s", st.Metadata.Checksums, algo, want)
	}
}

// mpFailedPart: an UploadPart whose body fails leaves no part (new number)
// or the previous content of that part (re-upload), and the upload remains
// usable.
func mpFailedPart(m mpEnv) {
	key := "mp/failedpart"
	id := m.create(key, backends.Metadata{})
	p1 := m.upload(key, id, 1, gen(61, partSize), backends.PutOptions{})
	data := gen(62, partSize)
	for _, n := range []int{1, 2} {
		_, err := m.mp.UploadPart(m.ctx(), m.bucket, key, id, n, &failingReader{data: data, n: 1 << 20, err: errBody}, backends.PutOptions{Size: int64(len(data))})
		wantErr(m.t, fmt.Sprintf("UploadPart(%d) failing body", n), err, errBody)
		_, err = m.mp.UploadPart(m.ctx(), m.bucket, key, id, n, bytes.NewReader(data[:100]), backends.PutOptions{Size: int64(len(data))})
		if err == nil {
			m.t.Errorf("UploadPart(%d) short body succeeded", n)
		}
	}
	res, err := m.mp.ListParts(m.ctx(), m.bucket, key, id, 0, 100)
	if err != nil {
		m.t.Fatal(err)
	}
	if len(res.Parts) != 1 || res.Parts[0].ETag != p1.ETag {
		m.t.Errorf("parts after failed uploads = %+v, want only the original part 1", res.Parts)
	}
	p2 := m.upload(key, id, 2, []byte("last"), backends.PutOptions{})
	m.complete(key, id, partsFor(p1, p2))
	m.expectContent(key, append(gen(61, partSize), []byte("last")...))
}

// mpConditional: Complete honours If-None-Match: * and If-Match like Put.
func mpConditional(m mpEnv) {
	key := "mp/cond"
	id := m.create(key, backends.Metadata{})
	p := m.upload(key, id, 1, []byte("one"), backends.PutOptions{})
	if _, err := m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, partsFor(p), backends.WriteCondition{IfNoneMatchStar: true}); err != nil {
		m.t.Fatalf("Complete IfNoneMatchStar on absent key: %v", err)
	}
	id = m.create(key, backends.Metadata{})
	p = m.upload(key, id, 1, []byte("two"), backends.PutOptions{})
	_, err := m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, partsFor(p), backends.WriteCondition{IfNoneMatchStar: true})
	wantErr(m.t, "Complete IfNoneMatchStar on existing key", err, backends.ErrPreconditionFailed)
	m.expectContent(key, []byte("one"))
	_, err = m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, partsFor(p), backends.WriteCondition{IfMatch: md5hex([]byte("nope"))})
	wantErr(m.t, "Complete IfMatch wrong ETag", err, backends.ErrPreconditionFailed)
	m.expectContent(key, []byte("one"))
	cur := m.stat(key)
	if _, err := m.mp.CompleteMultipartUpload(m.ctx(), m.bucket, key, id, partsFor(p), backends.WriteCondition{IfMatch: cur.ETag}); err != nil {
		m.t.Fatalf("Complete IfMatch right ETag: %v", err)
	}
	m.expectContent(key, []byte("two"))
}

// mpReplaces: completing an upload over an existing key replaces it; until
// Complete returns, the old object stays readable.
func mpReplaces(m mpEnv) {
	key := "mp/replace"
	m.put(key, []byte("old"))
	id := m.create(key, backends.Metadata{ContentType: "new/type"})
	p := m.upload(key, id, 1, []byte("new content"), backends.PutOptions{})
	m.expectContent(key, []byte("old"))
	m.complete(key, id, partsFor(p))
	st := m.expectContent(key, []byte("new content"))
	if st.Metadata.ContentType != "new/type" {
		m.t.Errorf("content type %q, want new/type", st.Metadata.ContentType)
	}
}

// testMultipartSurvivesRestart: an upload created and partly uploaded through
// one backend instance is listed, continued and completed through a new
// instance over the same storage (Options.Reopen), as the S3A committers
// do from other processes.
func testMultipartSurvivesRestart(e *env) {
	m := mpEnv{env: e, mp: e.multipartCap()}
	if e.opts.Reopen == nil {
		e.t.Skip("Options.Reopen not set: restart not exercised")
	}
	key := "restart/object"
	id := m.create(key, backends.Metadata{ContentType: "text/restart", User: map[string]string{"k": "v"}})
	p1 := m.upload(key, id, 1, gen(71, partSize), backends.PutOptions{})
	b2 := e.opts.Reopen(e.t, e.b)
	mp2, ok := b2.(backends.Multipart)
	if !ok {
		e.t.Fatal("reopened backend lacks Multipart")
	}
	m2 := mpEnv{env: &env{t: e.t, b: b2, opts: e.opts, bucket: e.bucket, path: e.path}, mp: mp2}
	ups, _ := m2.listUploads(backends.ListUploadsQuery{MaxUploads: 100})
	if len(ups) != 1 || ups[0].UploadID != id || ups[0].Key != key {
		e.t.Fatalf("uploads after restart = %+v", ups)
	}
	res, err := mp2.ListParts(e.ctx(), e.bucket, key, id, 0, 100)
	if err != nil {
		e.t.Fatalf("ListParts after restart: %v", err)
	}
	if len(res.Parts) != 1 || res.Parts[0].ETag != p1.ETag {
		e.t.Errorf("parts after restart: %+v", res.Parts)
	}
	p2 := m2.upload(key, id, 2, []byte("tail"), backends.PutOptions{})
	m2.complete(key, id, partsFor(p1, p2))
	st := m2.expectContent(key, append(gen(71, partSize), []byte("tail")...))
	if st.Metadata.ContentType != "text/restart" || st.Metadata.User["k"] != "v" {
		e.t.Errorf("metadata after restart: %+v", st.Metadata)
	}
	m.expectContent(key, append(gen(71, partSize), []byte("tail")...))
}
