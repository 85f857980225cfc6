package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
)

// Benchmarks against the dev stack's HDFS (same machine, same NameNode and
// DataNode), comparing the backend with a bare colinmarc/hdfs client that
// only writes or reads the bytes (no MD5, no attributes, no rename):
//
//	go test -run '^$' -bench 'Put|Get' -benchtime 3x ./backends/hdfs/
//	go test -run '^$' -bench List -benchtime 3x -timeout 2h ./backends/hdfs/
//
// Put/backend hashes the body (MD5, as for a request without a digest from
// the gateway); Put/backend-digest gets the digest from the caller, as when
// the gateway has hashed while receiving. BenchmarkList populates a
// 100,000-file tree once (kept under <root>/.bench between runs).

var benchSizes = []struct {
	name string
	size int64
}{{"4KiB", 4 << 10}, {"1GiB", 1 << 30}}

// benchData is a random block that benchReader repeats.
var benchData = func() []byte {
	b := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{7}).Read(b)
	return b
}()

// benchReader yields size bytes cheaply.
type benchReader struct{ off, size int64 }

func (r *benchReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := copy(p, benchData[r.off%int64(len(benchData)):])
	if rem := r.size - r.off; int64(n) > rem {
		n = int(rem)
	}
	r.off += int64(n)
	return n, nil
}

// benchCopy copies with a 1 MiB buffer (both sides use the same loop).
func benchCopy(dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	return io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
}

// benchEnv is a backend and a bare client on one bench root.
type benchEnv struct {
	b      *Backend
	reg    *prometheus.Registry
	direct *hdfs.Client
	bucket string
	dir    string
}

func newBenchEnv(tb testing.TB) benchEnv {
	d := loadDev(tb)
	cfg := d.config(tb)
	cfg.Root = d.vars["LAKEGATE_HDFS_ROOT"] + "/.bench/io"
	bk, reg := open(tb, cfg)
	ctx := context.Background()
	if err := bk.CreateBucket(ctx, "bench"); err != nil && !isExists(err) {
		tb.Fatal(err)
	}
	direct, err := hdfs.NewClient(bk.clientOptions())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { direct.Close() })
	dir := cfg.Root + "/direct"
	direct.MkdirAll(dir, 0o755)
	return benchEnv{b: bk, reg: reg, direct: direct, bucket: "bench", dir: dir}
}

// isExists reports ErrBucketExists.
func isExists(err error) bool { return errors.Is(err, backends.ErrBucketExists) }

// closeDirect closes w, retrying while the NameNode reports the last block
// as replicating, with the same backoff as the backend (client.closeWriter).
func closeDirect(w *hdfs.FileWriter) error {
	delay := 10 * time.Millisecond
	for {
		err := w.Close()
		if !hdfs.IsErrReplicating(err) || delay > 20*time.Second {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// logOps logs where the backend's NameNode time went: calls and mean
// latency per operation (from lakegate_hdfs_namenode_op_duration_seconds).
func logOps(b *testing.B, reg *prometheus.Registry) {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "lakegate_hdfs_namenode_op_duration_seconds" {
			continue
		}
		var parts []string
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h.GetSampleCount() == 0 {
				continue
			}
			var op, res string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "op":
					op = l.GetValue()
				case "result":
					res = l.GetValue()
				}
			}
			parts = append(parts, fmt.Sprintf("%s/%s %d×%.2fms", op, res, h.GetSampleCount(), 1000*h.GetSampleSum()/float64(h.GetSampleCount())))
		}
		b.Logf("NameNode operations: %s", strings.Join(parts, ", "))
	}
}

func BenchmarkPut(b *testing.B) {
	env := newBenchEnv(b)
	ctx := context.Background()
	for _, sz := range benchSizes {
		b.Run("backend/"+sz.name, func(b *testing.B) {
			b.SetBytes(sz.size)
			for b.Loop() {
				key := "put/" + sz.name
				if _, err := env.b.Put(ctx, env.bucket, key, &benchReader{size: sz.size}, backends.PutOptions{Size: sz.size}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			logOps(b, env.reg)
		})
		b.Run("backend-digest/"+sz.name, func(b *testing.B) {
			b.SetBytes(sz.size)
			sum := make([]byte, 16)
			for b.Loop() {
				key := "putd/" + sz.name
				if _, err := env.b.Put(ctx, env.bucket, key, &benchReader{size: sz.size}, backends.PutOptions{Size: sz.size, Digest: func() backends.Digest { return backends.Digest{MD5: sum} }}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("direct/"+sz.name, func(b *testing.B) {
			b.SetBytes(sz.size)
			for b.Loop() {
				p := env.dir + "/" + sz.name
				env.direct.Remove(p)
				w, err := env.direct.Create(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := benchCopy(w, &benchReader{size: sz.size}); err != nil {
					b.Fatal(err)
				}
				if err := closeDirect(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	env := newBenchEnv(b)
	ctx := context.Background()
	for _, sz := range benchSizes {
		key := "get/" + sz.name
		p := env.dir + "/get-" + sz.name
		if st, err := env.b.Stat(ctx, env.bucket, key); err != nil || st.Size != sz.size {
			if _, err := env.b.Put(ctx, env.bucket, key, &benchReader{size: sz.size}, backends.PutOptions{Size: sz.size}); err != nil {
				b.Fatal(err)
			}
		}
		if fi, err := env.direct.Stat(p); err != nil || fi.Size() != sz.size {
			env.direct.Remove(p)
			w, err := env.direct.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			benchCopy(w, &benchReader{size: sz.size})
			if err := closeDirect(w); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("backend/"+sz.name, func(b *testing.B) {
			b.SetBytes(sz.size)
			for b.Loop() {
				rc, _, err := env.b.Open(ctx, env.bucket, key, backends.FullRange)
				if err != nil {
					b.Fatal(err)
				}
				n, err := benchCopy(io.Discard, rc)
				rc.Close()
				if err != nil || n != sz.size {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
		b.Run("direct/"+sz.name, func(b *testing.B) {
			b.SetBytes(sz.size)
			for b.Loop() {
				f, err := env.direct.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				n, err := benchCopy(io.Discard, f)
				f.Close()
				if err != nil || n != sz.size {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}

// Tree shape of BenchmarkList: treeDirs directories of treeFiles files.
const (
	treeDirs  = 100
	treeFiles = 1000
)

// BenchmarkList lists a tree of 100 directories of 1,000 zero-byte objects
// (100,000 objects, plus 100 directory markers): the whole tree without a
// delimiter (flat, 101 pages of 1,000), the top level with delimiter "/",
// and every directory with delimiter "/" one after the other (as S3A's
// listStatus walk does). It reports keys/s.
func BenchmarkList(b *testing.B) {
	d := loadDev(b)
	cfg := d.config(b)
	cfg.Root = d.vars["LAKEGATE_HDFS_ROOT"] + "/.bench/list"
	bk, _ := open(b, cfg)
	ctx := context.Background()
	populateTree(b, bk, "tree")
	listAll := func(q backends.ListQuery) int {
		n := 0
		for {
			res, err := bk.List(ctx, "tree", q)
			if err != nil {
				b.Fatal(err)
			}
			n += len(res.Objects) + len(res.CommonPrefixes)
			if !res.IsTruncated {
				return n
			}
			q.StartAfter = res.NextStartAfter
		}
	}
	run := func(name string, fn func() int) {
		b.Run(name, func(b *testing.B) {
			keys := 0
			start := time.Now()
			for b.Loop() {
				keys += fn()
			}
			b.ReportMetric(float64(keys)/time.Since(start).Seconds(), "keys/s")
			b.ReportMetric(float64(keys/b.N), "keys/op")
		})
	}
	run("flat", func() int { return listAll(backends.ListQuery{MaxKeys: 1000}) })
	run("delimiter-top", func() int { return listAll(backends.ListQuery{Delimiter: "/", MaxKeys: 1000}) })
	run("delimiter-one-dir", func() int {
		return listAll(backends.ListQuery{Prefix: "d042/", Delimiter: "/", MaxKeys: 1000})
	})
	run("delimiter-every-dir", func() int {
		n := 0
		for i := range treeDirs {
			n += listAll(backends.ListQuery{Prefix: fmt.Sprintf("d%03d/", i), Delimiter: "/", MaxKeys: 1000})
		}
		return n
	})
}

// populateTree writes the tree of BenchmarkList into bucket unless a
// previous run completed it (recorded as the object "_complete").
func populateTree(tb testing.TB, bk *Backend, bucket string) {
	ctx := context.Background()
	if _, err := bk.Stat(ctx, bucket, "_complete"); err == nil {
		return
	}
	if err := bk.CreateBucket(ctx, bucket); err != nil && !isExists(err) {
		tb.Fatal(err)
	}
	start := time.Now()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= treeDirs*treeFiles {
					return
				}
				key := fmt.Sprintf("d%03d/f%04d", i/treeFiles, i%treeFiles)
				if _, err := bk.Put(ctx, bucket, key, &benchReader{}, backends.PutOptions{Size: 0}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if n := done.Add(1); n%10000 == 0 {
					tb.Logf("populated %d objects in %v", n, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		tb.Fatal(err)
	}
	if _, err := bk.Put(ctx, bucket, "_complete", &benchReader{}, backends.PutOptions{Size: 0}); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("populated %d objects in %v", treeDirs*treeFiles, time.Since(start).Round(time.Second))
}

// BenchmarkComplete measures CompleteMultipartUpload of a 1 GiB upload in
// 8 parts of 128 MiB (parts uploaded outside the timer): the parts are
// streamed into one new file (colinmarc/hdfs has no concat), so this is a
// read and a write of 1 GiB inside HDFS, read-ahead overlapping the two.
func BenchmarkComplete(b *testing.B) {
	env := newBenchEnv(b)
	ctx := context.Background()
	const parts, partSize = 8, 128 << 20
	b.SetBytes(parts * partSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		id, err := env.b.CreateMultipartUpload(ctx, env.bucket, "complete/obj", backends.Metadata{})
		if err != nil {
			b.Fatal(err)
		}
		var cps []backends.CompletePart
		for n := 1; n <= parts; n++ {
			pi, err := env.b.UploadPart(ctx, env.bucket, "complete/obj", id, n, &benchReader{size: partSize}, backends.PutOptions{Size: partSize})
			if err != nil {
				b.Fatal(err)
			}
			cps = append(cps, backends.CompletePart{PartNumber: n, ETag: pi.ETag})
		}
		b.StartTimer()
		if _, err := env.b.CompleteMultipartUpload(ctx, env.bucket, "complete/obj", id, cps, backends.WriteCondition{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInterleaved compares the backend with the bare client under the
// same (possibly noisy) machine load: each iteration runs, one after the
// other, a backend PUT (hashing), a backend PUT with the digest supplied, a
// bare-client write, a backend GET and a bare-client read of the same size
// (4 KiB: 50 of each per iteration), and it reports the mean time of each
// and the backend/bare ratios.
func BenchmarkInterleaved(b *testing.B) {
	env := newBenchEnv(b)
	ctx := context.Background()
	sum := make([]byte, 16)
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			reps := 1
			if sz.size < 1<<20 {
				reps = 50
			}
			key, p := "cmp/"+sz.name, env.dir+"/cmp-"+sz.name
			steps := []struct {
				name string
				fn   func() error
			}{
				{"put-backend", func() error {
					_, err := env.b.Put(ctx, env.bucket, key, &benchReader{size: sz.size}, backends.PutOptions{Size: sz.size})
					return err
				}},
				{"put-backend-digest", func() error {
					_, err := env.b.Put(ctx, env.bucket, key+"-d", &benchReader{size: sz.size}, backends.PutOptions{Size: sz.size, Digest: func() backends.Digest { return backends.Digest{MD5: sum} }})
					return err
				}},
				{"put-direct", func() error {
					env.direct.Remove(p)
					w, err := env.direct.Create(p)
					if err != nil {
						return err
					}
					if _, err := benchCopy(w, &benchReader{size: sz.size}); err != nil {
						return err
					}
					return closeDirect(w)
				}},
				{"get-backend", func() error {
					rc, _, err := env.b.Open(ctx, env.bucket, key, backends.FullRange)
					if err != nil {
						return err
					}
					defer rc.Close()
					n, err := benchCopy(io.Discard, rc)
					if err == nil && n != sz.size {
						err = fmt.Errorf("read %d bytes", n)
					}
					return err
				}},
				{"get-direct", func() error {
					f, err := env.direct.Open(p)
					if err != nil {
						return err
					}
					defer f.Close()
					n, err := benchCopy(io.Discard, f)
					if err == nil && n != sz.size {
						err = fmt.Errorf("read %d bytes", n)
					}
					return err
				}},
			}
			total := make([]time.Duration, len(steps))
			for b.Loop() {
				for range reps {
					for i, s := range steps {
						start := time.Now()
						if err := s.fn(); err != nil {
							b.Fatalf("%s: %v", s.name, err)
						}
						total[i] += time.Since(start)
					}
				}
			}
			ops := float64(b.N * reps)
			mean := func(i int) float64 { return total[i].Seconds() / ops }
			for i, s := range steps {
				if sz.size >= 1<<20 {
					b.ReportMetric(float64(sz.size)/1e6/mean(i), s.name+"-MB/s")
				} else {
					b.ReportMetric(mean(i)*1000, s.name+"-ms")
				}
			}
			b.ReportMetric(mean(0)/mean(2), "put-backend/direct")
			b.ReportMetric(mean(1)/mean(2), "put-backend-digest/direct")
			b.ReportMetric(mean(3)/mean(4), "get-backend/direct")
		})
	}
}
