package hdfs

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lakegate/lakegate/backends"
)

// Key mapping.
//
// Bucket b is the HDFS directory <root>/b. Object key k is the HDFS path
// <root>/b/k, byte for byte, "/" separating directories: "a/b/c" is the file
// c in the directory <root>/b/a/b. A key ending in "/" is a directory
// marker: "a/b/" is the directory <root>/b/a/b itself. Nothing is escaped, so
// HDFS users (hdfs dfs, Spark with hdfs://) and S3 clients see the same
// names.
//
// A key HDFS cannot hold is refused with backends.ErrInvalidObjectName (S3
// InvalidObjectName, 400), never stored under another name. The rule:
//   - the key is empty, longer than 1024 bytes, or not valid UTF-8;
//   - the key contains NUL;
//   - a segment between slashes is empty: a leading "/", "//" anywhere, or
//     the key "/" (one trailing "/" is the directory marker form);
//   - a segment is "." or "..", or ".snapshot" (HDFS reserves it);
//   - a segment contains ":" (HDFS's DFSUtilClient.isValidName rejects it);
//   - a segment is longer than Config.MaxComponentLength bytes (HDFS's
//     dfs.namenode.fs-limits.max-component-length, 255 by default).
//
// Every name HDFS can hold maps to a valid key, so files written by other
// HDFS clients are listed under their own names.

// MaxKeyLength is the longest key in bytes S3 accepts.
const MaxKeyLength = 1024

// keyToPath returns the HDFS path of key in the bucket directory bucketDir
// and whether the key is a directory marker (ends in "/"). It fails with
// backends.ErrInvalidObjectName when HDFS cannot hold the key (see the rule
// above). maxComponent <= 0 means no segment length limit.
func keyToPath(bucketDir, key string, maxComponent int) (p string, isDir bool, err error) {
	if err := validKey(key, maxComponent); err != nil {
		return "", false, err
	}
	isDir = strings.HasSuffix(key, "/")
	return bucketDir + "/" + strings.TrimSuffix(key, "/"), isDir, nil
}

// validKey checks key against the mapping rule.
func validKey(key string, maxComponent int) error {
	switch {
	case key == "":
		return fmt.Errorf("empty key: %w", backends.ErrInvalidObjectName)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("key of %d bytes is longer than %d: %w", len(key), MaxKeyLength, backends.ErrInvalidObjectName)
	case !utf8.ValidString(key):
		return fmt.Errorf("key %s is not valid UTF-8: %w", shortKey(key), backends.ErrInvalidObjectName)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("key %s contains NUL: %w", shortKey(key), backends.ErrInvalidObjectName)
	}
	body := strings.TrimSuffix(key, "/")
	if body == "" {
		return fmt.Errorf("key %s has an empty path segment: %w", shortKey(key), backends.ErrInvalidObjectName)
	}
	for seg := range strings.SplitSeq(body, "/") {
		if err := validSegment(seg, maxComponent); err != nil {
			return fmt.Errorf("key %s: %w", shortKey(key), err)
		}
	}
	return nil
}

// shortKey quotes a key for an error message, eliding the middle of long
// ones.
func shortKey(k string) string {
	if len(k) <= 80 {
		return fmt.Sprintf("%q", k)
	}
	return fmt.Sprintf("%q...(%d bytes)", k[:60], len(k))
}

// validSegment checks one path segment (no "/" inside).
func validSegment(seg string, maxComponent int) error {
	switch {
	case seg == "":
		return fmt.Errorf("empty path segment: %w", backends.ErrInvalidObjectName)
	case seg == "." || seg == "..":
		return fmt.Errorf("path segment %q: %w", seg, backends.ErrInvalidObjectName)
	case seg == ".snapshot":
		return fmt.Errorf("path segment .snapshot is reserved by HDFS: %w", backends.ErrInvalidObjectName)
	case strings.IndexByte(seg, ':') >= 0:
		return fmt.Errorf("path segment %s contains ':', which HDFS rejects: %w", shortKey(seg), backends.ErrInvalidObjectName)
	case maxComponent > 0 && len(seg) > maxComponent:
		return fmt.Errorf("path segment of %d bytes is longer than the HDFS limit of %d: %w", len(seg), maxComponent, backends.ErrInvalidObjectName)
	}
	return nil
}

// pathToKey is the inverse of keyToPath: the key of the HDFS path p inside
// bucketDir, with a trailing "/" for a directory. p must lie strictly below
// bucketDir.
func pathToKey(bucketDir, p string, isDir bool) string {
	k := strings.TrimPrefix(p, bucketDir+"/")
	if isDir {
		k += "/"
	}
	return k
}

// validBucket checks that a bucket name can be an HDFS directory under the
// root that is not the gateway's private area: 1 to 255 bytes of UTF-8
// without "/", ":" or NUL, not starting with "." (which also excludes "."
// and ".." and the staging directory .lakegate). S3's own naming rules are
// the gateway's business.
func validBucket(bucket string) error {
	switch {
	case bucket == "" || len(bucket) > 255 || !utf8.ValidString(bucket):
		return fmt.Errorf("bucket name %q: %w", bucket, backends.ErrInvalidBucketName)
	case bucket[0] == '.' || strings.ContainsAny(bucket, "/:\x00"):
		return fmt.Errorf("bucket name %q: %w", bucket, backends.ErrInvalidBucketName)
	}
	return nil
}

// listBase splits a listing prefix into the directory (a key prefix ending
// in "/", or "") that holds every key starting with prefix, and the rest of
// the prefix, which names children of that directory. ok is false when the
// directory cannot exist in HDFS (so nothing can match).
func listBase(prefix string) (base, rest string, ok bool) {
	i := strings.LastIndexByte(prefix, '/')
	base, rest = prefix[:i+1], prefix[i+1:]
	if base == "" {
		return "", rest, true
	}
	if !utf8.ValidString(base) || strings.IndexByte(base, 0) >= 0 {
		return "", "", false
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(base, "/"), "/") {
		if validSegment(seg, 0) != nil {
			return "", "", false
		}
	}
	return base, rest, true
}

// successor returns the smallest string greater than every string that has
// prefix p, or "" when there is none (p is empty or all 0xff bytes).
func successor(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}
