package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/backendtest"
	"github.com/lakegate/lakegate/backends/s3"
)

// repoRoot is the repository root relative to this package.
const repoRoot = "../.."

// devService describes one S3 service of the dev stack (deploy/dev).
type devService struct {
	name   string // lakegate backend name: minio, rgw
	env    string // variable prefix in .dev/env: MINIO, RGW
	script string // deploy/dev script that starts and stops it
}

var (
	minioService = devService{"minio", "MINIO", "minio.sh"}
	rgwService   = devService{"rgw", "RGW", "ceph.sh"}
)

// skips lists the conformance subtests each backend skips, with the reason.
var skips = map[string]map[string]string{
	"minio": {
		"KeyConflict": "MinIO keeps an object and keys below it as a prefix (a and a/b) but lists only a: " +
			"PUT a/b after a succeeds and HEAD finds both, ListObjectsV2 omits a/b " +
			"(MinIO v0.0.0-20260212201848-7aac2a2c5b7c, the pinned dev-stack build)",
		"ConcurrentPutDeleteSharedPrefix": "MinIO (single drive) intermittently answers a PUT with 403 AccessDenied " +
			"while a concurrent DELETE of a sibling key removes the shared parent directory (about 1 run in 10 " +
			"with the pinned build); lakegate passes it on as a 500 that clients retry",
	},
	"rgw": {
		"Multipart/CompleteSubsetOfParts": "Ceph RGW Pacific refuses CompleteMultipartUpload unless the part list names " +
			"every uploaded part in order (InvalidPart, 'parts num mismatch' in rgw_op.cc); S3 allows a subset",
	},
}

// devEnv returns the variables of .dev/env (written by deploy/dev/up.sh),
// overridden by the process environment.
func devEnv() map[string]string {
	vars := map[string]string{}
	if f, err := os.Open(filepath.Join(repoRoot, ".dev", "env")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			vars[k] = strings.Trim(v, `"'`)
		}
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// unavailable fails (LAKEGATE_REQUIRE_DEV=1) or skips with reason.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("LAKEGATE_REQUIRE_DEV") == "1" {
		t.Fatalf("dev stack required (LAKEGATE_REQUIRE_DEV=1) but "+format+"; start it with make dev-up (bash deploy/dev/up.sh)", args...)
	}
	t.Skipf("skipping: "+format+"; start the dev stack with make dev-up (bash deploy/dev/up.sh), or set LAKEGATE_REQUIRE_DEV=1 to make this a failure", args...)
}

// serviceConfig returns a backend Config for svc, or skips/fails when the
// dev stack does not provide it.
func serviceConfig(t *testing.T, svc devService, stateDir string) s3.Config {
	t.Helper()
	vars := devEnv()
	ep, ak, sk := vars[svc.env+"_ENDPOINT"], vars[svc.env+"_ACCESS_KEY"], vars[svc.env+"_SECRET_KEY"]
	if ep == "" || ak == "" || sk == "" {
		unavailable(t, "%s_ENDPOINT/_ACCESS_KEY/_SECRET_KEY not set (no .dev/env)", svc.env)
	}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(ep + "/")
	if err != nil {
		unavailable(t, "%s at %s does not answer: %v", svc.name, ep, err)
	}
	resp.Body.Close()
	return s3.Config{
		Endpoint:  ep,
		AccessKey: ak,
		SecretKey: sk,
		Region:    "us-east-1",
		StateDir:  stateDir,
	}
}

// newBackend builds a Backend for cfg with its own metrics registry.
func newBackend(t *testing.T, cfg s3.Config) *s3.Backend {
	t.Helper()
	b, err := s3.New(context.Background(), cfg, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("s3.New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// runConformance runs backendtest.Run against svc.
func runConformance(t *testing.T, svc devService) {
	cfg := serviceConfig(t, svc, t.TempDir())
	backendtest.Run(t, func(t *testing.T) backends.Backend {
		return newBackend(t, cfg)
	}, backendtest.Options{
		// 1 GiB + 1 keeps the suite within CI time on RGW and MinIO;
		// LAKEGATE_TEST_LARGE_SIZE overrides it.
		LargeObjectSize: 1<<30 + 1,
		Reopen: func(t *testing.T, _ backends.Backend) backends.Backend {
			return newBackend(t, cfg)
		},
		Skip: skips[svc.name],
	})
}

// TestMinIOConformance runs the storage conformance suite against the dev
// stack's MinIO.
func TestMinIOConformance(t *testing.T) { runConformance(t, minioService) }

// TestRGWConformance runs the storage conformance suite against the dev
// stack's Ceph RGW.
func TestRGWConformance(t *testing.T) { runConformance(t, rgwService) }

// devScript runs deploy/dev/<script> with args.
func devScript(t *testing.T, script string, args ...string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot, "deploy", "dev", script)}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy/dev/%s %s: %v\n%s", script, strings.Join(args, " "), err, out)
	}
	t.Logf("deploy/dev/%s %s: %s", script, strings.Join(args, " "), strings.TrimSpace(string(out)))
}

// TestMinIOSpecifics and TestRGWSpecifics check behaviour of this backend
// that the conformance suite does not reach.
func TestMinIOSpecifics(t *testing.T) { runSpecifics(t, minioService) }

// TestRGWSpecifics: see TestMinIOSpecifics.
func TestRGWSpecifics(t *testing.T) { runSpecifics(t, rgwService) }

func runSpecifics(t *testing.T, svc devService) {
	cfg := serviceConfig(t, svc, t.TempDir())
	newBucket := func(t *testing.T, b *s3.Backend) string {
		var rnd [4]byte
		rand.Read(rnd[:])
		name := "lgt-spec-" + svc.name + "-" + hex.EncodeToString(rnd[:])
		if err := b.CreateBucket(t.Context(), name); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
		t.Cleanup(func() { cleanupBucket(t, b, name) })
		return name
	}

	// Streaming-signed payloads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) work
	// for PUT and UploadPart.
	t.Run("StreamingSigning", func(t *testing.T) {
		c := cfg
		c.PayloadSigning = "streaming"
		b := newBackend(t, c)
		bucket := newBucket(t, b)
		data := genBytes(7, 6<<20+7)
		info, err := b.Put(t.Context(), bucket, "signed", bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))})
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		if sum := md5.Sum(data); info.ETag != hex.EncodeToString(sum[:]) {
			t.Errorf("ETag %q", info.ETag)
		}
		id, err := b.CreateMultipartUpload(t.Context(), bucket, "signed-mp", backends.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.UploadPart(t.Context(), bucket, "signed-mp", id, 1, bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))})
		if err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
		if _, err := b.CompleteMultipartUpload(t.Context(), bucket, "signed-mp", id, []backends.CompletePart{{PartNumber: 1, ETag: p.ETag}}, backends.WriteCondition{}); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		for _, k := range []string{"signed", "signed-mp"} {
			rc, _, err := b.Open(t.Context(), bucket, k, backends.FullRange)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s: read back %d bytes, %v", k, len(got), err)
			}
		}
	})

	// A body of unknown size longer than part_size becomes a multipart
	// object; checksums from the digest are kept; a condition is checked.
	t.Run("UnknownSizeMultipart", func(t *testing.T) {
		c := cfg
		c.PartSize = 5 << 20
		b := newBackend(t, c)
		bucket := newBucket(t, b)
		data := genBytes(8, 11<<20+3)
		sums := map[string]string{backends.ChecksumSHA256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}
		info, err := b.Put(t.Context(), bucket, "big", io.MultiReader(bytes.NewReader(data)), backends.PutOptions{
			Size: -1, Metadata: backends.Metadata{ContentType: "x/big", Tags: map[string]string{"t": "v w"}},
			Digest: func() backends.Digest { return backends.Digest{Checksums: sums} },
		})
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		if info.PartsCount != 3 || info.Size != int64(len(data)) {
			t.Errorf("info %+v, want 3 parts of %d bytes", info, len(data))
		}
		st, err := b.Stat(t.Context(), bucket, "big")
		if err != nil {
			t.Fatal(err)
		}
		if st.ETag != info.ETag || st.Metadata.ContentType != "x/big" || st.Metadata.Tags["t"] != "v w" || st.Metadata.Checksums[backends.ChecksumSHA256] != sums[backends.ChecksumSHA256] {
			t.Errorf("Stat %+v", st)
		}
		_, err = b.Put(t.Context(), bucket, "big", bytes.NewReader(data), backends.PutOptions{Size: -1, Condition: backends.WriteCondition{IfNoneMatchStar: true}})
		if !errors.Is(err, backends.ErrPreconditionFailed) {
			t.Errorf("conditional unknown-size Put on an existing key: %v", err)
		}
	})

	// The ETag the backend returns is checked against the digest's MD5
	// (PutNeedsMD5); with skip_etag_check the MD5 is not needed, Put works
	// without it and the ETag is the backend's.
	t.Run("ETagCheck", func(t *testing.T) {
		data := genBytes(9, 1<<20+5)
		sum := md5.Sum(data)
		wrong := sum
		wrong[0] ^= 1
		b := newBackend(t, cfg)
		if !b.PutNeedsMD5() {
			t.Error("PutNeedsMD5 false by default")
		}
		bucket := newBucket(t, b)
		_, err := b.Put(t.Context(), bucket, "k", bytes.NewReader(data), backends.PutOptions{
			Size: int64(len(data)), Digest: func() backends.Digest { return backends.Digest{MD5: wrong[:]} },
		})
		if err == nil {
			t.Error("Put accepted a backend ETag that differs from the digest's MD5")
		}
		c := cfg
		c.SkipETagCheck = true
		sb := newBackend(t, c)
		if sb.PutNeedsMD5() {
			t.Error("PutNeedsMD5 true with skip_etag_check")
		}
		sums := map[string]string{backends.ChecksumCRC32: "AAAAAA=="}
		info, err := sb.Put(t.Context(), bucket, "k", bytes.NewReader(data), backends.PutOptions{
			Size: int64(len(data)), Digest: func() backends.Digest { return backends.Digest{Checksums: sums} },
		})
		if err != nil {
			t.Fatalf("Put without an MD5, skip_etag_check: %v", err)
		}
		if info.ETag != hex.EncodeToString(sum[:]) {
			t.Errorf("ETag %q, want the content MD5", info.ETag)
		}
		st, err := sb.Stat(t.Context(), bucket, "k")
		if err != nil || st.ETag != info.ETag || st.Size != int64(len(data)) || st.Metadata.Checksums[backends.ChecksumCRC32] != "AAAAAA==" {
			t.Errorf("Stat %+v, %v", st, err)
		}
	})

	// bucket_prefix: lakegate bucket b is backend bucket <prefix>b, and
	// ListBuckets shows only prefixed buckets, without the prefix.
	t.Run("BucketPrefix", func(t *testing.T) {
		c := cfg
		c.BucketPrefix = "lgtp-"
		pb := newBackend(t, c)
		plain := newBackend(t, cfg)
		var rnd [4]byte
		rand.Read(rnd[:])
		name := "spec-" + hex.EncodeToString(rnd[:])
		if err := pb.CreateBucket(t.Context(), name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cleanupBucket(t, pb, name) })
		if _, err := plain.HeadBucket(t.Context(), "lgtp-"+name); err != nil {
			t.Errorf("backend bucket lgtp-%s: %v", name, err)
		}
		all, err := pb.ListBuckets(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, bi := range all {
			if strings.HasPrefix(bi.Name, "lgtp-") {
				t.Errorf("ListBuckets shows the prefix: %q", bi.Name)
			}
			found = found || bi.Name == name
		}
		if !found {
			t.Errorf("ListBuckets %v lacks %q", all, name)
		}
	})
}
