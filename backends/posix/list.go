package posix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lakegate/lakegate/backends"
)

// List returns one page of ListObjectsV2 in byte order of the whole key. It
// walks the tree depth first from the deepest directory the prefix names,
// visiting each directory's entries sorted as if directory names ended in
// "/" (so "a-b/x" < "a/" < "a0"), skips subtrees that lie entirely at or
// before q.StartAfter without reading them, rolls subtrees into common
// prefixes without descending (only checking that they hold an object), and
// stops after MaxKeys+1 entries: a page costs the directories on its path,
// never the whole tree. Common prefixes at or before StartAfter are not
// returned, so resuming from NextStartAfter after a common prefix skips
// everything under it. Implicit directories are not objects; symbolic links,
// special files and names that are not valid keys are not listed. Errors:
// ErrBucketNotFound. Safe for concurrent use. See the Amazon S3 API
// Reference, ListObjectsV2.
func (b *Backend) List(ctx context.Context, bucket string, q backends.ListQuery) (backends.ListResult, error) {
	bdir, err := b.checkBucket(bucket)
	if err != nil {
		return backends.ListResult{}, err
	}
	l := &lister{b: b, ctx: ctx, bucket: bucket, q: q, max: q.MaxKeys}
	if l.max <= 0 {
		l.max = 1000
	}
	i := strings.LastIndexByte(q.Prefix, '/')
	dirKey, namePrefix := q.Prefix[:i+1], q.Prefix[i+1:]
	if !checkPrefixDir(dirKey, b.nameMax) {
		return backends.ListResult{}, nil // no stored key can have this prefix
	}
	start := bdir
	if dirKey != "" {
		start = bdir + "/" + strings.TrimSuffix(dirKey, "/")
	}
	// The prefix's directory must be reached without symbolic links.
	sd, err := openDir(start)
	if err != nil {
		if !notFound(err) {
			return backends.ListResult{}, fmt.Errorf("posix list %s: %w", bucket, err)
		}
		return backends.ListResult{}, nil
	}
	fi, err := sd.Stat()
	sd.Close()
	if err != nil {
		return backends.ListResult{}, fmt.Errorf("posix list %s: %w", bucket, err)
	}
	if dirKey != "" && namePrefix == "" {
		if err := l.marker(start, dirKey, fi); err != nil {
			return backends.ListResult{}, err
		}
	}
	if !l.stop {
		if err := l.walk(start, dirKey, namePrefix); err != nil {
			return backends.ListResult{}, err
		}
	}
	res := backends.ListResult{Objects: l.objs, CommonPrefixes: l.cps, IsTruncated: l.truncated}
	if l.truncated {
		res.NextStartAfter = l.last
	}
	return res, nil
}

// lister is the state of one List call.
type lister struct {
	b         *Backend
	ctx       context.Context
	bucket    string
	q         backends.ListQuery
	max       int
	objs      []backends.ObjectInfo
	cps       []string
	lastCP    string
	last      string
	truncated bool
	stop      bool
}

// child is a directory entry prepared for sorting.
type child struct {
	name string
	sort string // name, or name + "/" for directories
	dir  bool
}

// readChildren returns dir's listable entries in S3 key order, keeping only
// names starting with namePrefix.
func readChildren(dir, namePrefix string) ([]child, error) {
	f, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	out := make([]child, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, namePrefix) || !utf8.ValidString(name) {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			out = append(out, child{name: name, sort: name + "/", dir: true})
		case t.IsRegular():
			out = append(out, child{name: name, sort: name})
		}
	}
	slices.SortFunc(out, func(a, b child) int { return strings.Compare(a.sort, b.sort) })
	return out, nil
}

// walk visits the entries of directory dir (whose keys start with dirKey).
func (l *lister) walk(dir, dirKey, namePrefix string) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	children, err := readChildren(dir, namePrefix)
	if err != nil {
		if notFound(err) {
			return nil // removed meanwhile
		}
		return fmt.Errorf("posix list %s: %w", l.bucket, err)
	}
	after := l.q.StartAfter
	for _, c := range children {
		if l.stop {
			return nil
		}
		path := dir + "/" + c.name
		if !c.dir {
			key := dirKey + c.name
			if len(key) > maxKeyLen {
				continue
			}
			if cp := l.rollup(key); cp != "" {
				l.commonPrefix(cp)
				continue
			}
			if key <= after {
				continue
			}
			if err := l.object(path, key); err != nil {
				return err
			}
			continue
		}
		p := dirKey + c.name + "/"
		if len(p) > maxKeyLen {
			continue
		}
		// Every key below starts with p: skip the subtree if all of them
		// are at or before StartAfter.
		if after >= p && !strings.HasPrefix(after, p) {
			continue
		}
		if cp := l.rollup(p); cp != "" {
			if cp <= after || cp == l.lastCP {
				continue
			}
			has := l.b.isMarkerDir(path)
			if !has {
				var err error
				if has, err = l.b.hasObject(path); err != nil {
					return err
				}
			}
			if has {
				l.commonPrefix(cp)
			}
			continue
		}
		fi, err := os.Lstat(path)
		if err != nil || !fi.IsDir() {
			continue
		}
		if err := l.marker(path, p, fi); err != nil {
			return err
		}
		if l.stop {
			return nil
		}
		if err := l.walk(path, p, ""); err != nil {
			return err
		}
	}
	return nil
}

// rollup returns the common prefix key rolls into, "" if none. For a
// directory's key prefix p, a non-empty result covers every key below it.
func (l *lister) rollup(key string) string {
	if l.q.Delimiter == "" {
		return ""
	}
	rest := key[len(l.q.Prefix):]
	if i := strings.Index(rest, l.q.Delimiter); i >= 0 {
		return l.q.Prefix + rest[:i+len(l.q.Delimiter)]
	}
	return ""
}

// add counts one entry, stopping (truncated) when the page is already full.
func (l *lister) add(name string) bool {
	if len(l.objs)+len(l.cps) >= l.max {
		l.truncated, l.stop = true, true
		return false
	}
	l.last = name
	return true
}

// commonPrefix adds cp unless it is at or before StartAfter or just added.
func (l *lister) commonPrefix(cp string) {
	if cp <= l.q.StartAfter || cp == l.lastCP {
		return
	}
	if l.add(cp) {
		l.cps = append(l.cps, cp)
		l.lastCP = cp
	}
}

// object adds the file at path as key.
func (l *lister) object(path, key string) error {
	info, ok, err := l.b.listInfo(l.bucket, key, objectPath{path: path})
	if err != nil || !ok {
		return err
	}
	if l.add(key) {
		l.objs = append(l.objs, info)
	}
	return nil
}

// marker adds directory path as marker key p if it carries a marker record
// and p is after StartAfter (and not rolled up).
func (l *lister) marker(path, p string, fi os.FileInfo) error {
	if p <= l.q.StartAfter || l.rollup(p) != "" {
		return nil
	}
	info, ok, err := l.b.listInfo(l.bucket, p, objectPath{path: path, marker: true})
	if err != nil || !ok {
		return err
	}
	if l.add(p) {
		l.objs = append(l.objs, info)
	}
	return nil
}

// listInfo returns the info of a listed object, cheaply (lstat and the
// record) when its record is current, else through openObject. ok is false
// when it is not an object (a directory without marker, or gone).
func (b *Backend) listInfo(bucket, key string, op objectPath) (backends.ObjectInfo, bool, error) {
	fi, err := os.Lstat(op.path)
	if err != nil {
		if notFound(err) {
			return backends.ObjectInfo{}, false, nil
		}
		return backends.ObjectInfo{}, false, fmt.Errorf("posix list: %w", err)
	}
	si := statOf(fi)
	rec, err := b.loadRecord(nil, op.path, si, bucket, key, false)
	if err != nil {
		if notFound(err) {
			return backends.ObjectInfo{}, false, nil
		}
		return backends.ObjectInfo{}, false, err
	}
	if op.marker {
		if rec == nil {
			return backends.ObjectInfo{}, false, nil
		}
		if rec.MtimeNS != 0 {
			si.mtime = timeFromNS(rec.MtimeNS)
		}
		rec.ETag = emptyMD5
		return objectInfo(key, rec, si), true, nil
	}
	if rec.matches(si) {
		return objectInfo(key, rec, si), true, nil
	}
	f, si, rec, err := b.openObject(bucket, key, op, false)
	if err != nil {
		if errors.Is(err, backends.ErrObjectNotFound) {
			return backends.ObjectInfo{}, false, nil
		}
		return backends.ObjectInfo{}, false, err
	}
	f.Close()
	return objectInfo(key, rec, si), true, nil
}

// hasObject reports whether the tree at dir holds any object: a regular
// file with a listable name or a marker directory.
func (b *Backend) hasObject(dir string) (bool, error) {
	f, err := openDir(dir)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, err
	}
	var dirs []string
	for _, e := range entries {
		if !utf8.ValidString(e.Name()) {
			continue
		}
		if e.Type().IsRegular() {
			return true, nil
		}
		if e.IsDir() {
			dirs = append(dirs, dir+"/"+e.Name())
		}
	}
	for _, d := range dirs {
		if b.isMarkerDir(d) {
			return true, nil
		}
		has, err := b.hasObject(d)
		if err != nil || has {
			return has, err
		}
	}
	return false, nil
}

// isMarkerDir reports whether directory path carries a marker record.
func (b *Backend) isMarkerDir(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() {
		return false
	}
	// The key is only needed for sidecar lookups; recover it from the path.
	bucket, key, ok := b.pathKey(path)
	if !ok {
		return false
	}
	rec, err := b.loadRecord(nil, path, statOf(fi), bucket, key+"/", false)
	return err == nil && rec != nil
}

// pathKey splits a path under the root into bucket and key (without a
// trailing "/").
func (b *Backend) pathKey(path string) (string, string, bool) {
	rel, ok := strings.CutPrefix(path, b.root+"/")
	if !ok {
		return "", "", false
	}
	bucket, key, ok := strings.Cut(rel, "/")
	return bucket, key, ok
}
