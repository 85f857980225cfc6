package blackbox

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// suiteEnv is the gateway under test and the buckets the suite created on it.
type suiteEnv struct {
	endpoint  string // scheme://host:port, no trailing slash
	host      string // host:port
	accessKey string
	secretKey string
	region    string
	backends  []string
	// buckets maps a backend name to the suite's bucket on it; bucketErr
	// holds why a backend has none (every test on it then fails with that).
	buckets   map[string]string
	bucketErr map[string]error
	bigSize   int64
	// selfStarted is true when the suite built and runs its own gateway;
	// gatewayLog is then its log file.
	selfStarted bool
	gatewayLog  string
}

var env suiteEnv

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env = suiteEnv{
		endpoint:  strings.TrimRight(os.Getenv("LAKEGATE_ENDPOINT"), "/"),
		accessKey: os.Getenv("LAKEGATE_ACCESS_KEY"),
		secretKey: os.Getenv("LAKEGATE_SECRET_KEY"),
		region:    os.Getenv("LAKEGATE_REGION"),
		buckets:   map[string]string{},
		bucketErr: map[string]error{},
	}
	if env.region == "" {
		env.region = "us-east-1"
	}
	env.backends = strings.Fields(os.Getenv("LAKEGATE_BLACKBOX_BACKENDS"))
	if len(env.backends) == 0 {
		env.backends = []string{"posix"}
	}
	env.bigSize = 1 << 30
	if testing.Short() {
		env.bigSize = 64 << 20
	}
	if s := os.Getenv("LAKEGATE_BLACKBOX_BIG_SIZE"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "blackbox: LAKEGATE_BLACKBOX_BIG_SIZE=%q is not a byte count\n", s)
			return 2
		}
		env.bigSize = n
	}

	if env.endpoint == "" {
		if os.Getenv("LAKEGATE_REQUIRE_DEV") == "1" {
			fmt.Fprintln(os.Stderr, "blackbox: LAKEGATE_REQUIRE_DEV=1 but LAKEGATE_ENDPOINT is not set: source .dev/env (deploy/dev/up.sh) first")
			return 1
		}
		stop, err := startGateway()
		if err != nil {
			fmt.Fprintln(os.Stderr, "blackbox: starting a private gateway:", err)
			return 1
		}
		defer stop()
	} else if env.accessKey == "" || env.secretKey == "" {
		fmt.Fprintln(os.Stderr, "blackbox: LAKEGATE_ENDPOINT is set but LAKEGATE_ACCESS_KEY / LAKEGATE_SECRET_KEY are not")
		return 1
	}
	env.host = strings.TrimPrefix(strings.TrimPrefix(env.endpoint, "http://"), "https://")
	if err := waitReady(30 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "blackbox:", err)
		printGatewayLog()
		return 1
	}

	for _, b := range env.backends {
		name, err := createSuiteBucket(b)
		if err != nil {
			env.bucketErr[b] = err
			fmt.Fprintf(os.Stderr, "blackbox: backend %s: %v\n", b, err)
			continue
		}
		env.buckets[b] = name
	}

	code := m.Run()

	for _, b := range env.backends {
		name, ok := env.buckets[b]
		if !ok {
			continue
		}
		if err := removeBucket(name); err != nil {
			fmt.Fprintf(os.Stderr, "blackbox: backend %s: deleting the suite's bucket %s: %v\n", b, name, err)
			code = 1
		}
	}
	if code != 0 {
		printGatewayLog()
	}
	return code
}

// startGateway builds ./cmd/lakegate and serves it from a temporary working
// directory (zero-setup configuration: posix under ./data) on a free loopback
// port with generated root credentials. stop terminates it and removes the
// directory.
func startGateway() (stop func(), err error) {
	tmp, err := os.MkdirTemp("", "lakegate-blackbox-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	if os.Getenv("LAKEGATE_BLACKBOX_KEEP") == "1" {
		cleanup = func() { fmt.Fprintln(os.Stderr, "blackbox: kept the private gateway's directory", tmp) }
	}
	modRoot, err := moduleRoot()
	if err != nil {
		cleanup()
		return nil, err
	}
	bin := filepath.Join(tmp, "lakegate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/lakegate")
	build.Dir = modRoot
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("go build ./cmd/lakegate: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		cleanup()
		return nil, err
	}
	env.accessKey = "BB" + strings.ToUpper(randHex(9))
	env.secretKey = randHex(20)
	env.endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	env.backends = []string{"posix"}
	env.selfStarted = true
	env.gatewayLog = filepath.Join(tmp, "gateway.log")

	work := filepath.Join(tmp, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		cleanup()
		return nil, err
	}
	logf, err := os.Create(env.gatewayLog)
	if err != nil {
		cleanup()
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"LAKEGATE_ROOT_ACCESS_KEY="+env.accessKey,
		"LAKEGATE_ROOT_SECRET_KEY="+env.secretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		cleanup()
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		cleanup()
	}, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the lakegate module")
	}
	return filepath.Dir(gomod), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// waitReady polls /readyz until it answers 200 or the deadline passes.
func waitReady(limit time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		resp, err := c.Get(env.endpoint + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("gateway at %s not ready after %s: %s", env.endpoint, limit, last)
}

func printGatewayLog() {
	if env.gatewayLog == "" {
		return
	}
	f, err := os.Open(env.gatewayLog)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 80 {
			lines = lines[1:]
		}
	}
	fmt.Fprintln(os.Stderr, "blackbox: last lines of the private gateway's log:")
	for _, l := range lines {
		fmt.Fprintln(os.Stderr, "  ", l)
	}
}

var nonBucketChars = regexp.MustCompile(`[^a-z0-9-]+`)

// bucketName returns a fresh, valid bucket name mentioning the backend.
func bucketName(backend, purpose string) string {
	b := strings.Trim(nonBucketChars.ReplaceAllString(strings.ToLower(backend), "-"), "-")
	if len(b) > 20 {
		b = b[:20]
	}
	if b == "" {
		b = "x"
	}
	return fmt.Sprintf("lgbb-%s-%s-%s", purpose, b, randHex(4))
}

// adminClient is an SDK client for set-up and clean-up outside any test.
func adminClient() *s3.Client {
	return newS3Client(http.DefaultTransport)
}

// createSuiteBucket creates the backend's bucket with
// LocationConstraint=backend and checks GetBucketLocation answers it.
func createSuiteBucket(backend string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := adminClient()
	name := bucketName(backend, "suite")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket: aws.String(name),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(backend),
		},
	})
	if err != nil {
		return "", fmt.Errorf("CreateBucket %s with LocationConstraint=%s: %w", name, backend, err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
	if err != nil {
		_ = removeBucket(name)
		return "", fmt.Errorf("GetBucketLocation %s: %w", name, err)
	}
	if got := string(loc.LocationConstraint); got != backend {
		_ = removeBucket(name)
		return "", fmt.Errorf("GetBucketLocation %s = %q, want %q (the bucket is not on the backend the suite asked for)", name, got, backend)
	}
	return name, nil
}

// removeBucket aborts every multipart upload, deletes every object and then
// the bucket itself. Loops are bounded.
func removeBucket(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := adminClient()
	for i := 0; i < 1000; i++ {
		ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(name)})
		if err != nil {
			return fmt.Errorf("ListMultipartUploads: %w", err)
		}
		for _, u := range ups.Uploads {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId}); err != nil {
				return fmt.Errorf("AbortMultipartUpload %q: %w", aws.ToString(u.Key), err)
			}
		}
		if !aws.ToBool(ups.IsTruncated) || len(ups.Uploads) == 0 {
			break
		}
	}
	for i := 0; i < 10000; i++ {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		if err != nil {
			return fmt.Errorf("ListObjectsV2: %w", err)
		}
		if len(out.Contents) == 0 {
			break
		}
		ids := make([]types.ObjectIdentifier, 0, len(out.Contents))
		for _, o := range out.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		res, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("DeleteObjects: %w", err)
		}
		if len(res.Errors) > 0 {
			return fmt.Errorf("DeleteObjects: %d errors, first %s: %s", len(res.Errors), aws.ToString(res.Errors[0].Code), aws.ToString(res.Errors[0].Message))
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("DeleteBucket: %w", err)
	}
	return nil
}
