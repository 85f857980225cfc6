// Package config loads and validates lakegate's YAML configuration file. The
// backend-specific keys of each backend entry are kept as a raw YAML node and
// decoded by the backend's own Config type (see cmd/lakegate).
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the gateway configuration. Every field documents its default.
type Config struct {
	// Listen is the TCP address to serve on. Default: 127.0.0.1:9080.
	Listen string `yaml:"listen"`
	// Domain enables virtual-host style addressing (bucket.Domain) next to
	// path-style. Default: "" (path-style only).
	Domain string `yaml:"domain"`
	// Region, when set, is the only SigV4 region accepted and the region
	// reported in x-amz-bucket-region. Default: "" (any region accepted,
	// us-east-1 reported).
	Region string `yaml:"region"`
	// Identities is the path of the identities file (users, groups, teams).
	// Default: "" (only the root credentials from LAKEGATE_ROOT_ACCESS_KEY and
	// LAKEGATE_ROOT_SECRET_KEY).
	Identities string `yaml:"identities"`
	// StateDir holds the gateway's own state. Default: "./.lakegate".
	StateDir string `yaml:"state_dir"`
	// DefaultBackend is used by CreateBucket without LocationConstraint.
	// Default: the first backend.
	DefaultBackend string `yaml:"default_backend"`
	// TLS serves HTTPS when both files are set. Default: plain HTTP.
	TLS TLS `yaml:"tls"`
	// ShutdownGrace is how long in-flight requests may run after a stop
	// signal. Default: 30s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// LogLevel is debug, info, warn or error. Default: info.
	LogLevel string `yaml:"log_level"`
	// Backends are the storage backends, at least one. Default: one posix
	// backend named "posix" rooted at ./data.
	Backends []Backend `yaml:"backends"`
}

// TLS names the certificate and key files (PEM).
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Backend is one backend entry: its name (the LocationConstraint that
// selects it), its type (posix, s3, hdfs) and its type-specific keys, kept
// as the raw YAML mapping in Options.
type Backend struct {
	Name    string
	Type    string
	Options yaml.Node
}

// UnmarshalYAML reads name and type and keeps the whole mapping for the
// backend's own decoder.
func (b *Backend) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	b.Name, b.Type, b.Options = head.Name, head.Type, *n
	return nil
}

// Decode decodes the backend's options into v (a backend Config struct).
// Unknown keys other than name and type are errors, so typos are caught.
func (b *Backend) Decode(v any) error {
	if b.Options.Kind == 0 {
		return nil
	}
	// Strip name and type, then decode strictly.
	n := b.Options
	if n.Kind == yaml.MappingNode {
		var content []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "name" || k == "type" {
				continue
			}
			content = append(content, n.Content[i], n.Content[i+1])
		}
		n.Content = content
	}
	out, err := yaml.Marshal(&n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytesReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, errEOF) {
		return fmt.Errorf("backend %q: %w", b.Name, err)
	}
	return nil
}

// Default returns the zero-setup configuration: 127.0.0.1:9080 with a posix
// backend under ./data.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, filepath.Dir(path))
}

// Parse parses YAML configuration. Relative paths are kept as written (they
// are relative to the working directory, as the dev stack writes them).
func Parse(data []byte, _ string) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytesReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, errEOF) {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9080"
	}
	if c.StateDir == "" {
		c.StateDir = "./.lakegate"
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = 30 * time.Second
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if len(c.Backends) == 0 {
		var n yaml.Node
		_ = yaml.Unmarshal([]byte("name: posix\ntype: posix\nroot: ./data\n"), &n)
		c.Backends = []Backend{{Name: "posix", Type: "posix", Options: *n.Content[0]}}
	}
	if c.DefaultBackend == "" {
		c.DefaultBackend = c.Backends[0].Name
	}
}

var backendName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks the configuration for mistakes a user can fix, naming the
// offending key.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i, b := range c.Backends {
		if !backendName.MatchString(b.Name) {
			return fmt.Errorf("backends[%d]: name %q must match %s", i, b.Name, backendName)
		}
		if seen[b.Name] {
			return fmt.Errorf("backends[%d]: duplicate name %q", i, b.Name)
		}
		seen[b.Name] = true
		switch b.Type {
		case "posix", "s3", "hdfs":
		default:
			return fmt.Errorf("backends[%d] (%s): unknown type %q (want posix, s3 or hdfs)", i, b.Name, b.Type)
		}
	}
	if !seen[c.DefaultBackend] {
		return fmt.Errorf("default_backend %q is not a configured backend", c.DefaultBackend)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return errors.New("tls: cert and key must both be set")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.ShutdownGrace < 0 {
		return errors.New("shutdown_grace must not be negative")
	}
	return nil
}
