package posix

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"

	"github.com/lakegate/lakegate/backends"
)

// xattrName is the extended attribute holding an object's record.
const xattrName = "user.lakegate.meta"

// maxXattrRecord is the largest record in bytes stored in the xattr itself;
// larger ones (rare: S3 allows 2 KB of user metadata plus 10 tags) go to
// the sidecar store with a stub in the xattr, because ext4 fits all xattrs
// of an inode into one 4 KiB block.
const maxXattrRecord = 3072

// recordVersion is the current record format.
const recordVersion = 1

// record is the metadata lakegate keeps for an object or directory marker.
type record struct {
	V int `json:"v"`
	// Key and Ino bind a sidecar record to the key and inode it describes;
	// both are empty in xattr records (the xattr is on the inode itself).
	Key string `json:"key,omitempty"`
	Ino uint64 `json:"ino,omitempty"`
	// ETag is unquoted; Size and MtimeNS are the file's at the time the
	// ETag was recorded, so a change by another program is detected.
	ETag    string `json:"etag,omitempty"`
	Size    int64  `json:"size"`
	MtimeNS int64  `json:"mtime_ns,omitempty"`
	Parts   int    `json:"parts,omitempty"`
	// Lazy: the ETag was computed from the content of a file lakegate did
	// not write (or that changed since).
	Lazy bool `json:"lazy,omitempty"`
	// Sidecar marks an xattr stub whose full record is in the sidecar store.
	Sidecar bool       `json:"sidecar,omitempty"`
	Meta    storedMeta `json:"meta,omitzero"`
}

// storedMeta is backends.Metadata with compact JSON names.
type storedMeta struct {
	ContentType        string            `json:"ct,omitempty"`
	ContentEncoding    string            `json:"ce,omitempty"`
	ContentDisposition string            `json:"cd,omitempty"`
	ContentLanguage    string            `json:"cl,omitempty"`
	CacheControl       string            `json:"cc,omitempty"`
	Expires            string            `json:"exp,omitempty"`
	User               map[string]string `json:"user,omitempty"`
	Checksums          map[string]string `json:"sums,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
}

// toStored converts metadata for storage.
func toStored(m backends.Metadata) storedMeta {
	return storedMeta{
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		ContentDisposition: m.ContentDisposition, ContentLanguage: m.ContentLanguage,
		CacheControl: m.CacheControl, Expires: m.Expires,
		User: nonEmpty(m.User), Checksums: nonEmpty(m.Checksums), Tags: nonEmpty(m.Tags),
	}
}

// metadata converts stored metadata back.
func (s storedMeta) metadata() backends.Metadata {
	return backends.Metadata{
		ContentType: s.ContentType, ContentEncoding: s.ContentEncoding,
		ContentDisposition: s.ContentDisposition, ContentLanguage: s.ContentLanguage,
		CacheControl: s.CacheControl, Expires: s.Expires,
		User: maps.Clone(s.User), Checksums: maps.Clone(s.Checksums), Tags: maps.Clone(s.Tags),
	}
}

// nonEmpty returns a copy of m, nil if empty.
func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// statInfo is what a record is checked against.
type statInfo struct {
	ino     uint64
	size    int64
	mtimeNS int64
	mtime   time.Time
	dir     bool
}

// statOf extracts statInfo from a FileInfo.
func statOf(fi os.FileInfo) statInfo {
	return statInfo{ino: lstatIno(fi), size: fi.Size(), mtimeNS: fi.ModTime().UnixNano(), mtime: fi.ModTime().UTC(), dir: fi.IsDir()}
}

// matches reports whether rec (with an ETag) still describes the file.
func (rec *record) matches(si statInfo) bool {
	if rec == nil || rec.ETag == "" {
		return false
	}
	if si.dir {
		return true
	}
	return rec.Size == si.size && rec.MtimeNS == si.mtimeNS
}

// sidecarPath returns the sidecar record path for bucket/key.
func (b *Backend) sidecarPath(bucket, key string) string {
	h := sha256.Sum256([]byte(key))
	s := hex.EncodeToString(h[:])
	return b.meta + "/" + bucket + "/" + s[:2] + "/" + s[2:]
}

// readSidecar returns the sidecar record of bucket/key if it describes
// inode ino, nil otherwise.
func (b *Backend) readSidecar(bucket, key string, ino uint64) (*record, error) {
	data, err := os.ReadFile(b.sidecarPath(bucket, key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("posix read sidecar: %w", err)
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil || rec.Key != key || rec.Ino != ino {
		return nil, nil // corrupt or stale: treated as absent
	}
	return &rec, nil
}

// writeSidecar stores rec (bound to key and ino) atomically. The caller holds
// the key's lock.
func (b *Backend) writeSidecar(bucket, key string, ino uint64, rec *record) error {
	r := *rec
	r.Key, r.Ino, r.Sidecar = key, ino, false
	data, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	p := b.sidecarPath(bucket, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("posix sidecar directory: %w", err)
	}
	f, err := os.CreateTemp(b.tmp, "sidecar-*")
	if err != nil {
		return fmt.Errorf("posix sidecar: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("posix sidecar: %w", err)
	}
	return nil
}

// removeSidecar removes the sidecar record of bucket/key if any.
func (b *Backend) removeSidecar(bucket, key string) {
	os.Remove(b.sidecarPath(bucket, key))
}

// encodeForXattr returns the xattr value for rec and whether the full
// record must also go to the sidecar store (too large for an xattr).
func encodeForXattr(rec *record) ([]byte, bool, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, false, err
	}
	if len(data) <= maxXattrRecord {
		return data, false, nil
	}
	stub, err := json.Marshal(&record{V: recordVersion, Sidecar: true})
	return stub, true, err
}

// loadRecord reads the record of the object or marker at path (f, if not
// nil, is open on it; si describes it). It returns nil without error when
// there is none. In sidecar mode the caller should hold the key's lock (at
// least shared) for a consistent read; held says it does.
func (b *Backend) loadRecord(f *os.File, path string, si statInfo, bucket, key string, held bool) (*record, error) {
	if b.sidecar {
		return b.readSidecar(bucket, key, si.ino)
	}
	var data []byte
	var err error
	if f != nil {
		data, err = xattr.FGet(f, xattrName)
	} else {
		data, err = xattr.LGet(path, xattrName)
	}
	if err != nil {
		if errors.Is(err, xattr.ENOATTR) {
			return nil, nil
		}
		if notFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("posix read metadata %s: %w", key, err)
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, nil // corrupt: treated as absent, the ETag is recomputed
	}
	if rec.Sidecar {
		if !held {
			unlock, err := b.lock(bucket, key, false)
			if err != nil {
				return nil, err
			}
			defer unlock()
		}
		return b.readSidecar(bucket, key, si.ino)
	}
	return &rec, nil
}

// lazyETag computes the hex MD5 of the file open as f (read with pread, so
// f's offset is untouched), records it as a Lazy record for si (keeping any
// metadata of old), and returns the record. Records whose file changed
// since (size or mtime) are not stored. held: the caller holds the key's
// exclusive lock.
func (b *Backend) lazyETag(f *os.File, si statInfo, bucket, key string, old *record, held bool) (*record, error) {
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, si.size)); err != nil {
		return nil, fmt.Errorf("posix etag of %s: %w", key, err)
	}
	b.metrics.lazyETags.Inc()
	rec := &record{V: recordVersion, ETag: hex.EncodeToString(h.Sum(nil)), Size: si.size, MtimeNS: si.mtimeNS, Lazy: true}
	if old != nil {
		rec.Meta, rec.Parts = old.Meta, old.Parts
		if old.ETag != rec.ETag {
			rec.Parts = 0 // content changed: no longer the multipart object
		}
	}
	// Cache it, best effort: a failure only means computing it again.
	fi, err := f.Stat()
	if err != nil || statOf(fi).size != si.size || statOf(fi).mtimeNS != si.mtimeNS {
		return rec, nil
	}
	if !held {
		unlock, err := b.lock(bucket, key, true)
		if err != nil {
			return rec, nil
		}
		defer unlock()
	}
	if b.sidecar {
		if cur, err := os.Lstat(f.Name()); err == nil && lstatIno(cur) == si.ino {
			b.writeSidecar(bucket, key, si.ino, rec)
		}
		return rec, nil
	}
	data, toSidecar, err := encodeForXattr(rec)
	if err == nil {
		if toSidecar {
			b.writeSidecar(bucket, key, si.ino, rec)
		}
		xattr.FSet(f, xattrName, data)
	}
	return rec, nil
}

// objectInfo builds the ObjectInfo of key from its record and stat.
func objectInfo(key string, rec *record, si statInfo) backends.ObjectInfo {
	info := backends.ObjectInfo{Key: key, Size: si.size, LastModified: si.mtime}
	if si.dir {
		info.Size = 0
	}
	if rec != nil {
		info.ETag = rec.ETag
		info.Metadata = rec.Meta.metadata()
		info.PartsCount = rec.Parts
	}
	return info
}

// lockStripes is the number of lock files; keys hash onto them.
const lockStripes = 256

// lock takes the flock(2) stripe of bucket/key, exclusive or shared, and
// returns its release. Each call opens its own file description, so
// goroutines of one process exclude each other as separate processes do.
func (b *Backend) lock(bucket, key string, exclusive bool) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	name := fmt.Sprintf("%s/%02x", b.locks, h.Sum32()%lockStripes)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("posix lock: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("posix lock: %w", err)
	}
	return func() { f.Close() }, nil
}
