// Package hdfs is lakegate's backend for (Kerberized) HDFS, built on
// github.com/colinmarc/hdfs/v2 and github.com/jcmturner/gokrb5/v8.
//
// Layout: bucket b is the directory <root>/b and object key k the file
// <root>/b/k (see keys.go for the exact mapping and the keys refused with
// backends.ErrInvalidObjectName). Directory markers: PUT "d/" creates the
// directory d and records it as an explicit marker (xattrMeta on the
// directory). A directory below a bucket is the zero-byte object "d/" (ETag
// of empty content) in listings, Stat and Open only while it is an explicit
// marker or empty (an empty directory made by another HDFS client, e.g.
// hdfs dfs -mkdir or Spark, so S3A sees an empty directory); a non-empty
// directory without the record shows only through its contents (a common
// prefix with a delimiter), exactly as on S3. DELETE "d/" on a non-empty
// directory drops the record and leaves the children; Stat "d" is
// ErrObjectNotFound. A key that is both a file and a directory
// prefix ("a" and "a/b") is refused with backends.ErrKeyConflict. Deleting
// the last object of a directory removes the directories left empty, up to
// the bucket, except those made by PUT "d/" (explicit markers), as on S3.
//
// Metadata: ETag, content headers, user metadata, checksums and parts count
// are kept in the extended attribute user.lakegate.meta, tags in
// user.lakegate.tags. Files written by other HDFS clients have none; they
// are listed and read like any object, with the ETag described at
// derivedETag.
//
// Writes: every write streams into a temporary file in the gateway-private
// staging directory <root>/.lakegate/tmp (never listed), sets the
// attributes, and renames it into place (rename2 with OverwriteDest), so
// readers see the old or the new object, never a partial one. On any error
// the writer is closed and the temporary file deleted (which also drops its
// lease). Conditional writes (If-None-Match, If-Match) serialise on a lock
// file in <root>/.lakegate/locks, created with HDFS's exclusive create, so
// that concurrent conditional writers in any number of gateway processes
// cannot both win.
//
// Multipart uploads live in <root>/.lakegate/uploads/<bucket>/<uploadID>/:
// the upload's key, metadata and initiation time in an attribute of that
// directory, each part as its own file (so parts can be uploaded in
// parallel, out of order, and re-uploaded). CompleteMultipartUpload streams
// the parts into one temporary file and renames it into place:
// colinmarc/hdfs has no concat RPC.
//
// Every method is safe for concurrent use. A bounded pool of hdfs.Client
// (pool.go) serialises nothing but the clients themselves.
package hdfs

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
)

// Timing constants that are not configuration.
const (
	// idleTTL: idle pooled clients older than this are closed.
	idleTTL = time.Minute
	// lockStale: a conditional-write lock file older than this was left by
	// a crashed process and may be removed.
	lockStale = time.Minute
	// lockWait: how long a conditional writer waits for the lock before
	// answering ErrConditionalConflict.
	lockWait = 30 * time.Second
	// sweepEvery: period of the staging-area janitor.
	sweepEvery = 10 * time.Minute
)

// copyBufSize is the size of the buffers bodies are streamed through.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Backend stores S3 buckets and objects in HDFS. Create it with New and
// release it with Close.
type Backend struct {
	cfg     Config
	logger  *slog.Logger
	m       *metrics
	krb     *krbclient.Client
	pool    *pool
	maxComp int

	root, tmpDir, uploadsDir, locksDir string
	// inodePaths: the NameNode resolves /.reserved/.inodes/<id>, so reads
	// and attribute lookups can be pinned to the inode found by a stat.
	inodePaths bool

	dirs     *dirCache
	keyLocks keyedMutex

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New connects to HDFS as configured (logging in from the keytab when
// cfg.Kerberos.Principal is set), creates the root and the staging area
// <root>/.lakegate if missing, and returns a ready Backend. logger may be
// nil; reg may be nil (metrics are then not registered). Errors: invalid
// configuration, Kerberos login failures, and backends.ErrUnavailable when
// no NameNode answers.
func New(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("hdfs metrics: %w", err)
	}
	b := &Backend{
		cfg: cfg, logger: logger, m: m, maxComp: *cfg.MaxComponentLength,
		root:       cfg.Root,
		tmpDir:     path.Join(cfg.Root, ".lakegate", "tmp"),
		uploadsDir: path.Join(cfg.Root, ".lakegate", "uploads"),
		locksDir:   path.Join(cfg.Root, ".lakegate", "locks"),
		dirs:       newDirCache(dirCacheEntries, dirCacheTTL),
		stop:       make(chan struct{}),
	}
	if cfg.Kerberos.Principal != "" {
		if b.krb, err = kerberosLogin(cfg.Kerberos, logger, m); err != nil {
			return nil, err
		}
	}
	opts := b.clientOptions()
	b.pool = newPool(cfg.PoolSize, cfg.ClientMaxAge, idleTTL, func() (*hdfs.Client, error) { return hdfs.NewClient(opts) }, m)
	err = b.withClient(ctx, true, func(c *client) error {
		for _, d := range []string{b.root, b.tmpDir, b.uploadsDir, b.locksDir} {
			perm := os.FileMode(0o700)
			if d == b.root {
				perm = 0o755
			}
			if err := c.mkdirAll(d, perm); err != nil {
				return b.wrap("mkdir", d, err)
			}
		}
		fi, err := c.stat(b.root)
		if err != nil {
			return b.wrap("stat", b.root, err)
		}
		if ifi, err := c.stat(inodePath(fileID(fi))); err == nil && ifi.IsDir() {
			b.inodePaths = true
		}
		return nil
	})
	if err != nil {
		b.pool.close()
		if b.krb != nil {
			b.krb.Destroy()
		}
		return nil, err
	}
	logger.Info("hdfs backend ready", "namenodes", strings.Join(cfg.Namenodes, ","), "root", cfg.Root,
		"kerberos", cfg.Kerberos.Principal != "", "data_transfer_protection", cfg.DataTransferProtection,
		"pool_size", cfg.PoolSize, "inode_paths", b.inodePaths)
	b.wg.Add(1)
	go b.janitor()
	return b, nil
}

// clientOptions builds colinmarc's options. They go through
// ClientOptionsFromConf because only it sets the flag that skips SASL on
// privileged DataNode ports, as Hadoop's Java client does.
func (b *Backend) clientOptions() hdfs.ClientOptions {
	conf := hadoopconf.HadoopConf{"dfs.data.transfer.protection": b.cfg.DataTransferProtection}
	opts := hdfs.ClientOptionsFromConf(conf)
	opts.Addresses = b.cfg.Namenodes
	opts.User = b.cfg.User
	opts.KerberosClient = nil
	if b.krb != nil {
		opts.KerberosClient = b.krb
		opts.KerberosServicePrincipleName = b.cfg.Kerberos.ServicePrincipal
	}
	opts.UseDatanodeHostname = b.cfg.UseDatanodeHostname
	dial := (&net.Dialer{Timeout: b.cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	timeout := b.cfg.IOTimeout
	wrapped := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: conn, timeout: timeout}, nil
	}
	opts.NamenodeDialFunc = wrapped
	opts.DatanodeDialFunc = wrapped
	return opts
}

// deadlineConn bounds every Read and Write by a fresh deadline, so a hung
// NameNode or DataNode fails the operation (colinmarc has no context or RPC
// timeout). A zero deadline from colinmarc does not clear it.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

// Read reads with a deadline of now + timeout.
func (c *deadlineConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(p)
}

// Write writes with a deadline of now + timeout.
func (c *deadlineConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// SetDeadline passes non-zero deadlines through.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

// Close stops the janitor, closes the client pool and ends the Kerberos
// session. Requests in flight finish with the clients they hold. Close is
// idempotent.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		b.wg.Wait()
		b.pool.close()
		if b.krb != nil {
			b.krb.Destroy()
		}
	})
	return nil
}

// janitor evicts idle clients and sweeps the staging area until Close.
func (b *Backend) janitor() {
	defer b.wg.Done()
	idle := time.NewTicker(idleTTL / 2)
	defer idle.Stop()
	sweep := time.NewTimer(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-idle.C:
			b.pool.evictIdle()
		case <-sweep.C:
			b.sweepStaging()
			sweep.Reset(sweepEvery)
		}
	}
}

// sweepStaging removes temporary files and directories older than
// StagingMaxAge (left by crashed processes) and stale lock files.
func (b *Backend) sweepStaging() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := b.withClient(ctx, true, func(c *client) error {
		for _, d := range []struct {
			dir string
			age time.Duration
		}{{b.tmpDir, b.cfg.StagingMaxAge}, {b.locksDir, lockStale}} {
			fis, err := c.readDir(d.dir)
			if err != nil {
				return err
			}
			for _, fi := range fis {
				if time.Since(fi.ModTime()) > d.age {
					p := d.dir + "/" + fi.Name()
					if err := c.removeAll(b.attrPath(p, fileID(fi))); err != nil {
						b.logger.Warn("hdfs staging sweep: remove failed", "path", p, "error", err)
					} else {
						b.logger.Info("hdfs staging sweep: removed stale entry", "path", p, "age", time.Since(fi.ModTime()).Round(time.Second))
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.logger.Warn("hdfs staging sweep failed", "error", err)
	}
}

// withClient runs fn with a pooled client. When fn is idempotent and fails
// because the client's connection broke (a NameNode restart), it runs once
// more on a fresh client.
func (b *Backend) withClient(ctx context.Context, idempotent bool, fn func(c *client) error) error {
	for attempt := 0; ; attempt++ {
		c, err := b.pool.get(ctx)
		if err != nil {
			return err
		}
		err = fn(c)
		broken := c.broken
		b.pool.put(c)
		if err != nil && broken && idempotent && attempt == 0 && ctx.Err() == nil {
			b.logger.Debug("hdfs retrying on a new connection", "error", err)
			continue
		}
		return err
	}
}

// inodePath is the HDFS path that names an inode whatever its current name.
func inodePath(id uint64) string {
	return "/.reserved/.inodes/" + strconv.FormatUint(id, 10)
}

// attrPath returns the path that pins operations to the inode id found at p
// (p itself when the NameNode does not resolve inode paths).
func (b *Backend) attrPath(p string, id uint64) string {
	if b.inodePaths && id != 0 {
		return inodePath(id)
	}
	return p
}

// fileID returns the inode ID of an HDFS file status.
func fileID(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*hdfs.FileStatus); ok {
		return st.GetFileId()
	}
	return 0
}

// childrenNum returns the number of entries of a directory status (-1 if
// unknown).
func childrenNum(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*hdfs.FileStatus); ok && st.ChildrenNum != nil {
		return int(st.GetChildrenNum())
	}
	return -1
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tmpPath returns a fresh path in the staging directory.
func (b *Backend) tmpPath() string {
	return b.tmpDir + "/" + randomHex(16)
}

// bucketDir returns the directory of bucket; an invalid name is reported as
// notFound wrapped (ErrBucketNotFound for object operations).
func (b *Backend) bucketDir(bucket string, notFound error) (string, error) {
	if err := validBucket(bucket); err != nil {
		if notFound != nil {
			return "", fmt.Errorf("hdfs bucket %q: %w", bucket, notFound)
		}
		return "", err
	}
	return b.root + "/" + bucket, nil
}

// notFound reports whether err means the path (or a parent) does not exist.
func notFound(err error) bool {
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	switch remoteException(err) {
	case "java.io.FileNotFoundException", "org.apache.hadoop.fs.ParentNotDirectoryException":
		return true
	}
	return false
}

// isMissing reports whether err from an operation on p (inside the bucket
// directory bdir) means that nothing is at p. Besides "not found", HDFS
// answers a path that runs through a file ("a/b" when "a" is a file) with
// AccessControlException ("is not a directory"), which colinmarc turns into
// os.ErrPermission without the message: then the ancestors are checked.
func (b *Backend) isMissing(c *client, bdir, p string, err error) bool {
	if notFound(err) {
		return true
	}
	return errors.Is(err, os.ErrPermission) && b.fileOnPath(c, bdir, p)
}

// fileOnPath reports whether a proper ancestor of p below bdir is a file.
func (b *Backend) fileOnPath(c *client, bdir, p string) bool {
	rel, ok := strings.CutPrefix(p, bdir+"/")
	if !ok {
		return false
	}
	cur := bdir
	segs := strings.Split(rel, "/")
	for _, seg := range segs[:len(segs)-1] {
		cur += "/" + seg
		fi, err := c.stat(cur)
		if err != nil {
			return false
		}
		if !fi.IsDir() {
			return true
		}
	}
	return false
}

// wrap turns a colinmarc error into a contract error with context.
func (b *Backend) wrap(op, p string, err error) error {
	if err == nil {
		return nil
	}
	ex := remoteException(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, errPoolClosed):
		return fmt.Errorf("hdfs %s %s: %w", op, p, err)
	case isUnavailable(err):
		return fmt.Errorf("hdfs %s %s: %w: %w", op, p, backends.ErrUnavailable, err)
	case strings.Contains(ex, "PathComponentTooLongException"), strings.HasSuffix(ex, "InvalidPathException"),
		strings.Contains(ex, "MaxDirectoryItemsExceededException"):
		return fmt.Errorf("hdfs %s %s: %w: %w", op, p, backends.ErrInvalidObjectName, err)
	case strings.Contains(err.Error(), "XAttr is too big"):
		// The cluster's dfs.namenode.fs-limits.max-xattr-size is below
		// the limit encode checks.
		return fmt.Errorf("hdfs %s %s: %w: %w", op, p, backends.ErrMetadataTooLarge, err)
	case errors.Is(err, os.ErrPermission), strings.HasSuffix(ex, "AccessControlException"):
		return fmt.Errorf("hdfs %s %s: permission denied for the gateway's HDFS user: %w: %w", op, p, backends.ErrAccessDenied, err)
	}
	return fmt.Errorf("hdfs %s %s: %w", op, p, err)
}

// missing decides whether a path that was not found means a missing bucket
// or a missing object.
func (b *Backend) missing(c *client, bucket, bdir, key string) error {
	if err := b.bucketExists(c, bucket, bdir); err != nil {
		return err
	}
	return fmt.Errorf("hdfs %s/%s: %w", bucket, key, backends.ErrObjectNotFound)
}

// objStat is what statObject learns about a key.
type objStat struct {
	info backends.ObjectInfo
	fi   os.FileInfo
	path string
	id   uint64
	dir  bool
	meta *storedMeta // xattrMeta, if any (on a directory: an explicit marker)
}

// statObject returns the object at key: a file for a plain key, a
// directory that is a marker (see dirIsMarker) for a key ending in "/".
// Errors: ErrInvalidObjectName,
// ErrBucketNotFound, ErrObjectNotFound, ErrUnavailable.
func (b *Backend) statObject(c *client, bucket, bdir, key string) (objStat, error) {
	p, isDir, err := keyToPath(bdir, key, b.maxComp)
	if err != nil {
		return objStat{}, err
	}
	fi, err := c.stat(p)
	if err != nil {
		if b.isMissing(c, bdir, p, err) {
			return objStat{}, b.missing(c, bucket, bdir, key)
		}
		return objStat{}, b.wrap("stat", p, err)
	}
	if fi.IsDir() != isDir {
		return objStat{}, fmt.Errorf("hdfs %s/%s: %w", bucket, key, backends.ErrObjectNotFound)
	}
	id := fileID(fi)
	attrs, err := b.readObjectAttrs(c, b.attrPath(p, id))
	if err != nil {
		if notFound(err) {
			return objStat{}, fmt.Errorf("hdfs %s/%s: %w", bucket, key, backends.ErrObjectNotFound)
		}
		return objStat{}, b.wrap("getXAttrs", p, err)
	}
	if isDir && attrs[xattrMeta] == "" {
		// Not an explicit marker: an object only while empty.
		vis, err := b.dirIsMarker(c, p, fi, childrenNum(fi))
		switch {
		case err != nil && notFound(err), err == nil && !vis:
			return objStat{}, fmt.Errorf("hdfs %s/%s: %w", bucket, key, backends.ErrObjectNotFound)
		case err != nil:
			return objStat{}, b.wrap("readdir", p, err)
		}
	}
	st := objStat{info: objectInfo(key, fi, attrs), fi: fi, path: p, id: id, dir: isDir}
	if m, ok := decodeMeta(attrs[xattrMeta]); ok {
		st.meta = &m
	}
	return st, nil
}

// readObjectAttrs returns xattrMeta of p, or for a file or directory
// without it, xattrTags if present: one NameNode call for objects written
// through lakegate, three for others.
func (b *Backend) readObjectAttrs(c *client, p string) (map[string]string, error) {
	attrs, err := c.getXAttrs(p, xattrMeta)
	if err == nil || !isXAttrMissing(err) {
		return attrs, err
	}
	return c.readAttrs(p, xattrTags)
}

// objectInfo builds the ObjectInfo of a file or directory from its status
// and attributes (xattrMeta or xattrTags; either may be absent).
func objectInfo(key string, fi os.FileInfo, attrs map[string]string) backends.ObjectInfo {
	info := backends.ObjectInfo{Key: key, LastModified: fi.ModTime()}
	meta, ok := decodeMeta(attrs[xattrMeta])
	if fi.IsDir() {
		info.ETag = emptyMD5
		if ok {
			info.Metadata = meta.metadata(true)
		}
	} else {
		info.Size = fi.Size()
		fresh := ok && meta.Size == fi.Size() && meta.MTime == fi.ModTime().UnixMilli()
		switch {
		case fresh:
			info.ETag, info.PartsCount, info.Metadata = meta.ETag, meta.Parts, meta.metadata(true)
		case ok:
			info.ETag, info.Metadata = derivedETag(fileID(fi), fi.Size(), fi.ModTime()), meta.metadata(false)
		default:
			info.ETag = derivedETag(fileID(fi), fi.Size(), fi.ModTime())
		}
	}
	if !ok {
		info.Metadata.Tags = decodeTags(attrs[xattrTags])
	}
	return info
}

// Stat returns the object's info; see backends.Backend. A key ending in "/"
// names a directory (an S3A marker); any other key a file. Safe for
// concurrent use.
func (b *Backend) Stat(ctx context.Context, bucket, key string) (backends.ObjectInfo, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	var st objStat
	err = b.withClient(ctx, true, func(c *client) error {
		st, err = b.statObject(c, bucket, bdir, key)
		return err
	})
	return st.info, err
}

// Open streams rng of the object; see backends.Backend. The bytes come from
// the inode Stat found, so a concurrent overwrite cannot mix two versions
// (the reader of a replaced file may fail instead). The reader holds a
// pooled client until it is closed. Safe for concurrent use.
func (b *Backend) Open(ctx context.Context, bucket, key string, rng backends.Range) (io.ReadCloser, backends.ObjectInfo, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	for attempt := 0; ; attempt++ {
		c, err := b.pool.get(ctx)
		if err != nil {
			return nil, backends.ObjectInfo{}, err
		}
		rc, info, err := b.open(ctx, c, bucket, bdir, key, rng)
		if err == nil {
			return rc, info, nil
		}
		broken := c.broken
		b.pool.put(c)
		// Retry once on a new connection, or when the file was replaced
		// between stat and open.
		if attempt == 0 && ctx.Err() == nil && (broken || errors.Is(err, errReplaced)) {
			continue
		}
		return nil, backends.ObjectInfo{}, err
	}
}

// errReplaced: the inode found by stat vanished before it was opened.
var errReplaced = errors.New("object replaced while opening")

// open does Open's work with c; on success the reader owns c.
func (b *Backend) open(ctx context.Context, c *client, bucket, bdir, key string, rng backends.Range) (io.ReadCloser, backends.ObjectInfo, error) {
	st, err := b.statObject(c, bucket, bdir, key)
	if err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	size := st.info.Size
	if st.dir || size == 0 {
		b.pool.put(c)
		return io.NopCloser(bytes.NewReader(nil)), st.info, nil
	}
	if rng.Offset < 0 || rng.Offset >= size {
		return nil, backends.ObjectInfo{}, fmt.Errorf("hdfs %s/%s: offset %d of %d bytes: %w", bucket, key, rng.Offset, size, backends.ErrInvalidRange)
	}
	length := size - rng.Offset
	if rng.Length >= 0 && rng.Length < length {
		length = rng.Length
	}
	f, err := c.open(b.attrPath(st.path, st.id))
	if err != nil {
		if notFound(err) {
			return nil, backends.ObjectInfo{}, fmt.Errorf("hdfs open %s/%s: %w: %w", bucket, key, errReplaced, backends.ErrObjectNotFound)
		}
		return nil, backends.ObjectInfo{}, b.wrap("open", st.path, err)
	}
	if rng.Offset > 0 {
		if _, err := f.Seek(rng.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, backends.ObjectInfo{}, b.wrap("seek", st.path, err)
		}
	}
	// Read the first byte now: it fetches the block locations of this
	// inode, so a file replaced since the stat shows here (and Open tries
	// again) rather than as a failed read later.
	r := &objectReader{ctx: ctx, b: b, c: c, f: f, remaining: length, name: st.path}
	if n, err := f.Read(r.first[:]); n != 1 {
		f.Close()
		if err != nil && notFound(err) {
			return nil, backends.ObjectInfo{}, fmt.Errorf("hdfs open %s/%s: %w: %w", bucket, key, errReplaced, backends.ErrObjectNotFound)
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, backends.ObjectInfo{}, b.wrap("read", st.path, err)
	}
	r.pending = true
	return r, st.info, nil
}

// objectReader streams a byte range of one HDFS file and gives its client
// back on Close. Reads fail once Open's ctx is done.
type objectReader struct {
	ctx       context.Context
	b         *Backend
	c         *client
	f         *hdfs.FileReader
	remaining int64
	name      string
	closed    bool
	first     [1]byte // read by open
	pending   bool    // first is not yet delivered
}

// Read reads the next bytes of the range; io.ErrUnexpectedEOF if the file
// ends early.
func (r *objectReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, io.ErrClosedPipe
	}
	if r.remaining <= 0 {
		return 0, io.EOF
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	if r.pending {
		if len(p) == 0 {
			return 0, nil
		}
		p[0], r.pending = r.first[0], false
		r.remaining--
		return 1, nil
	}
	n, err := r.f.Read(p)
	r.remaining -= int64(n)
	switch {
	case err == io.EOF && r.remaining > 0:
		return n, fmt.Errorf("hdfs read %s: %w", r.name, io.ErrUnexpectedEOF)
	case err == io.EOF:
		return n, io.EOF
	case err != nil:
		return n, r.b.wrap("read", r.name, err)
	}
	return n, nil
}

// Close closes the file and returns the client to the pool.
func (r *objectReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.f.Close()
	r.b.pool.put(r.c)
	return nil
}

// tempFile is a closed temporary file written by writeTemp.
type tempFile struct {
	path  string
	size  int64
	mtime time.Time
	md5   []byte            // nil when the caller supplied a digest without MD5
	sums  map[string]string // checksums from the digest
}

// errBodySize: the body was shorter or longer than its declared size.
var errBodySize = errors.New("body length differs from the declared size")

// bodyError marks an error that came from the caller's body reader (or
// ctx), to be returned as is.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// createTemp creates a fresh temporary file. When the create fails because
// c's connection broke, it retries once on a new client, which it returns.
func (b *Backend) createTemp(ctx context.Context, c *client) (*client, string, *hdfs.FileWriter, error) {
	for attempt := 0; ; attempt++ {
		tmp := b.tmpPath()
		w, err := c.create(tmp)
		if err == nil {
			return c, tmp, w, nil
		}
		if attempt > 0 || !c.broken {
			return c, "", nil, b.wrap("create", tmp, err)
		}
		b.pool.put(c)
		nc, gerr := b.pool.get(ctx)
		if gerr != nil {
			return nil, "", nil, gerr
		}
		c = nc
	}
}

// writeTemp streams body (size bytes, or any length if size < 0) into a new
// temporary file, closes it and returns its description. digest, if not
// nil, supplies the MD5 and checksums after io.EOF; otherwise the MD5 is
// computed. On error nothing is left behind. The returned client replaces
// c (see createTemp); it is nil only when no client could be had. A body
// that reads from HDFS itself must use the client it gets from bodyFor.
func (b *Backend) writeTemp(ctx context.Context, c *client, bodyFor func(c *client) io.Reader, size int64, digest func() backends.Digest) (*client, tempFile, error) {
	c, tmp, w, err := b.createTemp(ctx, c)
	if err != nil {
		return c, tempFile{}, err
	}
	body := bodyFor(c)
	var h hash.Hash
	if digest == nil {
		h = md5.New()
	}
	n, err := copyBody(ctx, w, body, size, h)
	if err == nil {
		err = c.closeWriter(ctx, w)
		w = nil
	}
	var fi *hdfs.FileInfo
	if err == nil {
		fi, err = c.stat(tmp)
	}
	if err != nil {
		b.discardTemp(c, w, tmp)
		var be *bodyError
		switch {
		case errors.As(err, &be):
			return c, tempFile{}, fmt.Errorf("hdfs write: %w", be.err)
		case errors.Is(err, errBodySize):
			return c, tempFile{}, err
		}
		return c, tempFile{}, b.wrap("write", tmp, err)
	}
	t := tempFile{path: tmp, size: n, mtime: fi.ModTime()}
	if h != nil {
		t.md5 = h.Sum(nil)
	} else {
		d := digest()
		t.md5, t.sums = d.MD5, d.Checksums
	}
	if fi.Size() != n {
		b.discardTemp(c, nil, tmp)
		return c, tempFile{}, fmt.Errorf("hdfs write %s: wrote %d bytes but the file holds %d: %w", tmp, n, fi.Size(), backends.ErrUnavailable)
	}
	return c, t, nil
}

// fixedBody returns a writeTemp body function for a caller's reader.
func fixedBody(r io.Reader) func(*client) io.Reader {
	return func(*client) io.Reader { return r }
}

// copyBody copies body into w, hashing into h (if not nil), checking ctx
// and the declared size.
func copyBody(ctx context.Context, w io.Writer, body io.Reader, size int64, h hash.Hash) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, &bodyError{err}
		}
		m, rerr := body.Read(buf)
		if m > 0 {
			if size >= 0 && n+int64(m) > size {
				return n, fmt.Errorf("hdfs write: more than %d bytes: %w", size, errBodySize)
			}
			if h != nil {
				h.Write(buf[:m])
			}
			if _, err := w.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, &bodyError{rerr}
		}
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("hdfs write: %d of %d bytes: %w", n, size, errBodySize)
	}
	if err := ctx.Err(); err != nil {
		return n, &bodyError{err}
	}
	return n, nil
}

// discardTemp closes w (if not nil) and deletes tmp, which also releases
// the file's lease. When c cannot do it (its connection broke), a fresh
// client tries; failing that, the janitor removes tmp later.
func (b *Backend) discardTemp(c *client, w *hdfs.FileWriter, tmp string) {
	if w != nil {
		w.Close()
	}
	err := c.remove(tmp)
	if err == nil || notFound(err) {
		return
	}
	if nc, ok := b.pool.tryGet(); ok {
		err = nc.remove(tmp)
		b.pool.put(nc)
		if err == nil || notFound(err) {
			return
		}
	}
	b.logger.Warn("hdfs: temporary file not removed; the staging sweep will", "path", tmp, "error", err)
}

// setAttrs sets xattrMeta, with the stamp of t and the tags, on t.
func (b *Backend) setAttrs(c *client, t tempFile, meta storedMeta, tags map[string]string) error {
	meta.Size, meta.MTime, meta.Tags = t.size, t.mtime.UnixMilli(), nilIfEmpty(tags)
	v, err := meta.encode()
	if err != nil {
		return err
	}
	if err := c.setXAttr(t.path, xattrMeta, v); err != nil {
		return b.wrap("setXAttr", t.path, err)
	}
	return nil
}

// Put stores body at key, see backends.Backend. The body streams into a
// temporary file that is renamed into place. A key ending in "/" creates a
// directory (an S3A marker); such a key with content is refused with
// ErrInvalidObjectName. Safe for concurrent use.
func (b *Backend) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	p, isDir, err := keyToPath(bdir, key, b.maxComp)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if isDir {
		return b.putMarker(ctx, bucket, bdir, key, p, body, opts)
	}
	c, err := b.pool.get(ctx)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	var t tempFile
	c, t, err = b.writeTemp(ctx, c, fixedBody(body), opts.Size, opts.Digest)
	if c == nil {
		return backends.ObjectInfo{}, err
	}
	defer b.pool.put(c)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	etag := hex.EncodeToString(t.md5)
	meta := newStoredMeta(opts.Metadata, etag, 0)
	if len(t.sums) > 0 {
		meta.Checksums = maps.Clone(opts.Metadata.Checksums)
		if meta.Checksums == nil {
			meta.Checksums = map[string]string{}
		}
		maps.Copy(meta.Checksums, t.sums)
	}
	if err := b.setAttrs(c, t, meta, opts.Metadata.Tags); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.ObjectInfo{}, err
	}
	if err := b.publish(ctx, c, bucket, bdir, t.path, p, false, opts.Condition); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.ObjectInfo{}, err
	}
	info := backends.ObjectInfo{Key: key, Size: t.size, ETag: etag, LastModified: t.mtime, Metadata: meta.metadata(true)}
	info.Metadata.Tags = maps.Clone(opts.Metadata.Tags)
	return info, nil
}

// putMarker creates the directory p for the marker key "dir/" and records
// it as explicit (xattrMeta), with its content type and user metadata.
func (b *Backend) putMarker(ctx context.Context, bucket, bdir, key, p string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	if opts.Size > 0 {
		return backends.ObjectInfo{}, fmt.Errorf("hdfs put %s/%s: a key ending in / is a directory and cannot hold %d bytes: %w", bucket, key, opts.Size, backends.ErrInvalidObjectName)
	}
	var one [1]byte
	n, err := io.ReadFull(body, one[:])
	switch {
	case n > 0:
		return backends.ObjectInfo{}, fmt.Errorf("hdfs put %s/%s: a key ending in / is a directory and cannot hold data: %w", bucket, key, backends.ErrInvalidObjectName)
	case err != nil && err != io.EOF:
		return backends.ObjectInfo{}, fmt.Errorf("hdfs put %s/%s: %w", bucket, key, err)
	}
	if err := ctx.Err(); err != nil {
		return backends.ObjectInfo{}, err
	}
	meta := newStoredMeta(opts.Metadata, emptyMD5, 0)
	if opts.Digest != nil {
		if d := opts.Digest(); len(d.Checksums) > 0 {
			if meta.Checksums == nil {
				meta.Checksums = map[string]string{}
			}
			maps.Copy(meta.Checksums, d.Checksums)
		}
	}
	mv, err := meta.encode()
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	var info backends.ObjectInfo
	err = b.withClient(ctx, false, func(c *client) error {
		if fi, err := c.stat(bdir); err != nil || !fi.IsDir() {
			if err == nil || notFound(err) {
				return fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketNotFound)
			}
			return b.wrap("stat", bdir, err)
		}
		cond := opts.Condition
		if cond.IfNoneMatchStar || cond.IfMatch != "" {
			unlock, err := b.lockKey(ctx, c, p)
			if err != nil {
				return err
			}
			defer unlock()
			if err := b.checkCondition(c, bucket, bdir, key, p, true, cond); err != nil {
				return err
			}
		}
		if fi, err := c.stat(p); err == nil && !fi.IsDir() {
			return fmt.Errorf("hdfs put %s/%s: %s is a file: %w", bucket, key, strings.TrimSuffix(key, "/"), backends.ErrKeyConflict)
		}
		if err := c.mkdirAll(p, 0o755); err != nil {
			return b.conflictOr(c, bdir, p, "mkdir", err)
		}
		if err := c.setXAttr(p, xattrMeta, mv); err != nil {
			return b.wrap("setXAttr", p, err)
		}
		if err := c.removeXAttr(p, xattrTags); err != nil && !notFound(err) {
			return b.wrap("removeXAttr", p, err)
		}
		fi, err := c.stat(p)
		if err != nil {
			return b.wrap("stat", p, err)
		}
		info = backends.ObjectInfo{Key: key, ETag: emptyMD5, LastModified: fi.ModTime(), Metadata: meta.metadata(true)}
		info.Metadata.Tags = maps.Clone(opts.Metadata.Tags)
		return nil
	})
	return info, err
}

// publish renames the temporary file or directory src to dst, creating
// dst's parent directories, after checking cond under the key's lock.
// dstDir tells whether dst is a directory key. Errors: ErrBucketNotFound,
// ErrKeyConflict, ErrPreconditionFailed, ErrObjectNotFound (If-Match on a
// missing key), ErrConditionalConflict, ErrUnavailable.
func (b *Backend) publish(ctx context.Context, c *client, bucket, bdir, src, dst string, dstDir bool, cond backends.WriteCondition) error {
	if cond.IfNoneMatchStar || cond.IfMatch != "" {
		unlock, err := b.lockKey(ctx, c, dst)
		if err != nil {
			return err
		}
		defer unlock()
		if err := b.checkCondition(c, bucket, bdir, pathToKey(bdir, dst, dstDir), dst, dstDir, cond); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// A concurrent Delete may prune the directories between ensureDir and
	// the rename; try again a few times.
	for range 10 {
		err := c.rename(src, dst)
		if err == nil {
			return nil
		}
		if !notFound(err) {
			return b.conflictOr(c, bdir, dst, "rename", err)
		}
		// The destination's parent is missing (or a parent is a file).
		if err := b.ensureDir(c, bucket, bdir, path.Dir(dst)); err != nil {
			return err
		}
	}
	return fmt.Errorf("hdfs rename %s: its directory was removed again and again: %w", dst, backends.ErrUnavailable)
}

// ensureDir creates the directory dir inside the bucket directory bdir.
func (b *Backend) ensureDir(c *client, bucket, bdir, dir string) error {
	if err := b.bucketExists(c, bucket, bdir); err != nil {
		return err
	}
	if dir == bdir {
		return nil
	}
	if err := c.mkdirAll(dir, 0o755); err != nil {
		return b.conflictOr(c, bdir, dir, "mkdir", err)
	}
	return nil
}

// conflictOr explains a failed rename or mkdir at p: ErrKeyConflict when p
// exists (a directory where a file goes or the reverse) or a file sits on
// the path to p, else the wrapped error.
func (b *Backend) conflictOr(c *client, bdir, p, op string, err error) error {
	if isUnavailable(err) || errors.Is(err, context.Canceled) {
		return b.wrap(op, p, err)
	}
	if fi, serr := c.stat(p); serr == nil {
		kind := "a file"
		if fi.IsDir() {
			kind = "a directory"
		}
		return fmt.Errorf("hdfs %s %s: %s exists there: %w", op, p, kind, backends.ErrKeyConflict)
	}
	rel := strings.TrimPrefix(p, bdir+"/")
	cur := bdir
	for seg := range strings.SplitSeq(rel, "/") {
		cur += "/" + seg
		fi, serr := c.stat(cur)
		if serr != nil {
			break
		}
		if !fi.IsDir() {
			return fmt.Errorf("hdfs %s %s: %s is a file: %w", op, p, cur, backends.ErrKeyConflict)
		}
	}
	return b.wrap(op, p, err)
}

// checkCondition checks cond against the object at key (path p) while the
// caller holds the key's lock.
func (b *Backend) checkCondition(c *client, bucket, bdir, key, p string, isDir bool, cond backends.WriteCondition) error {
	fi, err := c.stat(p)
	if err != nil && !b.isMissing(c, bdir, p, err) {
		return b.wrap("stat", p, err)
	}
	exists := err == nil && fi.IsDir() == isDir
	if exists && isDir {
		// A non-empty directory without a marker record is no object.
		if exists, err = b.dirIsMarker(c, p, fi, childrenNum(fi)); err != nil && !notFound(err) {
			return b.wrap("getXAttrs", p, err)
		}
	}
	if cond.IfNoneMatchStar && exists {
		return fmt.Errorf("hdfs put %s/%s: object exists: %w", bucket, key, backends.ErrPreconditionFailed)
	}
	if cond.IfMatch == "" {
		return nil
	}
	if !exists {
		return fmt.Errorf("hdfs put %s/%s: If-Match on a missing object: %w", bucket, key, backends.ErrObjectNotFound)
	}
	attrs, err := c.readAttrs(b.attrPath(p, fileID(fi)), xattrMeta)
	if err != nil {
		return b.wrap("getXAttrs", p, err)
	}
	if etag := objectInfo(key, fi, attrs).ETag; etag != strings.Trim(cond.IfMatch, `"`) {
		return fmt.Errorf("hdfs put %s/%s: ETag %s does not match %s: %w", bucket, key, etag, cond.IfMatch, backends.ErrPreconditionFailed)
	}
	return nil
}

// lockKey takes the conditional-write lock of the HDFS path p: an
// in-process mutex, then a lock file created with HDFS's exclusive create
// (atomic at the NameNode, so it excludes other gateway processes too). A
// lock file older than lockStale was left by a crashed holder and is
// removed (by inode, so a fresh lock is never removed by mistake). It waits
// at most lockWait, then answers ErrConditionalConflict. The returned
// function releases the lock and must be called while c is still held.
func (b *Backend) lockKey(ctx context.Context, c *client, p string) (func(), error) {
	unlockLocal := b.keyLocks.lock(p)
	sum := sha256.Sum256([]byte(p))
	lp := b.locksDir + "/" + hex.EncodeToString(sum[:16])
	deadline := time.Now().Add(lockWait)
	delay := 2 * time.Millisecond
	for {
		w, err := c.create(lp)
		if err == nil {
			if err := c.closeWriter(ctx, w); err != nil {
				c.remove(lp)
				unlockLocal()
				return nil, b.wrap("lock", lp, err)
			}
			return func() {
				if err := c.remove(lp); err != nil && !notFound(err) {
					b.logger.Warn("hdfs: lock file not removed", "path", lp, "error", err)
				}
				unlockLocal()
			}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			unlockLocal()
			return nil, b.wrap("lock", lp, err)
		}
		if fi, serr := c.stat(lp); serr == nil && time.Since(fi.ModTime()) > lockStale {
			b.logger.Warn("hdfs: removing stale lock", "path", lp, "key_path", p)
			c.remove(b.attrPath(lp, fileID(fi)))
			continue
		}
		if time.Now().After(deadline) {
			unlockLocal()
			return nil, fmt.Errorf("hdfs lock %s: held by another writer: %w", p, backends.ErrConditionalConflict)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			unlockLocal()
			return nil, ctx.Err()
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// keyedMutex is a set of mutexes by key, created on demand.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns the unlock function.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// Delete removes the object at key, see backends.Backend. Deleting a file
// removes the directories it leaves empty up to the bucket, except explicit
// markers. Deleting "dir/" removes an empty directory, and on a non-empty
// one only its explicit-marker status (the children stay, and the
// directory goes once they are gone). Deleting a key that cannot exist in
// HDFS (see keys.go) succeeds. Safe for concurrent use.
func (b *Backend) Delete(ctx context.Context, bucket, key string) error {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return err
	}
	p, isDir, kerr := keyToPath(bdir, key, b.maxComp)
	return b.withClient(ctx, true, func(c *client) error {
		if kerr != nil {
			return b.bucketExists(c, bucket, bdir)
		}
		fi, err := c.stat(p)
		if err != nil {
			if b.isMissing(c, bdir, p, err) {
				return b.bucketExists(c, bucket, bdir)
			}
			return b.wrap("stat", p, err)
		}
		if fi.IsDir() != isDir {
			return nil // "dir" names no object when dir is a directory, nor "f/" when f is a file
		}
		if isDir && childrenNum(fi) != 0 {
			// S3: the marker goes, the children stay.
			if err := c.removeXAttr(p, xattrMeta); err != nil && !notFound(err) {
				return b.wrap("removeXAttr", p, err)
			}
			if err := c.removeXAttr(p, xattrTags); err != nil && !notFound(err) {
				return b.wrap("removeXAttr", p, err)
			}
			return nil
		}
		if err := c.remove(p); err != nil {
			switch {
			case notFound(err):
				return nil
			case isDir && errors.Is(err, syscall.ENOTEMPTY):
				// A child appeared meanwhile: drop the marker status only.
				c.removeXAttr(p, xattrMeta)
				return nil
			}
			return b.wrap("delete", p, err)
		}
		b.prune(c, bdir, path.Dir(p))
		return nil
	})
}

// bucketExists returns nil if the bucket directory exists, else
// ErrBucketNotFound.
func (b *Backend) bucketExists(c *client, bucket, bdir string) error {
	_, err := b.statBucket(c, bucket, bdir)
	return err
}

// statBucket returns the status of the bucket directory bdir; a missing
// directory, or a file in its place, is ErrBucketNotFound.
func (b *Backend) statBucket(c *client, bucket, bdir string) (os.FileInfo, error) {
	fi, err := c.stat(bdir)
	switch {
	case err != nil && notFound(err), err == nil && !fi.IsDir():
		return nil, fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketNotFound)
	case err != nil:
		return nil, b.wrap("stat", bdir, err)
	}
	return fi, nil
}

// prune removes dir and its parents up to (excluding) the bucket directory
// while they are empty and not explicit markers. It is best effort: a
// concurrent writer that recreates a directory wins.
func (b *Backend) prune(c *client, bdir, dir string) {
	for dir != bdir && strings.HasPrefix(dir, bdir+"/") {
		fi, err := c.stat(dir)
		if err != nil || !fi.IsDir() || childrenNum(fi) != 0 {
			return
		}
		attrs, err := c.readAttrs(b.attrPath(dir, fileID(fi)), xattrMeta)
		if err != nil || attrs[xattrMeta] != "" {
			return
		}
		if err := c.remove(dir); err != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

// Compile-time checks that Backend implements the contract.
var (
	_ backends.Backend   = (*Backend)(nil)
	_ backends.Buckets   = (*Backend)(nil)
	_ backends.Multipart = (*Backend)(nil)
	_ backends.Copier    = (*Backend)(nil)
	_ backends.Tagger    = (*Backend)(nil)
	_ backends.Closer    = (*Backend)(nil)
)
