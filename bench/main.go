// Command bench measures S3 PUT and GET throughput of several endpoints side
// by side in one run, with the same client (minio-go), and reports each
// target's figures as a ratio of a baseline target. It is how lakegate is
// compared with the backends it fronts ("through lakegate" vs "direct").
//
//	go run ./bench -target direct=http://127.0.0.1:9000,KEY,SECRET,bucket \
//	               -target lakegate=http://127.0.0.1:9080,KEY,SECRET,bucket \
//	               -size 64MiB -count 8 -concurrency 2 -reps 3 -baseline direct
//
// Repetitions alternate the order of the targets so neither always runs on
// a warmer page cache. With -rss-pid it samples a process's resident set
// size (VmRSS, VmHWM from /proc) during the run, for the gateway's memory.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type target struct {
	Name, Endpoint, Access, Secret, Bucket, Location string
	client                                           *minio.Client
}

type targetFlags []target

func (t *targetFlags) String() string { return fmt.Sprint(len(*t)) }

// Set parses NAME=ENDPOINT,ACCESS,SECRET,BUCKET[,LOCATION].
func (t *targetFlags) Set(v string) error {
	name, rest, ok := strings.Cut(v, "=")
	parts := strings.Split(rest, ",")
	if !ok || len(parts) < 4 {
		return errors.New("want NAME=ENDPOINT,ACCESS,SECRET,BUCKET[,LOCATION]")
	}
	tg := target{Name: name, Endpoint: parts[0], Access: parts[1], Secret: parts[2], Bucket: parts[3]}
	if len(parts) > 4 {
		tg.Location = parts[4]
	}
	*t = append(*t, tg)
	return nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			mult, s = m, strings.TrimSuffix(s, suf)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

type result struct {
	op      string
	target  string
	rep     int
	bytes   int64
	ops     int
	elapsed time.Duration
}

func main() {
	var targets targetFlags
	flag.Var(&targets, "target", "NAME=ENDPOINT,ACCESS,SECRET,BUCKET[,LOCATION] (repeatable)")
	sizeStr := flag.String("size", "64MiB", "object size (KiB, MiB, GiB suffixes)")
	count := flag.Int("count", 8, "objects per operation per repetition")
	conc := flag.Int("concurrency", 2, "parallel requests")
	reps := flag.Int("reps", 3, "repetitions")
	baseline := flag.String("baseline", "", "target whose figures are the denominator of the ratios (default: first)")
	rssPID := flag.Int("rss-pid", 0, "sample VmRSS/VmHWM of this PID during the run")
	ops := flag.String("ops", "put,get", "operations to run")
	keep := flag.Bool("keep", false, "leave the objects in place (for a later -ops get run)")
	flag.Parse()
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "bench: at least one -target")
		os.Exit(2)
	}
	size, err := parseSize(*sizeStr)
	if err != nil || size <= 0 {
		fmt.Fprintln(os.Stderr, "bench: bad -size")
		os.Exit(2)
	}
	if *baseline == "" {
		*baseline = targets[0].Name
	}
	ctx := context.Background()
	for i := range targets {
		if err := targets[i].connect(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", targets[i].Name, err)
			os.Exit(1)
		}
	}
	stopRSS := make(chan struct{})
	var rssMax int64
	var rssWG sync.WaitGroup
	if *rssPID > 0 {
		rssWG.Add(1)
		go func() {
			defer rssWG.Done()
			for {
				if v := readRSS(*rssPID, "VmRSS:"); v > rssMax {
					rssMax = v
				}
				select {
				case <-stopRSS:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
	// One shared random payload, read through a bytes.Reader per request, so
	// the client does no per-request allocation proportional to the size
	// beyond what it must.
	payload := make([]byte, min(size, 64<<20))
	_, _ = rand.Read(payload)

	var results []result
	for rep := 1; rep <= *reps; rep++ {
		order := append([]target(nil), targets...)
		if rep%2 == 0 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, op := range strings.Split(*ops, ",") {
			for _, tg := range order {
				r, err := tg.run(ctx, op, rep, size, *count, *conc, payload)
				if err != nil {
					fmt.Fprintf(os.Stderr, "bench: %s %s rep %d: %v\n", tg.Name, op, rep, err)
					os.Exit(1)
				}
				results = append(results, r)
				fmt.Printf("rep %d %-4s %-22s %9.1f MB/s %9.1f ops/s  load %s\n", rep, op, tg.Name,
					float64(r.bytes)/1e6/r.elapsed.Seconds(), float64(r.ops)/r.elapsed.Seconds(), loadAvg())
			}
		}
	}
	close(stopRSS)
	rssWG.Wait()
	report(results, targets, *baseline, size, *count, *conc, *reps)
	if *rssPID > 0 {
		fmt.Printf("\nprocess %d: peak sampled VmRSS %.1f MiB, VmHWM %.1f MiB\n", *rssPID,
			float64(rssMax)/(1<<20), float64(readRSS(*rssPID, "VmHWM:"))/(1<<20))
	}
	if !*keep {
		for _, tg := range targets {
			tg.cleanup(ctx, *count)
		}
	}
}

func (t *target) connect(ctx context.Context) error {
	u, err := url.Parse(t.Endpoint)
	if err != nil {
		return err
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(t.Access, t.Secret, ""),
		Secure:       u.Scheme == "https",
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return err
	}
	t.client = c
	ok, err := c.BucketExists(ctx, t.Bucket)
	if err != nil {
		return fmt.Errorf("bucket exists: %w", err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, t.Bucket, minio.MakeBucketOptions{Region: t.Location}); err != nil {
			return fmt.Errorf("make bucket: %w", err)
		}
	}
	return nil
}

func objectName(i int) string { return fmt.Sprintf("bench/obj-%05d", i) }

// repeatReader yields size bytes cycling over payload.
type repeatReader struct {
	payload []byte
	left    int64
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, r.payload[r.off:])
	if int64(n) > r.left {
		n = int(r.left)
	}
	r.off = (r.off + n) % len(r.payload)
	r.left -= int64(n)
	return n, nil
}

func (t *target) run(ctx context.Context, op string, rep int, size int64, count, conc int, payload []byte) (result, error) {
	jobs := make(chan int)
	errc := make(chan error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	var mu sync.Mutex
	var total int64
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for i := range jobs {
				var n int64
				var err error
				switch op {
				case "put":
					var info minio.UploadInfo
					// PartSize = size keeps objects up to 5 GiB single-part, as
					// a plain PUT; larger objects go multipart.
					ps := uint64(size)
					if size > 5<<30 {
						ps = 512 << 20
					}
					info, err = t.client.PutObject(ctx, t.Bucket, objectName(i), &repeatReader{payload: payload, left: size}, size,
						minio.PutObjectOptions{PartSize: ps, DisableContentSha256: true})
					n = info.Size
				case "get":
					var o *minio.Object
					o, err = t.client.GetObject(ctx, t.Bucket, objectName(i), minio.GetObjectOptions{})
					if err == nil {
						n, err = io.CopyBuffer(io.Discard, o, buf)
						o.Close()
					}
				default:
					err = fmt.Errorf("unknown op %q", op)
				}
				if err == nil && n != size {
					err = fmt.Errorf("%s %s: %d bytes, want %d", op, objectName(i), n, size)
				}
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
	var runErr error
feed:
	for i := 0; i < count; i++ {
		select {
		case jobs <- i:
		case runErr = <-errc:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if runErr == nil {
		select {
		case runErr = <-errc:
		default:
		}
	}
	return result{op: op, target: t.Name, rep: rep, bytes: total, ops: count, elapsed: time.Since(start)}, runErr
}

func (t *target) cleanup(ctx context.Context, count int) {
	for i := 0; i < count; i++ {
		_ = t.client.RemoveObject(ctx, t.Bucket, objectName(i), minio.RemoveObjectOptions{})
	}
}

func report(rs []result, targets []target, baseline string, size int64, count, conc, reps int) {
	fmt.Printf("\nsummary: size %d bytes, %d objects x %d reps, concurrency %d; median of reps; ratio = target / %s;\n"+
		"paired = median over reps of target / %s within the same rep (back to back, so less exposed to load changes)\n",
		size, count, reps, conc, baseline, baseline)
	fmt.Printf("%-4s %-22s %12s %12s %8s %8s\n", "op", "target", "MB/s", "ops/s", "ratio", "paired")
	ops := []string{}
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.op] {
			seen[r.op] = true
			ops = append(ops, r.op)
		}
	}
	for _, op := range ops {
		med := map[string]float64{}
		for _, tg := range targets {
			var v []float64
			for _, r := range rs {
				if r.op == op && r.target == tg.Name {
					v = append(v, float64(r.bytes)/r.elapsed.Seconds())
				}
			}
			sort.Float64s(v)
			med[tg.Name] = v[len(v)/2]
		}
		for _, tg := range targets {
			ratio := med[tg.Name] / med[baseline]
			fmt.Printf("%-4s %-22s %12.1f %12.1f %8.2f %8.2f\n", op, tg.Name, med[tg.Name]/1e6, med[tg.Name]/float64(size), ratio,
				pairedRatio(rs, op, tg.Name, baseline))
		}
	}
}

// pairedRatio is the median over repetitions of target's throughput divided
// by baseline's in the same repetition.
func pairedRatio(rs []result, op, target, baseline string) float64 {
	rate := func(r result) float64 { return float64(r.bytes) / r.elapsed.Seconds() }
	base := map[int]float64{}
	for _, r := range rs {
		if r.op == op && r.target == baseline {
			base[r.rep] = rate(r)
		}
	}
	var v []float64
	for _, r := range rs {
		if b := base[r.rep]; r.op == op && r.target == target && b > 0 {
			v = append(v, rate(r)/b)
		}
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// loadAvg returns the 1-minute load average from /proc/loadavg, or "?".
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func readRSS(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
