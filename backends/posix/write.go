package posix

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"

	"github.com/lakegate/lakegate/backends"
)

// emptyMD5 is the hex MD5 of zero bytes: the ETag of every marker.
var emptyMD5 = func() string { s := md5.Sum(nil); return hex.EncodeToString(s[:]) }()

// timeFromNS converts Unix nanoseconds to UTC time.
func timeFromNS(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// copyBufSize is the buffer size for streaming request bodies to disk.
const copyBufSize = 1 << 20

// bufPool holds copy buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the wrapped reader unless ctx is done.
func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// writerOnly hides *os.File's ReadFrom so io.CopyBuffer uses our buffer.
type writerOnly struct{ io.Writer }

// errSize reports a body whose length differs from the declared size.
var errSize = errors.New("body length differs from the declared size")

// spool streams body into a new temporary file, hashing it with MD5 when
// wantMD5, and fsyncs it. size >= 0 is the exact expected length. On error
// nothing is left behind and the body's or ctx's error is returned wrapped.
func (b *Backend) spool(ctx context.Context, body io.Reader, size int64, wantMD5 bool) (*os.File, int64, []byte, error) {
	f, err := os.CreateTemp(b.tmp, "put-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("posix temporary file: %w", err)
	}
	fail := func(err error) (*os.File, int64, []byte, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, nil, err
	}
	var r io.Reader = ctxReader{ctx: ctx, r: body}
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	var w io.Writer = writerOnly{f}
	var h hash.Hash
	if wantMD5 {
		h = md5.New()
		w = io.MultiWriter(f, h)
	}
	bp := bufPool.Get().(*[]byte)
	n, err := io.CopyBuffer(w, r, *bp)
	bufPool.Put(bp)
	if err != nil {
		return fail(err)
	}
	if size >= 0 && n != size {
		return fail(fmt.Errorf("posix: %d bytes, declared %d: %w", n, size, errSize))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("posix fsync: %w", err))
	}
	var sum []byte
	if h != nil {
		sum = h.Sum(nil)
	}
	return f, n, sum, nil
}

// digestOf returns the object's MD5 and the checksums to merge into its
// metadata: from opts.Digest when given (re-reading the file only if the
// digest lacks an MD5), else sum.
func digestOf(f *os.File, n int64, sum []byte, digest func() backends.Digest) ([]byte, map[string]string, error) {
	if digest == nil {
		return sum, nil, nil
	}
	d := digest()
	if len(d.MD5) == md5.Size {
		return d.MD5, d.Checksums, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, n)); err != nil {
		return nil, nil, fmt.Errorf("posix md5: %w", err)
	}
	return h.Sum(nil), d.Checksums, nil
}

// withChecksums returns meta with extra checksums merged in.
func withChecksums(meta backends.Metadata, extra map[string]string) backends.Metadata {
	if len(extra) == 0 {
		return meta
	}
	sums := maps.Clone(meta.Checksums)
	if sums == nil {
		sums = map[string]string{}
	}
	maps.Copy(sums, extra)
	meta.Checksums = sums
	return meta
}

// Put stores body at key: it streams into a temporary file, fsyncs it, sets
// the metadata record on it, and renames it into place under the key's lock
// (after checking opts.Condition), then fsyncs the directory. A key ending
// in "/" creates a directory marker and must have an empty body
// (ErrInvalidObjectName otherwise). Errors: ErrBucketNotFound,
// ErrInvalidObjectName, ErrKeyConflict (a directory at the key, or a file
// where a parent directory is needed), ErrPreconditionFailed,
// ErrObjectNotFound (IfMatch on a missing key), and the body's or ctx's
// error wrapped. Safe for concurrent use. See the Amazon S3 API Reference,
// PutObject.
func (b *Backend) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	bdir, op, err := b.resolve(bucket, key)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if op.marker {
		return b.putMarker(ctx, bucket, key, bdir, op, body, opts)
	}
	f, n, sum, err := b.spool(ctx, body, opts.Size, opts.Digest == nil)
	if err != nil {
		return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), err)
	}
	md5sum, sums, err := digestOf(f, n, sum, opts.Digest)
	if err != nil {
		discard(f)
		return backends.ObjectInfo{}, err
	}
	rec := &record{V: recordVersion, ETag: hex.EncodeToString(md5sum), Meta: toStored(withChecksums(opts.Metadata, sums))}
	return b.commitFile(ctx, bucket, key, bdir, op, f, rec, opts.Condition)
}

// discard closes and removes a temporary file.
func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// commitFile sets rec on the temporary file f and renames it to op under the
// key's exclusive lock after checking cond. f is consumed (closed, and
// removed on failure).
func (b *Backend) commitFile(ctx context.Context, bucket, key, bdir string, op objectPath, f *os.File, rec *record, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		discard(f)
		return backends.ObjectInfo{}, fmt.Errorf("posix stat temporary file: %w", err)
	}
	si := statOf(fi)
	rec.V, rec.Size, rec.MtimeNS = recordVersion, si.size, si.mtimeNS
	toSidecar := b.sidecar
	if !b.sidecar {
		data, big, err := encodeForXattr(rec)
		if err == nil {
			err = xattr.FSet(f, xattrName, data)
		}
		if err != nil {
			discard(f)
			return backends.ObjectInfo{}, fmt.Errorf("posix set metadata: %w", err)
		}
		toSidecar = big
	}
	tmpName := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(tmpName)
		return backends.ObjectInfo{}, fmt.Errorf("posix close temporary file: %w", err)
	}
	if err := ctx.Err(); err != nil {
		os.Remove(tmpName)
		return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), err)
	}
	unlock, err := b.lock(bucket, key, true)
	if err != nil {
		os.Remove(tmpName)
		return backends.ObjectInfo{}, err
	}
	defer unlock()
	if err := b.checkCondition(bucket, key, op, cond); err != nil {
		os.Remove(tmpName)
		return backends.ObjectInfo{}, err
	}
	if err := b.renameInto(bucket, key, bdir, tmpName, op.path); err != nil {
		os.Remove(tmpName)
		return backends.ObjectInfo{}, err
	}
	if toSidecar {
		if err := b.writeSidecar(bucket, key, si.ino, rec); err != nil {
			return backends.ObjectInfo{}, err
		}
	} else {
		b.removeSidecar(bucket, key)
	}
	return objectInfo(key, rec, si), nil
}

// checkCondition evaluates cond against the current object at key. The
// caller holds the key's exclusive lock.
func (b *Backend) checkCondition(bucket, key string, op objectPath, cond backends.WriteCondition) error {
	if !cond.IfNoneMatchStar && cond.IfMatch == "" {
		return nil
	}
	f, _, rec, err := b.openObject(bucket, key, op, true)
	if errors.Is(err, backends.ErrObjectNotFound) {
		if cond.IfMatch != "" {
			return fmt.Errorf("posix if-match %s/%s: %w", bucket, truncate(key), backends.ErrObjectNotFound)
		}
		return nil
	}
	if err != nil {
		return err
	}
	f.Close()
	if cond.IfNoneMatchStar {
		return fmt.Errorf("posix if-none-match %s/%s: %w", bucket, truncate(key), backends.ErrPreconditionFailed)
	}
	if rec.ETag != cond.IfMatch {
		return fmt.Errorf("posix if-match %s/%s: %w", bucket, truncate(key), backends.ErrPreconditionFailed)
	}
	return nil
}

// renameInto renames the temporary file src to the object path dst,
// creating parent directories, and fsyncs the parent. A concurrent delete
// may remove an empty parent between mkdir and rename; that is retried.
func (b *Backend) renameInto(bucket, key, bdir, src, dst string) error {
	conflict := fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), backends.ErrKeyConflict)
	parent, name := splitPath(dst)
	for attempt := 0; ; attempt++ {
		if err := b.mkdirParents(bucket, key, bdir, parent); err != nil {
			return err
		}
		d, err := openDir(parent)
		if err != nil {
			if notFound(err) && !isErrno(err, syscall.ENOTDIR, syscall.ELOOP) && attempt < 20 {
				continue
			}
			if isErrno(err, syscall.ENOTDIR, syscall.ELOOP) {
				return conflict
			}
			return fmt.Errorf("posix rename into %s/%s: %w", bucket, truncate(key), err)
		}
		err = unix.Renameat(unix.AT_FDCWD, src, int(d.Fd()), name)
		if err == nil {
			err = d.Sync()
			d.Close()
			if err != nil {
				return fmt.Errorf("posix fsync %s: %w", parent, err)
			}
			return nil
		}
		retry := false
		switch {
		case err == unix.ENOENT:
			retry = true // the parent was removed after we opened it
		case err == unix.EISDIR || err == unix.ENOTEMPTY || err == unix.EEXIST:
			// A directory is at the key. An empty one that is not a
			// marker is a leftover (e.g. made by another program) and
			// gives way; anything else is the file/prefix conflict.
			retry = b.removeIfEmptyImplicit(bucket, key, d, name)
			if !retry {
				d.Close()
				return conflict
			}
		case err == unix.ENOTDIR:
			d.Close()
			return conflict
		}
		d.Close()
		if !retry || attempt >= 20 {
			return fmt.Errorf("posix rename into %s/%s: %w", bucket, truncate(key), err)
		}
	}
}

// removeIfEmptyImplicit removes directory name in d if it is empty and has
// no marker record, reporting whether it did. dirKey is the key whose path
// it is, without the trailing "/".
func (b *Backend) removeIfEmptyImplicit(bucket, dirKey string, d *os.File, name string) bool {
	sub, err := openAt(d, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return false
	}
	fi, err := sub.Stat()
	if err != nil {
		sub.Close()
		return false
	}
	rec, _ := b.loadRecord(sub, sub.Name(), statOf(fi), bucket, dirKey+"/", true)
	sub.Close()
	if rec != nil {
		return false
	}
	return unix.Unlinkat(int(d.Fd()), name, unix.AT_REMOVEDIR) == nil
}

// mkdirParents creates dir and its missing parents below the bucket
// directory bdir, never bdir itself (a bucket deleted meanwhile stays
// deleted), with mkdirat(2) on parents opened without following symlinks.
// A file or symbolic link in the way is ErrKeyConflict.
func (b *Backend) mkdirParents(bucket, key, bdir, dir string) error {
	conflict := fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), backends.ErrKeyConflict)
	for attempt := 0; ; attempt++ {
		if dir == bdir || len(dir) < len(bdir) {
			return nil
		}
		d, err := openDir(dir)
		if err == nil {
			d.Close()
			return nil
		}
		if isErrno(err, syscall.ENOTDIR, syscall.ELOOP) {
			return conflict
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("posix mkdir %s: %w", dir, err)
		}
		parent, name := splitPath(dir)
		if err := b.mkdirParents(bucket, key, bdir, parent); err != nil {
			return err
		}
		p, err := openDir(parent)
		if err != nil {
			if isErrno(err, syscall.ENOTDIR, syscall.ELOOP) {
				return conflict
			}
			if errors.Is(err, fs.ErrNotExist) {
				if parent == bdir {
					return fmt.Errorf("posix put %s: %w", bucket, backends.ErrBucketNotFound)
				}
				if attempt < 20 {
					continue // removed by a concurrent delete: again
				}
			}
			return fmt.Errorf("posix mkdir %s: %w", dir, err)
		}
		err = unix.Mkdirat(int(p.Fd()), name, 0o755)
		p.Close()
		if err == nil || err == unix.EEXIST {
			continue // verify it is a directory (not a file) on the next pass
		}
		if err == unix.ENOTDIR {
			return conflict
		}
		if err != unix.ENOENT || attempt >= 20 {
			return fmt.Errorf("posix mkdir %s: %w", dir, err)
		}
	}
}

// putMarker creates or replaces the directory marker op (key ends in "/").
func (b *Backend) putMarker(ctx context.Context, bucket, key, bdir string, op objectPath, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	if opts.Size > 0 {
		return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: a key ending in / must be empty: %w", bucket, truncate(key), backends.ErrInvalidObjectName)
	}
	var one [1]byte
	n, err := io.ReadFull(ctxReader{ctx: ctx, r: body}, one[:])
	if n > 0 {
		if opts.Size == 0 {
			return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), errSize)
		}
		return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: a key ending in / must be empty: %w", bucket, truncate(key), backends.ErrInvalidObjectName)
	}
	if err != nil && err != io.EOF {
		return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), err)
	}
	if err := ctx.Err(); err != nil {
		return backends.ObjectInfo{}, fmt.Errorf("posix put %s/%s: %w", bucket, truncate(key), err)
	}
	meta := opts.Metadata
	if opts.Digest != nil {
		meta = withChecksums(meta, opts.Digest().Checksums)
	}
	rec := &record{V: recordVersion, ETag: emptyMD5, Meta: toStored(meta)}
	return b.commitMarker(bucket, key, bdir, op, rec, opts.Condition)
}

// commitMarker makes op.path a directory carrying rec, under the key's lock.
func (b *Backend) commitMarker(bucket, key, bdir string, op objectPath, rec *record, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	unlock, err := b.lock(bucket, key, true)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	defer unlock()
	if err := b.checkCondition(bucket, key, op, cond); err != nil {
		return backends.ObjectInfo{}, err
	}
	now := time.Now()
	rec.V, rec.Size, rec.MtimeNS = recordVersion, 0, now.UnixNano()
	for attempt := 0; ; attempt++ {
		if err := b.mkdirParents(bucket, key, bdir, op.path); err != nil {
			return backends.ObjectInfo{}, err
		}
		err := b.setRecord(bucket, key, op.path, rec)
		if err == nil {
			break
		}
		if !notFound(err) || attempt >= 20 {
			return backends.ObjectInfo{}, err
		}
	}
	if err := syncDir(filepath.Dir(op.path)); err != nil {
		return backends.ObjectInfo{}, err
	}
	return backends.ObjectInfo{Key: key, ETag: emptyMD5, LastModified: now.UTC(), Metadata: rec.Meta.metadata()}, nil
}

// setRecord replaces the record of the existing file or directory at path.
// The caller holds the key's exclusive lock.
func (b *Backend) setRecord(bucket, key, path string, rec *record) error {
	f, err := openNoSymlinks(path, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	return b.setRecordOn(f, bucket, key, rec)
}

// setRecordOn replaces the record of the open file or directory f.
func (b *Backend) setRecordOn(f *os.File, bucket, key string, rec *record) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	ino := lstatIno(fi)
	if b.sidecar {
		return b.writeSidecar(bucket, key, ino, rec)
	}
	data, big, err := encodeForXattr(rec)
	if err != nil {
		return err
	}
	if big {
		if err := b.writeSidecar(bucket, key, ino, rec); err != nil {
			return err
		}
	}
	if err := xattr.FSet(f, xattrName, data); err != nil {
		return fmt.Errorf("posix set metadata: %w", err)
	}
	if !big {
		b.removeSidecar(bucket, key)
	}
	return nil
}

// Delete removes the object at key; a missing key, an invalid key, or a
// name that is only a directory succeeds without effect. Deleting a marker
// "dir/" removes the directory if empty, else only its marker record.
// Parent directories left empty (and not markers) are removed. Errors:
// ErrBucketNotFound. Safe for concurrent use. See the Amazon S3 API
// Reference, DeleteObject.
func (b *Backend) Delete(ctx context.Context, bucket, key string) error {
	bdir, err := b.checkBucket(bucket)
	if err != nil {
		return err
	}
	op, err := keyToPath(bdir, key, b.nameMax)
	if err != nil {
		return nil // no object can exist under a key that cannot be stored
	}
	unlock, err := b.lock(bucket, key, true)
	if err != nil {
		return err
	}
	removed, err := b.deleteLocked(bucket, key, op)
	unlock()
	if err != nil {
		return err
	}
	if removed {
		b.cleanupParents(bucket, bdir, filepath.Dir(op.path))
	}
	return nil
}

// deleteLocked removes op under the key's lock, reporting whether a
// directory entry went away (so parents may now be empty).
func (b *Backend) deleteLocked(bucket, key string, op objectPath) (bool, error) {
	parent, name := splitPath(op.path)
	d, err := openDir(parent)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("posix delete %s/%s: %w", bucket, truncate(key), err)
	}
	defer d.Close()
	st, err := statAt(d, name)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("posix delete %s/%s: %w", bucket, truncate(key), err)
	}
	fmtType := st.Mode & unix.S_IFMT
	if !op.marker {
		if fmtType != unix.S_IFREG {
			return false, nil // a directory (or foreign special file) is not this object
		}
		if err := unix.Unlinkat(int(d.Fd()), name, 0); err != nil && err != unix.ENOENT {
			return false, fmt.Errorf("posix delete %s/%s: %w", bucket, truncate(key), err)
		}
		b.removeSidecar(bucket, key)
		return true, syncFile(d)
	}
	if fmtType != unix.S_IFDIR {
		return false, nil
	}
	sub, err := openAt(d, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, err
	}
	defer sub.Close()
	rec, err := b.loadRecord(sub, op.path, statInfoOf(&st), bucket, key, true)
	if err != nil {
		return false, err
	}
	if rec == nil {
		return false, nil // an implicit directory: no marker to delete
	}
	if err := unix.Unlinkat(int(d.Fd()), name, unix.AT_REMOVEDIR); err == nil {
		b.removeSidecar(bucket, key)
		return true, syncFile(d)
	}
	// Not empty: keep the directory, drop the marker.
	b.removeSidecar(bucket, key)
	if !b.sidecar {
		if err := xattr.FRemove(sub, xattrName); err != nil && !errors.Is(err, xattr.ENOATTR) {
			return false, fmt.Errorf("posix delete marker %s/%s: %w", bucket, truncate(key), err)
		}
	}
	return false, nil
}

// syncFile fsyncs an open directory.
func syncFile(d *os.File) error {
	if err := d.Sync(); err != nil {
		return fmt.Errorf("posix fsync %s: %w", d.Name(), err)
	}
	return nil
}

// cleanupParents removes dir and its ancestors below bdir while they are
// empty and not markers, each under its marker key's lock.
func (b *Backend) cleanupParents(bucket, bdir, dir string) {
	for dir != bdir && len(dir) > len(bdir) {
		key := dir[len(bdir)+1:]
		unlock, err := b.lock(bucket, key+"/", true)
		if err != nil {
			return
		}
		parent, name := splitPath(dir)
		ok := false
		if d, err := openDir(parent); err == nil {
			ok = b.removeIfEmptyImplicit(bucket, key, d, name)
			d.Close()
		}
		unlock()
		if !ok {
			return
		}
		dir = parent
	}
}

// PutObjectTagging replaces the object's tag set without touching its
// content, ETag or other metadata; an empty map removes all tags. Errors:
// ErrBucketNotFound, ErrObjectNotFound, ErrInvalidObjectName. Safe for
// concurrent use. See the Amazon S3 API Reference, PutObjectTagging.
func (b *Backend) PutObjectTagging(ctx context.Context, bucket, key string, tags map[string]string) error {
	_, op, err := b.resolve(bucket, key)
	if err != nil {
		return err
	}
	unlock, err := b.lock(bucket, key, true)
	if err != nil {
		return err
	}
	defer unlock()
	f, _, rec, err := b.openObject(bucket, key, op, true)
	if err != nil {
		return err
	}
	f.Close()
	rec.Meta.Tags = nonEmpty(tags)
	if err := b.setRecord(bucket, key, op.path, rec); err != nil {
		if notFound(err) {
			return fmt.Errorf("posix tagging %s/%s: %w", bucket, truncate(key), backends.ErrObjectNotFound)
		}
		return err
	}
	return nil
}

// copyChunk is how many bytes CopyObject copies between ctx checks.
const copyChunk = 64 << 20

// CopyObject copies src to dst through a temporary file (copy_file_range(2)
// where the kernel offers it) renamed into place, so readers of dst see the
// old or the new object only. The copy keeps the source's ETag and parts
// count; metadata per opts (S3's COPY/REPLACE directives; checksums always
// follow the content). A marker copies to a marker key, or to an empty
// object. Errors: as Stat for the source (ErrObjectNotFound,
// ErrPreconditionFailed for SourceIfMatch) and as Put for the destination.
// Safe for concurrent use. See the Amazon S3 API Reference, CopyObject.
func (b *Backend) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts backends.CopyOptions) (backends.ObjectInfo, error) {
	_, sop, err := b.resolve(srcBucket, srcKey)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	src, ssi, srec, err := b.openObject(srcBucket, srcKey, sop, false)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	defer src.Close()
	if opts.SourceIfMatch != "" && opts.SourceIfMatch != srec.ETag {
		return backends.ObjectInfo{}, fmt.Errorf("posix copy source %s/%s: %w", srcBucket, truncate(srcKey), backends.ErrPreconditionFailed)
	}
	meta := srec.Meta.metadata()
	if opts.ReplaceMetadata {
		tags, sums := meta.Tags, meta.Checksums
		meta = opts.Metadata
		meta.Tags = tags
		if len(meta.Checksums) == 0 {
			meta.Checksums = sums
		}
	}
	if opts.ReplaceTags {
		meta.Tags = opts.Metadata.Tags
	}
	dbdir, dop, err := b.resolve(dstBucket, dstKey)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	size := ssi.size
	if sop.marker {
		size = 0
	}
	if dop.marker {
		if size != 0 {
			return backends.ObjectInfo{}, fmt.Errorf("posix copy to %s/%s: a key ending in / must be empty: %w", dstBucket, truncate(dstKey), backends.ErrInvalidObjectName)
		}
		return b.commitMarker(dstBucket, dstKey, dbdir, dop, &record{ETag: emptyMD5, Meta: toStored(meta)}, opts.Condition)
	}
	f, err := os.CreateTemp(b.tmp, "copy-*")
	if err != nil {
		return backends.ObjectInfo{}, fmt.Errorf("posix temporary file: %w", err)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil && size > 0 {
		discard(f)
		return backends.ObjectInfo{}, fmt.Errorf("posix copy: %w", err)
	}
	for done := int64(0); done < size; {
		if err := ctx.Err(); err != nil {
			discard(f)
			return backends.ObjectInfo{}, fmt.Errorf("posix copy: %w", err)
		}
		// *os.File to *os.File through io.LimitedReader: copy_file_range(2).
		n, err := io.CopyN(f, src, min(copyChunk, size-done))
		done += n
		if err != nil {
			discard(f)
			return backends.ObjectInfo{}, fmt.Errorf("posix copy: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		discard(f)
		return backends.ObjectInfo{}, fmt.Errorf("posix fsync: %w", err)
	}
	rec := &record{ETag: srec.ETag, Parts: srec.Parts, Meta: toStored(meta)}
	return b.commitFile(ctx, dstBucket, dstKey, dbdir, dop, f, rec, opts.Condition)
}
