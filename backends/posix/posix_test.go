package posix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/backendtest"
)

// TestConformance runs the conformance suite with metadata in xattrs.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backends.Backend { return newTestBackend(t, Config{}) }, suiteOptions(0))
}

// TestConformanceSidecar runs the suite with sidecar metadata records forced
// (the large round trip is covered by TestConformance, so it is smaller here).
func TestConformanceSidecar(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backends.Backend { return newTestBackend(t, Config{Sidecar: true}) }, suiteOptions(64<<20+1))
}

// suiteOptions describes posix to the suite.
func suiteOptions(large int64) backendtest.Options {
	return backendtest.Options{
		LargeObjectSize:    large,
		KeyConflictIsError: true,
		Reopen: func(t *testing.T, b backends.Backend) backends.Backend {
			p := b.(*Backend)
			return newTestBackend(t, Config{Root: p.root, Sidecar: p.sidecar})
		},
		CheckInvariants: checkInvariants,
	}
}

// newTestBackend opens a backend at cfg.Root, or at a fresh root below a
// temporary directory that holds nothing else (see checkInvariants).
func newTestBackend(t *testing.T, cfg Config) *Backend {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = filepath.Join(t.TempDir(), "root")
	}
	b, err := New(t.Context(), cfg, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// checkInvariants checks, after the suite removed its buckets, that nothing
// was written beside the root, and that no temporary file, upload or
// sidecar record is left behind.
func checkInvariants(t *testing.T, bk backends.Backend) {
	t.Helper()
	b := bk.(*Backend)
	beside, err := os.ReadDir(filepath.Dir(b.root))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range beside {
		if e.Name() != "root" {
			t.Errorf("found %q beside the root: a key escaped it", e.Name())
		}
	}
	if _, err := os.Lstat("/tmp/lakegate-escape"); err == nil {
		t.Errorf("/tmp/lakegate-escape exists: a key escaped the root")
	}
	top, _ := os.ReadDir(b.root)
	for _, e := range top {
		if e.Name() != privateDir {
			t.Errorf("root holds %q after the suite removed its buckets", e.Name())
		}
	}
	for _, d := range []string{b.tmp, b.uploads, b.meta} {
		var left []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && p != d {
				left = append(left, p[len(d)+1:])
			}
			return nil
		})
		if len(left) > 0 {
			t.Errorf("%s holds %v", d, left)
		}
	}
}
