package hdfs

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lakegate/lakegate/backends"
)

// Multipart uploads.
//
// Upload u of bucket b is the directory <root>/.lakegate/uploads/b/u. The
// directory carries xattrUpload (key, metadata, tags, initiation time); it is
// prepared in the temporary area and renamed into place, so an upload either
// exists with its state or not at all. Part n is the file part-NNNNN in it
// (zero-padded, so HDFS lists parts in number order), written like an
// object (temporary file, then rename over any earlier upload of n) and
// carrying xattrPart (ETag, size, checksums). Everything lives in HDFS, so
// any gateway process can list, complete or abort an upload at any later
// time. Upload IDs are 32 random hex digits; anything else is
// ErrUploadNotFound without touching HDFS.

// uploadIDLen is the length of an upload ID in hex digits.
const uploadIDLen = 32

// uploadDir returns the staging directory of upload id of bucket, or
// ErrUploadNotFound for an ID lakegate cannot have made.
func (b *Backend) uploadDir(bucket, id string) (string, error) {
	if len(id) != uploadIDLen {
		return "", fmt.Errorf("hdfs upload %q: %w", id, backends.ErrUploadNotFound)
	}
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", fmt.Errorf("hdfs upload %q: %w", id, backends.ErrUploadNotFound)
	}
	if err := validBucket(bucket); err != nil {
		return "", fmt.Errorf("hdfs upload %q: %w", id, backends.ErrUploadNotFound)
	}
	return b.uploadsDir + "/" + bucket + "/" + id, nil
}

// partName returns the file name of part n.
func partName(n int) string { return fmt.Sprintf("part-%05d", n) }

// partNumber parses a part file name; ok is false for anything else.
func partNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "part-")
	if !ok || len(s) != 5 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= backends.MaxPartNumber
}

// loadUpload reads the state of upload id and checks that it belongs to key.
func (b *Backend) loadUpload(c *client, bucket, key, id string) (string, uploadState, error) {
	dir, err := b.uploadDir(bucket, id)
	if err != nil {
		return "", uploadState{}, err
	}
	attrs, err := c.getXAttrs(dir, xattrUpload)
	if err != nil {
		if notFound(err) || isXAttrMissing(err) {
			return "", uploadState{}, fmt.Errorf("hdfs upload %s: %w", id, backends.ErrUploadNotFound)
		}
		return "", uploadState{}, b.wrap("getXAttrs", dir, err)
	}
	st, ok := decodeUpload(attrs[xattrUpload])
	if !ok || st.Key != key {
		return "", uploadState{}, fmt.Errorf("hdfs upload %s of key %q: %w", id, key, backends.ErrUploadNotFound)
	}
	return dir, st, nil
}

// decodeUpload parses an xattrUpload value.
func decodeUpload(v string) (uploadState, bool) {
	var st uploadState
	if err := json.Unmarshal([]byte(v), &st); err != nil || st.V != 1 {
		return uploadState{}, false
	}
	return st, true
}

// uploadInfo returns the contract's view of an upload.
func (st uploadState) info(id string) backends.UploadInfo {
	m := st.Meta.metadata(true)
	m.Tags = nilIfEmpty(st.Tags)
	return backends.UploadInfo{Key: st.Key, UploadID: id, Initiated: st.Initiated, Metadata: m}
}

// CreateMultipartUpload starts an upload of key; see backends.Multipart.
// Keys ending in "/" (directories) are refused with ErrInvalidObjectName.
// Errors: ErrBucketNotFound, ErrInvalidObjectName, ErrUnavailable. Safe for
// concurrent use.
func (b *Backend) CreateMultipartUpload(ctx context.Context, bucket, key string, meta backends.Metadata) (string, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return "", err
	}
	if _, isDir, err := keyToPath(bdir, key, b.maxComp); err != nil {
		return "", err
	} else if isDir {
		return "", fmt.Errorf("hdfs upload of %q: a key ending in / is a directory: %w", key, backends.ErrInvalidObjectName)
	}
	st := uploadState{V: 1, Key: key, Initiated: time.Now().UTC(), Meta: newStoredMeta(meta, "", 0), Tags: nilIfEmpty(meta.Tags)}
	v, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	if len(v)+len(xattrUpload) > maxXAttrBytes {
		return "", fmt.Errorf("hdfs upload of %q: metadata of %d bytes exceeds the HDFS xattr limit: %w", key, len(v), backends.ErrMetadataTooLarge)
	}
	id := randomHex(uploadIDLen / 2)
	dir, _ := b.uploadDir(bucket, id)
	err = b.withClient(ctx, false, func(c *client) error {
		if err := b.bucketExists(c, bucket, bdir); err != nil {
			return err
		}
		tmp := b.tmpPath()
		if err := c.mkdir(tmp, 0o700); err != nil {
			return b.wrap("mkdir", tmp, err)
		}
		err := c.setXAttr(tmp, xattrUpload, string(v))
		if err == nil {
			err = c.mkdirAll(b.uploadsDir+"/"+bucket, 0o700)
		}
		if err == nil {
			err = c.rename(tmp, dir)
		}
		if err != nil {
			c.removeAll(tmp)
			return b.wrap("create upload", dir, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// UploadPart stores part partNumber of the upload, replacing an earlier
// upload of that number; see backends.Multipart. Parts of one upload may be
// uploaded in parallel. Errors: ErrUploadNotFound, ErrInvalidPart (part
// number outside 1..10000), body errors as in Put, ErrUnavailable. Safe for
// concurrent use.
func (b *Backend) UploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, body io.Reader, opts backends.PutOptions) (backends.PartInfo, error) {
	if partNumber < 1 || partNumber > backends.MaxPartNumber {
		return backends.PartInfo{}, fmt.Errorf("hdfs part number %d: %w", partNumber, backends.ErrInvalidPart)
	}
	if _, err := b.uploadDir(bucket, uploadID); err != nil {
		return backends.PartInfo{}, err
	}
	c, err := b.pool.get(ctx)
	if err != nil {
		return backends.PartInfo{}, err
	}
	dir, _, err := b.loadUpload(c, bucket, key, uploadID)
	if err != nil && c.broken {
		b.pool.put(c)
		if c, err = b.pool.get(ctx); err != nil {
			return backends.PartInfo{}, err
		}
		dir, _, err = b.loadUpload(c, bucket, key, uploadID)
	}
	if err != nil {
		b.pool.put(c)
		return backends.PartInfo{}, err
	}
	var t tempFile
	c, t, err = b.writeTemp(ctx, c, fixedBody(body), opts.Size, opts.Digest)
	if c == nil {
		return backends.PartInfo{}, err
	}
	defer b.pool.put(c)
	if err != nil {
		return backends.PartInfo{}, err
	}
	ps := partState{ETag: hex.EncodeToString(t.md5), Size: t.size, Checksums: nilIfEmpty(t.sums)}
	v, _ := json.Marshal(ps)
	if err := c.setXAttr(t.path, xattrPart, string(v)); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.PartInfo{}, b.wrap("setXAttr", t.path, err)
	}
	if err := c.rename(t.path, dir+"/"+partName(partNumber)); err != nil {
		b.discardTemp(c, nil, t.path)
		if notFound(err) {
			return backends.PartInfo{}, fmt.Errorf("hdfs upload %s: aborted while the part was uploaded: %w", uploadID, backends.ErrUploadNotFound)
		}
		return backends.PartInfo{}, b.wrap("rename", t.path, err)
	}
	return backends.PartInfo{PartNumber: partNumber, ETag: ps.ETag, Size: t.size, LastModified: t.mtime, Checksums: ps.Checksums}, nil
}

// stagedPart is a part file with its state.
type stagedPart struct {
	n     int
	path  string
	fi    os.FileInfo
	state partState
}

// readParts lists the upload's part files with numbers in (after, upTo],
// ascending; upTo 0 means no upper bound. With limit > 0 it reads the state
// of at most limit parts (the rest come back without state).
func (b *Backend) readParts(ctx context.Context, c *client, dir string, after int, limit int) ([]stagedPart, error) {
	fis, err := c.readDir(dir)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("hdfs upload %s: %w", dir, backends.ErrUploadNotFound)
		}
		return nil, b.wrap("list", dir, err)
	}
	var parts []stagedPart
	for _, fi := range fis {
		if n, ok := partNumber(fi.Name()); ok && n > after && !fi.IsDir() {
			parts = append(parts, stagedPart{n: n, path: dir + "/" + fi.Name(), fi: fi})
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].n < parts[j].n })
	k := len(parts)
	if limit > 0 && limit < k {
		k = limit
	}
	var gone []bool = make([]bool, k)
	err = b.forEach(ctx, c, k, func(c *client, i int) error {
		p := &parts[i]
		attrs, err := c.getXAttrs(b.attrPath(p.path, fileID(p.fi)), xattrPart)
		if err != nil {
			if notFound(err) || isXAttrMissing(err) {
				// Replaced by a retried upload since the listing: read anew.
				fi, serr := c.stat(p.path)
				if serr != nil {
					gone[i] = true
					return nil
				}
				p.fi = fi
				if attrs, err = c.getXAttrs(p.path, xattrPart); err != nil {
					gone[i] = true
					return nil
				}
			} else {
				return b.wrap("getXAttrs", p.path, err)
			}
		}
		if json.Unmarshal([]byte(attrs[xattrPart]), &p.state) != nil {
			gone[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := parts[:0]
	for i, p := range parts {
		if i < k && gone[i] {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// ListParts lists the upload's parts numbered above partNumberMarker, at
// most maxParts (1000 when <= 0); see backends.Multipart. Errors:
// ErrUploadNotFound, ErrUnavailable. Safe for concurrent use.
func (b *Backend) ListParts(ctx context.Context, bucket, key, uploadID string, partNumberMarker, maxParts int) (backends.ListPartsResult, error) {
	if maxParts <= 0 || maxParts > 1000 {
		maxParts = 1000
	}
	var dir string
	var st uploadState
	err := b.withClient(ctx, true, func(c *client) error {
		var err error
		dir, st, err = b.loadUpload(c, bucket, key, uploadID)
		return err
	})
	if err != nil {
		return backends.ListPartsResult{}, err
	}
	var parts []stagedPart
	err = b.withClient(ctx, true, func(c *client) error {
		var err error
		parts, err = b.readParts(ctx, c, dir, partNumberMarker, maxParts+1)
		return err
	})
	if err != nil {
		return backends.ListPartsResult{}, err
	}
	res := backends.ListPartsResult{Upload: st.info(uploadID)}
	for i, p := range parts {
		if i == maxParts {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, backends.PartInfo{
			PartNumber: p.n, ETag: p.state.ETag, Size: p.fi.Size(), LastModified: p.fi.ModTime(),
			Checksums: p.state.Checksums,
		})
	}
	if res.IsTruncated {
		res.NextPartNumberMarker = res.Parts[len(res.Parts)-1].PartNumber
	}
	return res, nil
}

// CompleteMultipartUpload assembles the listed parts into the object; see
// backends.Multipart. HDFS's concat RPC is not available through
// colinmarc/hdfs, so the parts are streamed into one temporary file (a full
// rewrite of the data inside HDFS) that is renamed into place; the upload is
// removed afterwards. Errors: ErrUploadNotFound, ErrInvalidPart,
// ErrInvalidPartOrder, ErrEntityTooSmall, ErrPreconditionFailed,
// ErrConditionalConflict, ErrKeyConflict, ErrBucketNotFound,
// ErrUnavailable. Safe for concurrent use.
func (b *Backend) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []backends.CompletePart, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if _, err := b.uploadDir(bucket, uploadID); err != nil {
		return backends.ObjectInfo{}, err
	}
	dst, _, err := keyToPath(bdir, key, b.maxComp)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	var dir string
	var st uploadState
	var staged []stagedPart
	err = b.withClient(ctx, true, func(c *client) error {
		if dir, st, err = b.loadUpload(c, bucket, key, uploadID); err != nil {
			return err
		}
		staged, err = b.readParts(ctx, c, dir, 0, 0)
		return err
	})
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return backends.ObjectInfo{}, fmt.Errorf("hdfs complete %s: no parts listed: %w", uploadID, backends.ErrInvalidPart)
	}
	byNum := map[int]stagedPart{}
	for _, p := range staged {
		byNum[p.n] = p
	}
	use := make([]stagedPart, len(parts))
	etags := make([]string, len(parts))
	for i, cp := range parts {
		if i > 0 && cp.PartNumber <= parts[i-1].PartNumber {
			return backends.ObjectInfo{}, fmt.Errorf("hdfs complete %s: part %d after %d: %w", uploadID, cp.PartNumber, parts[i-1].PartNumber, backends.ErrInvalidPartOrder)
		}
	}
	for i, cp := range parts {
		p, ok := byNum[cp.PartNumber]
		if !ok || p.state.ETag != strings.Trim(cp.ETag, `"`) {
			return backends.ObjectInfo{}, fmt.Errorf("hdfs complete %s: part %d with ETag %s not uploaded: %w", uploadID, cp.PartNumber, cp.ETag, backends.ErrInvalidPart)
		}
		if i < len(parts)-1 && p.fi.Size() < backends.MinPartSize {
			return backends.ObjectInfo{}, fmt.Errorf("hdfs complete %s: part %d has %d bytes: %w", uploadID, cp.PartNumber, p.fi.Size(), backends.ErrEntityTooSmall)
		}
		use[i], etags[i] = p, p.state.ETag
	}
	etag, err := backends.MultipartETag(etags)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	meta := st.Meta
	meta.ETag, meta.Parts = etag, len(use)
	meta.Checksums = compositeChecksums(meta.Checksums, use)

	c, err := b.pool.get(ctx)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	var t tempFile
	c, t, err = b.copyInto(ctx, c, use, "complete: part", -1)
	if errors.Is(err, errChanged) {
		err = fmt.Errorf("%w: %w", backends.ErrInvalidPart, err)
	}
	if c == nil {
		return backends.ObjectInfo{}, err
	}
	defer b.pool.put(c)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := b.setAttrs(c, t, meta, st.Tags); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.ObjectInfo{}, err
	}
	if err := b.publish(ctx, c, bucket, bdir, t.path, dst, false, cond); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.ObjectInfo{}, err
	}
	if err := c.removeAll(dir); err != nil {
		b.logger.Warn("hdfs: completed upload not removed", "upload_id", uploadID, "path", dir, "error", err)
	}
	info := backends.ObjectInfo{Key: key, Size: t.size, ETag: etag, LastModified: t.mtime, PartsCount: len(use), Metadata: meta.metadata(true)}
	info.Metadata.Tags = nilIfEmpty(st.Tags)
	return info, nil
}

// compositeChecksums returns the object checksums of a multipart upload:
// those given at creation, plus the composite checksum of every algorithm
// all parts have.
func compositeChecksums(given map[string]string, parts []stagedPart) map[string]string {
	out := nilIfEmpty(given)
	if len(parts) == 0 {
		return out
	}
	for algo := range parts[0].state.Checksums {
		var sums []string
		for _, p := range parts {
			s, ok := p.state.Checksums[algo]
			if !ok {
				break
			}
			sums = append(sums, s)
		}
		if len(sums) != len(parts) {
			continue
		}
		if v, err := backends.CompositeChecksum(algo, sums); err == nil {
			if out == nil {
				out = map[string]string{}
			}
			out[algo] = v
		}
	}
	return out
}

// copyInto streams files (parts, or a copy source) into a new temporary
// file with writeTemp. When a second client is free at once it reads with
// that one, in a goroutine ahead of the writer, so DataNode reads and
// writes overlap; otherwise it alternates on c.
func (b *Backend) copyInto(ctx context.Context, c *client, files []stagedPart, what string, size int64) (*client, tempFile, error) {
	rc, ok := b.pool.tryGet()
	if !ok {
		return b.writeTemp(ctx, c, func(c *client) io.Reader { return &filesReader{b: b, c: c, files: files, what: what} }, size, noDigest)
	}
	var ra *readAhead
	c, t, err := b.writeTemp(ctx, c, func(*client) io.Reader {
		ra = newReadAhead(&filesReader{b: b, c: rc, files: files, what: what}, 4)
		return ra
	}, size, noDigest)
	if ra != nil {
		ra.Close()
	}
	b.pool.put(rc)
	return c, t, err
}

// noDigest is a Digest function for internal copies, whose ETag is known.
func noDigest() backends.Digest { return backends.Digest{} }

// filesReader reads HDFS files one after the other through the client the
// writer holds. It reads each file by inode and checks that it still has
// the size found before, so a file replaced meanwhile (a part re-uploaded
// during completion, a copy source overwritten) fails the operation instead
// of mixing versions.
type filesReader struct {
	b     *Backend
	c     *client
	files []stagedPart
	what  string // for errors: "complete: part", "copy: source"
	i     int
	cur   io.ReadCloser
	left  int64
}

// Read implements io.Reader.
func (r *filesReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if r.i == len(r.files) {
				return 0, io.EOF
			}
			sp := r.files[r.i]
			if sp.fi.Size() == 0 || sp.fi.IsDir() {
				r.i++
				continue
			}
			f, err := r.c.open(r.b.attrPath(sp.path, fileID(sp.fi)))
			if err != nil {
				if notFound(err) {
					return 0, fmt.Errorf("hdfs %s replaced or removed meanwhile: %w", r.label(sp), errChanged)
				}
				return 0, r.b.wrap("open", sp.path, err)
			}
			if f.Stat().Size() != sp.fi.Size() {
				f.Close()
				return 0, fmt.Errorf("hdfs %s changed meanwhile: %w", r.label(sp), errChanged)
			}
			r.cur, r.left = f, sp.fi.Size()
		}
		if r.left == 0 {
			r.cur.Close()
			r.cur = nil
			r.i++
			continue
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			if r.left > 0 {
				return n, fmt.Errorf("hdfs %s: %w", r.label(r.files[r.i]), io.ErrUnexpectedEOF)
			}
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// label names file sp in errors.
func (r *filesReader) label(sp stagedPart) string {
	if sp.n > 0 {
		return r.what + " " + strconv.Itoa(sp.n)
	}
	return r.what
}

// errChanged: a file read by filesReader was replaced while being read.
var errChanged = errors.New("file changed while being copied")

// AbortMultipartUpload removes the upload and its parts; see
// backends.Multipart. Errors: ErrUploadNotFound, ErrUnavailable. Safe for
// concurrent use.
func (b *Backend) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	return b.withClient(ctx, true, func(c *client) error {
		dir, _, err := b.loadUpload(c, bucket, key, uploadID)
		if err != nil {
			return err
		}
		if err := c.removeAll(dir); err != nil {
			return b.wrap("delete", dir, err)
		}
		return nil
	})
}

// ListMultipartUploads lists the bucket's uploads in progress, ordered by
// key, then initiation time, then ID; see backends.ListUploadsQuery. It reads
// the state of every upload of the bucket (one NameNode call each, spread
// over the pool). Errors: ErrBucketNotFound, ErrUnavailable. Safe for
// concurrent use.
func (b *Backend) ListMultipartUploads(ctx context.Context, bucket string, q backends.ListUploadsQuery) (backends.ListUploadsResult, error) {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ListUploadsResult{}, err
	}
	max := q.MaxUploads
	if max <= 0 || max > 1000 {
		max = 1000
	}
	udir := b.uploadsDir + "/" + bucket
	var fis []os.FileInfo
	err = b.withClient(ctx, true, func(c *client) error {
		if err := b.bucketExists(c, bucket, bdir); err != nil {
			return err
		}
		var err error
		fis, err = c.readDir(udir)
		if err != nil && !notFound(err) {
			return b.wrap("list", udir, err)
		}
		return nil
	})
	if err != nil {
		return backends.ListUploadsResult{}, err
	}
	ups := make([]backends.UploadInfo, len(fis))
	ok := make([]bool, len(fis))
	err = b.forEach(ctx, nil, len(fis), func(c *client, i int) error {
		fi := fis[i]
		if !fi.IsDir() {
			return nil
		}
		attrs, err := c.getXAttrs(udir+"/"+fi.Name(), xattrUpload)
		if err != nil {
			if notFound(err) || isXAttrMissing(err) {
				return nil // completed or aborted meanwhile
			}
			return b.wrap("getXAttrs", udir+"/"+fi.Name(), err)
		}
		if st, good := decodeUpload(attrs[xattrUpload]); good && strings.HasPrefix(st.Key, q.Prefix) {
			ups[i], ok[i] = st.info(fi.Name()), true
		}
		return nil
	})
	if err != nil {
		return backends.ListUploadsResult{}, err
	}
	var all []backends.UploadInfo
	for i, u := range ups {
		if ok[i] {
			all = append(all, u)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, c := all[i], all[j]
		if a.Key != c.Key {
			return a.Key < c.Key
		}
		if !a.Initiated.Equal(c.Initiated) {
			return a.Initiated.Before(c.Initiated)
		}
		return a.UploadID < c.UploadID
	})
	return pageUploads(all, q, max), nil
}

// pageUploads applies markers, delimiter and MaxUploads to the sorted
// uploads (already filtered by prefix).
func pageUploads(all []backends.UploadInfo, q backends.ListUploadsQuery, max int) backends.ListUploadsResult {
	// Position after the marker.
	start := 0
	if q.KeyMarker != "" {
		start = sort.Search(len(all), func(i int) bool { return all[i].Key > q.KeyMarker })
		if q.UploadIDMarker != "" {
			for i, u := range all {
				if u.Key == q.KeyMarker && u.UploadID == q.UploadIDMarker {
					start = i + 1
					break
				}
			}
		}
	}
	var res backends.ListUploadsResult
	var last string
	lastCP := ""
	n := 0
	for _, u := range all[start:] {
		cp := ""
		if q.Delimiter != "" {
			rest := u.Key[len(q.Prefix):]
			if i := strings.Index(rest, q.Delimiter); i >= 0 {
				cp = q.Prefix + rest[:i+len(q.Delimiter)]
			}
		}
		if cp != "" && (cp == lastCP || (q.KeyMarker != "" && cp <= q.KeyMarker)) {
			continue
		}
		if n == max {
			res.IsTruncated = true
			break
		}
		n++
		if cp != "" {
			lastCP = cp
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			last, res.NextUploadIDMarker = cp, ""
			continue
		}
		res.Uploads = append(res.Uploads, u)
		last, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	if res.IsTruncated {
		res.NextKeyMarker = last
	} else {
		res.NextUploadIDMarker = ""
	}
	return res
}

// readAhead reads from r in a goroutine, up to depth buffers ahead of the
// consumer, so that reading from HDFS (one client) and writing to HDFS
// (another client) overlap instead of alternating. Close stops the
// goroutine and waits for it, after which r is no longer used.
type readAhead struct {
	ch   chan raChunk
	free chan *[]byte
	done chan struct{}
	wg   sync.WaitGroup
	cur  raChunk
	off  int
	err  error
	once sync.Once
}

type raChunk struct {
	buf *[]byte
	n   int
	err error
}

// newReadAhead starts reading r.
func newReadAhead(r io.Reader, depth int) *readAhead {
	ra := &readAhead{ch: make(chan raChunk, depth), free: make(chan *[]byte, depth+1), done: make(chan struct{})}
	for range depth + 1 {
		ra.free <- copyBufs.Get().(*[]byte)
	}
	ra.wg.Add(1)
	go ra.fill(r)
	return ra
}

func (ra *readAhead) fill(r io.Reader) {
	defer ra.wg.Done()
	defer close(ra.ch)
	for {
		var bp *[]byte
		select {
		case bp = <-ra.free:
		case <-ra.done:
			return
		}
		n, err := io.ReadFull(r, *bp)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case ra.ch <- raChunk{buf: bp, n: n, err: err}:
		case <-ra.done:
			copyBufs.Put(bp)
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.cur.buf == nil || ra.off == ra.cur.n {
		if ra.cur.buf != nil {
			if ra.cur.err != nil {
				ra.err = ra.cur.err
			}
			ra.free <- ra.cur.buf
			ra.cur = raChunk{}
		}
		if ra.err != nil {
			return 0, ra.err
		}
		c, ok := <-ra.ch
		if !ok {
			return 0, io.EOF
		}
		ra.cur, ra.off = c, 0
		if c.n == 0 && c.err != nil {
			ra.err = c.err
			ra.free <- c.buf
			ra.cur = raChunk{}
			return 0, ra.err
		}
	}
	n := copy(p, (*ra.cur.buf)[ra.off:ra.cur.n])
	ra.off += n
	return n, nil
}

// Close stops the reader goroutine and waits for it.
func (ra *readAhead) Close() {
	ra.once.Do(func() {
		close(ra.done)
		ra.wg.Wait()
		if ra.cur.buf != nil {
			copyBufs.Put(ra.cur.buf)
		}
		for c := range ra.ch {
			copyBufs.Put(c.buf)
		}
		for {
			select {
			case bp := <-ra.free:
				copyBufs.Put(bp)
			default:
				return
			}
		}
	})
}
