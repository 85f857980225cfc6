package config

import (
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	c := Default()
	if c.Listen != "127.0.0.1:9080" || len(c.Backends) != 1 || c.Backends[0].Type != "posix" || c.DefaultBackend != "posix" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	var pc struct {
		Root string `yaml:"root"`
	}
	if err := c.Backends[0].Decode(&pc); err != nil || pc.Root != "./data" {
		t.Fatalf("default posix root: %q %v", pc.Root, err)
	}
}

func TestParseBackendsAndStrictKeys(t *testing.T) {
	y := `
listen: 127.0.0.1:9999
default_backend: rgw
backends:
  - name: posix
    type: posix
    root: /tmp/x
  - name: rgw
    type: s3
    endpoint: http://127.0.0.1:7480
    access_key: a
`
	c, err := Parse([]byte(y), ".")
	if err != nil {
		t.Fatal(err)
	}
	var s3c struct {
		Endpoint  string `yaml:"endpoint"`
		AccessKey string `yaml:"access_key"`
	}
	if err := c.Backends[1].Decode(&s3c); err != nil || s3c.Endpoint != "http://127.0.0.1:7480" || s3c.AccessKey != "a" {
		t.Fatalf("decode s3: %+v %v", s3c, err)
	}
	var wrong struct {
		Endpoint string `yaml:"endpoint"`
	}
	if err := c.Backends[1].Decode(&wrong); err == nil || !strings.Contains(err.Error(), "access_key") {
		t.Fatalf("unknown backend key must be an error naming it, got %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	for name, y := range map[string]string{
		"unknown top key":   "lisen: x\n",
		"bad type":          "backends: [{name: a, type: ftp}]\n",
		"dup name":          "backends: [{name: a, type: posix}, {name: a, type: posix}]\n",
		"bad default":       "default_backend: zz\nbackends: [{name: a, type: posix}]\n",
		"half tls":          "tls: {cert: a.pem}\n",
		"bad name":          "backends: [{name: 'A B', type: posix}]\n",
		"bad log level":     "log_level: loud\n",
		"negative shutdown": "shutdown_grace: -1s\n",
	} {
		if _, err := Parse([]byte(y), "."); err == nil {
			t.Errorf("%s: expected an error", name)
		}
	}
}
