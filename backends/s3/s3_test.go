package s3_test

import (
	"bufio"
	"context"
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
	},
	"rgw": {
		"Multipart/CompleteSubsetOfParts": "Ceph RGW Pacific refuses CompleteMultipartUpload unless the part list names " +
			"every uploaded part in order (InvalidPart, 'parts num mismatch' in rgw_op.cc); S3 allows a subset",
		"Multipart/EntityTooSmall": "after checking EntityTooSmall (which passes) it completes a subset of the " +
			"uploaded parts, which Ceph RGW Pacific refuses (see Multipart/CompleteSubsetOfParts)",
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
		Name:      svc.name,
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
