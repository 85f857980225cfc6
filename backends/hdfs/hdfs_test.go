package hdfs

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/backendtest"
)

// TestConformance runs the storage conformance suite against the dev
// stack's Kerberized HDFS, in a private root that is removed afterwards.
func TestConformance(t *testing.T) {
	d := loadDev(t)
	cfg := d.config(t)
	t.Cleanup(func() { removeRoot(t, cfg) })
	backendtest.Run(t, func(t *testing.T) backends.Backend {
		b, _ := open(t, cfg)
		return b
	}, backendtest.Options{
		// 1 GiB + 1 byte: several HDFS blocks, past 2^30, and within a CI
		// budget (the suite's default is 2 GiB + 1).
		LargeObjectSize:     1<<30 + 1,
		EmptyDirsAreMarkers: true,
		MakeEmptyDir:        mkdirOutside,
		KeyConflictIsError:  true,
		Reopen: func(t *testing.T, _ backends.Backend) backends.Backend {
			b, _ := open(t, cfg)
			return b
		},
		CheckInvariants: checkStagingEmpty,
	})
}

// mkdirOutside creates the directory of the marker key dir in bucket (and
// its parents) with a plain HDFS mkdir, as hdfs dfs -mkdir -p or Spark
// would: no lakegate attributes.
func mkdirOutside(t *testing.T, bb backends.Backend, bucket, dir string) {
	t.Helper()
	b := bb.(*Backend)
	p := b.root + "/" + bucket + "/" + strings.TrimSuffix(dir, "/")
	if err := b.withClient(t.Context(), true, func(c *client) error { return c.mkdirAll(p, 0o755) }); err != nil {
		t.Fatalf("mkdir %s: %v", p, err)
	}
}

// checkStagingEmpty fails if a temporary file or lock is left in the
// staging area once a subtest has cleaned up.
func checkStagingEmpty(t *testing.T, bb backends.Backend) {
	b := bb.(*Backend)
	err := b.withClient(context.Background(), true, func(c *client) error {
		for _, d := range []string{b.tmpDir, b.locksDir} {
			fis, err := c.readDir(d)
			if err != nil {
				return err
			}
			for _, fi := range fis {
				t.Errorf("left in %s: %s (%d bytes)", d, fi.Name(), fi.Size())
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("checking the staging area: %v", err)
	}
}

// TestNamenodeFailover: with an HA address list whose first NameNode does
// not answer (a standby host that is down), every connection fails over to
// the next address and the backend works.
func TestNamenodeFailover(t *testing.T) {
	d := loadDev(t)
	cfg := d.config(t)
	cfg.Namenodes = append([]string{"localhost:1"}, cfg.Namenodes...)
	cfg.DialTimeout = 2 * time.Second
	t.Cleanup(func() { removeRoot(t, cfg) })
	b, _ := open(t, cfg)
	ctx := context.Background()
	if err := b.CreateBucket(ctx, "ha"); err != nil {
		t.Fatal(err)
	}
	data := []byte("through the second namenode")
	if _, err := b.Put(ctx, "ha", "k", bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	b.pool.drainIdle("test") // new connections must fail over too
	if got, _ := readRange(t, b, "ha", "k", backends.FullRange); !bytes.Equal(got, data) {
		t.Errorf("read %q", got)
	}
}
