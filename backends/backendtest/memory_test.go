package backendtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakegate/lakegate/backends"
)

// memBackend is a minimal S3-like (flat namespace) in-memory backend used
// only to check that the suite's expectations hold for a backend with
// KeyConflictIsError false and no implicit markers, which posix cannot show.
type memBackend struct {
	mu      sync.Mutex
	buckets map[string]*memBucket
	nextID  int
}

type memBucket struct {
	created time.Time
	objs    map[string]*memObj
	uploads map[string]*memUpload
}

type memObj struct {
	data []byte
	info backends.ObjectInfo
}

type memUpload struct {
	info  backends.UploadInfo
	parts map[int]*memPart
}

type memPart struct {
	data []byte
	info backends.PartInfo
}

func newMem() *memBackend { return &memBackend{buckets: map[string]*memBucket{}} }

func (m *memBackend) bucket(name string) (*memBucket, error) {
	b, ok := m.buckets[name]
	if !ok {
		return nil, backends.ErrBucketNotFound
	}
	return b, nil
}

func checkMemKey(key string) error {
	if key == "" || len(key) > 1024 || strings.IndexByte(key, 0) >= 0 {
		return backends.ErrInvalidObjectName
	}
	return nil
}

func cloneInfo(i backends.ObjectInfo) backends.ObjectInfo {
	i.Metadata.User = maps.Clone(i.Metadata.User)
	i.Metadata.Checksums = maps.Clone(i.Metadata.Checksums)
	i.Metadata.Tags = maps.Clone(i.Metadata.Tags)
	return i
}

func (m *memBackend) Stat(ctx context.Context, bucket, key string) (backends.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	o, ok := b.objs[key]
	if !ok {
		return backends.ObjectInfo{}, backends.ErrObjectNotFound
	}
	return cloneInfo(o.info), nil
}

func (m *memBackend) Open(ctx context.Context, bucket, key string, rng backends.Range) (io.ReadCloser, backends.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, backends.ObjectInfo{}, err
	}
	o, ok := b.objs[key]
	if !ok {
		return nil, backends.ObjectInfo{}, backends.ErrObjectNotFound
	}
	size := int64(len(o.data))
	if rng.Offset > 0 && rng.Offset >= size {
		return nil, backends.ObjectInfo{}, backends.ErrInvalidRange
	}
	end := size
	if rng.Length >= 0 && rng.Offset+rng.Length < end {
		end = rng.Offset + rng.Length
	}
	return io.NopCloser(bytes.NewReader(o.data[rng.Offset:end])), cloneInfo(o.info), nil
}

func (m *memBackend) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	m.mu.Lock()
	_, err := m.bucket(bucket)
	m.mu.Unlock()
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if err := checkMemKey(key); err != nil {
		return backends.ObjectInfo{}, err
	}
	data, err := readBody(ctx, body, opts.Size)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	meta := opts.Metadata
	if opts.Digest != nil {
		if d := opts.Digest(); len(d.Checksums) > 0 {
			meta.Checksums = maps.Clone(d.Checksums)
		}
	}
	sum := md5.Sum(data)
	info := backends.ObjectInfo{Key: key, Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]), LastModified: time.Now(), Metadata: meta}
	return m.commit(bucket, key, data, info, opts.Condition)
}

func readBody(ctx context.Context, body io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	r := body
	if size >= 0 {
		r = io.LimitReader(body, size+1)
	}
	p := make([]byte, 32<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(p)
		buf.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if size >= 0 && int64(buf.Len()) != size {
		return nil, fmt.Errorf("size mismatch")
	}
	return buf.Bytes(), nil
}

func (m *memBackend) commit(bucket, key string, data []byte, info backends.ObjectInfo, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	cur, exists := b.objs[key]
	if cond.IfNoneMatchStar && exists {
		return backends.ObjectInfo{}, backends.ErrPreconditionFailed
	}
	if cond.IfMatch != "" {
		if !exists {
			return backends.ObjectInfo{}, backends.ErrObjectNotFound
		}
		if cur.info.ETag != cond.IfMatch {
			return backends.ObjectInfo{}, backends.ErrPreconditionFailed
		}
	}
	info = cloneInfo(info)
	b.objs[key] = &memObj{data: data, info: info}
	return cloneInfo(info), nil
}

func (m *memBackend) Delete(ctx context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	delete(b.objs, key)
	return nil
}

func (m *memBackend) List(ctx context.Context, bucket string, q backends.ListQuery) (backends.ListResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return backends.ListResult{}, err
	}
	keys := make([]string, 0, len(b.objs))
	for k := range b.objs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	page, trunc := model(keys, q)
	var res backends.ListResult
	for _, en := range page {
		if en.prefix {
			res.CommonPrefixes = append(res.CommonPrefixes, en.name)
		} else {
			res.Objects = append(res.Objects, cloneInfo(b.objs[en.name].info))
		}
		res.NextStartAfter = en.name
	}
	res.IsTruncated = trunc
	if !trunc {
		res.NextStartAfter = ""
	}
	return res, nil
}

func (m *memBackend) CreateBucket(ctx context.Context, bucket string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if bucket == "" || strings.ContainsAny(bucket, "/\x00") || bucket[0] == '.' {
		return backends.ErrInvalidBucketName
	}
	if _, ok := m.buckets[bucket]; ok {
		return backends.ErrBucketExists
	}
	m.buckets[bucket] = &memBucket{created: time.Now(), objs: map[string]*memObj{}, uploads: map[string]*memUpload{}}
	return nil
}

func (m *memBackend) DeleteBucket(ctx context.Context, bucket string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	if len(b.objs)+len(b.uploads) > 0 {
		return backends.ErrBucketNotEmpty
	}
	delete(m.buckets, bucket)
	return nil
}

func (m *memBackend) HeadBucket(ctx context.Context, bucket string) (backends.BucketInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return backends.BucketInfo{}, err
	}
	return backends.BucketInfo{Name: bucket, Created: b.created}, nil
}

func (m *memBackend) ListBuckets(ctx context.Context) ([]backends.BucketInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []backends.BucketInfo
	for n, b := range m.buckets {
		out = append(out, backends.BucketInfo{Name: n, Created: b.created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memBackend) CopyObject(ctx context.Context, sb, sk, db, dk string, opts backends.CopyOptions) (backends.ObjectInfo, error) {
	m.mu.Lock()
	b, err := m.bucket(sb)
	if err != nil {
		m.mu.Unlock()
		return backends.ObjectInfo{}, err
	}
	o, ok := b.objs[sk]
	m.mu.Unlock()
	if !ok {
		return backends.ObjectInfo{}, backends.ErrObjectNotFound
	}
	if opts.SourceIfMatch != "" && opts.SourceIfMatch != o.info.ETag {
		return backends.ObjectInfo{}, backends.ErrPreconditionFailed
	}
	info := cloneInfo(o.info)
	info.Key = dk
	if opts.ReplaceMetadata {
		tags := info.Metadata.Tags
		info.Metadata = opts.Metadata
		info.Metadata.Tags = tags
	}
	if opts.ReplaceTags {
		info.Metadata.Tags = opts.Metadata.Tags
	}
	return m.commit(db, dk, o.data, info, opts.Condition)
}

func (m *memBackend) PutObjectTagging(ctx context.Context, bucket, key string, tags map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	o, ok := b.objs[key]
	if !ok {
		return backends.ErrObjectNotFound
	}
	o.info.Metadata.Tags = maps.Clone(tags)
	return nil
}

func (m *memBackend) CreateMultipartUpload(ctx context.Context, bucket, key string, meta backends.Metadata) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return "", err
	}
	m.nextID++
	id := fmt.Sprintf("up%08d", m.nextID)
	b.uploads[id] = &memUpload{info: backends.UploadInfo{Key: key, UploadID: id, Initiated: time.Now(), Metadata: meta}, parts: map[int]*memPart{}}
	return id, nil
}

func (m *memBackend) upload(bucket, key, id string) (*memBucket, *memUpload, error) {
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, nil, backends.ErrUploadNotFound
	}
	u, ok := b.uploads[id]
	if !ok || u.info.Key != key {
		return nil, nil, backends.ErrUploadNotFound
	}
	return b, u, nil
}

func (m *memBackend) UploadPart(ctx context.Context, bucket, key, id string, n int, body io.Reader, opts backends.PutOptions) (backends.PartInfo, error) {
	m.mu.Lock()
	_, _, err := m.upload(bucket, key, id)
	m.mu.Unlock()
	if err != nil {
		return backends.PartInfo{}, err
	}
	data, err := readBody(ctx, body, opts.Size)
	if err != nil {
		return backends.PartInfo{}, err
	}
	sum := md5.Sum(data)
	pi := backends.PartInfo{PartNumber: n, ETag: hex.EncodeToString(sum[:]), Size: int64(len(data)), LastModified: time.Now()}
	if opts.Digest != nil {
		pi.Checksums = opts.Digest().Checksums
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, key, id)
	if err != nil {
		return backends.PartInfo{}, err
	}
	u.parts[n] = &memPart{data: data, info: pi}
	return pi, nil
}

func (m *memBackend) CompleteMultipartUpload(ctx context.Context, bucket, key, id string, parts []backends.CompletePart, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	m.mu.Lock()
	_, u, err := m.upload(bucket, key, id)
	if err != nil {
		m.mu.Unlock()
		return backends.ObjectInfo{}, err
	}
	var data []byte
	var etags, sums []string
	if len(parts) == 0 {
		m.mu.Unlock()
		return backends.ObjectInfo{}, backends.ErrInvalidPart
	}
	for i, p := range parts {
		if i > 0 && p.PartNumber <= parts[i-1].PartNumber {
			m.mu.Unlock()
			return backends.ObjectInfo{}, backends.ErrInvalidPartOrder
		}
	}
	for i, p := range parts {
		mp, ok := u.parts[p.PartNumber]
		if !ok || mp.info.ETag != p.ETag {
			m.mu.Unlock()
			return backends.ObjectInfo{}, backends.ErrInvalidPart
		}
		if i < len(parts)-1 && mp.info.Size < backends.MinPartSize {
			m.mu.Unlock()
			return backends.ObjectInfo{}, backends.ErrEntityTooSmall
		}
		data = append(data, mp.data...)
		etags = append(etags, mp.info.ETag)
		if s, ok := mp.info.Checksums[backends.ChecksumCRC32C]; ok {
			sums = append(sums, s)
		}
	}
	meta := u.info.Metadata
	m.mu.Unlock()
	if len(sums) == len(parts) {
		c, _ := backends.CompositeChecksum(backends.ChecksumCRC32C, sums)
		meta.Checksums = map[string]string{backends.ChecksumCRC32C: c}
	}
	etag, _ := backends.MultipartETag(etags)
	info, err := m.commit(bucket, key, data, backends.ObjectInfo{Key: key, Size: int64(len(data)), ETag: etag, LastModified: time.Now(), Metadata: meta, PartsCount: len(parts)}, cond)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	m.mu.Lock()
	if b, err := m.bucket(bucket); err == nil {
		delete(b.uploads, id)
	}
	m.mu.Unlock()
	return info, nil
}

func (m *memBackend) AbortMultipartUpload(ctx context.Context, bucket, key, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, _, err := m.upload(bucket, key, id)
	if err != nil {
		return err
	}
	delete(b.uploads, id)
	return nil
}

func (m *memBackend) ListParts(ctx context.Context, bucket, key, id string, marker, max int) (backends.ListPartsResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, key, id)
	if err != nil {
		return backends.ListPartsResult{}, err
	}
	var nums []int
	for n := range u.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	res := backends.ListPartsResult{Upload: u.info}
	for _, n := range nums {
		if len(res.Parts) == max {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, u.parts[n].info)
		res.NextPartNumberMarker = n
	}
	return res, nil
}

func (m *memBackend) ListMultipartUploads(ctx context.Context, bucket string, q backends.ListUploadsQuery) (backends.ListUploadsResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return backends.ListUploadsResult{}, err
	}
	var ups []backends.UploadInfo
	for _, u := range b.uploads {
		if strings.HasPrefix(u.info.Key, q.Prefix) {
			ups = append(ups, u.info)
		}
	}
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].Key != ups[j].Key {
			return ups[i].Key < ups[j].Key
		}
		return ups[i].UploadID < ups[j].UploadID
	})
	var res backends.ListUploadsResult
	lastCP := ""
	for _, u := range ups {
		cp := ""
		if q.Delimiter != "" {
			if i := strings.Index(u.Key[len(q.Prefix):], q.Delimiter); i >= 0 {
				cp = u.Key[:len(q.Prefix)+i+len(q.Delimiter)]
			}
		}
		if cp != "" {
			if cp <= q.KeyMarker || cp == lastCP {
				continue
			}
		} else if !(u.Key > q.KeyMarker || (q.UploadIDMarker != "" && u.Key == q.KeyMarker && u.UploadID > q.UploadIDMarker)) {
			continue
		}
		if len(res.Uploads)+len(res.CommonPrefixes) == q.MaxUploads {
			res.IsTruncated = true
			break
		}
		if cp != "" {
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			lastCP = cp
			res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
		} else {
			res.Uploads = append(res.Uploads, u)
			res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
		}
	}
	return res, nil
}

// TestSuiteOnFlatBackend runs the suite against memBackend with the zero
// Options, checking that its expectations are consistent for S3-like
// backends (both "a" and "a/b" stored, no synthesised markers).
func TestSuiteOnFlatBackend(t *testing.T) {
	shared := newMem()
	Run(t, func(t *testing.T) backends.Backend { return shared }, Options{
		LargeObjectSize: 8<<20 + 1,
		Reopen:          func(t *testing.T, b backends.Backend) backends.Backend { return b },
		Skip: map[string]string{
			"RoundTripLarge": "memBackend holds objects in memory",
		},
	})
}
