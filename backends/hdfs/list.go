package hdfs

import (
	"container/list"
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lakegate/lakegate/backends"
)

// Listing walks the bucket's directory tree depth-first, visiting each
// directory's children in S3 byte order of their keys (a directory sorts as
// its name + "/", so "a-b/" < "a.b" < "a/" < "a0" as S3 wants; HDFS itself
// lists children in Java signed-byte order of the bare name). The walk
// starts at the deepest directory the prefix names, skips every subtree
// whose keys all sort at or before StartAfter, and skips the subtree of a
// common prefix once it is emitted, so a page reads only the directories it
// returns entries from (plus their ancestors). Continuation is by key
// (StartAfter), so pages stay correct while keys are added and removed.
//
// HDFS cannot resume a directory listing at a name through colinmarc (its
// getListing cursor is internal), so a directory is always read whole. To
// keep paging through a huge flat directory from costing a full read per
// page, directories with more than dirCacheMin entries are cached for
// dirCacheTTL, keyed by inode ID, modification time and child count (any
// entry added, removed or renamed changes the modification time). A file
// changed in place by another HDFS client (an append) does not change its
// directory's modification time, so in such a directory the listed size and
// ETag can lag by up to dirCacheTTL; Stat and Open are always current.

// Directory cache parameters.
const (
	dirCacheMin     = 1000 // HDFS's default dfs.ls.limit: bigger needs several getListing calls
	dirCacheTTL     = 10 * time.Second
	dirCacheEntries = 2_000_000 // total children held
)

// dirEnt is one child of a directory.
type dirEnt struct {
	name    string
	sortKey string // name, or name + "/" for a directory
	fi      os.FileInfo
}

// dirStamp identifies one state of a directory.
type dirStamp struct {
	id    uint64
	mtime int64
	n     int
}

// readDirSorted returns the status of directory dir and its children in S3
// key order. It fails with an error for which notFound is true if dir does
// not exist, and with errNotDir if it is a file.
func (b *Backend) readDirSorted(c *client, dir string) (os.FileInfo, []dirEnt, error) {
	f, err := c.open(dir)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi := f.Stat()
	if !fi.IsDir() {
		return fi, nil, errNotDir
	}
	n := childrenNum(fi)
	stamp := dirStamp{id: fileID(fi), mtime: fi.ModTime().UnixMilli(), n: n}
	if n > dirCacheMin {
		if ents, ok := b.dirs.get(dir, stamp); ok {
			return fi, ents, nil
		}
	}
	fis, err := c.readdir(f)
	if err != nil {
		return nil, nil, err
	}
	ents := make([]dirEnt, len(fis))
	for i, e := range fis {
		ents[i] = dirEnt{name: e.Name(), sortKey: e.Name(), fi: e}
		if e.IsDir() {
			ents[i].sortKey += "/"
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].sortKey < ents[j].sortKey })
	// Only a directory untouched for a while is cached: a change within the
	// same millisecond would not change the stamp.
	if n > dirCacheMin && len(ents) == n && time.Since(fi.ModTime()) > 2*time.Second {
		b.dirs.put(dir, stamp, ents)
	}
	return fi, ents, nil
}

// dirIsMarker reports whether the directory p (status fi, n children or
// -1 if unknown) is the marker object "dir/": an explicit marker (made by
// PUT "dir/", recorded in xattrMeta) or an empty directory (made by another
// HDFS client, or an explicit marker whose record was dropped). A
// non-empty directory without the record is no object, only a prefix. It
// costs nothing for an empty directory and one NameNode call otherwise
// (two when n is unknown and the directory is not a marker). Errors from
// HDFS are returned unwrapped (notFound when p is gone).
func (b *Backend) dirIsMarker(c *client, p string, fi os.FileInfo, n int) (bool, error) {
	if n == 0 {
		return true, nil
	}
	attrs, err := c.getXAttrs(b.attrPath(p, fileID(fi)), xattrMeta)
	switch {
	case err == nil:
		return attrs[xattrMeta] != "", nil
	case !isXAttrMissing(err):
		return false, err
	case n > 0:
		return false, nil
	}
	fis, err := c.readDir(p)
	if err != nil {
		return false, err
	}
	return len(fis) == 0, nil
}

// errNotDir: a listing found a file where a directory was expected.
var errNotDir = errors.New("not a directory")

// listed is one entry of a page under construction.
type listed struct {
	key string
	cp  bool
	fi  os.FileInfo // nil for common prefixes
	p   string      // HDFS path of a file or directory
}

// lister builds one List page.
type lister struct {
	b      *Backend
	c      *client
	q      backends.ListQuery
	max    int
	lastCP string
	out    []listed
	trunc  bool
}

// List returns one page of the bucket's keys, see backends.Backend and the
// notes at the top of this file. A directory appears as the "dir/" marker
// object only when it is an explicit marker or empty (see dirIsMarker);
// any other directory shows only through its contents, as on S3.
// Objects carry Key, Size, ETag and LastModified (and the metadata stored
// with them). Errors: ErrBucketNotFound, ErrUnavailable. Safe for
// concurrent use.
func (b *Backend) List(ctx context.Context, bucket string, q backends.ListQuery) (backends.ListResult, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ListResult{}, err
	}
	max := q.MaxKeys
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var l *lister
	err = b.withClient(ctx, true, func(c *client) error {
		l = &lister{b: b, c: c, q: q, max: max}
		return l.run(bucket, bdir)
	})
	if err != nil {
		return backends.ListResult{}, err
	}
	return b.finishPage(ctx, l)
}

// run walks from the directory the prefix names.
func (l *lister) run(bucket, bdir string) error {
	base, rest, ok := listBase(l.q.Prefix)
	if !ok {
		return l.b.bucketExists(l.c, bucket, bdir)
	}
	dir := bdir
	if base != "" {
		dir = bdir + "/" + strings.TrimSuffix(base, "/")
	}
	fi, ents, err := l.b.readDirSorted(l.c, dir)
	switch {
	case err == errNotDir || (err != nil && l.b.isMissing(l.c, bdir, dir, err)):
		// Nothing under the prefix, also when the path runs through a
		// file ('a/b/' when 'a' is an object): an empty listing, as S3.
		return l.b.bucketExists(l.c, bucket, bdir)
	case err != nil:
		return l.b.wrap("list", dir, err)
	}
	if base != "" && rest == "" && base > l.q.StartAfter {
		// The prefix names a directory: its own marker, if it is one,
		// comes first.
		vis, err := l.b.dirIsMarker(l.c, dir, fi, len(ents))
		switch {
		case err != nil && notFound(err):
			return l.b.bucketExists(l.c, bucket, bdir)
		case err != nil:
			return l.b.wrap("getXAttrs", dir, err)
		}
		if vis && l.emit(listed{key: base, fi: fi, p: dir}) {
			return nil
		}
	}
	_, err = l.walk(dir, base, rest, ents)
	return err
}

// emit adds an entry; it reports true when the page is full (after noting
// that one more entry exists).
func (l *lister) emit(e listed) bool {
	if len(l.out) == l.max {
		l.trunc = true
		return true
	}
	l.out = append(l.out, e)
	return false
}

// commonPrefix returns the common prefix key rolls up into, if any.
func (l *lister) commonPrefix(key string) (string, bool) {
	if l.q.Delimiter == "" {
		return "", false
	}
	rest := key[len(l.q.Prefix):]
	i := strings.Index(rest, l.q.Delimiter)
	if i < 0 {
		return "", false
	}
	return l.q.Prefix + rest[:i+len(l.q.Delimiter)], true
}

// walk visits the children ents of directory dir (key prefix keyPrefix,
// only names starting with filter); it reports true once the page is full.
func (l *lister) walk(dir, keyPrefix, filter string, ents []dirEnt) (bool, error) {
	after := l.q.StartAfter
	// Skip children whose whole subtree sorts at or before StartAfter.
	start := 0
	if after > keyPrefix {
		start = sort.Search(len(ents), func(i int) bool {
			k := keyPrefix + ents[i].sortKey
			if ents[i].fi.IsDir() {
				s := successor(k)
				return s == "" || s > after
			}
			return k > after
		})
	}
	for _, e := range ents[start:] {
		if !strings.HasPrefix(e.name, filter) {
			continue
		}
		k := keyPrefix + e.sortKey
		if l.lastCP != "" && strings.HasPrefix(k, l.lastCP) {
			continue
		}
		p := dir + "/" + e.name
		isDir := e.fi.IsDir()
		if isDir {
			if s := successor(k); s != "" && s <= after {
				continue
			}
		} else if k <= after {
			continue
		}
		if cp, ok := l.commonPrefix(k); ok {
			// Everything below cp rolls up into it; a prefix at or before
			// StartAfter was returned on an earlier page.
			if cp <= after || cp == l.lastCP {
				continue
			}
			l.lastCP = cp
			if l.emit(listed{key: cp, cp: true}) {
				return true, nil
			}
			continue
		}
		if k > after {
			vis := true
			if isDir {
				var err error
				if vis, err = l.b.dirIsMarker(l.c, p, e.fi, childrenNum(e.fi)); err != nil {
					if notFound(err) {
						continue // removed meanwhile
					}
					return false, l.b.wrap("getXAttrs", p, err)
				}
			}
			if vis && l.emit(listed{key: k, fi: e.fi, p: p}) {
				return true, nil
			}
		}
		if !isDir || childrenNum(e.fi) == 0 {
			continue
		}
		_, sub, err := l.b.readDirSorted(l.c, p)
		if err != nil {
			if err == errNotDir || notFound(err) {
				continue // replaced or removed meanwhile
			}
			return false, l.b.wrap("list", p, err)
		}
		if full, err := l.walk(p, k, "", sub); full || err != nil {
			return full, err
		}
	}
	return false, nil
}

// finishPage fetches the ETags of the page's files and builds the result.
func (b *Backend) finishPage(ctx context.Context, l *lister) (backends.ListResult, error) {
	var files []int
	for i, e := range l.out {
		if !e.cp && !e.fi.IsDir() {
			files = append(files, i)
		}
	}
	infos := make([]backends.ObjectInfo, len(l.out))
	gone := make([]bool, len(l.out))
	err := b.forEach(ctx, nil, len(files), func(c *client, j int) error {
		i := files[j]
		e := l.out[i]
		attrs, err := c.getXAttrs(b.attrPath(e.p, fileID(e.fi)), xattrMeta)
		switch {
		case err == nil:
		case isXAttrMissing(err):
			attrs = nil
		case notFound(err):
			// Replaced since the walk: describe the current file, if any.
			fi, serr := c.stat(e.p)
			if serr != nil || fi.IsDir() {
				gone[i] = true
				return nil
			}
			e.fi = fi
			if attrs, err = c.readAttrs(b.attrPath(e.p, fileID(fi)), xattrMeta); err != nil {
				gone[i] = true
				return nil
			}
		default:
			return b.wrap("getXAttrs", e.p, err)
		}
		infos[i] = objectInfo(e.key, e.fi, attrs)
		infos[i].Metadata.Tags = nil
		return nil
	})
	if err != nil {
		return backends.ListResult{}, err
	}
	var res backends.ListResult
	for i, e := range l.out {
		switch {
		case e.cp:
			res.CommonPrefixes = append(res.CommonPrefixes, e.key)
		case gone[i]:
		case e.fi.IsDir():
			res.Objects = append(res.Objects, backends.ObjectInfo{Key: e.key, ETag: emptyMD5, LastModified: e.fi.ModTime()})
		default:
			res.Objects = append(res.Objects, infos[i])
		}
	}
	if l.trunc && len(l.out) > 0 {
		res.IsTruncated = true
		res.NextStartAfter = l.out[len(l.out)-1].key
	}
	return res, nil
}

// forEach runs fn(c, i) for every i in [0, n) on pooled clients: held (the
// caller's client) or, when held is nil, one taken waiting; more (up to
// n/16+1 in all) only if free at once, so parallelism never waits for, or
// starves, other requests, and a caller holding a client never waits for a
// second one (which could deadlock the pool).
func (b *Backend) forEach(ctx context.Context, held *client, n int, fn func(c *client, i int) error) error {
	if n == 0 {
		return nil
	}
	first := held
	if first == nil {
		var err error
		if first, err = b.pool.get(ctx); err != nil {
			return err
		}
	}
	clients := []*client{first}
	for want := min(n/16+1, b.cfg.PoolSize); len(clients) < want; {
		c, ok := b.pool.tryGet()
		if !ok {
			break
		}
		clients = append(clients, c)
	}
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(c, i)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range clients {
		if c != held {
			b.pool.put(c)
		}
	}
	return firstErr
}

// dirCache holds sorted listings of big directories, least recently used
// first out.
type dirCache struct {
	hits    atomic.Int64 // for tests
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	entries int
	lru     *list.List // of *cachedDir, front = most recent
	byPath  map[string]*list.Element
}

type cachedDir struct {
	path  string
	stamp dirStamp
	at    time.Time
	ents  []dirEnt
}

// newDirCache returns a cache of at most max children in total.
func newDirCache(max int, ttl time.Duration) *dirCache {
	return &dirCache{max: max, ttl: ttl, lru: list.New(), byPath: map[string]*list.Element{}}
}

// get returns the cached children of path if its stamp is unchanged and
// the entry is fresh.
func (d *dirCache) get(path string, stamp dirStamp) ([]dirEnt, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	el, ok := d.byPath[path]
	if !ok {
		return nil, false
	}
	cd := el.Value.(*cachedDir)
	if cd.stamp != stamp || time.Since(cd.at) > d.ttl {
		d.removeLocked(el)
		return nil, false
	}
	d.lru.MoveToFront(el)
	d.hits.Add(1)
	return cd.ents, true
}

// put stores the children of path.
func (d *dirCache) put(path string, stamp dirStamp, ents []dirEnt) {
	if len(ents) > d.max {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.byPath[path]; ok {
		d.removeLocked(el)
	}
	d.byPath[path] = d.lru.PushFront(&cachedDir{path: path, stamp: stamp, at: time.Now(), ents: ents})
	d.entries += len(ents)
	for d.entries > d.max {
		d.removeLocked(d.lru.Back())
	}
}

func (d *dirCache) removeLocked(el *list.Element) {
	cd := d.lru.Remove(el).(*cachedDir)
	delete(d.byPath, cd.path)
	d.entries -= len(cd.ents)
}
