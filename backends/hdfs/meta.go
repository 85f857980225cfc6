package hdfs

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/lakegate/lakegate/backends"
)

// Extended attributes (HDFS xattrs, namespace "user") that hold what S3
// stores beside an object's bytes. They are set on the temporary file before
// it is renamed into place, so an object and its metadata appear together.
const (
	// xattrMeta holds storedMeta as JSON on a file written through lakegate,
	// and on a directory made by PUT "dir/" (an explicit marker).
	xattrMeta = "user.lakegate.meta"
	// xattrTags holds the tag set, as a JSON object, of a file or directory
	// without xattrMeta (written by another HDFS client): objects written
	// through lakegate keep their tags in xattrMeta, so that a PUT sets one
	// attribute, not two (each is a NameNode edit-log write).
	xattrTags = "user.lakegate.tags"
	// xattrBucket holds a bucket directory's creation time (RFC 3339).
	xattrBucket = "user.lakegate.bucket"
	// xattrUpload holds uploadState as JSON on a multipart upload's
	// staging directory.
	xattrUpload = "user.lakegate.upload"
	// xattrPart holds partState as JSON on a staged part file.
	xattrPart = "user.lakegate.part"
)

// maxXAttrBytes is HDFS's default dfs.namenode.fs-limits.max-xattr-size
// (name and value together) in bytes.
const maxXAttrBytes = 16384

// emptyMD5 is the hex MD5 of zero bytes: the ETag of every directory marker.
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// storedMeta is the JSON form of xattrMeta.
//
// Size and MTime record the file's length and HDFS modification time (ms)
// when lakegate wrote it. If another HDFS client later changes the file in
// place (append, truncate, a new modification time), they no longer match
// and the stored ETag and checksums are ignored: the file is then treated
// like any file written outside lakegate (see derivedETag).
type storedMeta struct {
	V     int    `json:"v"`
	ETag  string `json:"etag"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime,omitempty"`
	Parts int    `json:"parts,omitempty"`

	ContentType        string            `json:"ct,omitempty"`
	ContentEncoding    string            `json:"ce,omitempty"`
	ContentDisposition string            `json:"cd,omitempty"`
	ContentLanguage    string            `json:"cl,omitempty"`
	CacheControl       string            `json:"cc,omitempty"`
	Expires            string            `json:"exp,omitempty"`
	User               map[string]string `json:"user,omitempty"`
	Checksums          map[string]string `json:"cks,omitempty"`
	// Tags is the tag set. PutObjectTagging rewrites xattrMeta of the same
	// inode with only this field changed; everything else in xattrMeta is
	// fixed for the inode's life, so that read-modify-write loses nothing.
	Tags map[string]string `json:"tags,omitempty"`
}

// newStoredMeta returns the stored form of m (tags included) for content
// with etag and parts (0 for a single-part object).
func newStoredMeta(m backends.Metadata, etag string, parts int) storedMeta {
	return storedMeta{
		V: 1, ETag: etag, Parts: parts,
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		ContentDisposition: m.ContentDisposition, ContentLanguage: m.ContentLanguage,
		CacheControl: m.CacheControl, Expires: m.Expires,
		User: nilIfEmpty(m.User), Checksums: nilIfEmpty(m.Checksums), Tags: nilIfEmpty(m.Tags),
	}
}

// metadata returns the backends.Metadata of s. When content is false (the
// stamp no longer matches the file) checksums are dropped, because they
// describe content that is gone.
func (s storedMeta) metadata(content bool) backends.Metadata {
	m := backends.Metadata{
		ContentType: s.ContentType, ContentEncoding: s.ContentEncoding,
		ContentDisposition: s.ContentDisposition, ContentLanguage: s.ContentLanguage,
		CacheControl: s.CacheControl, Expires: s.Expires,
		User: maps.Clone(s.User), Tags: maps.Clone(s.Tags),
	}
	if content {
		m.Checksums = maps.Clone(s.Checksums)
	}
	return m
}

// encode returns s as the xattr value, or an error wrapping
// backends.ErrMetadataTooLarge if it exceeds the HDFS xattr size limit.
func (s storedMeta) encode() (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	if len(b)+len(xattrMeta) > maxXAttrBytes {
		return "", fmt.Errorf("object metadata of %d bytes exceeds the HDFS xattr limit of %d bytes: %w", len(b), maxXAttrBytes, backends.ErrMetadataTooLarge)
	}
	return string(b), nil
}

// decodeMeta parses an xattrMeta value.
func decodeMeta(v string) (storedMeta, bool) {
	var s storedMeta
	if err := json.Unmarshal([]byte(v), &s); err != nil || s.V != 1 {
		return storedMeta{}, false
	}
	return s, true
}

// encodeTags returns the xattrTags value of tags.
func encodeTags(tags map[string]string) (string, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return "", err
	}
	if len(b)+len(xattrTags) > maxXAttrBytes {
		return "", fmt.Errorf("tag set of %d bytes exceeds the HDFS xattr limit of %d bytes: %w", len(b), maxXAttrBytes, backends.ErrMetadataTooLarge)
	}
	return string(b), nil
}

// decodeTags parses an xattrTags value; nil for none.
func decodeTags(v string) map[string]string {
	var t map[string]string
	if json.Unmarshal([]byte(v), &t) != nil || len(t) == 0 {
		return nil
	}
	return t
}

// derivedETag is the ETag of a file that lakegate did not write (or that
// another HDFS client changed in place after lakegate wrote it): the hex MD5
// of the file's inode ID, length and modification time (ms), followed by
// "-1".
//
// Why these inputs: all three come with the file status the NameNode
// returns for every listing entry, so listing a directory of foreign files
// costs no extra DataNode traffic (HDFS's MD5-of-MD5-of-CRC32C file
// checksum needs one DataNode round trip per block, and an MD5 of the
// content means reading every byte). The ETag is stable across NameNode
// restarts, renames and reads, and it changes whenever the file does: a
// rewrite (hdfs dfs -put -f, Spark overwrite) makes a new inode, an append or
// truncate changes length and modification time. It also changes when only
// the modification time is set (hdfs dfs -touch), which errs on the safe
// side for change detection.
//
// Why "-1": the ETag is not the MD5 of the content, and clients that check a
// downloaded body against a plain 32-hex-digit ETag (the AWS SDK for Java v1
// does) skip the check for ETags in the multipart form "<hex>-<n>".
func derivedETag(fileID uint64, size int64, mtime time.Time) string {
	sum := md5.Sum(fmt.Appendf(nil, "hdfs-file:%d:%d:%d", fileID, size, mtime.UnixMilli()))
	return hex.EncodeToString(sum[:]) + "-1"
}

// uploadState is the JSON form of xattrUpload: what CreateMultipartUpload
// recorded, so that any gateway process can list, complete or abort the
// upload later.
type uploadState struct {
	V         int               `json:"v"`
	Key       string            `json:"key"`
	Initiated time.Time         `json:"initiated"`
	Meta      storedMeta        `json:"meta"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// partState is the JSON form of xattrPart.
type partState struct {
	ETag      string            `json:"etag"`
	Size      int64             `json:"size"`
	Checksums map[string]string `json:"cks,omitempty"`
}

// nilIfEmpty returns a copy of m, or nil when m is empty.
func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
