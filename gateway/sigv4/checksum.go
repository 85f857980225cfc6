package sigv4

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"strings"

	"github.com/minio/crc64nvme"

	"github.com/lakegate/lakegate/backends"
)

// checksumAlgorithm is one of the S3 additional checksum algorithms. See the
// Amazon S3 User Guide, "Checking object integrity in Amazon S3".
type checksumAlgorithm struct {
	name   string // as in x-amz-sdk-checksum-algorithm: "CRC32"
	header string // lower-case header / trailer name: "x-amz-checksum-crc32"
	size   int    // digest length in bytes
	newFn  func() hash.Hash
}

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

// checksumAlgorithms lists every algorithm S3 accepts in x-amz-checksum-*.
var checksumAlgorithms = []*checksumAlgorithm{
	{name: backends.ChecksumCRC32, header: "x-amz-checksum-crc32", size: 4, newFn: func() hash.Hash { return crc32.NewIEEE() }},
	{name: backends.ChecksumCRC32C, header: "x-amz-checksum-crc32c", size: 4, newFn: func() hash.Hash { return crc32.New(crc32cTable) }},
	{name: backends.ChecksumCRC64NVME, header: "x-amz-checksum-crc64nvme", size: 8, newFn: func() hash.Hash { return crc64nvme.New() }},
	{name: backends.ChecksumSHA1, header: "x-amz-checksum-sha1", size: sha1.Size, newFn: sha1.New},
	{name: backends.ChecksumSHA256, header: "x-amz-checksum-sha256", size: sha256.Size, newFn: sha256.New},
}

// checksumByName finds an algorithm by its S3 name, case-insensitively.
func checksumByName(name string) *checksumAlgorithm {
	for _, a := range checksumAlgorithms {
		if strings.EqualFold(a.name, name) {
			return a
		}
	}
	return nil
}

// checksumByHeader finds an algorithm by its header name, case-insensitively.
func checksumByHeader(h string) *checksumAlgorithm {
	for _, a := range checksumAlgorithms {
		if strings.EqualFold(a.header, h) {
			return a
		}
	}
	return nil
}

// decodeChecksum decodes a base64 checksum value and checks its length.
func (a *checksumAlgorithm) decode(v string) ([]byte, bool) {
	b, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil || len(b) != a.size {
		return nil, false
	}
	return b, true
}
