package posix

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/internal/atomicfile"
)

// Multipart upload layout: root/.lakegate/uploads/<bucket>/<uploadID>/ holds
// upload.json (uploadRecord), and per part NNNNN.json (partRecord) naming
// the part's data file NNNNN-<random>.data. A part is committed by renaming
// its data file in, then renaming its record over the previous one, so a
// re-uploaded part replaces the old one atomically and concurrent uploads
// of different parts never touch the same file.

// uploadRecordName is the name of an upload's record file.
const uploadRecordName = "upload.json"

// uploadRecord is the durable description of an in-progress upload.
type uploadRecord struct {
	Key       string     `json:"key"`
	Initiated time.Time  `json:"initiated"`
	Meta      storedMeta `json:"meta,omitzero"`
}

// partRecord describes one uploaded part.
type partRecord struct {
	Part      int               `json:"part"`
	ETag      string            `json:"etag"`
	Size      int64             `json:"size"`
	Modified  time.Time         `json:"modified"`
	Checksums map[string]string `json:"sums,omitempty"`
	Data      string            `json:"data"`
}

// newUploadID returns an upload ID: 16 hex digits of the initiation time in
// Unix nanoseconds, so IDs sort by initiation, then 16 random hex digits.
func newUploadID(now time.Time) (string, error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%016x%016x", uint64(now.UnixNano()), binary.BigEndian.Uint64(r[:])), nil
}

// validUploadID reports whether id has the form newUploadID makes, which
// also keeps it a plain file name.
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// randomHex returns 16 random hex digits.
func randomHex() string {
	var r [8]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// uploadDir returns the directory of upload id in bucket.
func (b *Backend) uploadDir(bucket, id string) string {
	return b.uploads + "/" + bucket + "/" + id
}

// loadUpload returns the directory and record of upload id for key.
// Errors: ErrUploadNotFound (also for a malformed ID or another key).
func (b *Backend) loadUpload(bucket, key, id string) (string, uploadRecord, error) {
	notFound := fmt.Errorf("posix upload %s for %s/%s: %w", truncate(id), bucket, truncate(key), backends.ErrUploadNotFound)
	if validBucket(bucket, b.nameMax) != nil || !validUploadID(id) {
		return "", uploadRecord{}, notFound
	}
	dir := b.uploadDir(bucket, id)
	data, err := os.ReadFile(dir + "/" + uploadRecordName)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", uploadRecord{}, notFound
		}
		return "", uploadRecord{}, fmt.Errorf("posix upload %s: %w", id, err)
	}
	var rec uploadRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Key != key {
		return "", uploadRecord{}, notFound
	}
	return dir, rec, nil
}

// CreateMultipartUpload records a new upload of key with meta and returns
// its ID. The record is durable: the upload survives restarts and is
// visible to every process sharing the root. Errors: ErrBucketNotFound,
// ErrInvalidObjectName. Safe for concurrent use. See the Amazon S3 API
// Reference, CreateMultipartUpload.
func (b *Backend) CreateMultipartUpload(ctx context.Context, bucket, key string, meta backends.Metadata) (string, error) {
	if _, _, err := b.resolve(bucket, key); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	id, err := newUploadID(now)
	if err != nil {
		return "", fmt.Errorf("posix upload id: %w", err)
	}
	if err := os.MkdirAll(b.uploads+"/"+bucket, 0o755); err != nil {
		return "", fmt.Errorf("posix create upload: %w", err)
	}
	dir := b.uploadDir(bucket, id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("posix create upload: %w", err)
	}
	data, err := json.Marshal(uploadRecord{Key: key, Initiated: now, Meta: toStored(meta)})
	if err == nil {
		err = atomicfile.Write(dir+"/"+uploadRecordName, data, 0o644)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("posix create upload: %w", err)
	}
	return id, nil
}

// partRecordName returns the record file name of part n.
func partRecordName(n int) string { return fmt.Sprintf("%05d.json", n) }

// readPart returns the record of part n in upload dir, nil if absent.
func readPart(dir string, n int) (*partRecord, error) {
	data, err := os.ReadFile(dir + "/" + partRecordName(n))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var pr partRecord
	if err := json.Unmarshal(data, &pr); err != nil || pr.Part != n {
		return nil, nil
	}
	return &pr, nil
}

// UploadPart stores part partNumber (1..MaxPartNumber) of the upload: the
// body streams into a temporary file that is renamed into the upload
// directory, then the part's record is replaced atomically, so the last
// completed upload of a part number wins and a failed one leaves the
// previous part. The part ETag is the hex MD5 of its content (from
// opts.Digest when given); checksums from opts.Digest and
// opts.Metadata.Checksums are kept with the part. Errors: ErrUploadNotFound,
// ErrInvalidPart (part number out of range), and the body's or ctx's error
// wrapped. Safe for concurrent use. See the Amazon S3 API Reference,
// UploadPart.
func (b *Backend) UploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, body io.Reader, opts backends.PutOptions) (backends.PartInfo, error) {
	dir, _, err := b.loadUpload(bucket, key, uploadID)
	if err != nil {
		return backends.PartInfo{}, err
	}
	if partNumber < 1 || partNumber > backends.MaxPartNumber {
		return backends.PartInfo{}, fmt.Errorf("posix part number %d: %w", partNumber, backends.ErrInvalidPart)
	}
	f, n, sum, err := b.spool(ctx, body, opts.Size, opts.Digest == nil)
	if err != nil {
		return backends.PartInfo{}, fmt.Errorf("posix upload part %d of %s/%s: %w", partNumber, bucket, truncate(key), err)
	}
	md5sum, sums, err := digestOf(f, n, sum, opts.Digest)
	tmpName := f.Name()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmpName)
		return backends.PartInfo{}, err
	}
	checksums := withChecksums(backends.Metadata{Checksums: opts.Metadata.Checksums}, sums).Checksums
	gone := fmt.Errorf("posix upload %s: %w", uploadID, backends.ErrUploadNotFound)
	dataName := fmt.Sprintf("%05d-%s.data", partNumber, randomHex())
	if err := os.Rename(tmpName, dir+"/"+dataName); err != nil {
		os.Remove(tmpName)
		if notFound(err) {
			return backends.PartInfo{}, gone
		}
		return backends.PartInfo{}, fmt.Errorf("posix upload part: %w", err)
	}
	pr := partRecord{Part: partNumber, ETag: hex.EncodeToString(md5sum), Size: n, Modified: time.Now().UTC(), Checksums: nonEmpty(checksums), Data: dataName}
	old, _ := readPart(dir, partNumber)
	data, err := json.Marshal(pr)
	if err == nil {
		err = atomicfile.Write(dir+"/"+partRecordName(partNumber), data, 0o644)
	}
	if err != nil {
		os.Remove(dir + "/" + dataName)
		if notFound(err) {
			return backends.PartInfo{}, gone
		}
		return backends.PartInfo{}, fmt.Errorf("posix upload part: %w", err)
	}
	if old != nil && old.Data != dataName && strings.HasSuffix(old.Data, ".data") && !strings.Contains(old.Data, "/") {
		os.Remove(dir + "/" + old.Data)
	}
	return backends.PartInfo{PartNumber: partNumber, ETag: pr.ETag, Size: n, LastModified: pr.Modified, Checksums: pr.Checksums}, nil
}

// listParts returns all part records of upload dir in ascending order.
func listParts(dir string) ([]partRecord, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []partRecord
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || len(name) != 5 {
			continue
		}
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		pr, err := readPart(dir, n)
		if err != nil {
			return nil, err
		}
		if pr != nil {
			out = append(out, *pr)
		}
	}
	slices.SortFunc(out, func(a, b partRecord) int { return a.Part - b.Part })
	return out, nil
}

// ListParts returns up to maxParts parts (default and at most 1000) with
// numbers above partNumberMarker, ascending. Errors: ErrUploadNotFound.
// Safe for concurrent use. See the Amazon S3 API Reference, ListParts.
func (b *Backend) ListParts(ctx context.Context, bucket, key, uploadID string, partNumberMarker, maxParts int) (backends.ListPartsResult, error) {
	dir, up, err := b.loadUpload(bucket, key, uploadID)
	if err != nil {
		return backends.ListPartsResult{}, err
	}
	if maxParts <= 0 || maxParts > 1000 {
		maxParts = 1000
	}
	parts, err := listParts(dir)
	if err != nil {
		if notFound(err) {
			return backends.ListPartsResult{}, fmt.Errorf("posix upload %s: %w", uploadID, backends.ErrUploadNotFound)
		}
		return backends.ListPartsResult{}, fmt.Errorf("posix list parts: %w", err)
	}
	res := backends.ListPartsResult{Upload: backends.UploadInfo{Key: up.Key, UploadID: uploadID, Initiated: up.Initiated, Metadata: up.Meta.metadata()}}
	for _, p := range parts {
		if p.Part <= partNumberMarker {
			continue
		}
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, backends.PartInfo{PartNumber: p.Part, ETag: p.ETag, Size: p.Size, LastModified: p.Modified, Checksums: p.Checksums})
		res.NextPartNumberMarker = p.Part
	}
	return res, nil
}

// CompleteMultipartUpload checks the listed parts (ascending, each uploaded
// with that ETag, all but the last at least MinPartSize), concatenates them
// into a temporary file (copy_file_range(2) where the kernel offers it),
// commits it like Put under cond, and removes the upload. The ETag is
// backends.MultipartETag of the part ETags; for each checksum algorithm all
// listed parts carry, Metadata.Checksums holds the composite checksum. A
// failed Complete leaves the upload as it was. Errors: ErrUploadNotFound,
// ErrInvalidPart, ErrInvalidPartOrder, ErrEntityTooSmall,
// ErrPreconditionFailed, ErrKeyConflict. Safe for concurrent use. See the
// Amazon S3 API Reference, CompleteMultipartUpload.
func (b *Backend) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []backends.CompletePart, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	dir, up, err := b.loadUpload(bucket, key, uploadID)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return backends.ObjectInfo{}, fmt.Errorf("posix complete %s: no parts: %w", uploadID, backends.ErrInvalidPart)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].PartNumber <= parts[i-1].PartNumber {
			return backends.ObjectInfo{}, fmt.Errorf("posix complete %s: part %d after %d: %w", uploadID, parts[i].PartNumber, parts[i-1].PartNumber, backends.ErrInvalidPartOrder)
		}
	}
	recs := make([]*partRecord, len(parts))
	etags := make([]string, len(parts))
	var total int64
	for i, p := range parts {
		pr, err := readPart(dir, p.PartNumber)
		if err != nil {
			return backends.ObjectInfo{}, fmt.Errorf("posix complete: %w", err)
		}
		want := strings.ToLower(strings.Trim(p.ETag, `"`))
		if pr == nil || pr.ETag != want {
			return backends.ObjectInfo{}, fmt.Errorf("posix complete %s: part %d: %w", uploadID, p.PartNumber, backends.ErrInvalidPart)
		}
		recs[i], etags[i] = pr, pr.ETag
		total += pr.Size
	}
	for i, pr := range recs[:len(recs)-1] {
		if pr.Size < backends.MinPartSize {
			return backends.ObjectInfo{}, fmt.Errorf("posix complete %s: part %d is %d bytes: %w", uploadID, parts[i].PartNumber, pr.Size, backends.ErrEntityTooSmall)
		}
	}
	etag, err := backends.MultipartETag(etags)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	meta := up.Meta.metadata()
	meta.Checksums = compositeChecksums(meta.Checksums, recs)
	bdir, op, err := b.resolve(bucket, key)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	rec := &record{ETag: etag, Parts: len(parts), Meta: toStored(meta)}
	var info backends.ObjectInfo
	if op.marker {
		if total != 0 {
			return backends.ObjectInfo{}, fmt.Errorf("posix complete %s/%s: a key ending in / must be empty: %w", bucket, truncate(key), backends.ErrInvalidObjectName)
		}
		info, err = b.commitMarker(bucket, key, bdir, op, rec, cond)
	} else {
		var f *os.File
		if f, err = b.concat(ctx, dir, recs); err == nil {
			info, err = b.commitFile(ctx, bucket, key, bdir, op, f, rec, cond)
		}
	}
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	b.removeUpload(bucket, uploadID)
	return info, nil
}

// compositeChecksums returns base with the composite checksum of every
// algorithm all parts carry.
func compositeChecksums(base map[string]string, recs []*partRecord) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for algo := range recs[0].Checksums {
		var sums []string
		for _, pr := range recs {
			s, ok := pr.Checksums[algo]
			if !ok {
				break
			}
			sums = append(sums, s)
		}
		if len(sums) != len(recs) {
			continue
		}
		if c, err := backends.CompositeChecksum(algo, sums); err == nil {
			out[algo] = c
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// concat writes the parts into a new, fsynced temporary file.
func (b *Backend) concat(ctx context.Context, dir string, recs []*partRecord) (*os.File, error) {
	f, err := os.CreateTemp(b.tmp, "complete-*")
	if err != nil {
		return nil, fmt.Errorf("posix temporary file: %w", err)
	}
	for _, pr := range recs {
		if err := ctx.Err(); err != nil {
			discard(f)
			return nil, fmt.Errorf("posix complete: %w", err)
		}
		src, err := os.Open(dir + "/" + pr.Data)
		if err != nil {
			discard(f)
			if notFound(err) {
				return nil, fmt.Errorf("posix complete: part %d replaced meanwhile: %w", pr.Part, backends.ErrInvalidPart)
			}
			return nil, fmt.Errorf("posix complete: %w", err)
		}
		// *os.File to *os.File through io.LimitedReader: copy_file_range(2).
		n, err := io.CopyN(f, src, pr.Size)
		src.Close()
		if err != nil || n != pr.Size {
			discard(f)
			return nil, fmt.Errorf("posix complete: part %d: copied %d of %d bytes: %v", pr.Part, n, pr.Size, err)
		}
	}
	if err := f.Sync(); err != nil {
		discard(f)
		return nil, fmt.Errorf("posix fsync: %w", err)
	}
	return f, nil
}

// removeUpload moves the upload directory out of the uploads tree (so it is
// gone at once for every caller) and deletes it. It reports false if the
// upload was already gone.
func (b *Backend) removeUpload(bucket, id string) bool {
	trash := b.tmp + "/removed-" + id + "-" + randomHex()
	if err := os.Rename(b.uploadDir(bucket, id), trash); err != nil {
		return false
	}
	os.RemoveAll(trash)
	return true
}

// AbortMultipartUpload removes the upload and its parts. Errors:
// ErrUploadNotFound. Safe for concurrent use. See the Amazon S3 API
// Reference, AbortMultipartUpload.
func (b *Backend) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if _, _, err := b.loadUpload(bucket, key, uploadID); err != nil {
		return err
	}
	if !b.removeUpload(bucket, uploadID) {
		return fmt.Errorf("posix upload %s: %w", uploadID, backends.ErrUploadNotFound)
	}
	return nil
}

// ListMultipartUploads lists in-progress uploads ordered by key, then
// initiation (upload IDs sort by initiation time), after (KeyMarker,
// UploadIDMarker), with prefix and delimiter roll-up as ListObjectsV2 (a
// common prefix at or before KeyMarker is not returned). MaxUploads
// defaults to and is capped at 1000. Errors: ErrBucketNotFound. Safe for
// concurrent use. See the Amazon S3 API Reference, ListMultipartUploads.
func (b *Backend) ListMultipartUploads(ctx context.Context, bucket string, q backends.ListUploadsQuery) (backends.ListUploadsResult, error) {
	if _, err := b.checkBucket(bucket); err != nil {
		return backends.ListUploadsResult{}, err
	}
	max := q.MaxUploads
	if max <= 0 || max > 1000 {
		max = 1000
	}
	entries, err := os.ReadDir(b.uploads + "/" + bucket)
	if err != nil && !notFound(err) {
		return backends.ListUploadsResult{}, fmt.Errorf("posix list uploads: %w", err)
	}
	var ups []backends.UploadInfo
	for _, e := range entries {
		id := e.Name()
		if !validUploadID(id) {
			continue
		}
		data, err := os.ReadFile(b.uploadDir(bucket, id) + "/" + uploadRecordName)
		if err != nil {
			continue // being created or removed
		}
		var rec uploadRecord
		if json.Unmarshal(data, &rec) != nil || !strings.HasPrefix(rec.Key, q.Prefix) {
			continue
		}
		ups = append(ups, backends.UploadInfo{Key: rec.Key, UploadID: id, Initiated: rec.Initiated, Metadata: rec.Meta.metadata()})
	}
	slices.SortFunc(ups, func(a, b backends.UploadInfo) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.UploadID, b.UploadID)
	})
	var res backends.ListUploadsResult
	lastCP := ""
	full := func() bool {
		if len(res.Uploads)+len(res.CommonPrefixes) < max {
			return false
		}
		res.IsTruncated = true
		return true
	}
	for _, u := range ups {
		if q.Delimiter != "" {
			rest := u.Key[len(q.Prefix):]
			if i := strings.Index(rest, q.Delimiter); i >= 0 {
				cp := q.Prefix + rest[:i+len(q.Delimiter)]
				if cp <= q.KeyMarker || cp == lastCP {
					continue
				}
				if full() {
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				lastCP = cp
				res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
				continue
			}
		}
		if !(u.Key > q.KeyMarker || (q.UploadIDMarker != "" && u.Key == q.KeyMarker && u.UploadID > q.UploadIDMarker)) {
			continue
		}
		if full() {
			break
		}
		res.Uploads = append(res.Uploads, u)
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return res, nil
}
