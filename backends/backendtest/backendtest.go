// Package backendtest is lakegate's storage conformance suite: Run drives any
// backends.Backend through the behaviours the gateway and its clients (Hadoop
// S3A, the AWS SDKs, rclone) rely on, as subtests named by behaviour
// (RoundTripLarge, ListOrderBytewise, HostileKeys, ...). Every backend's test
// file calls Run against a real instance, in the manner of rclone's
// fstests.Run and vault's physical.ExerciseBackend.
//
// Differences between backends that are legitimate (a hierarchical namespace,
// empty directories made outside the contract) are declared in Options; known gaps go in
// Options.Skip with their reason, never in a silent skip. Optional
// capabilities a backend lacks make their subtests skip with the reason
// "capability not implemented".
//
// The suite never relies on wall-clock timing: concurrency tests check
// outcomes (exactly one winner, no torn object), not durations.
//
// Subtests (each function's comment states exactly what it expects):
// RoundTripEmpty, RoundTripSmall, RoundTripUnknownSize, RoundTripLarge,
// RangeRead, MetadataRoundTrip, DigestChecksumsStored, ETagIsMD5,
// BucketNotFound, ListOrderBytewise, ListDelimiterPrefix,
// ListDelimiterNonSlash, ListPagingStable, ListContinuationAfterCommonPrefix,
// DirectoryMarkers, ImplicitDirectories, EmptyDirectories, KeyConflict, DeleteIdempotent,
// HostileKeys, ConcurrentWritersOneKey, ConcurrentPutDeleteSharedPrefix,
// OpenDuringOverwrite, CancelledPutLeavesNothing/{BodyError,CtxCancel,
// ShortBody,LongBody}, ConditionalWrites/{Sequential,ConcurrentNoneMatch,
// ConcurrentIfMatch}, Multipart/{PartsParallelOutOfOrder,CompleteErrors,
// EntityTooSmall,CompleteSubsetOfParts,Abort,UploadNotFound,ListPartsPaging,
// ListMultipartUploadsPaging,ListMultipartUploadsPrefix,CompositeChecksums,
// FailedPartLeavesPrevious,ConditionalComplete,ReplacesExistingObject},
// MultipartSurvivesRestart, Copy, CopyMultipartETag, Tagging,
// Buckets/{Lifecycle,NotEmpty,InvalidNames}.
//
// Listing expectations come from one reference model of ListObjectsV2 over
// exactly the keys a subtest stored (plus, in EmptyDirectories, the markers
// of the empty directories it made), so every listing check compares whole pages:
// entries, order, common prefixes, IsTruncated and NextStartAfter.
package backendtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lakegate/lakegate/backends"
)

// DefaultLargeObjectSize is the size in bytes of the RoundTripLarge object
// when neither Options.LargeObjectSize nor LAKEGATE_TEST_LARGE_SIZE sets one:
// 2 GiB + 1, past every signed 32-bit offset.
const DefaultLargeObjectSize int64 = 2<<30 + 1

// ShortLargeObjectSize is the RoundTripLarge size under go test -short when
// LAKEGATE_TEST_LARGE_SIZE is not set: 64 MiB + 1.
const ShortLargeObjectSize int64 = 64<<20 + 1

// LargeSizeEnv names the environment variable that overrides the
// RoundTripLarge object size: a byte count with an optional suffix K, M or G
// (powers of 1024, optionally followed by "iB" or "B"), e.g. "256M", "1GiB"
// or "2147483649".
const LargeSizeEnv = "LAKEGATE_TEST_LARGE_SIZE"

// Options declares how a backend legitimately differs from S3, and its known
// gaps. The zero value describes an S3-like flat backend with the Buckets
// capability.
type Options struct {
	// LargeObjectSize is the size in bytes of the object RoundTripLarge
	// streams through Put and Open. LAKEGATE_TEST_LARGE_SIZE overrides it.
	// Default: DefaultLargeObjectSize (ShortLargeObjectSize with -short).
	LargeObjectSize int64

	// EmptyDirsAreMarkers: the backend is hierarchical and an empty
	// directory made outside the contract (by another client of the
	// storage, e.g. hdfs dfs -mkdir) is the zero-byte marker object "dir/"
	// in listings, Stat and Open, as on HDFS, so that S3A sees an empty
	// directory. A non-empty directory that was not written as a marker is
	// never an object, on any backend: every subtest expects exactly the
	// stored keys. When true, EmptyDirectories checks these semantics with
	// MakeEmptyDir; when false it skips. Default: false.
	EmptyDirsAreMarkers bool

	// MakeEmptyDir creates the empty directory that the marker key dir
	// ("a/b/") names in bucket, and its missing parents, without going
	// through the backend's contract (as another client of the storage
	// would). Required when EmptyDirsAreMarkers. Default: nil.
	MakeEmptyDir func(t *testing.T, b backends.Backend, bucket, dir string)

	// KeyConflictIsError: the backend is hierarchical and answers
	// ErrKeyConflict when a key is both an object and a prefix of other
	// objects ("a" and "a/b", "a" and "a/"). When false both are stored, as
	// on S3. Default: false.
	KeyConflictIsError bool

	// Skip maps a subtest name (as Run names it, e.g. "Multipart" or
	// "Multipart/ListMultipartUploadsPaging") to the reason it is skipped.
	// The reason is logged through t.Skip. Entries that name no subtest fail
	// the run, so the list cannot go stale silently.
	Skip map[string]string

	// NewBucket returns the name of an empty bucket for one subtest. When nil,
	// the suite creates a uniquely named bucket through backends.Buckets
	// (and fails if the backend lacks that capability). Either way the suite
	// deletes every object and upload in it when the subtest ends, and the
	// bucket itself if it created it.
	NewBucket func(t *testing.T, b backends.Backend) string

	// Reopen returns a new instance of the backend over the same storage as
	// b (a process restart). When set, MultipartSurvivesRestart uses it;
	// when nil that subtest skips. Default: nil.
	Reopen func(t *testing.T, b backends.Backend) backends.Backend

	// CheckInvariants, when set, runs at the end of every subtest, after the
	// suite removed what it wrote, to check backend-private invariants the
	// contract cannot see: posix checks that no temporary file is left and
	// nothing was written outside its root. Default: nil.
	CheckInvariants func(t *testing.T, b backends.Backend)
}

// subtest is one behaviour of the suite.
type subtest struct {
	name string
	fn   func(e *env)
}

// subtests lists every behaviour Run checks, in the order they run.
var subtests = []subtest{
	{"RoundTripEmpty", testRoundTripEmpty},
	{"RoundTripSmall", testRoundTripSmall},
	{"RoundTripUnknownSize", testRoundTripUnknownSize},
	{"RoundTripLarge", testRoundTripLarge},
	{"RangeRead", testRangeRead},
	{"MetadataRoundTrip", testMetadataRoundTrip},
	{"DigestChecksumsStored", testDigestChecksumsStored},
	{"ETagIsMD5", testETagIsMD5},
	{"BucketNotFound", testBucketNotFound},
	{"ListOrderBytewise", testListOrderBytewise},
	{"ListDelimiterPrefix", testListDelimiterPrefix},
	{"ListDelimiterNonSlash", testListDelimiterNonSlash},
	{"ListPagingStable", testListPagingStable},
	{"ListContinuationAfterCommonPrefix", testListContinuationAfterCommonPrefix},
	{"DirectoryMarkers", testDirectoryMarkers},
	{"ImplicitDirectories", testImplicitDirectories},
	{"EmptyDirectories", testEmptyDirectories},
	{"KeyConflict", testKeyConflict},
	{"DeleteIdempotent", testDeleteIdempotent},
	{"HostileKeys", testHostileKeys},
	{"ConcurrentWritersOneKey", testConcurrentWritersOneKey},
	{"ConcurrentPutDeleteSharedPrefix", testConcurrentPutDeleteSharedPrefix},
	{"OpenDuringOverwrite", testOpenDuringOverwrite},
	{"CancelledPutLeavesNothing", testCancelledPutLeavesNothing},
	{"ConditionalWrites", testConditionalWrites},
	{"Multipart", testMultipart},
	{"MultipartSurvivesRestart", testMultipartSurvivesRestart},
	{"Copy", testCopy},
	{"CopyMultipartETag", testCopyMultipartETag},
	{"Tagging", testTagging},
	{"Buckets", testBuckets},
}

// nestedNames lists the nested subtest names (parent/child) that Skip may
// name; env.run fails on a name missing here, so the list stays complete.
var nestedNames = map[string]bool{
	"Multipart/PartsParallelOutOfOrder":     true,
	"Multipart/CompleteErrors":              true,
	"Multipart/EntityTooSmall":              true,
	"Multipart/CompleteSubsetOfParts":       true,
	"Multipart/Abort":                       true,
	"Multipart/UploadNotFound":              true,
	"Multipart/ListPartsPaging":             true,
	"Multipart/ListMultipartUploadsPaging":  true,
	"Multipart/ListMultipartUploadsPrefix":  true,
	"Multipart/CompositeChecksums":          true,
	"Multipart/FailedPartLeavesPrevious":    true,
	"Multipart/ConditionalComplete":         true,
	"Multipart/ReplacesExistingObject":      true,
	"ConditionalWrites/Sequential":          true,
	"ConditionalWrites/ConcurrentNoneMatch": true,
	"ConditionalWrites/ConcurrentIfMatch":   true,
	"CancelledPutLeavesNothing/BodyError":   true,
	"CancelledPutLeavesNothing/CtxCancel":   true,
	"CancelledPutLeavesNothing/ShortBody":   true,
	"CancelledPutLeavesNothing/LongBody":    true,
	"Buckets/Lifecycle":                     true,
	"Buckets/NotEmpty":                      true,
	"Buckets/InvalidNames":                  true,
}

// Run runs the conformance suite against backends made by newBackend, which
// is called once per subtest with that subtest's t (so it may register
// cleanups on it) and must return a ready backend. Subtests run sequentially.
func Run(t *testing.T, newBackend func(t *testing.T) backends.Backend, opts Options) {
	t.Helper()
	known := map[string]bool{}
	for _, st := range subtests {
		known[st.name] = true
	}
	for n := range nestedNames {
		known[n] = true
	}
	for n := range opts.Skip {
		if !known[n] {
			t.Errorf("backendtest: Options.Skip names unknown subtest %q", n)
		}
	}
	opts.LargeObjectSize = largeSize(t, opts.LargeObjectSize)
	for _, st := range subtests {
		t.Run(st.name, func(t *testing.T) {
			if reason, ok := opts.Skip[st.name]; ok {
				t.Skip(reason)
			}
			b := newBackend(t)
			if opts.CheckInvariants != nil {
				t.Cleanup(func() { opts.CheckInvariants(t, b) })
			}
			e := &env{t: t, b: b, opts: &opts, path: st.name}
			e.bucket = e.newBucket()
			st.fn(e)
		})
	}
}

// largeSize resolves the RoundTripLarge object size.
func largeSize(t *testing.T, configured int64) int64 {
	if s := os.Getenv(LargeSizeEnv); s != "" {
		n, err := parseSize(s)
		if err != nil {
			t.Fatalf("backendtest: %s=%q: %v", LargeSizeEnv, s, err)
		}
		return n
	}
	if configured > 0 {
		return configured
	}
	if testing.Short() {
		return ShortLargeObjectSize
	}
	return DefaultLargeObjectSize
}

// parseSize parses "123", "64M", "2G", "512KiB" into bytes.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "i")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K', 'k':
			mult = 1 << 10
		case 'M', 'm':
			mult = 1 << 20
		case 'G', 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size in bytes")
	}
	return n * mult, nil
}

// env is what a subtest works with.
type env struct {
	t      *testing.T
	b      backends.Backend
	opts   *Options
	bucket string
	path   string // subtest path relative to Run, for Skip lookups
}

// ctx returns the subtest's context.
func (e *env) ctx() context.Context { return e.t.Context() }

// run runs a nested subtest in a fresh bucket, honouring Options.Skip for
// "parent/name".
func (e *env) run(name string, fn func(e *env)) {
	e.t.Helper()
	path := e.path + "/" + name
	if !nestedNames[path] {
		e.t.Fatalf("backendtest: nested subtest %q missing from nestedNames", path)
	}
	e.t.Run(name, func(t *testing.T) {
		if reason, ok := e.opts.Skip[path]; ok {
			t.Skip(reason)
		}
		ne := &env{t: t, b: e.b, opts: e.opts, path: path}
		ne.bucket = ne.newBucket()
		fn(ne)
	})
}

// bucketsCap returns the Buckets capability or skips.
func (e *env) bucketsCap() backends.Buckets {
	bk, ok := e.b.(backends.Buckets)
	if !ok {
		e.t.Skip("capability not implemented: backends.Buckets")
	}
	return bk
}

// multipartCap returns the Multipart capability or skips.
func (e *env) multipartCap() backends.Multipart {
	mp, ok := e.b.(backends.Multipart)
	if !ok {
		e.t.Skip("capability not implemented: backends.Multipart")
	}
	return mp
}

// uniqueBucketName returns an S3-valid bucket name unique to this subtest run.
func uniqueBucketName(t *testing.T) string {
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case sb.Len() > 0 && !strings.HasSuffix(sb.String(), "-"):
			sb.WriteByte('-')
		}
	}
	name := strings.Trim(sb.String(), "-")
	if len(name) > 40 {
		name = name[len(name)-40:]
		name = strings.Trim(name, "-")
	}
	return "lgt-" + name + "-" + hex.EncodeToString(rnd[:])
}

// newBucket returns an empty bucket for this subtest and registers its cleanup.
func (e *env) newBucket() string {
	t := e.t
	t.Helper()
	var name string
	created := false
	if e.opts.NewBucket != nil {
		name = e.opts.NewBucket(t, e.b)
	} else {
		bk, ok := e.b.(backends.Buckets)
		if !ok {
			t.Fatal("backendtest: backend lacks backends.Buckets and Options.NewBucket is nil")
		}
		name = uniqueBucketName(t)
		if err := bk.CreateBucket(t.Context(), name); err != nil {
			t.Fatalf("CreateBucket(%q): %v", name, err)
		}
		created = true
	}
	t.Cleanup(func() { emptyBucket(t, e.b, name, created) })
	return name
}

// emptyBucket removes every upload and object in bucket, then the bucket if
// the suite created it. It runs after the subtest's context ended.
func emptyBucket(t *testing.T, b backends.Backend, bucket string, deleteBucket bool) {
	ctx := context.Background()
	if mp, ok := b.(backends.Multipart); ok {
		q := backends.ListUploadsQuery{MaxUploads: 1000}
		for range 1000 {
			res, err := mp.ListMultipartUploads(ctx, bucket, q)
			if err != nil {
				if !errors.Is(err, backends.ErrBucketNotFound) {
					t.Errorf("cleanup: ListMultipartUploads: %v", err)
				}
				break
			}
			for _, u := range res.Uploads {
				if err := mp.AbortMultipartUpload(ctx, bucket, u.Key, u.UploadID); err != nil && !errors.Is(err, backends.ErrUploadNotFound) {
					t.Errorf("cleanup: AbortMultipartUpload(%q, %q): %v", u.Key, u.UploadID, err)
				}
			}
			if !res.IsTruncated {
				break
			}
			q.KeyMarker, q.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		}
	}
	// Delete deepest keys first so that hierarchical backends can remove
	// directories once they are empty.
	for range 100 {
		var keys []string
		q := backends.ListQuery{MaxKeys: 1000}
		for range 10000 {
			res, err := b.List(ctx, bucket, q)
			if err != nil {
				if !errors.Is(err, backends.ErrBucketNotFound) {
					t.Errorf("cleanup: List: %v", err)
				}
				return
			}
			for _, o := range res.Objects {
				keys = append(keys, o.Key)
			}
			if !res.IsTruncated {
				break
			}
			q.StartAfter = res.NextStartAfter
		}
		if len(keys) == 0 {
			break
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] > keys[j] })
		for _, k := range keys {
			if err := b.Delete(ctx, bucket, k); err != nil {
				t.Errorf("cleanup: Delete(%q): %v", k, err)
			}
		}
	}
	if deleteBucket {
		if bk, ok := b.(backends.Buckets); ok {
			if err := bk.DeleteBucket(ctx, bucket); err != nil && !errors.Is(err, backends.ErrBucketNotFound) {
				t.Errorf("cleanup: DeleteBucket(%q): %v", bucket, err)
			}
		}
	}
}
