package hdfs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakegate/lakegate/backends"
)

// TestLargeDirectoryPaging pages through a directory of more than
// dirCacheMin entries (the case the directory cache serves) while keys are
// added and removed between pages: every key that exists throughout is
// listed exactly once, in order, keys added ahead of the cursor appear,
// removed ones do not, the directory's explicit marker comes once and
// first, and later pages were served from the cache.
func TestLargeDirectoryPaging(t *testing.T) {
	d := loadDev(t)
	cfg := d.config(t)
	t.Cleanup(func() { removeRoot(t, cfg) })
	b, _ := open(t, cfg)
	ctx := context.Background()
	const bucket, n = "big", 2500
	if err := b.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	// dir/ is an explicit marker: listed once, first; other directories
	// with children are no objects.
	if _, err := b.Put(ctx, bucket, "dir/", strings.NewReader(""), backends.PutOptions{Size: 0}); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("dir/f%05d", i*2)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := b.Put(ctx, bucket, keys[i], strings.NewReader(""), backends.PutOptions{Size: 0}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // let the directory age into the cache

	q := backends.ListQuery{Prefix: "dir/", MaxKeys: 400}
	var seen []string
	removed := map[string]bool{}
	added := map[string]bool{}
	hits0 := b.dirs.hits.Load()
	for page := 0; ; page++ {
		res, err := b.List(ctx, bucket, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			seen = append(seen, o.Key)
		}
		if !res.IsTruncated {
			break
		}
		q.StartAfter = res.NextStartAfter
		if page == 2 {
			// Between pages: one key ahead of the cursor added, one ahead
			// removed, one behind added (not to be seen).
			for _, k := range []string{"dir/f04001", "dir/f00001"} {
				if _, err := b.Put(ctx, bucket, k, strings.NewReader("x"), backends.PutOptions{Size: 1}); err != nil {
					t.Fatal(err)
				}
				added[k] = k > q.StartAfter
			}
			if err := b.Delete(ctx, bucket, "dir/f04000"); err != nil {
				t.Fatal(err)
			}
			removed["dir/f04000"] = true
			time.Sleep(2500 * time.Millisecond)
		}
	}
	if !sort.StringsAreSorted(seen) {
		t.Error("keys not in order across pages")
	}
	count := map[string]int{}
	for _, k := range seen {
		count[k]++
	}
	if count["dir/"] != 1 || len(seen) == 0 || seen[0] != "dir/" {
		t.Errorf("explicit marker dir/ listed %d times (first entry %v), want once, first", count["dir/"], seen[:min(1, len(seen))])
	}
	for _, k := range keys {
		want := 1
		if removed[k] {
			want = 0
		}
		if count[k] != want {
			t.Errorf("%s listed %d times, want %d", k, count[k], want)
		}
	}
	for k, ahead := range added {
		want := 0
		if ahead {
			want = 1
		}
		if count[k] != want {
			t.Errorf("added %s listed %d times, want %d", k, count[k], want)
		}
	}
	if hits := b.dirs.hits.Load() - hits0; hits == 0 {
		t.Errorf("no page was served from the directory cache")
	} else {
		t.Logf("%d pages, %d served from the directory cache", len(seen)/400+1, hits)
	}
}
