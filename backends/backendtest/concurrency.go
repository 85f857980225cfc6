package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/lakegate/lakegate/backends"
)

// testConcurrentWritersOneKey: two writers Put different content to one key
// at the same time, over several rounds, while a reader keeps opening the
// key. Afterwards the key holds exactly one writer's content and its ETag is
// that content's MD5; every read saw one complete version (or, before the
// first write finished, nothing).
func testConcurrentWritersOneKey(e *env) {
	const size = 2<<20 + 17
	contents := [][]byte{gen(100, size), gen(200, size)}
	sums := map[string]bool{md5hex(contents[0]): true, md5hex(contents[1]): true}
	for round := range 4 {
		key := fmt.Sprintf("race/%d", round)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[w] = e.b.Put(e.ctx(), e.bucket, key, bytes.NewReader(contents[w]), backends.PutOptions{Size: size})
			}()
		}
		done := make(chan struct{})
		readerErr := make(chan error, 1)
		go func() {
			defer close(readerErr)
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, info, err := e.b.Open(e.ctx(), e.bucket, key, backends.FullRange)
				if errors.Is(err, backends.ErrObjectNotFound) {
					continue
				}
				if err != nil {
					readerErr <- fmt.Errorf("Open during writes: %w", err)
					return
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					readerErr <- fmt.Errorf("read during writes: %w", err)
					return
				}
				if s := md5hex(data); !sums[s] || s != info.ETag {
					readerErr <- fmt.Errorf("read during writes: %d bytes md5 %s with ETag %s: a torn or foreign object", len(data), s, info.ETag)
					return
				}
			}
		}()
		close(start)
		wg.Wait()
		close(done)
		if err := <-readerErr; err != nil {
			e.t.Error(err)
		}
		for w, err := range errs {
			if err != nil {
				e.t.Errorf("round %d writer %d: %v", round, w, err)
			}
		}
		data, info := e.read(key)
		s := md5hex(data)
		if !sums[s] || info.ETag != s {
			e.t.Errorf("round %d: key holds %d bytes md5 %s ETag %s, want exactly one writer's content", round, len(data), s, info.ETag)
		}
	}
}

// testOpenDuringOverwrite: a reader that opened an object before it was
// overwritten reads either the complete old content or gets an error; it
// never sees a mix of old and new bytes. Readers opened afterwards see the
// new content.
func testOpenDuringOverwrite(e *env) {
	const size = 1<<20 + 3
	old, nw := gen(300, size), gen(301, size)
	e.put("ow", old)
	rc, info, err := e.b.Open(e.ctx(), e.bucket, "ow", backends.FullRange)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(rc, head); err != nil {
		e.t.Fatalf("read head: %v", err)
	}
	e.put("ow", nw)
	rest, err := io.ReadAll(rc)
	if err != nil {
		e.t.Logf("reader of the replaced object got an error (allowed): %v", err)
	} else {
		got := append(head, rest...)
		if !bytes.Equal(got, old) {
			e.t.Errorf("reader opened before the overwrite read %d bytes md5 %s, want the old object md5 %s", len(got), md5hex(got), md5hex(old))
		}
		if info.ETag != md5hex(old) {
			e.t.Errorf("Open info ETag %q, want the old object's %q", info.ETag, md5hex(old))
		}
	}
	e.expectContent("ow", nw)
}

// testConcurrentPutDeleteSharedPrefix: writers that each own one key below a
// shared deep prefix repeatedly Put and Delete it at the same time, so that
// hierarchical backends create and remove the shared parent directories
// concurrently. No operation fails, and at the end (every writer's last
// operation a Put) every key holds its writer's last content and the
// listing shows exactly those keys.
func testConcurrentPutDeleteSharedPrefix(e *env) {
	const writers, rounds = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("shared/deep/prefix/w%d", w)
			for r := range rounds {
				data := []byte(fmt.Sprintf("writer %d round %d", w, r))
				if _, err := e.b.Put(e.ctx(), e.bucket, key, bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))}); err != nil {
					errs <- fmt.Errorf("writer %d round %d Put: %w", w, r, err)
					return
				}
				if r == rounds-1 {
					return
				}
				if err := e.b.Delete(e.ctx(), e.bucket, key); err != nil {
					errs <- fmt.Errorf("writer %d round %d Delete: %w", w, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
	var keys []string
	for w := range writers {
		key := fmt.Sprintf("shared/deep/prefix/w%d", w)
		keys = append(keys, key)
		e.expectContent(key, []byte(fmt.Sprintf("writer %d round %d", w, rounds-1)))
	}
	e.expectListAll(e.sortedKeys(keys...), backends.ListQuery{})
}

// errBody is the error failingReader returns.
var errBody = errors.New("backendtest: body failed mid-stream")

// failingReader returns n bytes of content, then err (or, with cancel set,
// calls cancel after n bytes and then keeps returning data until total).
type failingReader struct {
	data   []byte
	n      int
	err    error
	cancel context.CancelFunc
	off    int
}

// Read implements io.Reader.
func (r *failingReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		if r.cancel != nil {
			r.cancel()
		} else {
			return 0, r.err
		}
	}
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	lim := len(r.data)
	if r.off < r.n {
		lim = r.n
	}
	n := copy(p, r.data[r.off:lim])
	r.off += n
	return n, nil
}

// testCancelledPutLeavesNothing: a Put whose body fails mid-stream, whose
// ctx is cancelled mid-stream, or whose body is shorter or longer than the
// declared Size fails, and leaves nothing: a new key stays absent (Stat,
// List), an existing key keeps its previous content and ETag. The backend's
// CheckInvariants hook then checks that no temporary data is left behind.
func testCancelledPutLeavesNothing(e *env) {
	const size = 6<<20 + 1
	data := gen(400, size)
	prev := []byte("previous version")
	check := func(e *env, what string, err error, target error) {
		e.t.Helper()
		if err == nil {
			e.t.Fatalf("%s: Put succeeded, want an error", what)
		}
		if target != nil && !errors.Is(err, target) {
			e.t.Errorf("%s: error %v, want it to wrap %v", what, err, target)
		}
		e.expectAbsent("new")
		e.expectContent("existing", prev)
		if st := e.stat("existing"); st.ETag != md5hex(prev) {
			e.t.Errorf("%s: existing ETag %q, want %q", what, st.ETag, md5hex(prev))
		}
		e.expectListAll(e.sortedKeys("existing"), backends.ListQuery{})
	}
	e.run("BodyError", func(e *env) {
		e.put("existing", prev)
		for _, key := range []string{"new", "existing"} {
			_, err := e.b.Put(e.ctx(), e.bucket, key, &failingReader{data: data, n: 1<<20 + 5, err: errBody}, backends.PutOptions{Size: size})
			check(e, "body error "+key, err, errBody)
			_, err = e.b.Put(e.ctx(), e.bucket, key, &failingReader{data: data, n: 1<<20 + 5, err: errBody}, backends.PutOptions{Size: -1})
			check(e, "body error, unknown size "+key, err, errBody)
		}
	})
	e.run("CtxCancel", func(e *env) {
		e.put("existing", prev)
		for _, key := range []string{"new", "existing"} {
			ctx, cancel := context.WithCancel(e.ctx())
			_, err := e.b.Put(ctx, e.bucket, key, &failingReader{data: data, n: 1 << 20, cancel: cancel}, backends.PutOptions{Size: size})
			cancel()
			check(e, "cancelled "+key, err, context.Canceled)
		}
	})
	e.run("ShortBody", func(e *env) {
		e.put("existing", prev)
		for _, key := range []string{"new", "existing"} {
			_, err := e.b.Put(e.ctx(), e.bucket, key, bytes.NewReader(data[:size-1]), backends.PutOptions{Size: size})
			check(e, "short body "+key, err, nil)
		}
	})
	e.run("LongBody", func(e *env) {
		e.put("existing", prev)
		for _, key := range []string{"new", "existing"} {
			_, err := e.b.Put(e.ctx(), e.bucket, key, bytes.NewReader(data), backends.PutOptions{Size: size - 1})
			check(e, "long body "+key, err, nil)
		}
	})
}

// testConditionalWrites: If-None-Match: * creates only when the key is
// absent and If-Match replaces only when the ETag matches
// (ErrPreconditionFailed otherwise, ErrObjectNotFound for If-Match on a
// missing key); a failed conditional write leaves the object unchanged.
// Concurrent If-None-Match: * writers of one key: exactly one succeeds, the
// others get ErrPreconditionFailed or ErrConditionalConflict, and the key
// holds the winner's content. Concurrent If-Match writers with the same
// expected ETag: exactly one succeeds.
func testConditionalWrites(e *env) {
	putCond := func(e *env, key string, data []byte, c backends.WriteCondition) (backends.ObjectInfo, error) {
		return e.b.Put(e.ctx(), e.bucket, key, bytes.NewReader(data), backends.PutOptions{Size: int64(len(data)), Condition: c})
	}
	e.run("Sequential", func(e *env) {
		v1, v2, v3 := []byte("version one"), []byte("version two"), []byte("version three")
		if _, err := putCond(e, "c", v1, backends.WriteCondition{IfNoneMatchStar: true}); err != nil {
			e.t.Fatalf("IfNoneMatchStar on absent key: %v", err)
		}
		_, err := putCond(e, "c", v2, backends.WriteCondition{IfNoneMatchStar: true})
		wantErr(e.t, "IfNoneMatchStar on existing key", err, backends.ErrPreconditionFailed)
		e.expectContent("c", v1)
		_, err = putCond(e, "c", v2, backends.WriteCondition{IfMatch: md5hex(v2)})
		wantErr(e.t, "IfMatch wrong ETag", err, backends.ErrPreconditionFailed)
		e.expectContent("c", v1)
		if _, err := putCond(e, "c", v2, backends.WriteCondition{IfMatch: md5hex(v1)}); err != nil {
			e.t.Fatalf("IfMatch right ETag: %v", err)
		}
		e.expectContent("c", v2)
		_, err = putCond(e, "absent", v3, backends.WriteCondition{IfMatch: md5hex(v3)})
		wantErr(e.t, "IfMatch on missing key", err, backends.ErrObjectNotFound)
		e.expectAbsent("absent")
		// A conditional write whose body fails leaves the object as it was.
		_, err = e.b.Put(e.ctx(), e.bucket, "c", &failingReader{data: v3, n: 3, err: errBody}, backends.PutOptions{Size: int64(len(v3)), Condition: backends.WriteCondition{IfMatch: md5hex(v2)}})
		wantErr(e.t, "IfMatch with failing body", err, errBody)
		e.expectContent("c", v2)
		// Directory markers honour conditions too.
		if _, err := putCond(e, "dir/", nil, backends.WriteCondition{IfNoneMatchStar: true}); err != nil {
			e.t.Fatalf("IfNoneMatchStar marker: %v", err)
		}
		_, err = putCond(e, "dir/", nil, backends.WriteCondition{IfNoneMatchStar: true})
		wantErr(e.t, "IfNoneMatchStar on existing marker", err, backends.ErrPreconditionFailed)
	})
	e.run("ConcurrentNoneMatch", func(e *env) {
		const writers = 4
		for round := range 6 {
			key := fmt.Sprintf("cnm/%d", round)
			wins := e.race(writers, func(w int) error {
				_, err := putCond(e, key, gen(uint64(500+w), 200000), backends.WriteCondition{IfNoneMatchStar: true})
				return err
			})
			if len(wins) != 1 {
				e.t.Fatalf("round %d: %d writers succeeded (%v), want exactly one", round, len(wins), wins)
			}
			e.expectContent(key, gen(uint64(500+wins[0]), 200000))
		}
	})
	e.run("ConcurrentIfMatch", func(e *env) {
		const writers = 4
		for round := range 6 {
			key := fmt.Sprintf("cim/%d", round)
			base := e.put(key, []byte("base"))
			wins := e.race(writers, func(w int) error {
				_, err := putCond(e, key, gen(uint64(600+w), 200000), backends.WriteCondition{IfMatch: base.ETag})
				return err
			})
			if len(wins) != 1 {
				e.t.Fatalf("round %d: %d writers succeeded (%v), want exactly one", round, len(wins), wins)
			}
			e.expectContent(key, gen(uint64(600+wins[0]), 200000))
		}
	})
}

// race runs n conditional writers at once and returns the indexes of those
// that succeeded; losers must fail with ErrPreconditionFailed or
// ErrConditionalConflict.
func (e *env) race(n int, write func(w int) error) []int {
	e.t.Helper()
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[w] = write(w)
		}()
	}
	close(start)
	wg.Wait()
	var wins []int
	for w, err := range errs {
		switch {
		case err == nil:
			wins = append(wins, w)
		case errors.Is(err, backends.ErrPreconditionFailed), errors.Is(err, backends.ErrConditionalConflict):
		default:
			e.t.Errorf("writer %d: %v, want success, ErrPreconditionFailed or ErrConditionalConflict", w, err)
		}
	}
	return wins
}
