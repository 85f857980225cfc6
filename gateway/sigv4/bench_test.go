package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"io"
	"math/rand"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	md5simd "github.com/minio/md5-simd"
)

// Benchmarks of the body pipeline, reported in MB/s of decoded payload.
// Run with a small count, e.g.:
//
//	go test -run '^$' -bench 'ChunkedDecoder|Body|MD5' -benchtime 20x ./gateway/sigv4
//
// b.SetBytes counts payload bytes; the machine's two cores are shared with
// the async MD5 goroutine, so "per core" figures divide by the CPU time the
// run used (see the report).

const benchPayload = 16 << 20

// cpuTime is the CPU time (user + system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perCore reports "MB/cpu-s": payload megabytes per second of CPU time, the
// throughput one core sustains whatever the load on the machine and however
// many goroutines the path uses. Call it with the start CPU time after the
// loop.
func perCore(b *testing.B, start time.Duration, bytesPerOp int64) {
	used := (cpuTime() - start).Seconds()
	if used > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/used, "MB/cpu-s")
	}
}

func benchData() []byte {
	b := make([]byte, benchPayload)
	rand.New(rand.NewSource(4)).Read(b)
	return b
}

// BenchmarkChunkedDecoder measures the aws-chunked decoder alone (framing,
// and in the signed modes the per-chunk SHA-256 and HMAC), 64 KiB chunks.
func BenchmarkChunkedDecoder(b *testing.B) {
	data := benchData()
	for _, c := range []struct {
		name string
		mode chunkMode
	}{
		{"signed", modeSigned},
		{"signed-trailer", modeSignedTrailer},
		{"unsigned-trailer", modeUnsignedTrailer},
	} {
		var trs []trailerField
		var decl []string
		if c.mode != modeSigned {
			trs, decl = []trailerField{{"x-amz-checksum-crc32", "AAAAAA=="}}, []string{"x-amz-checksum-crc32"}
		}
		body := encodeChunked(data, 64<<10, c.mode, fuzzSigner(), trs)
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 256<<10)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			start := cpuTime()
			defer func() { perCore(b, start, int64(len(data))) }()
			for i := 0; i < b.N; i++ {
				var s *chunkSigner
				if c.mode.signed() {
					s = fuzzSigner()
				}
				d := newChunkedReader(bytes.NewReader(body), c.mode, s, decl, int64(len(data)))
				if _, err := io.CopyBuffer(io.Discard, d, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// simdMD5 adapts minio/md5-simd to md5Hasher, called directly from the
// reading goroutine, for comparison only.
type simdMD5 struct{ h md5simd.Hasher }

func (m *simdMD5) Write(p []byte) error { _, err := m.h.Write(p); return err }
func (m *simdMD5) Sum() []byte          { return m.h.Sum(nil) }
func (m *simdMD5) Close()               { m.h.Close() }

var md5Engines = []struct {
	name      string
	threshold int64
	make      func(context.Context) md5Hasher
}{
	// What Body uses: async, crypto/md5 or md5-simd by concurrency.
	{"md5-async", 2, func(ctx context.Context) md5Hasher { return newAsyncMD5(ctx) }},
	{"md5-async-stdlib", 1 << 40, func(ctx context.Context) md5Hasher { return newAsyncMD5(ctx) }},
	{"md5-async-simd", 0, func(ctx context.Context) md5Hasher { return newAsyncMD5(ctx) }},
	{"md5-inline", 0, func(context.Context) md5Hasher { return &inlineMD5{h: md5.New()} }},
	// Baseline: no MD5 at all (Digest().MD5 is then wrong).
	{"md5-none", 0, func(context.Context) md5Hasher { return nopMD5{} }},
	{"md5-simd-direct", 0, func(context.Context) md5Hasher {
		return &simdMD5{h: simdHash()}
	}},
}

type nopMD5 struct{}

func (nopMD5) Write([]byte) error { return nil }
func (nopMD5) Sum() []byte        { return make([]byte, 16) }
func (nopMD5) Close()             {}

// BenchmarkBody measures the whole Body path as a PUT uses it: decoding,
// signature checks, MD5 (the ETag) and the request's checksum, for each
// payload mode and MD5 engine.
func BenchmarkBody(b *testing.B) {
	data := benchData()
	crc := checksumByName("CRC32")
	for _, c := range []struct {
		name     string
		mode     chunkMode
		chunked  bool
		checksum bool
		sha256   bool
	}{
		{"unsigned-payload", 0, false, false, false},
		{"unsigned-payload+crc32-header", 0, false, true, false},
		{"signed-sha256", 0, false, false, true},
		{"streaming-signed", modeSigned, true, false, false},
		{"streaming-unsigned-trailer+crc32", modeUnsignedTrailer, true, true, false},
		{"streaming-signed-trailer+crc32", modeSignedTrailer, true, true, false},
	} {
		var body []byte
		var decl []string
		if c.chunked {
			var trs []trailerField
			if c.mode != modeSigned {
				h := crc.newFn()
				h.Write(data)
				trs = []trailerField{{"x-amz-checksum-crc32", b64(h.Sum(nil))}}
				decl = []string{"x-amz-checksum-crc32"}
			}
			body = encodeChunked(data, 64<<10, c.mode, fuzzSigner(), trs)
		} else {
			body = data
		}
		for _, eng := range md5Engines {
			b.Run(c.name+"/"+eng.name, func(b *testing.B) {
				old, oldTh := newMD5, md5SIMDThreshold.Load()
				newMD5 = eng.make
				md5SIMDThreshold.Store(eng.threshold)
				defer func() { newMD5 = old; md5SIMDThreshold.Store(oldTh) }()
				buf := make([]byte, 256<<10)
				b.SetBytes(int64(len(data)))
				b.ResetTimer()
				start := cpuTime()
				defer func() { perCore(b, start, int64(len(data))) }()
				for i := 0; i < b.N; i++ {
					raw := io.NopCloser(bytes.NewReader(body))
					var bd *Body
					if c.chunked {
						var s *chunkSigner
						if c.mode.signed() {
							s = fuzzSigner()
						}
						d := newChunkedReader(raw, c.mode, s, decl, int64(len(data)))
						bd = newBody(context.Background(), raw, d, d, int64(len(data)))
					} else {
						bd = newBody(context.Background(), raw, nil, nil, int64(len(data)))
					}
					if c.checksum {
						bd.sum = &runningChecksum{alg: crc, h: crc.newFn(), fromTrailer: c.chunked}
					}
					if c.sha256 {
						bd.sha = sha256New()
						bd.wantSHA256 = sha256Of(data)
					}
					if _, err := io.CopyBuffer(io.Discard, bd, buf); err != nil {
						b.Fatal(err)
					}
					bd.Close()
				}
			})
		}
	}
}

// BenchmarkMD5Engines compares the MD5 engines on their own, for one
// stream and for several concurrent streams (concurrent uploads).
func BenchmarkMD5Engines(b *testing.B) {
	buf := make([]byte, 4<<20)
	for _, streams := range []int{1, 4, 16} {
		for _, eng := range md5Engines {
			if eng.name == "md5-none" {
				continue
			}
			b.Run(eng.name+"/streams="+strconv.Itoa(streams), func(b *testing.B) {
				oldTh := md5SIMDThreshold.Load()
				md5SIMDThreshold.Store(eng.threshold)
				defer md5SIMDThreshold.Store(oldTh)
				b.SetBytes(int64(len(buf)) * int64(streams))
				start := cpuTime()
				defer func() { perCore(b, start, int64(len(buf))*int64(streams)) }()
				var wg sync.WaitGroup
				for s := 0; s < streams; s++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						h := eng.make(context.Background())
						defer h.Close()
						for i := 0; i < b.N; i++ {
							_ = h.Write(buf)
						}
						_ = h.Sum()
					}()
				}
				wg.Wait()
			})
		}
	}
}
