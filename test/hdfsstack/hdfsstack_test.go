package hdfsstack

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// stack is the dev stack's HDFS as described by .dev/env.d/hdfs.env and krb5.env.
type stack struct {
	namenode   string // host:port, e.g. localhost:19000
	krb5Conf   string
	principal  string // e.g. gateway/localhost@EXAMPLE.TEST
	keytab     string
	spn        string // NameNode service principal without realm, e.g. hdfs/localhost
	root       string // e.g. /lakegate
	protection string // dfs.data.transfer.protection of the stack
	confDir    string // HADOOP_CONF_DIR
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// readEnvFile adds the `export K=V` lines of one file to vars, without overriding keys already set.
func readEnvFile(name string, vars map[string]string) {
	f, err := os.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "export ")
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

// devFail skips the test, or fails it when LAKEGATE_REQUIRE_DEV=1.
func devFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("LAKEGATE_REQUIRE_DEV") == "1" {
		t.Fatalf("dev stack required (LAKEGATE_REQUIRE_DEV=1): %s; run deploy/dev/hdfs.sh up", msg)
	}
	t.Skipf("dev stack not available: %s (run deploy/dev/hdfs.sh up; LAKEGATE_REQUIRE_DEV=1 turns this into a failure)", msg)
}

// loadStack reads the settings (process environment first, then .dev/env.d/*.env, then .dev/env)
// and checks that the NameNode answers on its RPC port.
func loadStack(t *testing.T) stack {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			vars[k] = v
		}
	}
	root := repoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, ".dev", "env.d", "*.env"))
	for _, f := range files {
		readEnvFile(f, vars)
	}
	readEnvFile(filepath.Join(root, ".dev", "env"), vars)

	s := stack{
		namenode:   vars["HDFS_NAMENODE"],
		krb5Conf:   vars["KRB5_CONFIG"],
		principal:  vars["LAKEGATE_HDFS_PRINCIPAL"],
		keytab:     vars["LAKEGATE_HDFS_KEYTAB"],
		spn:        vars["LAKEGATE_HDFS_SPN"],
		root:       vars["LAKEGATE_HDFS_ROOT"],
		protection: vars["LAKEGATE_HDFS_DATA_TRANSFER_PROTECTION"],
		confDir:    vars["HADOOP_CONF_DIR"],
	}
	for name, v := range map[string]string{
		"HDFS_NAMENODE": s.namenode, "KRB5_CONFIG": s.krb5Conf, "LAKEGATE_HDFS_PRINCIPAL": s.principal,
		"LAKEGATE_HDFS_KEYTAB": s.keytab, "LAKEGATE_HDFS_SPN": s.spn, "LAKEGATE_HDFS_ROOT": s.root,
	} {
		if v == "" {
			devFail(t, "%s is not set (no .dev/env.d/hdfs.env?)", name)
		}
	}
	conn, err := net.DialTimeout("tcp", s.namenode, 3*time.Second)
	if err != nil {
		devFail(t, "NameNode %s: %v", s.namenode, err)
	}
	conn.Close()
	return s
}

// kerberosClient logs in from the keytab, as a long-running server does.
func (s stack) kerberosClient(t *testing.T) *krbclient.Client {
	t.Helper()
	cfg, err := krbconfig.Load(s.krb5Conf)
	if err != nil {
		t.Fatalf("load %s: %v", s.krb5Conf, err)
	}
	kt, err := keytab.Load(s.keytab)
	if err != nil {
		t.Fatalf("load keytab %s: %v", s.keytab, err)
	}
	user, realm, ok := strings.Cut(s.principal, "@")
	if !ok {
		t.Fatalf("principal %q has no realm", s.principal)
	}
	kc := krbclient.NewWithKeytab(user, realm, kt, cfg, krbclient.DisablePAFXFAST(true))
	if err := kc.Login(); err != nil {
		t.Fatalf("kerberos login as %s: %v", s.principal, err)
	}
	t.Cleanup(kc.Destroy)
	return kc
}

// client connects to the NameNode with the given data-transfer protection ("" = none).
func (s stack) client(t *testing.T, protection string) *hdfs.Client {
	t.Helper()
	c, err := hdfs.NewClient(hdfs.ClientOptions{
		Addresses:                    []string{s.namenode},
		KerberosClient:               s.kerberosClient(t),
		KerberosServicePrincipleName: s.spn,
		DataTransferProtection:       protection,
	})
	if err != nil {
		t.Fatalf("connect to %s as %s: %v", s.namenode, s.principal, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testDir creates a fresh directory under the stack's root and removes it when the test ends.
func (s stack) testDir(t *testing.T, c *hdfs.Client) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	dir := path.Join(s.root, ".hdfsstack-test", fmt.Sprintf("%s-%x", t.Name(), b))
	dir = strings.ReplaceAll(dir, ":", "_")
	if err := c.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := c.RemoveAll(dir); err != nil {
			t.Errorf("cleanup %s: %v", dir, err)
		}
		// Leave no stray directory under the root (where lakegate keeps its buckets); fails
		// harmlessly while another test still has a directory there.
		c.Remove(path.Dir(dir))
	})
	return dir
}

// writeFile writes data through a FileWriter, retrying Close while the last block replicates.
func writeFile(c *hdfs.Client, name string, data []byte) error {
	w, err := c.Create(name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		c.Remove(name)
		return err
	}
	for i := 0; ; i++ {
		err = w.Close()
		if !errors.Is(err, hdfs.ErrReplicating) || i == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		c.Remove(name)
	}
	return err
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKerberizedReadWrite logs in from the gateway keytab, writes 10 MiB through a SASL-protected
// DataNode connection, reads it back, sets and reads an extended attribute and renames the file.
func TestKerberizedReadWrite(t *testing.T) {
	s := loadStack(t)
	protection := s.protection
	if protection == "" {
		protection = "authentication"
	}
	c := s.client(t, protection)
	dir := s.testDir(t, c)

	data := randomBytes(t, 10<<20)
	name := path.Join(dir, "object.bin")
	if err := writeFile(c, name, data); err != nil {
		t.Fatalf("write %s (10 MiB, data transfer protection %q): %v", name, protection, err)
	}

	fi, err := c.Stat(name)
	if err != nil {
		t.Fatalf("stat %s: %v", name, err)
	}
	if fi.Size() != int64(len(data)) {
		t.Errorf("stat %s: size %d, want %d", name, fi.Size(), len(data))
	}
	// The NameNode maps gateway/localhost@EXAMPLE.TEST to the short name gateway (auth_to_local).
	if owner := fi.(*hdfs.FileInfo).Owner(); owner != "gateway" {
		t.Errorf("owner of %s = %q, want gateway", name, owner)
	}

	got, err := c.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %s: %d bytes, sha256 %x; wrote %d bytes, sha256 %x",
			name, len(got), sha256.Sum256(got), len(data), sha256.Sum256(data))
	}

	// A ranged read crossing a 64 KiB packet boundary.
	r, err := c.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	part := make([]byte, 200_000)
	if _, err := r.ReadAt(part, 5<<20-1000); err != nil {
		t.Fatalf("read at 5 MiB-1000 of %s: %v", name, err)
	}
	r.Close()
	if !bytes.Equal(part, data[5<<20-1000:5<<20-1000+len(part)]) {
		t.Errorf("ranged read of %s returned different bytes", name)
	}

	const key, value = "user.lakegate.etag", "\"0123456789abcdef0123456789abcdef\""
	if err := c.SetXAttr(name, key, value); err != nil {
		t.Fatalf("setxattr %s %s: %v", name, key, err)
	}
	attrs, err := c.GetXAttrs(name, key)
	if err != nil {
		t.Fatalf("getxattrs %s %s: %v", name, key, err)
	}
	if attrs[key] != value {
		t.Errorf("getxattrs %s: %s = %q, want %q", name, key, attrs[key], value)
	}
	list, err := c.ListXAttrs(name)
	if err != nil {
		t.Fatalf("listxattrs %s: %v", name, err)
	}
	if list[key] != value {
		t.Errorf("listxattrs %s = %v, want %s=%q", name, list, key, value)
	}

	renamed := path.Join(dir, "renamed.bin")
	if err := c.Rename(name, renamed); err != nil {
		t.Fatalf("rename %s -> %s: %v", name, renamed, err)
	}
	if _, err := c.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat %s after rename: err = %v, want not exist", name, err)
	}
	fi, err = c.Stat(renamed)
	if err != nil {
		t.Fatalf("stat %s after rename: %v", renamed, err)
	}
	if fi.Size() != int64(len(data)) {
		t.Errorf("stat %s after rename: size %d, want %d", renamed, fi.Size(), len(data))
	}
	// Extended attributes travel with the inode.
	attrs, err = c.GetXAttrs(renamed, key)
	if err != nil || attrs[key] != value {
		t.Errorf("getxattrs %s after rename = %v, %v; want %s=%q", renamed, attrs, err, key, value)
	}
	r, err = c.Open(renamed)
	if err != nil {
		t.Fatalf("open %s: %v", renamed, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("read %s: %v", renamed, err)
	}
	r.Close()
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("content of %s changed by rename", renamed)
	}
}

// TestClientOptionsFromHadoopConf connects with options derived from the stack's own
// core-site.xml and hdfs-site.xml, the way a Hadoop client would configure itself.
func TestClientOptionsFromHadoopConf(t *testing.T) {
	s := loadStack(t)
	if s.confDir == "" {
		devFail(t, "HADOOP_CONF_DIR is not set")
	}
	conf, err := hadoopconf.Load(s.confDir)
	if err != nil {
		t.Fatalf("load %s: %v", s.confDir, err)
	}
	opts := hdfs.ClientOptionsFromConf(conf)
	if opts.KerberosServicePrincipleName != s.spn {
		t.Errorf("SPN from %s = %q, want %q", s.confDir, opts.KerberosServicePrincipleName, s.spn)
	}
	if opts.DataTransferProtection != s.protection {
		t.Errorf("data transfer protection from %s = %q, want %q", s.confDir, opts.DataTransferProtection, s.protection)
	}
	opts.KerberosClient = s.kerberosClient(t)
	c, err := hdfs.NewClient(opts)
	if err != nil {
		t.Fatalf("connect to %v: %v", opts.Addresses, err)
	}
	t.Cleanup(func() { c.Close() })
	dir := s.testDir(t, c)
	name := path.Join(dir, "small")
	data := randomBytes(t, 100_000)
	if err := writeFile(c, name, data); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	got, err := c.ReadFile(name)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %s: %d bytes, err %v; want the %d bytes written", name, len(got), err, len(data))
	}
}

// TestDataTransferWithoutSASLIsRefused shows that the DataNode enforces SASL data-transfer
// protection: a client that skips the handshake can talk to the NameNode but cannot read or
// write blocks. Without this, TestKerberizedReadWrite would pass against an unprotected DataNode.
func TestDataTransferWithoutSASLIsRefused(t *testing.T) {
	s := loadStack(t)
	good := s.client(t, "authentication")
	dir := s.testDir(t, good)
	name := path.Join(dir, "protected.bin")
	if err := writeFile(good, name, randomBytes(t, 1<<20)); err != nil {
		t.Fatalf("write %s with SASL: %v", name, err)
	}

	plain := s.client(t, "")
	if _, err := plain.Stat(name); err != nil {
		t.Fatalf("stat %s without data-transfer protection (NameNode RPC only): %v", name, err)
	}
	if _, err := plain.ReadFile(name); err == nil {
		t.Errorf("read %s without SASL data-transfer protection succeeded; the DataNode does not enforce it", name)
	} else {
		t.Logf("read without SASL refused as expected: %v", err)
	}
	other := path.Join(dir, "unprotected.bin")
	if err := writeFile(plain, other, randomBytes(t, 100_000)); err == nil {
		t.Errorf("write %s without SASL data-transfer protection succeeded; the DataNode does not enforce it", other)
	} else {
		t.Logf("write without SASL refused as expected: %v", err)
	}
}

// TestShortTicketLifetime needs the KDC started with a short client ticket lifetime
// (LAKEGATE_KRB_TICKET_LIFETIME=2m deploy/dev/krb5.sh up) and waits for one lifetime. It shows
// that the lifetime is really enforced for new NameNode connections (a ticket-cache client that
// cannot renew is refused after expiry) and that a keytab client, which renews, keeps working:
// the precondition for lakegate's own renewal tests.
func TestShortTicketLifetime(t *testing.T) {
	s := loadStack(t)
	vars := map[string]string{}
	readEnvFile(filepath.Join(repoRoot(t), ".dev", "env.d", "krb5.env"), vars)
	lifetime, err := time.ParseDuration(vars["LAKEGATE_KRB_CLIENT_TICKET_LIFETIME"])
	if err != nil || lifetime > 5*time.Minute {
		t.Skipf("client ticket lifetime is %q; run LAKEGATE_KRB_TICKET_LIFETIME=2m deploy/dev/krb5.sh up to run this test",
			vars["LAKEGATE_KRB_CLIENT_TICKET_LIFETIME"])
	}
	if testing.Short() {
		t.Skip("waits for a ticket lifetime; not in -short mode")
	}

	// A client from a ticket cache filled by kinit: it cannot log in again once the TGT expired.
	cc := filepath.Join(t.TempDir(), "ccache")
	kinit := exec.Command("kinit", "-c", "FILE:"+cc, "-kt", s.keytab, s.principal)
	kinit.Env = append(os.Environ(), "KRB5_CONFIG="+s.krb5Conf)
	if out, err := kinit.CombinedOutput(); err != nil {
		t.Fatalf("kinit -kt %s %s: %v\n%s", s.keytab, s.principal, err, out)
	}
	ccache, err := credentials.LoadCCache(cc)
	if err != nil {
		t.Fatalf("load %s: %v", cc, err)
	}
	cfg, err := krbconfig.Load(s.krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	var tgtEnd time.Time
	for _, e := range ccache.GetEntries() {
		if len(e.Server.PrincipalName.NameString) > 0 && e.Server.PrincipalName.NameString[0] == "krbtgt" {
			tgtEnd = e.EndTime
			if got := e.EndTime.Sub(e.StartTime); got > lifetime+time.Minute {
				t.Fatalf("TGT of %s lives %v; the KDC should cap it at %v", s.principal, got, lifetime)
			}
		}
	}
	if tgtEnd.IsZero() {
		t.Fatalf("no TGT in %s", cc)
	}
	static, err := krbclient.NewFromCCache(ccache, cfg, krbclient.DisablePAFXFAST(true))
	if err != nil {
		t.Fatalf("client from %s: %v", cc, err)
	}
	staticOpts := hdfs.ClientOptions{Addresses: []string{s.namenode}, KerberosClient: static,
		KerberosServicePrincipleName: s.spn, DataTransferProtection: s.protection}
	before, err := hdfs.NewClient(staticOpts)
	if err != nil {
		t.Fatalf("connect with the ticket cache before expiry: %v", err)
	}
	defer before.Close()
	if _, err := before.Stat(s.root); err != nil {
		t.Fatalf("stat %s with the ticket cache before expiry: %v", s.root, err)
	}

	renewing := s.kerberosClient(t) // keytab login; gokrb5 renews the TGT in the background

	// Wait out the TGT plus the krb5.conf clock skew (10 s in the dev realm).
	wait := time.Until(tgtEnd) + 15*time.Second
	t.Logf("waiting %v for the %v tickets to expire", wait.Round(time.Second), lifetime)
	time.Sleep(wait)

	after, err := hdfs.NewClient(staticOpts)
	if err == nil {
		_, err = after.Stat(s.root)
		after.Close()
	}
	if err == nil {
		t.Errorf("a new NameNode connection with an expired, unrenewed ticket cache succeeded; the ticket lifetime is not enforced")
	} else {
		t.Logf("expired ticket cache refused as expected: %v", err)
	}
	// Hadoop authenticates a connection once, at the SASL handshake: an open connection outlives
	// the ticket. Recorded, not asserted.
	_, err = before.Stat(s.root)
	t.Logf("stat on the connection opened before expiry: err = %v", err)

	// A new connection from the renewing keytab client, which needs a fresh service ticket.
	c2, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{s.namenode}, KerberosClient: renewing,
		KerberosServicePrincipleName: s.spn, DataTransferProtection: s.protection})
	if err != nil {
		t.Fatalf("new connection with the renewing keytab client after expiry: %v", err)
	}
	t.Cleanup(func() { c2.Close() })
	dir := s.testDir(t, c2)
	name := path.Join(dir, "after-expiry")
	data := randomBytes(t, 100_000)
	if err := writeFile(c2, name, data); err != nil {
		t.Fatalf("write %s after expiry with the renewing client: %v", name, err)
	}
	if got, err := c2.ReadFile(name); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %s after expiry: %d bytes, err %v", name, len(got), err)
	}
}
