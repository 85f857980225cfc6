package blackbox

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
	"time"
)

const debianPython = "/usr/bin/python3" // with python3-boto3; not a pyenv shim

// TestBoto3 runs py/boto3_check.py with Debian's python3-boto3.
func TestBoto3(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("Debian's python3 is required at %s (apt-get install python3-boto3): %v", debianPython, err)
	}
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 10*time.Minute)
		cmd := exec.CommandContext(ctx, debianPython, "py/boto3_check.py", env.endpoint, env.accessKey, env.secretKey, b.bucket, b.prefix, t.TempDir())
		cmd.Env = []string{
			"PATH=/usr/bin:/bin",
			"HOME=" + t.TempDir(),
			"LANG=C.UTF-8",
			"AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_EC2_METADATA_DISABLED=true",
			"PYTHONDONTWRITEBYTECODE=1",
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("boto3_check.py output:\n%s", out.String())
		if err != nil {
			t.Fatalf("boto3_check.py: %v", err)
		}
		if !bytes.Contains(out.Bytes(), []byte("all boto3 checks passed")) {
			t.Fatalf("boto3_check.py exited 0 without finishing its checks")
		}
	})
}
