// Package posix is lakegate's local file system backend (the embedded
// default, also suitable for NFS mounts): objects are files under a root
// directory, root/<bucket>/<key>, so the data stays readable by other
// programs.
//
// Layout under Config.Root:
//
//	<bucket>/<key path>                  objects; a key "a/b/" is directory a/b with a marker record
//	.lakegate/tmp/                       temporary files, renamed into place on commit
//	.lakegate/uploads/<bucket>/<id>/     multipart uploads: upload.json, part records and part data
//	.lakegate/meta/<bucket>/<hh>/<hash>  sidecar metadata records (when xattrs are unavailable)
//	.lakegate/locks/<nn>                 flock(2) stripes serialising commits per key
//
// Object metadata (ETag, size and mtime at commit, content headers, user
// metadata, checksums, tags, parts count) is one JSON record in the extended
// attribute "user.lakegate.meta" of the file or marker directory, written on
// the temporary file before the rename so an object and its metadata appear
// together. Where the file system refuses user xattrs (detected at start-up)
// or Config.Sidecar is set, records live in the sidecar store instead, keyed
// by SHA-256 of bucket and key and bound to the inode they describe. Files
// written by other programs get a stable ETag (hex MD5 of the content)
// computed on first access and cached in the same record, keyed by the
// file's size and mtime: if either changes, the ETag is computed again.
//
// Buckets are the top-level directories (real directories on the root's
// file system, since objects are renamed in from .lakegate/tmp; symbolic
// links are not buckets); names starting with "." are reserved, which keeps
// .lakegate out of the bucket namespace.
//
// No key reaches outside its bucket directory: keyToPath refuses ".", "..",
// empty segments and NUL, and every path derived from a key is opened with
// openat2(2) RESOLVE_NO_SYMLINKS (changes go through *at(2) calls on a
// parent opened that way), so a symbolic link planted inside a bucket is
// never followed. Symbolic links and special files are not listed.
package posix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/xattr"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/lakegate/lakegate/backends"
)

// Config configures the posix backend; see the package comment for the
// layout under Root.
type Config struct {
	// Root is the directory holding one directory per bucket. It is created
	// if missing. Default: none (required; the gateway's embedded default
	// passes ./data).
	Root string `yaml:"root"`
	// Sidecar forces metadata records into the sidecar store even where the
	// file system supports user extended attributes. Default: false
	// (detected per root at start-up).
	Sidecar bool `yaml:"sidecar"`
}

// staleTempAge is how old a temporary file must be before start-up removes
// it: old enough that no running writer (of any gateway process sharing the
// root) can still own it.
const staleTempAge = 24 * time.Hour

// Backend stores objects as files under a root directory. It implements
// backends.Backend, Buckets, Multipart, Copier and Tagger. All methods are
// safe for concurrent use, also by several processes sharing the root on a
// local file system (commits are serialised per key with flock(2)).
type Backend struct {
	root    string // absolute, clean
	priv    string // root/.lakegate
	tmp     string
	uploads string
	meta    string
	locks   string
	nameMax int  // longest file name the root's file system allows, bytes
	sidecar bool // records in the sidecar store instead of xattrs
	log     *slog.Logger
	metrics *metrics
}

// metrics are the backend's Prometheus collectors.
type metrics struct {
	lazyETags prometheus.Counter
	sidecar   prometheus.Gauge
}

// newMetrics registers the collectors with reg (nil: unregistered). A second
// posix backend on the same registry shares the first one's collectors.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		lazyETags: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lakegate_posix_lazy_etags_total",
			Help: "ETags computed from file content for files written by other programs or changed since lakegate wrote them.",
		}),
		sidecar: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lakegate_posix_sidecar_metadata",
			Help: "1 if object metadata is kept in sidecar records instead of extended attributes, else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.lazyETags); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.lazyETags = are.ExistingCollector.(prometheus.Counter)
	}
	if err := reg.Register(m.sidecar); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.sidecar = are.ExistingCollector.(prometheus.Gauge)
	}
	return m, nil
}

// New opens (creating if needed) the posix backend at cfg.Root. It creates
// the private directories, removes temporary files older than a day left by
// crashed writers, and probes whether the file system accepts user extended
// attributes (falling back to sidecar records if not, with a warning).
// logger and reg may be nil.
func New(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Backend, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Root == "" {
		return nil, errors.New("posix: root is required")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("posix root %s: %w", cfg.Root, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("posix root: %w", err)
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("posix metrics: %w", err)
	}
	b := &Backend{
		root:    root,
		priv:    root + "/" + privateDir,
		log:     logger.With("backend", "posix"),
		metrics: m,
	}
	b.tmp = b.priv + "/tmp"
	b.uploads = b.priv + "/uploads"
	b.meta = b.priv + "/meta"
	b.locks = b.priv + "/locks"
	for _, d := range []string{b.priv, b.tmp, b.uploads, b.meta, b.locks} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("posix private directory: %w", err)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return nil, fmt.Errorf("posix statfs %s: %w", root, err)
	}
	b.nameMax = int(st.Namelen)
	if b.nameMax <= 0 || b.nameMax > 255 {
		b.nameMax = 255
	}
	b.sidecar = cfg.Sidecar
	if !b.sidecar {
		if err := b.probeXattr(); err != nil {
			b.log.Warn("user extended attributes unavailable, using sidecar metadata records", "root", root, "error", err)
			b.sidecar = true
		}
	}
	if b.sidecar {
		m.sidecar.Set(1)
	} else {
		m.sidecar.Set(0)
	}
	b.removeStaleTemps(ctx)
	return b, nil
}

// probeXattr sets and reads back a user xattr on a temporary file in the
// root's file system.
func (b *Backend) probeXattr() error {
	f, err := os.CreateTemp(b.tmp, "probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := xattr.FSet(f, xattrName, []byte("probe")); err != nil {
		return err
	}
	v, err := xattr.FGet(f, xattrName)
	if err != nil {
		return err
	}
	if string(v) != "probe" {
		return errors.New("xattr read back differs")
	}
	return nil
}

// removeStaleTemps removes temporary entries older than staleTempAge.
func (b *Backend) removeStaleTemps(ctx context.Context) {
	entries, err := os.ReadDir(b.tmp)
	if err != nil {
		b.log.Warn("cannot read temporary directory", "error", err)
		return
	}
	removed := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleTempAge {
			continue
		}
		if err := os.RemoveAll(b.tmp + "/" + e.Name()); err == nil {
			removed++
		}
	}
	if removed > 0 {
		b.log.Info("removed stale temporary files", "count", removed)
	}
}

// Root returns the absolute root directory.
func (b *Backend) Root() string { return b.root }

// SidecarMetadata reports whether object metadata is kept in sidecar records.
func (b *Backend) SidecarMetadata() bool { return b.sidecar }

// bucketDir returns the directory of a valid bucket name.
func (b *Backend) bucketDir(bucket string) (string, error) {
	if err := validBucket(bucket, b.nameMax); err != nil {
		return "", err
	}
	return b.root + "/" + bucket, nil
}

// checkBucket returns the bucket directory, ErrBucketNotFound if it does not
// exist (invalid names cannot exist either).
func (b *Backend) checkBucket(bucket string) (string, error) {
	dir, err := b.bucketDir(bucket)
	if err != nil {
		return "", fmt.Errorf("posix bucket %q: %w", bucket, backends.ErrBucketNotFound)
	}
	fi, err := os.Lstat(dir) // a symlinked bucket is not followed
	if err != nil || !fi.IsDir() {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("posix bucket %q: %w", bucket, err)
		}
		return "", fmt.Errorf("posix bucket %q: %w", bucket, backends.ErrBucketNotFound)
	}
	return dir, nil
}

// resolve returns the bucket directory and the key's path, checking that the
// bucket exists.
func (b *Backend) resolve(bucket, key string) (string, objectPath, error) {
	dir, err := b.checkBucket(bucket)
	if err != nil {
		return "", objectPath{}, err
	}
	op, err := keyToPath(dir, key, b.nameMax)
	return dir, op, err
}

// notFound reports whether err means "no such object at this path": the
// path or a parent is missing, a parent is a file, or a symlink was refused.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP)
}

// lstatIno returns the inode number of fi, 0 if unknown.
func lstatIno(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// CreateBucket creates the bucket directory. Errors: ErrBucketExists,
// ErrInvalidBucketName. See the Amazon S3 API Reference, CreateBucket.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	dir, err := b.bucketDir(bucket)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("posix create bucket %q: %w", bucket, backends.ErrBucketExists)
		}
		return fmt.Errorf("posix create bucket %q: %w", bucket, err)
	}
	return syncDir(b.root)
}

// DeleteBucket removes an empty bucket: one without objects, directory
// markers or multipart uploads (directories holding none of these do not
// count and are removed). Errors: ErrBucketNotFound, ErrBucketNotEmpty. See
// the Amazon S3 API Reference, DeleteBucket.
func (b *Backend) DeleteBucket(ctx context.Context, bucket string) error {
	dir, err := b.checkBucket(bucket)
	if err != nil {
		return err
	}
	notEmpty := fmt.Errorf("posix delete bucket %q: %w", bucket, backends.ErrBucketNotEmpty)
	if ups, err := os.ReadDir(b.uploads + "/" + bucket); err == nil && len(ups) > 0 {
		return notEmpty
	}
	has, err := b.hasObject(dir)
	if err != nil {
		return fmt.Errorf("posix delete bucket %q: %w", bucket, err)
	}
	if has {
		return notEmpty
	}
	// Remove leftover empty directories bottom-up with rmdir only, so a file
	// written concurrently makes the delete fail instead of vanishing.
	if err := rmEmptyTree(dir); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return notEmpty
		}
		return fmt.Errorf("posix delete bucket %q: %w", bucket, err)
	}
	os.Remove(b.uploads + "/" + bucket)
	os.RemoveAll(b.meta + "/" + bucket)
	return syncDir(b.root)
}

// rmEmptyTree removes dir and its subdirectories with rmdir(2), failing with
// ENOTEMPTY if anything other than directories is found.
func rmEmptyTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			return syscall.ENOTEMPTY
		}
		if err := rmEmptyTree(dir + "/" + e.Name()); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

// HeadBucket returns the bucket's info; Created is the directory's birth
// time where the file system records one, else its modification time.
// Errors: ErrBucketNotFound. See the Amazon S3 API Reference, HeadBucket.
func (b *Backend) HeadBucket(ctx context.Context, bucket string) (backends.BucketInfo, error) {
	dir, err := b.checkBucket(bucket)
	if err != nil {
		return backends.BucketInfo{}, err
	}
	return backends.BucketInfo{Name: bucket, Created: birthTime(dir)}, nil
}

// birthTime returns the birth time of path, or its mtime if unknown.
func birthTime(path string) time.Time {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BTIME|unix.STATX_MTIME, &stx); err == nil {
		if stx.Mask&unix.STATX_BTIME != 0 {
			return time.Unix(stx.Btime.Sec, int64(stx.Btime.Nsec)).UTC()
		}
		return time.Unix(stx.Mtime.Sec, int64(stx.Mtime.Nsec)).UTC()
	}
	if fi, err := os.Stat(path); err == nil {
		return fi.ModTime().UTC()
	}
	return time.Time{}
}

// ListBuckets returns the bucket directories sorted by name. See the Amazon
// S3 API Reference, ListBuckets.
func (b *Backend) ListBuckets(ctx context.Context) ([]backends.BucketInfo, error) {
	entries, err := os.ReadDir(b.root) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("posix list buckets: %w", err)
	}
	var out []backends.BucketInfo
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || validBucket(name, b.nameMax) != nil {
			continue
		}
		if !e.IsDir() {
			continue // files and symbolic links are not buckets
		}
		out = append(out, backends.BucketInfo{Name: name, Created: birthTime(b.root + "/" + name)})
	}
	return out, nil
}

// syncDir fsyncs a directory so that renames and creations in it are durable.
func syncDir(dir string) error {
	d, err := openDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("posix fsync %s: %w", dir, err)
	}
	return nil
}

var (
	_ backends.Backend   = (*Backend)(nil)
	_ backends.Buckets   = (*Backend)(nil)
	_ backends.Multipart = (*Backend)(nil)
	_ backends.Copier    = (*Backend)(nil)
	_ backends.Tagger    = (*Backend)(nil)
)
