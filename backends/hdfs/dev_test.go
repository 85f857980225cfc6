package hdfs

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// devStack is the dev stack's Kerberized HDFS (deploy/dev/hdfs.sh) as the
// tests see it: settings from the process environment, then
// .dev/env.d/*.env, then .dev/env in the repository root.
type devStack struct {
	vars map[string]string
	repo string
}

// loadDev returns the dev stack, or skips the test (fails it when
// LAKEGATE_REQUIRE_DEV=1) when the stack is not up.
func loadDev(t testing.TB) devStack {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			vars[k] = v
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(repo, ".dev", "env.d", "*.env"))
	for _, f := range files {
		readEnvFile(f, vars)
	}
	readEnvFile(filepath.Join(repo, ".dev", "env"), vars)
	d := devStack{vars: vars, repo: repo}
	for _, k := range []string{"HDFS_NAMENODE", "KRB5_CONFIG", "LAKEGATE_HDFS_PRINCIPAL", "LAKEGATE_HDFS_KEYTAB", "LAKEGATE_HDFS_SPN", "LAKEGATE_HDFS_ROOT"} {
		if vars[k] == "" {
			devFail(t, "%s is not set (no .dev/env.d/hdfs.env?)", k)
		}
	}
	conn, err := net.DialTimeout("tcp", vars["HDFS_NAMENODE"], 3*time.Second)
	if err != nil {
		devFail(t, "NameNode %s: %v", vars["HDFS_NAMENODE"], err)
	}
	conn.Close()
	return d
}

// devFail skips, or fails when LAKEGATE_REQUIRE_DEV=1.
func devFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("LAKEGATE_REQUIRE_DEV") == "1" {
		t.Fatalf("dev stack required (LAKEGATE_REQUIRE_DEV=1): %s; run bash deploy/dev/krb5.sh up && bash deploy/dev/hdfs.sh up", msg)
	}
	t.Skipf("dev stack not available: %s (run deploy/dev/hdfs.sh up; LAKEGATE_REQUIRE_DEV=1 turns this into a failure)", msg)
}

// readEnvFile adds the `export K=V` lines of name to vars without
// overriding keys already set.
func readEnvFile(name string, vars map[string]string) {
	f, err := os.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(k, "#") || strings.ContainsAny(k, " \t") {
			continue
		}
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if _, set := vars[k]; !set {
			vars[k] = v
		}
	}
}

// config returns the backend configuration for the dev stack with a fresh
// root below the stack's root (so tests never see other users' buckets).
func (d devStack) config(t testing.TB) Config {
	t.Helper()
	return Config{
		Namenodes: []string{d.vars["HDFS_NAMENODE"]},
		Root:      fmt.Sprintf("%s/.test/%s-%s", d.vars["LAKEGATE_HDFS_ROOT"], sanitize(t.Name()), randomHex(4)),
		Kerberos: KerberosConfig{
			Principal:        d.vars["LAKEGATE_HDFS_PRINCIPAL"],
			Keytab:           d.vars["LAKEGATE_HDFS_KEYTAB"],
			Krb5Conf:         d.vars["KRB5_CONFIG"],
			ServicePrincipal: d.vars["LAKEGATE_HDFS_SPN"],
		},
		DataTransferProtection: d.vars["LAKEGATE_HDFS_DATA_TRANSFER_PROTECTION"],
	}
}

// sanitize makes a test name usable as an HDFS path segment.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// open returns a backend for cfg with a private registry; Close runs at
// cleanup.
func open(t testing.TB, cfg Config) (*Backend, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b, err := New(context.Background(), cfg, logger, reg)
	if err != nil {
		t.Fatalf("hdfs.New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b, reg
}

// removeRoot deletes the test root recursively through a fresh backend.
func removeRoot(t testing.TB, cfg Config) {
	b, err := New(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Logf("cleanup of %s: %v", cfg.Root, err)
		return
	}
	defer b.Close()
	err = b.withClient(context.Background(), true, func(c *client) error { return c.removeAll(cfg.Root) })
	if err != nil {
		t.Logf("cleanup of %s: %v", cfg.Root, err)
	}
}

// testWriter sends log output to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fsshell runs Hadoop's FsShell (hdfs dfs) from the dev stack with args and
// stdin, and returns its standard output.
func (d devStack) fsshell(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	cli := d.vars["LAKEGATE_HDFS_CLI"]
	if cli == "" {
		devFail(t, "LAKEGATE_HDFS_CLI is not set")
	}
	cmd := exec.Command(cli, args...)
	cmd.Env = os.Environ()
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fsshell %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// devScript runs deploy/dev/hdfs.sh with args (fault injection), failing
// the test on error.
func (d devStack) devScript(t testing.TB, args ...string) {
	t.Helper()
	if err := d.devScriptErr(t, args...); err != nil {
		t.Fatal(err)
	}
}

// devScriptErr runs deploy/dev/hdfs.sh with args; safe in any goroutine.
func (d devStack) devScriptErr(t testing.TB, args ...string) error {
	cmd := exec.Command("bash", append([]string{filepath.Join(d.repo, "deploy/dev/hdfs.sh")}, args...)...)
	cmd.Dir = d.repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("hdfs.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("hdfs.sh %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	return nil
}
