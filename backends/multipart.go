package backends

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"
)

// MultipartETag returns the S3 ETag of a multipart object (unquoted): the hex
// MD5 of the concatenated binary MD5s of its parts, then "-" and the part
// count. partETags are the parts' unquoted hex ETags in part order.
// It fails if an ETag is not 32 hex digits.
func MultipartETag(partETags []string) (string, error) {
	h := md5.New()
	for _, e := range partETags {
		b, err := hex.DecodeString(e)
		if err != nil || len(b) != md5.Size {
			return "", fmt.Errorf("part etag %q: %w", e, ErrInvalidPart)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partETags)), nil
}

// CompositeChecksum returns the S3 composite ("checksum of checksums")
// multipart checksum for algo: base64 of the algorithm's hash over the
// concatenated binary part checksums, then "-" and the part count. See the
// Amazon S3 User Guide, "Checking object integrity", multipart uploads.
// partChecksums are base64 values in part order. CRC64NVME has no composite
// form in S3 (only full-object); it returns ErrNotImplemented for it.
func CompositeChecksum(algo string, partChecksums []string) (string, error) {
	var h hash.Hash
	switch algo {
	case ChecksumCRC32:
		h = crc32.NewIEEE()
	case ChecksumCRC32C:
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case ChecksumSHA1:
		h = sha1.New()
	case ChecksumSHA256:
		h = sha256.New()
	default:
		return "", fmt.Errorf("composite checksum %s: %w", algo, ErrNotImplemented)
	}
	for _, c := range partChecksums {
		b, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return "", fmt.Errorf("part checksum %q: %w", c, ErrInvalidPart)
		}
		h.Write(b)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partChecksums)), nil
}

// PartsCountFromETag returns N for a multipart ETag "hex-N", 0 otherwise.
func PartsCountFromETag(etag string) int {
	i := strings.LastIndexByte(etag, '-')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(etag[i+1:])
	if err != nil {
		return 0
	}
	return n
}
