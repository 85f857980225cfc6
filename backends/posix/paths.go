package posix

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lakegate/lakegate/backends"
)

// privateDir is the gateway-private directory under the root. Its name starts
// with a dot, which no S3 bucket name does, so it never shadows a bucket.
const privateDir = ".lakegate"

// maxKeyLen is the longest key in bytes S3 allows.
const maxKeyLen = 1024

// objectPath is where a key lives on disk.
type objectPath struct {
	path   string // absolute path of the file (object) or directory (marker)
	marker bool   // the key ends in "/": a directory marker, path is a directory
}

// validBucket reports whether name can be a bucket directory: non-empty, at
// most nameMax bytes, no "/" or NUL, and not starting with "." (which keeps
// ".", ".." and the private directory out of the bucket namespace).
func validBucket(name string, nameMax int) error {
	if name == "" || len(name) > nameMax || name[0] == '.' ||
		strings.ContainsAny(name, "/\x00") || !utf8.ValidString(name) {
		return fmt.Errorf("posix bucket %q: %w", name, backends.ErrInvalidBucketName)
	}
	return nil
}

// keyToPath maps key in the bucket directory bucketDir to its path. A key
// ending in "/" maps to a directory (a marker). Keys that cannot be
// represented safely are rejected with ErrInvalidObjectName: empty or longer
// than 1024 bytes, invalid UTF-8, containing NUL, with an empty segment
// (leading "/", "//") other than the one trailing "/", with a "." or ".."
// segment, or with a segment longer than nameMax bytes. Every accepted key
// maps to a path strictly inside bucketDir whose segments are exactly the
// key's segments, so the mapping is reversible and cannot escape the root
// (FuzzKeyToPath checks both).
func keyToPath(bucketDir, key string, nameMax int) (objectPath, error) {
	if err := checkKey(key, nameMax); err != nil {
		return objectPath{}, err
	}
	body, marker := strings.CutSuffix(key, "/")
	return objectPath{path: bucketDir + "/" + body, marker: marker}, nil
}

// checkKey validates key as keyToPath does.
func checkKey(key string, nameMax int) error {
	invalid := func(why string) error {
		return fmt.Errorf("posix key %q: %s: %w", truncate(key), why, backends.ErrInvalidObjectName)
	}
	if key == "" || len(key) > maxKeyLen {
		return invalid("length")
	}
	if !utf8.ValidString(key) {
		return invalid("not utf-8")
	}
	if strings.IndexByte(key, 0) >= 0 {
		return invalid("nul byte")
	}
	body := strings.TrimSuffix(key, "/")
	for seg := range strings.SplitSeq(body, "/") {
		switch {
		case seg == "":
			return invalid("empty path segment")
		case seg == "." || seg == "..":
			return invalid("dot segment")
		case len(seg) > nameMax:
			return invalid("segment longer than the file system allows")
		}
	}
	return nil
}

// checkPrefixDir validates the directory part of a listing prefix (up to and
// including its last "/"), which must itself be a valid marker key. It
// reports false when no stored key can start with it.
func checkPrefixDir(dirKey string, nameMax int) bool {
	return dirKey == "" || checkKey(dirKey, nameMax) == nil
}

// truncate shortens a key for error messages.
func truncate(key string) string {
	if len(key) > 64 {
		return key[:64] + "..."
	}
	return key
}
