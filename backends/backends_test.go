package backends

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
)

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"abc": true, "my-bucket.data": true, "a1b2c3": true, "bucket-63-chars-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": true,
		"ab": false, "ABC": false, "-abc": false, "abc-": false, "a..b": false, "a.-b": false, "a-.b": false,
		"192.168.1.1": false, "xn--abc": false, "abc-s3alias": false, "a_b": false, "a/b": false, ".lakegate": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false, // 64
	} {
		if got := ValidBucketName(name); got != want {
			t.Errorf("ValidBucketName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMultipartETag(t *testing.T) {
	p1, p2 := md5.Sum([]byte("part one")), md5.Sum([]byte("part two"))
	h := md5.New()
	h.Write(p1[:])
	h.Write(p2[:])
	want := hex.EncodeToString(h.Sum(nil)) + "-2"
	got, err := MultipartETag([]string{hex.EncodeToString(p1[:]), hex.EncodeToString(p2[:])})
	if err != nil || got != want {
		t.Fatalf("MultipartETag = %q, %v; want %q", got, err, want)
	}
	if PartsCountFromETag(got) != 2 || PartsCountFromETag(hex.EncodeToString(p1[:])) != 0 {
		t.Fatal("PartsCountFromETag")
	}
	if _, err := MultipartETag([]string{"not-hex"}); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("bad part etag: %v", err)
	}
}

func TestCompositeChecksum(t *testing.T) {
	a, b := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	whole := sha256.Sum256(append(a[:], b[:]...))
	want := base64.StdEncoding.EncodeToString(whole[:]) + "-2"
	got, err := CompositeChecksum(ChecksumSHA256, []string{base64.StdEncoding.EncodeToString(a[:]), base64.StdEncoding.EncodeToString(b[:])})
	if err != nil || got != want {
		t.Fatalf("CompositeChecksum = %q, %v; want %q", got, err, want)
	}
	if _, err := CompositeChecksum(ChecksumCRC64NVME, nil); !errors.Is(err, ErrNotImplemented) {
		t.Fatalf("CRC64NVME composite: %v", err)
	}
}
