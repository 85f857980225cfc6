package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/internal/atomicfile"
)

// stateStore is lakegate's durable state for one S3 backend, small JSON files
// under dir, each written atomically (temporary file, fsync, rename, fsync of
// the directory):
//
//	uploads/<bucket>/<sha256(upload ID)>.json          one record per in-progress upload
//	uploads/<bucket>/<sha256(upload ID)>.parts/<n>.json checksums of part n (only when known)
//	checksums/<bucket>/<sha256(key)>.json               checksums that could not go into the
//	                                                   object's metadata, bound to its ETag
//
// <bucket> is the backend bucket name (validated: [a-z0-9.-]). Upload IDs and
// keys never become path components, so no caller input can escape dir.
// Several gateway processes may share dir: every file is replaced whole.
type stateStore struct {
	dir string
}

// uploadRecord is the durable record of one in-progress multipart upload.
type uploadRecord struct {
	Key       string            `json:"key"`
	UploadID  string            `json:"upload_id"`
	Initiated time.Time         `json:"initiated"`
	Metadata  backends.Metadata `json:"metadata"`
}

// partRecord holds the checksums of one uploaded part, valid while the
// backend's part has ETag.
type partRecord struct {
	ETag      string            `json:"etag"`
	Checksums map[string]string `json:"checksums"`
}

// checksumRecord holds an object's checksums, valid while the object has ETag.
type checksumRecord struct {
	Key       string            `json:"key"`
	ETag      string            `json:"etag"`
	Checksums map[string]string `json:"checksums"`
}

// openStateStore creates dir if needed.
func openStateStore(dir string) (*stateStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("s3 state dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("s3 state dir: %w", err)
	}
	return &stateStore{dir: abs}, nil
}

func hashName(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (s *stateStore) uploadsDir(bucket string) string {
	return filepath.Join(s.dir, "uploads", bucket)
}

func (s *stateStore) uploadPath(bucket, uploadID string) string {
	return filepath.Join(s.uploadsDir(bucket), hashName(uploadID)+".json")
}

func (s *stateStore) partsDir(bucket, uploadID string) string {
	return filepath.Join(s.uploadsDir(bucket), hashName(uploadID)+".parts")
}

func (s *stateStore) checksumPath(bucket, key string) string {
	return filepath.Join(s.dir, "checksums", bucket, hashName(key)+".json")
}

// writeJSON writes v to path atomically (see internal/atomicfile),
// creating the directory first.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o640)
}

// readJSON reads path into v; a missing file is fs.ErrNotExist.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// saveUpload records an upload.
func (s *stateStore) saveUpload(bucket string, rec uploadRecord) error {
	if err := writeJSON(s.uploadPath(bucket, rec.UploadID), rec); err != nil {
		return fmt.Errorf("s3 state: save upload: %w", err)
	}
	return nil
}

// loadUpload returns the record of uploadID for key, or ErrUploadNotFound
// when there is none or it belongs to another key.
func (s *stateStore) loadUpload(bucket, key, uploadID string) (uploadRecord, error) {
	var rec uploadRecord
	err := readJSON(s.uploadPath(bucket, uploadID), &rec)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && (rec.UploadID != uploadID || rec.Key != key)) {
		return uploadRecord{}, fmt.Errorf("s3 upload %q for %s/%s: %w", uploadID, bucket, key, backends.ErrUploadNotFound)
	}
	if err != nil {
		return uploadRecord{}, fmt.Errorf("s3 state: read upload %q: %w", uploadID, err)
	}
	return rec, nil
}

// removeUpload deletes an upload's record and part checksums. The record
// goes first, so a crash in between leaves only unreferenced part files.
func (s *stateStore) removeUpload(bucket, uploadID string) error {
	if err := os.Remove(s.uploadPath(bucket, uploadID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("s3 state: remove upload: %w", err)
	}
	if err := os.RemoveAll(s.partsDir(bucket, uploadID)); err != nil {
		return fmt.Errorf("s3 state: remove upload parts: %w", err)
	}
	return nil
}

// listUploads returns every upload record of bucket (unsorted).
func (s *stateStore) listUploads(bucket string) ([]uploadRecord, error) {
	entries, err := os.ReadDir(s.uploadsDir(bucket))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("s3 state: list uploads: %w", err)
	}
	var out []uploadRecord
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		var rec uploadRecord
		err := readJSON(filepath.Join(s.uploadsDir(bucket), name), &rec)
		if errors.Is(err, fs.ErrNotExist) {
			continue // completed or aborted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("s3 state: read upload %s: %w", name, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// savePart records part n's checksums; with none it removes a stale record.
func (s *stateStore) savePart(bucket, uploadID string, n int, rec partRecord) error {
	path := filepath.Join(s.partsDir(bucket, uploadID), strconv.Itoa(n)+".json")
	if len(rec.Checksums) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("s3 state: remove part %d: %w", n, err)
		}
		return nil
	}
	if err := writeJSON(path, rec); err != nil {
		return fmt.Errorf("s3 state: save part %d: %w", n, err)
	}
	return nil
}

// loadPart returns the checksums of part n if they were recorded for a part
// with etag.
func (s *stateStore) loadPart(bucket, uploadID string, n int, etag string) map[string]string {
	var rec partRecord
	if err := readJSON(filepath.Join(s.partsDir(bucket, uploadID), strconv.Itoa(n)+".json"), &rec); err != nil {
		return nil
	}
	if rec.ETag != etag {
		return nil
	}
	return rec.Checksums
}

// saveChecksums binds checksums to the object key with etag; with none it
// removes any earlier record for the key.
func (s *stateStore) saveChecksums(bucket, key, etag string, sums map[string]string) error {
	path := s.checksumPath(bucket, key)
	if len(sums) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("s3 state: remove checksums: %w", err)
		}
		return nil
	}
	if err := writeJSON(path, checksumRecord{Key: key, ETag: etag, Checksums: sums}); err != nil {
		return fmt.Errorf("s3 state: save checksums: %w", err)
	}
	return nil
}

// loadChecksums returns the recorded checksums of key if its object still
// has etag.
func (s *stateStore) loadChecksums(bucket, key, etag string) map[string]string {
	var rec checksumRecord
	if err := readJSON(s.checksumPath(bucket, key), &rec); err != nil {
		return nil
	}
	if rec.Key != key || rec.ETag != etag {
		return nil
	}
	return rec.Checksums
}

// removeBucket deletes all state of bucket.
func (s *stateStore) removeBucket(bucket string) error {
	err1 := os.RemoveAll(s.uploadsDir(bucket))
	err2 := os.RemoveAll(filepath.Join(s.dir, "checksums", bucket))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("s3 state: remove bucket: %w", err)
	}
	return nil
}

// pageUploads applies ListMultipartUploads semantics to recs: prefix filter,
// order by key then initiation time then upload ID, the key and upload-ID
// markers, delimiter roll-up into common prefixes, and MaxUploads (uploads
// and common prefixes together). See the Amazon S3 API Reference,
// ListMultipartUploads.
func pageUploads(recs []uploadRecord, q backends.ListUploadsQuery) backends.ListUploadsResult {
	max := q.MaxUploads
	if max <= 0 || max > 1000 {
		max = 1000
	}
	sorted := make([]uploadRecord, 0, len(recs))
	for _, r := range recs {
		if strings.HasPrefix(r.Key, q.Prefix) {
			sorted = append(sorted, r)
		}
	}
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if !a.Initiated.Equal(b.Initiated) {
			return a.Initiated.Before(b.Initiated)
		}
		return a.UploadID < b.UploadID
	})
	// Skip what the markers say was listed already.
	start := 0
	if q.KeyMarker != "" {
		markerPresent := q.UploadIDMarker != "" && sortedHasUpload(sorted, q.KeyMarker, q.UploadIDMarker)
		start = len(sorted)
		for i, r := range sorted {
			if r.Key < q.KeyMarker {
				continue
			}
			if r.Key == q.KeyMarker {
				if q.UploadIDMarker == "" {
					continue
				}
				// Resume after the marker upload; if it is gone (completed
				// meanwhile), at the first upload of the key with a greater ID.
				if r.UploadID == q.UploadIDMarker {
					start = i + 1
					break
				}
				if !markerPresent && r.UploadID > q.UploadIDMarker {
					start = i
					break
				}
				continue
			}
			start = i
			break
		}
	}
	var res backends.ListUploadsResult
	count := 0
	lastPrefix := ""
	for i := start; i < len(sorted); i++ {
		r := sorted[i]
		if q.Delimiter != "" {
			if j := strings.Index(r.Key[len(q.Prefix):], q.Delimiter); j >= 0 {
				cp := r.Key[:len(q.Prefix)+j+len(q.Delimiter)]
				if cp == lastPrefix || (q.KeyMarker != "" && cp <= q.KeyMarker) {
					continue
				}
				if count == max {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				lastPrefix = cp
				res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
				count++
				continue
			}
		}
		if count == max {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, backends.UploadInfo{
			Key: r.Key, UploadID: r.UploadID, Initiated: r.Initiated, Metadata: cloneMetadata(r.Metadata),
		})
		res.NextKeyMarker, res.NextUploadIDMarker = r.Key, r.UploadID
		count++
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return res
}

// sortedHasUpload reports whether recs holds uploadID for key.
func sortedHasUpload(recs []uploadRecord, key, uploadID string) bool {
	for _, r := range recs {
		if r.Key == key && r.UploadID == uploadID {
			return true
		}
	}
	return false
}
