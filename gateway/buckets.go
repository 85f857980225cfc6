package gateway

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// bucketRegistry knows which backend holds each bucket. Bucket names are one
// namespace across backends. The registry holds no state of its own: it is a
// cache of the backends' bucket lists, filled on a miss by asking every
// backend (HeadBucket) in configuration order, so buckets created by another
// gateway process or directly on a backend are found.
type bucketRegistry struct {
	backends []NamedBackend
	mu       sync.RWMutex
	where    map[string]string // bucket -> backend name
}

func newBucketRegistry(bs []NamedBackend) *bucketRegistry {
	return &bucketRegistry{backends: bs, where: map[string]string{}}
}

func (g *bucketRegistry) backend(name string) (backends.Backend, bool) {
	for _, b := range g.backends {
		if b.Name == name {
			return b.Backend, true
		}
	}
	return nil, false
}

// lookup returns the backend holding bucket, or NoSuchBucket.
func (g *bucketRegistry) lookup(ctx context.Context, bucket string) (string, backends.Backend, error) {
	g.mu.RLock()
	name, ok := g.where[bucket]
	g.mu.RUnlock()
	if ok {
		b, _ := g.backend(name)
		return name, b, nil
	}
	var lastErr error
	for _, nb := range g.backends {
		bk, ok := nb.Backend.(backends.Buckets)
		if !ok {
			continue
		}
		_, err := bk.HeadBucket(ctx, bucket)
		if err == nil {
			g.remember(bucket, nb.Name)
			return nb.Name, nb.Backend, nil
		}
		if !errors.Is(err, backends.ErrBucketNotFound) && !errors.Is(err, backends.ErrInvalidBucketName) {
			lastErr = fmt.Errorf("head bucket %s on %s: %w", bucket, nb.Name, err)
		}
	}
	if lastErr != nil {
		return "", nil, lastErr
	}
	return "", nil, s3err.NoSuchBucket
}

func (g *bucketRegistry) remember(bucket, backend string) {
	g.mu.Lock()
	g.where[bucket] = backend
	g.mu.Unlock()
}

func (g *bucketRegistry) forget(bucket string) {
	g.mu.Lock()
	delete(g.where, bucket)
	g.mu.Unlock()
}

// bucketEntry is one bucket of ListBuckets with the backend that holds it.
type bucketEntry struct {
	backends.BucketInfo
	Backend string
}

// list returns every bucket of every backend, sorted by name; when two
// backends hold the same name the first configured wins. A backend that
// fails is reported as an error: a partial list would look like lost data.
func (g *bucketRegistry) list(ctx context.Context) ([]bucketEntry, error) {
	seen := map[string]bool{}
	var out []bucketEntry
	for _, nb := range g.backends {
		bk, ok := nb.Backend.(backends.Buckets)
		if !ok {
			continue
		}
		infos, err := bk.ListBuckets(ctx)
		if err != nil {
			return nil, fmt.Errorf("list buckets on %s: %w", nb.Name, err)
		}
		for _, bi := range infos {
			if seen[bi.Name] {
				continue
			}
			seen[bi.Name] = true
			out = append(out, bucketEntry{BucketInfo: bi, Backend: nb.Name})
			g.remember(bi.Name, nb.Name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
