package sigv4

import (
	"context"
	"crypto/md5"
	"hash"
	"runtime"
	"sync"
	"sync/atomic"

	md5simd "github.com/minio/md5-simd"
)

// md5Hasher computes the MD5 of a body (its ETag). Write never fails unless
// the request context ended; Sum may be called once.
type md5Hasher interface {
	Write(p []byte) error
	Sum() []byte
	Close()
}

// inlineMD5 hashes on the caller's goroutine.
type inlineMD5 struct{ h hash.Hash }

func (m *inlineMD5) Write(p []byte) error { m.h.Write(p); return nil }
func (m *inlineMD5) Sum() []byte          { return m.h.Sum(nil) }
func (m *inlineMD5) Close()               {}

// asyncMD5 hashes on its own goroutine, so that computing the ETag overlaps
// with decoding, signature checks and the backend's writes instead of adding
// to them: crypto/md5 runs at about 800 MB/s on one core, slower than the
// rest of the pipeline, and inline it would roughly halve PUT throughput
// (see BenchmarkBody). Data is copied into a few fixed buffers; the
// goroutine starts only once a body exceeds one buffer, so small bodies cost
// nothing extra. It stops when the request context ends, so an abandoned
// Body does not leak it.
//
// The goroutine hashes with crypto/md5 while few bodies are being hashed,
// and with github.com/minio/md5-simd once more than md5SIMDThreshold are:
// md5-simd hashes up to 16 streams at once in AVX-512 lanes on one core
// (about 2 GB/s per core with 16 streams against 0.8 GB/s for crypto/md5)
// but a single stream at half the speed of crypto/md5 (BenchmarkMD5Engines).
// Only the goroutine touches the md5-simd hasher, and it always closes it.
type asyncMD5 struct {
	ctx     context.Context
	cur     []byte
	full    chan []byte
	free    chan []byte
	result  chan []byte
	started bool
	summed  bool
	err     error
}

const (
	md5BufferSize = 128 << 10
	md5Buffers    = 4
)

var md5BufferPool = sync.Pool{New: func() any { b := make([]byte, 0, md5BufferSize); return &b }}

func newAsyncMD5(ctx context.Context) *asyncMD5 {
	m := &asyncMD5{ctx: ctx}
	m.cur = (*md5BufferPool.Get().(*[]byte))[:0]
	return m
}

// md5SIMDThreshold is how many bodies must already be hashing for a new one
// to use md5-simd. Tests and benchmarks change it.
var md5SIMDThreshold atomic.Int64

func init() { md5SIMDThreshold.Store(2) }

// activeMD5 counts running hash goroutines.
var activeMD5 atomic.Int64

// An md5-simd server hashes all its streams on one goroutine (one core, up
// to 16 lanes); one server per four cores keeps MD5 from capping the
// throughput of large machines. Created on first use.
var (
	simdOnce    sync.Once
	simdServers []md5simd.Server
	simdNext    atomic.Uint64
)

func simdHash() md5simd.Hasher {
	simdOnce.Do(func() {
		n := max(1, runtime.GOMAXPROCS(0)/4)
		for i := 0; i < n; i++ {
			simdServers = append(simdServers, md5simd.NewServer())
		}
	})
	return simdServers[simdNext.Add(1)%uint64(len(simdServers))].NewHash()
}

// newBlockHasher picks the engine for a new hash goroutine; done releases it.
func newBlockHasher() (h hash.Hash, done func()) {
	if activeMD5.Add(1)-1 >= md5SIMDThreshold.Load() {
		sh := simdHash()
		return sh, func() { sh.Close(); activeMD5.Add(-1) }
	}
	return md5.New(), func() { activeMD5.Add(-1) }
}

func (m *asyncMD5) start() {
	m.started = true
	m.full = make(chan []byte, md5Buffers)
	m.free = make(chan []byte, md5Buffers)
	m.result = make(chan []byte, 1)
	for i := 0; i < md5Buffers-1; i++ {
		m.free <- (*md5BufferPool.Get().(*[]byte))[:0]
	}
	h, done := newBlockHasher()
	go func(full <-chan []byte, free chan<- []byte, result chan<- []byte, ctxDone <-chan struct{}) {
		defer done()
		for {
			select {
			case b, ok := <-full:
				if !ok {
					result <- h.Sum(nil)
					return
				}
				h.Write(b)
				free <- b[:0]
			case <-ctxDone:
				return
			}
		}
	}(m.full, m.free, m.result, m.ctx.Done())
}

func (m *asyncMD5) Write(p []byte) error {
	if m.err != nil {
		return m.err
	}
	for len(p) > 0 {
		k := copy(m.cur[len(m.cur):cap(m.cur)], p)
		m.cur = m.cur[:len(m.cur)+k]
		p = p[k:]
		if len(m.cur) < cap(m.cur) {
			break
		}
		if !m.started {
			m.start()
		}
		m.full <- m.cur
		select {
		case m.cur = <-m.free:
		case <-m.ctx.Done():
			m.err = m.ctx.Err()
			m.cur = nil
			return m.err
		}
	}
	return nil
}

func (m *asyncMD5) Sum() []byte {
	if m.summed || m.err != nil {
		return nil
	}
	m.summed = true
	if !m.started {
		s := md5.Sum(m.cur)
		m.release()
		return s[:]
	}
	if len(m.cur) > 0 {
		m.full <- m.cur
		m.cur = nil
	}
	close(m.full)
	select {
	case s := <-m.result:
		m.release()
		return s
	case <-m.ctx.Done():
		m.err = m.ctx.Err()
		return nil
	}
}

// release returns the buffers to the pool once the goroutine is done with
// them.
func (m *asyncMD5) release() {
	if m.cur != nil {
		b := m.cur[:0]
		md5BufferPool.Put(&b)
		m.cur = nil
	}
	if m.started {
		for {
			select {
			case b := <-m.free:
				b = b[:0]
				md5BufferPool.Put(&b)
			default:
				return
			}
		}
	}
}

// Close stops the goroutine if Sum was not called.
func (m *asyncMD5) Close() {
	if m.summed {
		return
	}
	m.summed = true
	if m.started {
		close(m.full)
		// The goroutine hashes what is queued, sends to the buffered result
		// channel and exits; its buffers are left to the garbage collector.
		return
	}
	m.release()
}
