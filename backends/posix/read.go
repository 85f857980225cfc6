package posix

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/lakegate/lakegate/backends"
)

// openObject opens the object or marker at op and returns it with its stat
// and record (computing a lazy ETag if needed). held: the caller holds the
// key's exclusive lock. Errors: ErrObjectNotFound.
func (b *Backend) openObject(bucket, key string, op objectPath, held bool) (*os.File, statInfo, *record, error) {
	missing := fmt.Errorf("posix %s/%s: %w", bucket, truncate(key), backends.ErrObjectNotFound)
	var unlock func()
	if b.sidecar && !held {
		u, err := b.lock(bucket, key, false)
		if err != nil {
			return nil, statInfo{}, nil, err
		}
		unlock = u
	}
	f, si, rec, err := b.openLocked(bucket, key, op, held || b.sidecar)
	if unlock != nil {
		unlock()
	}
	if err != nil {
		if notFound(err) {
			return nil, statInfo{}, nil, missing
		}
		return nil, statInfo{}, nil, err
	}
	if op.marker {
		if rec == nil {
			f.Close()
			return nil, statInfo{}, nil, missing
		}
		rec.ETag = emptyMD5
		return f, si, rec, nil
	}
	if !rec.matches(si) {
		rec, err = b.lazyETag(f, si, bucket, key, rec, held)
		if err != nil {
			f.Close()
			return nil, statInfo{}, nil, err
		}
	}
	return f, si, rec, nil
}

// openLocked opens op and reads its record; a directory where a file is
// expected (or the reverse) is fs.ErrNotExist.
func (b *Backend) openLocked(bucket, key string, op objectPath, held bool) (*os.File, statInfo, *record, error) {
	flags := os.O_RDONLY
	if op.marker {
		flags |= syscall.O_DIRECTORY
	}
	f, err := openNoSymlinks(op.path, flags)
	if err != nil {
		return nil, statInfo{}, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, statInfo{}, nil, err
	}
	if op.marker != fi.IsDir() || (!op.marker && !fi.Mode().IsRegular()) {
		f.Close()
		return nil, statInfo{}, nil, os.ErrNotExist
	}
	si := statOf(fi)
	rec, err := b.loadRecord(f, op.path, si, bucket, key, held)
	if err != nil {
		f.Close()
		return nil, statInfo{}, nil, err
	}
	if op.marker && rec != nil && rec.MtimeNS != 0 {
		// A directory's mtime moves with its children; a marker's
		// Last-Modified is when it was written.
		si.mtimeNS = rec.MtimeNS
		si.mtime = timeFromNS(rec.MtimeNS)
	}
	return f, si, rec, nil
}

// Stat returns the object's info. Errors: ErrBucketNotFound,
// ErrObjectNotFound, ErrInvalidObjectName. Safe for concurrent use. See the
// Amazon S3 API Reference, HeadObject.
func (b *Backend) Stat(ctx context.Context, bucket, key string) (backends.ObjectInfo, error) {
	_, op, err := b.resolve(bucket, key)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	f, si, rec, err := b.openObject(bucket, key, op, false)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	f.Close()
	return objectInfo(key, rec, si), nil
}

// Open streams bytes rng of the object from one open file, so the bytes and
// the returned info always describe the same version even if the key is
// overwritten meanwhile. A length past the end is clamped to the end.
// Errors: as Stat, plus ErrInvalidRange when rng.Offset is at or past the
// end (for an empty object: when it is not 0). Safe for concurrent use. See
// the Amazon S3 API Reference, GetObject.
func (b *Backend) Open(ctx context.Context, bucket, key string, rng backends.Range) (io.ReadCloser, backends.ObjectInfo, error) {
	_, op, err := b.resolve(bucket, key)
	if err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	f, si, rec, err := b.openObject(bucket, key, op, false)
	if err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	info := objectInfo(key, rec, si)
	if rng.Offset < 0 || (rng.Offset > 0 && rng.Offset >= info.Size) {
		f.Close()
		return nil, backends.ObjectInfo{}, fmt.Errorf("posix open %s offset %d of %d bytes: %w", truncate(key), rng.Offset, info.Size, backends.ErrInvalidRange)
	}
	n := info.Size - rng.Offset
	if rng.Length >= 0 && rng.Length < n {
		n = rng.Length
	}
	if op.marker {
		f.Close()
		return io.NopCloser(eofReader{}), info, nil
	}
	if rng.Offset > 0 {
		if _, err := f.Seek(rng.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, backends.ObjectInfo{}, fmt.Errorf("posix open %s: %w", truncate(key), err)
		}
	}
	return &fileReader{f: f, r: io.LimitedReader{R: f, N: n}}, info, nil
}

// eofReader is an empty reader.
type eofReader struct{}

// Read returns io.EOF.
func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// fileReader streams a byte range of an open file.
type fileReader struct {
	f *os.File
	r io.LimitedReader
}

// Read reads the next bytes of the range.
func (r *fileReader) Read(p []byte) (int, error) { return r.r.Read(p) }

// WriteTo copies the rest of the range to w, handing w an
// *io.LimitedReader over the *os.File so that network writers can use
// sendfile(2).
func (r *fileReader) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, &r.r) }

// Close closes the file.
func (r *fileReader) Close() error { return r.f.Close() }
