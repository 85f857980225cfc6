package blackbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	awsCLIPath  = "/usr/bin/aws" // Debian's awscli (v2); not a pyenv shim
	cliPartSize = 8 << 20        // multipart_chunksize in the CLI's config
)

// awsCLI runs Debian's aws CLI v2 against the gateway with an isolated
// configuration: path-style addressing, 8 MiB multipart threshold and parts.
type awsCLI struct {
	t   *testing.T
	env []string
}

func newAWSCLI(t *testing.T) *awsCLI {
	t.Helper()
	if _, err := os.Stat(awsCLIPath); err != nil {
		t.Fatalf("Debian's aws CLI is required at %s (apt-get install awscli): %v", awsCLIPath, err)
	}
	home := t.TempDir()
	cfg := filepath.Join(home, "config")
	err := os.WriteFile(cfg, []byte("[default]\n"+
		"region = us-east-1\n"+
		"s3 =\n"+
		"    addressing_style = path\n"+
		"    multipart_threshold = 8MB\n"+
		"    multipart_chunksize = 8MB\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(home, "credentials")
	if err := os.WriteFile(creds, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &awsCLI{t: t, env: []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + home,
		"LANG=C.UTF-8",
		"LC_ALL=C.UTF-8",
		"AWS_CONFIG_FILE=" + cfg,
		"AWS_SHARED_CREDENTIALS_FILE=" + creds,
		"AWS_ACCESS_KEY_ID=" + env.accessKey,
		"AWS_SECRET_ACCESS_KEY=" + env.secretKey,
		"AWS_DEFAULT_REGION=" + env.region,
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CLI_AUTO_PROMPT=off",
	}}
}

// run executes aws with args and returns its standard output; on failure
// the test fails with the command and both outputs.
func (a *awsCLI) run(ctx context.Context, args ...string) string {
	a.t.Helper()
	out, err := a.try(ctx, args...)
	if err != nil {
		a.t.Fatalf("%v", err)
	}
	return out
}

func (a *awsCLI) try(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"--endpoint-url", env.endpoint, "--no-cli-pager", "--output", "json"}, args...)
	cmd := exec.CommandContext(ctx, awsCLIPath, full...)
	cmd.Env = a.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("aws %s: %v after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond), tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String(), nil
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// bigFile is a local file of random content with its SHA-256 and the MD5 of
// every cliPartSize part (for the expected multipart ETag).
type bigFile struct {
	path     string
	size     int64
	sha256   string
	partMD5s [][]byte
}

func makeBigFile(t *testing.T, dir string, size int64) bigFile {
	t.Helper()
	path := filepath.Join(dir, "big.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := sha256.New()
	bf := bigFile{path: path, size: size}
	src := newRandReader(77, size)
	w := bufio.NewWriterSize(f, 1<<20)
	for off := int64(0); off < size; off += cliPartSize {
		ph := md5.New()
		if _, err := io.CopyN(io.MultiWriter(w, sh, ph), src, min(cliPartSize, size-off)); err != nil {
			t.Fatalf("writing %s: %v", path, err)
		}
		bf.partMD5s = append(bf.partMD5s, ph.Sum(nil))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	bf.sha256 = hex.EncodeToString(sh.Sum(nil))
	return bf
}

// etag is what S3 answers for the CLI's upload of the file.
func (f bigFile) etag() string {
	if f.size < cliPartSize {
		// Below the threshold the CLI sends one PutObject.
		return "" // checked by the round trip only
	}
	h := md5.New()
	for _, p := range f.partMD5s {
		h.Write(p)
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(f.partMD5s))
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// syncTree is the relative paths (and sizes) of the tree that aws s3 sync
// carries up and back down: names real users have.
var syncTree = map[string]int{
	"with space.txt":                   100,
	"plus+sign.txt":                    101,
	"percent%20literal.txt":            102,
	"percent%zz.txt":                   103,
	"eq=1/k=v.txt":                     104,
	"unicodé/日本語 ファイル.txt":             105,
	"emoji-🦆.txt":                      106,
	"hash#tag.txt":                     107,
	"amp&and.txt":                      108,
	"quote'single.txt":                 109,
	"question?mark.txt":                110,
	"semi;colon,comma.txt":             111,
	"paren(1)[2].txt":                  112,
	"at@sign$dollar.txt":               113,
	"tilde~x.txt":                      114,
	"deep/a/b/c/d/e/f/g/h/i/leaf.txt":  115,
	"deep/a/b/sibling with space.txt":  116,
	"deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n": 117,
	"empty.bin":                        0,
	"multi/part.bin":                   9<<20 + 1, // above the 8 MiB threshold: multipart
}

func writeTree(t *testing.T, root string) {
	t.Helper()
	i := uint64(0)
	for rel, size := range syncTree {
		i++
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, randBytes(500+i, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns relative slash-separated path -> content of every file.
func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("reading tree %s: %v", root, err)
	}
	return out
}

func TestAWSCLI(t *testing.T) {
	dir := t.TempDir()
	var big bigFile
	if env.bigSize > 0 {
		start := time.Now()
		big = makeBigFile(t, dir, env.bigSize)
		t.Logf("generated %d random bytes in %s (LAKEGATE_BLACKBOX_BIG_SIZE)", env.bigSize, time.Since(start).Round(time.Millisecond))
	}
	src := filepath.Join(dir, "tree")
	writeTree(t, src)

	eachBackend(t, func(t *testing.T, b *bctx) {
		cli := newAWSCLI(t)
		s3url := func(key string) string { return "s3://" + b.bucket + "/" + key }

		t.Run("CpLargeFile", func(t *testing.T) {
			if env.bigSize == 0 {
				t.Skip("LAKEGATE_BLACKBOX_BIG_SIZE=0 disables the large copy")
			}
			ctx := ctxTimeout(t, 30*time.Minute)
			key := b.key("big/big.bin")
			start := time.Now()
			cli.run(ctx, "s3", "cp", "--only-show-errors", big.path, s3url(key))
			up := time.Since(start)
			var head struct {
				ContentLength int64
				ETag          string
			}
			if err := json.Unmarshal([]byte(cli.run(ctx, "s3api", "head-object", "--bucket", b.bucket, "--key", key)), &head); err != nil {
				t.Fatalf("aws s3api head-object output: %v", err)
			}
			if head.ContentLength != big.size {
				t.Errorf("head-object ContentLength %d, want %d", head.ContentLength, big.size)
			}
			if want := big.etag(); want != "" && head.ETag != want {
				t.Errorf("head-object ETag %s, want %s (multipart of %d MiB parts)", head.ETag, want, cliPartSize>>20)
			}
			dl := filepath.Join(t.TempDir(), "download.bin")
			start = time.Now()
			cli.run(ctx, "s3", "cp", "--only-show-errors", s3url(key), dl)
			down := time.Since(start)
			if got := fileSHA256(t, dl); got != big.sha256 {
				t.Errorf("downloaded file sha256 %s, want %s", got, big.sha256)
			}
			mb := float64(big.size) / (1 << 20)
			t.Logf("aws s3 cp of %d bytes on %s: upload %s (%.0f MiB/s), download %s (%.0f MiB/s)", big.size, b.backend,
				up.Round(time.Millisecond), mb/up.Seconds(), down.Round(time.Millisecond), mb/down.Seconds())
			_ = os.Remove(dl)
			cli.run(ctx, "s3", "rm", "--only-show-errors", s3url(key))
			b.wantAbsent(key)
		})

		t.Run("SyncAwkwardTree", func(t *testing.T) {
			ctx := ctxTimeout(t, 10*time.Minute)
			remote := s3url(b.key("sync/"))
			cli.run(ctx, "s3", "sync", "--only-show-errors", src, remote)

			var listed struct {
				Contents []struct {
					Key  string
					Size int64
				}
			}
			out := cli.run(ctx, "s3api", "list-objects-v2", "--bucket", b.bucket, "--prefix", b.key("sync/"))
			if err := json.Unmarshal([]byte(out), &listed); err != nil {
				t.Fatalf("aws s3api list-objects-v2 output %q: %v", tail(out), err)
			}
			var keys, want []string
			for _, c := range listed.Contents {
				rel := strings.TrimPrefix(c.Key, b.key("sync/"))
				keys = append(keys, rel)
				if c.Size != int64(syncTree[rel]) {
					t.Errorf("list-objects-v2: %q has size %d, want %d", rel, c.Size, syncTree[rel])
				}
			}
			for rel := range syncTree {
				want = append(want, rel)
			}
			sort.Strings(want)
			wantSameList(t, "aws s3api list-objects-v2 after sync", keys, want)

			// A second sync has nothing to do.
			if out := cli.run(ctx, "s3", "sync", src, remote); strings.TrimSpace(out) != "" {
				t.Errorf("second aws s3 sync of an unchanged tree did work:\n%s", tail(out))
			}

			// aws s3 ls, non-recursive: directories as PRE, files with sizes.
			ls := cli.run(ctx, "s3", "ls", remote)
			for _, wantLine := range []string{"PRE deep/", "PRE unicodé/", "PRE eq=1/", "PRE multi/"} {
				if !strings.Contains(ls, wantLine) {
					t.Errorf("aws s3 ls %s: no line %q in:\n%s", remote, wantLine, ls)
				}
			}
			for _, f := range []string{"with space.txt", "plus+sign.txt", "hash#tag.txt", "empty.bin"} {
				if !strings.Contains(ls, fmt.Sprintf("%d %s\n", syncTree[f], f)) {
					t.Errorf("aws s3 ls %s: no line for %q with size %d in:\n%s", remote, f, syncTree[f], ls)
				}
			}
			rec := cli.run(ctx, "s3", "ls", "--recursive", remote)
			if n := strings.Count(strings.TrimSpace(rec), "\n") + 1; n != len(syncTree) {
				t.Errorf("aws s3 ls --recursive: %d lines, want %d:\n%s", n, len(syncTree), rec)
			}

			dst := filepath.Join(t.TempDir(), "down")
			cli.run(ctx, "s3", "sync", "--only-show-errors", remote, dst)
			got, exp := readTree(t, dst), readTree(t, src)
			for rel, data := range exp {
				g, ok := got[rel]
				switch {
				case !ok:
					t.Errorf("after sync down: %q missing", rel)
				case !bytes.Equal(g, data):
					t.Errorf("after sync down: %q has %d bytes (md5 %s), want %d (md5 %s)", rel, len(g), md5Hex(g), len(data), md5Hex(data))
				}
			}
			for rel := range got {
				if _, ok := exp[rel]; !ok {
					t.Errorf("after sync down: unexpected file %q", rel)
				}
			}

			cli.run(ctx, "s3", "rm", "--recursive", "--only-show-errors", remote)
			out = cli.run(ctx, "s3api", "list-objects-v2", "--bucket", b.bucket, "--prefix", b.key("sync/"))
			listed.Contents = nil
			if strings.TrimSpace(out) != "" {
				if err := json.Unmarshal([]byte(out), &listed); err != nil {
					t.Fatalf("aws s3api list-objects-v2 output %q: %v", tail(out), err)
				}
			}
			if len(listed.Contents) != 0 {
				t.Errorf("after aws s3 rm --recursive: %d objects left, first %q", len(listed.Contents), listed.Contents[0].Key)
			}
		})

		t.Run("Errors", func(t *testing.T) {
			ctx := ctxTimeout(t, 2*time.Minute)
			_, err := cli.try(ctx, "s3api", "head-object", "--bucket", b.bucket, "--key", b.key("missing"))
			if err == nil || !strings.Contains(err.Error(), "404") {
				t.Errorf("aws s3api head-object of a missing key: %v, want a 404 error", err)
			}
			_, err = cli.try(ctx, "s3api", "get-object", "--bucket", b.bucket, "--key", b.key("missing"), filepath.Join(t.TempDir(), "x"))
			if err == nil || !strings.Contains(err.Error(), "NoSuchKey") {
				t.Errorf("aws s3api get-object of a missing key: %v, want NoSuchKey", err)
			}
			_, err = cli.try(ctx, "s3", "ls", "s3://lgbb-no-such-bucket-"+randHex(4)+"/")
			if err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
				t.Errorf("aws s3 ls of a missing bucket: %v, want NoSuchBucket", err)
			}
		})
	})
}
