// Package backends defines lakegate's storage contract: the small, streaming
// Backend interface every storage system implements (posix, HDFS, S3-compatible
// object stores), the optional capability interfaces a backend may add
// (buckets, multipart uploads, server-side copy, tagging), and the sentinel
// errors they return.
//
// The contract speaks in S3 terms (bucket, key, ETag, user metadata) but never
// in wire terms: no HTTP, no XML, no SigV4. The gateway translates between the
// two. This package imports the standard library only.
//
// Key rules every backend follows (the conformance suite in backendtest checks
// them):
//   - Keys are arbitrary UTF-8 strings of 1 to 1024 bytes, compared as byte
//     strings. Listing is in ascending byte order of the whole key.
//   - A write never becomes visible partially: an object is either the old
//     complete object or the new complete object. If the body reader returns an
//     error other than io.EOF, or ctx is cancelled, nothing of the new object is
//     visible and no temporary data is left behind.
//   - A key ending in "/" with zero bytes is a directory marker (Hadoop S3A's
//     convention). It is an object like any other: HEAD "dir/" finds it, HEAD
//     "dir" does not.
//   - All methods are safe for concurrent use by multiple goroutines.
package backends

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors. Backends wrap them with context using fmt.Errorf("...: %w",
// err); the gateway maps them to S3 errors with errors.Is.
var (
	// ErrBucketNotFound: the bucket does not exist (S3 NoSuchBucket, 404).
	ErrBucketNotFound = errors.New("bucket not found")
	// ErrBucketExists: CreateBucket on an existing bucket (S3 BucketAlreadyOwnedByYou, 409).
	ErrBucketExists = errors.New("bucket already exists")
	// ErrBucketNotEmpty: DeleteBucket on a bucket with objects or uploads (S3 BucketNotEmpty, 409).
	ErrBucketNotEmpty = errors.New("bucket not empty")
	// ErrInvalidBucketName: the backend cannot hold this bucket name (S3 InvalidBucketName, 400).
	ErrInvalidBucketName = errors.New("invalid bucket name")
	// ErrObjectNotFound: no object at this key (S3 NoSuchKey, 404).
	ErrObjectNotFound = errors.New("object not found")
	// ErrInvalidObjectName: the backend cannot represent this key, e.g. a NUL
	// byte or a path segment of "." or ".." on a file system (S3-style
	// InvalidObjectName, 400). Never returned for a key that was stored before.
	ErrInvalidObjectName = errors.New("invalid object name")
	// ErrKeyConflict: the key cannot be stored because it is both an object and
	// a prefix of other objects on a hierarchical backend ("a" and "a/b"), or
	// is a non-empty directory. The gateway answers 409 with the documented
	// lakegate code "KeyConflict".
	ErrKeyConflict = errors.New("key conflicts with an existing object or prefix")
	// ErrPreconditionFailed: a WriteCondition did not hold (S3 PreconditionFailed, 412).
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrConditionalConflict: a concurrent write raced a conditional write
	// (S3 ConditionalRequestConflict, 409).
	ErrConditionalConflict = errors.New("conditional request conflict")
	// ErrUploadNotFound: unknown or finished multipart upload ID (S3 NoSuchUpload, 404).
	ErrUploadNotFound = errors.New("upload not found")
	// ErrInvalidPart: a completed part is missing or its ETag differs (S3 InvalidPart, 400).
	ErrInvalidPart = errors.New("invalid part")
	// ErrInvalidPartOrder: completed parts are not in ascending order (S3 InvalidPartOrder, 400).
	ErrInvalidPartOrder = errors.New("invalid part order")
	// ErrEntityTooSmall: a part other than the last is below MinPartSize (S3 EntityTooSmall, 400).
	ErrEntityTooSmall = errors.New("entity too small")
	// ErrNotImplemented: the backend does not support this operation (S3 NotImplemented, 501).
	ErrNotImplemented = errors.New("not implemented")
	// ErrSlowDown: the backend throttles (S3 SlowDown, 503).
	ErrSlowDown = errors.New("slow down")
	// ErrUnavailable: the backend cannot be reached (S3 ServiceUnavailable, 503).
	ErrUnavailable = errors.New("backend unavailable")
	// ErrInvalidRange: the requested range is outside the object (S3 InvalidRange, 416).
	ErrInvalidRange = errors.New("invalid range")
	// ErrAccessDenied: the backend refused the gateway's identity, e.g. an
	// HDFS permission error (S3 AccessDenied, 403).
	ErrAccessDenied = errors.New("access denied by the backend")
	// ErrMetadataTooLarge: the object's metadata exceeds what the backend can
	// store beside it (S3 MetadataTooLarge, 400).
	ErrMetadataTooLarge = errors.New("metadata too large for the backend")
)

// MinPartSize is the smallest size in bytes of a multipart part other than the
// last one (5 MiB), as in the Amazon S3 API Reference, CompleteMultipartUpload.
const MinPartSize = 5 << 20

// MaxPartNumber is the highest part number S3 allows.
const MaxPartNumber = 10000

// Checksum algorithm names, as S3 spells them in x-amz-checksum-algorithm.
const (
	ChecksumCRC32     = "CRC32"
	ChecksumCRC32C    = "CRC32C"
	ChecksumCRC64NVME = "CRC64NVME"
	ChecksumSHA1      = "SHA1"
	ChecksumSHA256    = "SHA256"
)

// Metadata is what S3 stores beside an object's bytes and returns on HEAD/GET.
type Metadata struct {
	ContentType        string // Default: "" (the gateway answers binary/octet-stream)
	ContentEncoding    string // never "aws-chunked": the gateway strips it
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string // as sent by the client (HTTP date)
	// User holds x-amz-meta-* headers: lower-case names without the
	// "x-amz-meta-" prefix, values as received.
	User map[string]string
	// Checksums maps an algorithm (ChecksumCRC32 ...) to its base64 value over
	// the whole object. A multipart object's composite checksum has the form
	// "<base64>-<parts>".
	Checksums map[string]string
	// Tags holds the object's tag set (S3 allows at most 10).
	Tags map[string]string
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key          string
	Size         int64  // bytes
	ETag         string // unquoted: hex MD5, or hex MD5 of part MD5s + "-N" for multipart
	LastModified time.Time
	Metadata     Metadata
	// PartsCount is the number of parts for a multipart object, 0 otherwise.
	PartsCount int
}

// Digest is what the gateway computed while streaming a body: the content MD5
// (the ETag of a single-part object) and any S3 checksums it verified.
type Digest struct {
	MD5       []byte            // 16 bytes
	Checksums map[string]string // algorithm -> base64
}

// WriteCondition makes a write conditional, as S3's conditional writes do
// (If-None-Match: * and If-Match on PutObject/CompleteMultipartUpload). The
// backend checks it at the moment the object becomes visible, so that two
// concurrent conditional writers cannot both succeed. Zero value: unconditional.
type WriteCondition struct {
	IfNoneMatchStar bool   // fail with ErrPreconditionFailed if any object exists at the key
	IfMatch         string // unquoted ETag; fail with ErrPreconditionFailed (ErrObjectNotFound if absent) unless it matches
}

// PutOptions are the parameters of Backend.Put.
type PutOptions struct {
	// Size is the exact body length in bytes, or -1 if unknown. If the body
	// ends before or after Size bytes the backend fails without storing.
	Size      int64
	Metadata  Metadata
	Condition WriteCondition
	// Digest, when not nil, returns the digest of the body; it may be called
	// only after the body reader returned io.EOF. Backends that store ETags
	// use it instead of hashing the content a second time. When nil, the
	// backend computes the MD5 itself.
	Digest func() Digest
}

// Range selects bytes [Offset, Offset+Length) of an object. Length < 0 means
// to the end. The zero value with Length -1 (see FullRange) is the whole object.
type Range struct {
	Offset int64
	Length int64
}

// FullRange is the whole object.
var FullRange = Range{Offset: 0, Length: -1}

// ListQuery is one page request of Backend.List; it mirrors ListObjectsV2.
type ListQuery struct {
	Prefix    string
	Delimiter string // "" for a flat listing
	// StartAfter: only keys (and common prefixes) strictly greater than this,
	// in byte order, are returned. The gateway uses it for start-after,
	// marker and decoded continuation tokens, so paging stays stable while
	// keys are added and removed.
	StartAfter string
	MaxKeys    int // 1..1000; objects and common prefixes together
}

// ListResult is one page of Backend.List. Objects and CommonPrefixes are each
// sorted in byte order, and together hold at most MaxKeys entries which, merged,
// are the first MaxKeys entries after StartAfter.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextStartAfter is the greatest key or common prefix in this page; pass it
	// as StartAfter for the next page. Set whenever IsTruncated.
	NextStartAfter string
}

// Backend is the storage contract every lakegate backend implements. All
// methods are safe for concurrent use and honour ctx cancellation.
type Backend interface {
	// Stat returns the object's info. Errors: ErrBucketNotFound,
	// ErrObjectNotFound, ErrInvalidObjectName, ErrUnavailable.
	Stat(ctx context.Context, bucket, key string) (ObjectInfo, error)

	// Open streams the bytes of rng. The returned info describes the object
	// the bytes come from (never a mix of two versions). Errors as Stat, plus
	// ErrInvalidRange when rng.Offset >= Size for a non-empty object.
	Open(ctx context.Context, bucket, key string, rng Range) (io.ReadCloser, ObjectInfo, error)

	// Put stores body at key, replacing any previous object atomically. The
	// body is streamed, never buffered whole. If body returns a non-EOF error
	// or ctx ends, nothing is stored and that error is returned wrapped.
	// Errors: ErrBucketNotFound, ErrInvalidObjectName, ErrKeyConflict,
	// ErrPreconditionFailed, ErrUnavailable.
	Put(ctx context.Context, bucket, key string, body io.Reader, opts PutOptions) (ObjectInfo, error)

	// Delete removes the object at key. Deleting a missing key succeeds.
	// Deleting a directory marker "dir/" removes the marker and leaves the
	// objects under it. Errors: ErrBucketNotFound, ErrUnavailable.
	Delete(ctx context.Context, bucket, key string) error

	// List returns one page of objects and common prefixes, see ListQuery.
	// Errors: ErrBucketNotFound, ErrUnavailable.
	List(ctx context.Context, bucket string, q ListQuery) (ListResult, error)
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// Buckets is the capability to create, delete and enumerate buckets.
type Buckets interface {
	// CreateBucket errors: ErrBucketExists, ErrInvalidBucketName.
	CreateBucket(ctx context.Context, bucket string) error
	// DeleteBucket errors: ErrBucketNotFound, ErrBucketNotEmpty.
	DeleteBucket(ctx context.Context, bucket string) error
	// HeadBucket errors: ErrBucketNotFound.
	HeadBucket(ctx context.Context, bucket string) (BucketInfo, error)
	// ListBuckets returns every bucket of this backend sorted by name.
	ListBuckets(ctx context.Context) ([]BucketInfo, error)
}

// CopyOptions are the parameters of Copier.CopyObject.
type CopyOptions struct {
	// ReplaceMetadata: use Metadata instead of the source's (S3
	// x-amz-metadata-directive: REPLACE). Tags are replaced only if
	// ReplaceTags.
	ReplaceMetadata bool
	ReplaceTags     bool
	Metadata        Metadata
	// SourceIfMatch: unquoted ETag the source must have, else ErrPreconditionFailed.
	SourceIfMatch string
	Condition     WriteCondition
}

// Copier is the capability of a server-side copy within one backend. Without
// it the gateway streams Open into Put.
type Copier interface {
	// CopyObject copies src to dst atomically from the reader's point of view.
	// The ETag of the copy equals the source's ETag. Errors as Stat and Put.
	CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
}

// Tagger is the capability of replacing an object's tag set without rewriting
// its content (PutObjectTagging, DeleteObjectTagging). Without it the gateway
// answers NotImplemented. Reading tags uses Stat (Metadata.Tags).
type Tagger interface {
	// PutObjectTagging replaces the tag set; an empty map removes all tags.
	// Errors: ErrObjectNotFound.
	PutObjectTagging(ctx context.Context, bucket, key string, tags map[string]string) error
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	PartNumber   int
	ETag         string // unquoted hex MD5 of the part
	Size         int64
	LastModified time.Time
	Checksums    map[string]string // algorithm -> base64 of this part
}

// CompletePart is one entry of CompleteMultipartUpload's part list.
type CompletePart struct {
	PartNumber int
	ETag       string // unquoted
}

// UploadInfo describes an in-progress multipart upload.
type UploadInfo struct {
	Key       string
	UploadID  string
	Initiated time.Time
	Metadata  Metadata
}

// ListUploadsQuery mirrors ListMultipartUploads. Uploads are ordered by key,
// then by initiation time (and upload ID). Paging resumes after
// (KeyMarker, UploadIDMarker); with an empty UploadIDMarker, after every
// upload of KeyMarker.
type ListUploadsQuery struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int // 1..1000
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []UploadInfo
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// ListPartsResult is one page of ListParts, parts in ascending order.
type ListPartsResult struct {
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
	Upload               UploadInfo
}

// Multipart is the capability of S3 multipart uploads. Parts may arrive in
// parallel, out of order, and a part number may be uploaded again (the last
// completed upload of a part wins). Upload state survives process restarts
// and is visible to every gateway process sharing the backend. Nothing of an
// upload is visible to Stat/Open/List until CompleteMultipartUpload returns.
type Multipart interface {
	// CreateMultipartUpload starts an upload and returns its ID.
	// Errors: ErrBucketNotFound, ErrInvalidObjectName.
	CreateMultipartUpload(ctx context.Context, bucket, key string, meta Metadata) (uploadID string, err error)

	// UploadPart stores one part (1..MaxPartNumber). opts.Size, opts.Digest
	// as in Put (the part ETag is the hex MD5 of its content).
	// Errors: ErrUploadNotFound, and body errors as in Put.
	UploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, body io.Reader, opts PutOptions) (PartInfo, error)

	// CompleteMultipartUpload assembles the listed parts into the object
	// atomically and removes the upload. The ETag is the hex MD5 of the
	// concatenated binary part MD5s, then "-" and the number of parts (see
	// MultipartETag). For each checksum algorithm that every listed part has,
	// the object's Metadata.Checksums holds the composite checksum (see
	// CompositeChecksum). Errors: ErrUploadNotFound, ErrInvalidPart,
	// ErrInvalidPartOrder, ErrEntityTooSmall, ErrPreconditionFailed.
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, cond WriteCondition) (ObjectInfo, error)

	// AbortMultipartUpload removes the upload and its parts. Errors: ErrUploadNotFound.
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error

	// ListParts returns parts with numbers > partNumberMarker, at most maxParts.
	// Errors: ErrUploadNotFound.
	ListParts(ctx context.Context, bucket, key, uploadID string, partNumberMarker, maxParts int) (ListPartsResult, error)

	// ListMultipartUploads lists in-progress uploads, see ListUploadsQuery.
	// Errors: ErrBucketNotFound.
	ListMultipartUploads(ctx context.Context, bucket string, q ListUploadsQuery) (ListUploadsResult, error)
}

// Closer is implemented by backends holding resources (connections, client
// pools, tickets) that must be released on shutdown.
type Closer interface {
	Close() error
}
