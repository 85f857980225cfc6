package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math/rand"
	"net/http/httptest"
	"testing"
	"testing/iotest"
	"time"

	"github.com/minio/crc64nvme"
)

// TestChecksumVectors checks the algorithms against the published check
// values of the CRC catalogue ("123456789") and, for CRC64NVME, against
// hash/crc64 with the reflected NVMe polynomial.
func TestChecksumVectors(t *testing.T) {
	check := []byte("123456789")
	for _, c := range []struct {
		alg  string
		want string // hex of the big-endian digest
	}{
		{"CRC32", "cbf43926"},
		{"CRC32C", "e3069283"},
		{"CRC64NVME", "ae8b14860a799888"},
		{"SHA1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
		{"SHA256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"},
	} {
		h := checksumByName(c.alg).newFn()
		h.Write(check)
		if got := hexOf(h.Sum(nil)); got != c.want {
			t.Errorf("%s(123456789) = %s, want %s", c.alg, got, c.want)
		}
	}
	table := crc64.MakeTable(0x9a6c9329ac4bc9b5) // 0xad93d23594c93659 reflected
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 7, 127, 128, 1000, 4096, 100000} {
		b := make([]byte, n)
		rng.Read(b)
		h := crc64nvme.New()
		h.Write(b)
		want := make([]byte, 8)
		binary.BigEndian.PutUint64(want, crc64.Checksum(b, table))
		if !bytes.Equal(h.Sum(nil), want) {
			t.Errorf("crc64nvme differs from hash/crc64 for %d bytes", n)
		}
	}
	if crc32.ChecksumIEEE(check) != 0xcbf43926 {
		t.Fatal("stdlib sanity")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// TestBodyOneByteReads reads valid and invalid bodies one byte at a time:
// valid ones arrive whole, invalid ones never deliver their last byte.
func TestBodyOneByteReads(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	data := bytes.Repeat([]byte("xyz"), 100000) // > one async MD5 buffer
	for _, good := range []bool{true, false} {
		r := httptest.NewRequest("PUT", "http://gw/b/k", bytes.NewReader(data))
		sum := md5.Sum(data)
		if !good {
			sum[0] ^= 1
		}
		r.Header.Set("Content-MD5", b64(sum[:]))
		req, err := v.Verify(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(iotest.OneByteReader(req.Body))
		req.Body.Close()
		if good {
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("valid body: %d bytes, %v", len(got), err)
			}
			if !bytes.Equal(req.Body.Digest().MD5, sum[:]) {
				t.Fatal("digest")
			}
			// Reading again after the end stays at io.EOF.
			if n, err := req.Body.Read(make([]byte, 4)); n != 0 || err != io.EOF {
				t.Fatalf("after EOF: %d %v", n, err)
			}
		} else {
			if err == nil || len(got) >= len(data) {
				t.Fatalf("invalid body: %d of %d bytes, %v", len(got), len(data), err)
			}
			if req.Body.Digest().MD5 != nil {
				t.Fatal("digest of an unverified body")
			}
			// The error sticks.
			if _, err2 := req.Body.Read(make([]byte, 4)); err2 != err {
				t.Fatalf("second read: %v", err2)
			}
		}
	}
}

func TestAsyncMD5(t *testing.T) {
	for _, th := range []int64{1 << 40, 0} { // crypto/md5, then md5-simd
		old := md5SIMDThreshold.Load()
		md5SIMDThreshold.Store(th)
		testAsyncMD5(t)
		md5SIMDThreshold.Store(old)
	}
	// The goroutine of the cancelled hasher exits on its own; wait for it.
	for i := 0; activeMD5.Load() != 0; i++ {
		if i == 500 {
			t.Fatalf("%d hash goroutines still running", activeMD5.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testAsyncMD5(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, n := range []int{0, 1, md5BufferSize - 1, md5BufferSize, md5BufferSize + 1, 10*md5BufferSize + 12345} {
		data := make([]byte, n)
		rng.Read(data)
		m := newAsyncMD5(context.Background())
		for rest := data; len(rest) > 0; {
			k := 1 + rng.Intn(70000)
			if k > len(rest) {
				k = len(rest)
			}
			if err := m.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		want := md5.Sum(data)
		if got := m.Sum(); !bytes.Equal(got, want[:]) {
			t.Fatalf("%d bytes: md5 %x, want %x", n, got, want)
		}
		m.Close()
	}
	// A cancelled request context stops the hasher; Write and Sum report it.
	ctx, cancel := context.WithCancel(context.Background())
	m := newAsyncMD5(ctx)
	buf := make([]byte, md5BufferSize)
	if err := m.Write(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = m.Write(buf)
	}
	if err == nil {
		t.Fatal("writes after cancellation kept succeeding")
	}
	if m.Sum() != nil {
		t.Fatal("sum after cancellation")
	}
	m.Close()
}

// TestChunkedRoundTrip encodes payloads as clients do in every mode and
// chunk size and decodes them, with reads of every size.
func TestChunkedRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, mode := range []chunkMode{modeSigned, modeSignedTrailer, modeUnsignedTrailer} {
		for _, size := range []int{0, 1, 8191, 8192, 65536, 200001} {
			for _, chunk := range []int{1, 8192, 65536} {
				if size/chunk > 5000 {
					continue
				}
				payload := make([]byte, size)
				rng.Read(payload)
				var trs []trailerField
				var decl []string
				if mode != modeSigned {
					trs = []trailerField{{"x-amz-checksum-crc32", "AAAAAA=="}}
					decl = []string{"x-amz-checksum-crc32"}
				}
				body := encodeChunked(payload, chunk, mode, fuzzSigner(), trs)
				var s *chunkSigner
				if mode.signed() {
					s = fuzzSigner()
				}
				d := newChunkedReader(bytes.NewReader(body), mode, s, decl, int64(size))
				out, err := decodeAll(d, []byte{byte(rng.Intn(256)), byte(rng.Intn(256))})
				if err != nil || !bytes.Equal(out, payload) {
					t.Fatalf("mode %d size %d chunk %d: %v (%d bytes)", mode, size, chunk, err, len(out))
				}
				if v, ok := d.trailer("x-amz-checksum-crc32"); mode != modeSigned && (!ok || v != "AAAAAA==") {
					t.Fatalf("trailer %q %v", v, ok)
				}
			}
		}
	}
}

// TestBodySkipMD5: after SkipMD5 the body computes no MD5 (Digest has none)
// but still verifies x-amz-checksum-* values; with Content-MD5, or once
// reading started, SkipMD5 refuses and the MD5 is computed and verified.
func TestBodySkipMD5(t *testing.T) {
	v := newTestVerifier(t, testAK, testSK)
	data := bytes.Repeat([]byte("skip"), 100000) // > one async MD5 buffer
	crc := crc32.ChecksumIEEE(data)
	good := b64(binary.BigEndian.AppendUint32(nil, crc))
	bad := b64(binary.BigEndian.AppendUint32(nil, crc+1))
	md5sum := md5.Sum(data)
	badMD5 := md5sum
	badMD5[0] ^= 1
	for _, c := range []struct {
		name        string
		crc32, cmd5 string
		readFirst   bool
		wantSkip    bool
		wantCode    string
		wantMD5     bool
	}{
		{name: "checksum ok", crc32: good, wantSkip: true},
		{name: "checksum bad", crc32: bad, wantSkip: true, wantCode: "BadDigest"},
		{name: "no checksum", wantSkip: true},
		{name: "content-md5 ok", cmd5: b64(md5sum[:]), wantMD5: true},
		{name: "content-md5 bad", cmd5: b64(badMD5[:]), wantCode: "BadDigest"},
		{name: "after reading", readFirst: true, wantMD5: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "http://gw/b/k", bytes.NewReader(data))
			if c.crc32 != "" {
				r.Header.Set("x-amz-checksum-crc32", c.crc32)
			}
			if c.cmd5 != "" {
				r.Header.Set("Content-MD5", c.cmd5)
			}
			req, err := v.Verify(r)
			if err != nil {
				t.Fatal(err)
			}
			defer req.Body.Close()
			var head []byte
			if c.readFirst {
				head = make([]byte, 10)
				n, err := io.ReadFull(req.Body, head)
				if err != nil {
					t.Fatal(err)
				}
				head = head[:n]
			}
			if got := req.Body.SkipMD5(); got != c.wantSkip {
				t.Errorf("SkipMD5 = %v, want %v", got, c.wantSkip)
			}
			rest, err := io.ReadAll(req.Body)
			o := outcome{readErr: err}
			if code := o.code(); code != c.wantCode {
				t.Fatalf("read: %q, want %q", code, c.wantCode)
			}
			if err != nil {
				return
			}
			if got := append(head, rest...); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes, not the payload", len(got))
			}
			d := req.Body.Digest()
			if c.wantMD5 != bytes.Equal(d.MD5, md5sum[:]) || (!c.wantMD5 && d.MD5 != nil) {
				t.Errorf("digest MD5 %x, want it: %v", d.MD5, c.wantMD5)
			}
			if c.crc32 != "" && d.Checksums["CRC32"] != c.crc32 {
				t.Errorf("checksums %v", d.Checksums)
			}
		})
	}
}
