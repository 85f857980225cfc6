// Package identity holds the gateway's users: who may sign requests, with
// which access keys and secret keys, and the groups and team each belongs
// to. Identities come from a YAML file plus the root credentials in the
// environment (LAKEGATE_ROOT_ACCESS_KEY / LAKEGATE_ROOT_SECRET_KEY); the
// file can be reloaded at run time (on SIGHUP) without dropping the set in
// use when the new one is invalid.
//
// File format:
//
//	users:
//	  - name: alice
//	    access_key: AKIAALICE
//	    secret_key: ...            # or secret_file: /path  or secret_env: ALICE_SECRET
//	                               # (a relative secret_file is relative to this file)
//	    groups: [analysts]
//	    team: data-eng
//
// Secrets never appear in errors or logs.
package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// Environment variables holding the root credentials.
const (
	EnvRootAccessKey = "LAKEGATE_ROOT_ACCESS_KEY"
	EnvRootSecretKey = "LAKEGATE_ROOT_SECRET_KEY"
)

// RootName is the Name of the identity built from the root credentials.
const RootName = "root"

// Identity is an authenticated principal. It never holds the secret key.
type Identity struct {
	Name      string   // unique user name, "root" for the root credentials
	AccessKey string   // the access key ID it signs with
	Groups    []string // group names, for authorization policies
	Team      string   // owning team, for authorization policies
	Root      bool     // true for the root credentials
}

// ErrInvalid marks a malformed identities file or environment; Load and
// Reload wrap it with the offending user's name (never a secret).
var ErrInvalid = errors.New("invalid identities")

// Store is the set of identities in use. Lookup is safe for concurrent use
// with Reload; a reload replaces the whole set atomically.
type Store struct {
	path   string
	getenv func(string) string
	mu     sync.Mutex // serialises Reload
	set    atomic.Pointer[map[string]entry]
}

type entry struct {
	id     Identity
	secret string
}

// fileUser is one entry of the identities file.
type fileUser struct {
	Name       string   `yaml:"name"`
	AccessKey  string   `yaml:"access_key"`
	SecretKey  string   `yaml:"secret_key"`
	SecretFile string   `yaml:"secret_file"`
	SecretEnv  string   `yaml:"secret_env"`
	Groups     []string `yaml:"groups"`
	Team       string   `yaml:"team"`
}

type file struct {
	Users []fileUser `yaml:"users"`
}

// Load reads the identities file at path ("" for none: root credentials
// only) and the root credentials from getenv (EnvRootAccessKey and
// EnvRootSecretKey; both or neither must be set). Each user has a name, an
// access key, exactly one of secret_key, secret_file (a path, relative to
// the identities file's directory; one trailing newline is stripped) or secret_env (an environment variable name read
// through getenv), and optional groups and team. Errors wrap ErrInvalid and
// name the user (duplicate names or access keys, missing or ambiguous
// secrets, unknown keys in the file), or are the file's read error. A Store
// with no identities at all is valid: every signed request is then refused.
func Load(path string, getenv func(string) string) (*Store, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := &Store{path: path, getenv: getenv}
	set, err := s.read()
	if err != nil {
		return nil, err
	}
	s.set.Store(&set)
	return s, nil
}

// Reload re-reads the identities file and the root credentials and
// replaces the set in use atomically. On error the previous set stays in
// use and the error is returned. It is called on SIGHUP.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := s.read()
	if err != nil {
		return err
	}
	s.set.Store(&set)
	return nil
}

// Lookup returns the identity and secret key of accessKey, and whether it
// exists. It is safe for concurrent use.
func (s *Store) Lookup(accessKey string) (Identity, string, bool) {
	set := s.set.Load()
	if set == nil {
		return Identity{}, "", false
	}
	e, ok := (*set)[accessKey]
	if !ok {
		return Identity{}, "", false
	}
	id := e.id
	id.Groups = append([]string(nil), e.id.Groups...)
	return id, e.secret, true
}

// Len returns the number of identities in use, root included.
func (s *Store) Len() int {
	if set := s.set.Load(); set != nil {
		return len(*set)
	}
	return 0
}

func (s *Store) read() (map[string]entry, error) {
	set := make(map[string]entry)
	rootKey, rootSecret := s.getenv(EnvRootAccessKey), s.getenv(EnvRootSecretKey)
	switch {
	case rootKey != "" && rootSecret != "":
		set[rootKey] = entry{id: Identity{Name: RootName, AccessKey: rootKey, Root: true}, secret: rootSecret}
	case rootKey != "":
		return nil, fmt.Errorf("%w: %s is set but %s is not", ErrInvalid, EnvRootAccessKey, EnvRootSecretKey)
	case rootSecret != "":
		return nil, fmt.Errorf("%w: %s is set but %s is not", ErrInvalid, EnvRootSecretKey, EnvRootAccessKey)
	}
	if s.path == "" {
		return set, nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("identities file: %w", err)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, s.path, redact(err.Error()))
	}
	names := map[string]bool{RootName: rootKey != ""}
	for i, u := range f.Users {
		who := u.Name
		if who == "" {
			return nil, fmt.Errorf("%w: user #%d has no name", ErrInvalid, i+1)
		}
		if names[who] {
			return nil, fmt.Errorf("%w: user %q: duplicate name", ErrInvalid, who)
		}
		names[who] = true
		if u.AccessKey == "" || strings.ContainsAny(u.AccessKey, "/ \t\r\n") {
			return nil, fmt.Errorf("%w: user %q: access_key is missing or contains '/' or white space", ErrInvalid, who)
		}
		if prev, dup := set[u.AccessKey]; dup {
			return nil, fmt.Errorf("%w: user %q: access key already used by %q", ErrInvalid, who, prev.id.Name)
		}
		secret, err := s.secret(u)
		if err != nil {
			return nil, err
		}
		set[u.AccessKey] = entry{
			id:     Identity{Name: who, AccessKey: u.AccessKey, Groups: append([]string(nil), u.Groups...), Team: u.Team},
			secret: secret,
		}
	}
	return set, nil
}

// secret resolves exactly one of secret_key, secret_file, secret_env.
func (s *Store) secret(u fileUser) (string, error) {
	n := 0
	for _, v := range []string{u.SecretKey, u.SecretFile, u.SecretEnv} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return "", fmt.Errorf("%w: user %q: exactly one of secret_key, secret_file, secret_env is required", ErrInvalid, u.Name)
	}
	switch {
	case u.SecretKey != "":
		return u.SecretKey, nil
	case u.SecretFile != "":
		path := u.SecretFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(s.path), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%w: user %q: secret_file: %v", ErrInvalid, u.Name, err)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			return "", fmt.Errorf("%w: user %q: secret_file %s is empty", ErrInvalid, u.Name, u.SecretFile)
		}
		return v, nil
	default:
		v := s.getenv(u.SecretEnv)
		if v == "" {
			return "", fmt.Errorf("%w: user %q: environment variable %s (secret_env) is not set", ErrInvalid, u.Name, u.SecretEnv)
		}
		return v, nil
	}
}

// quoted matches the values yaml.v3 quotes in type errors ("cannot unmarshal
// !!str `...` into ..."), which could be secrets typed into the wrong key.
var quoted = regexp.MustCompile("`[^`]*`")

func redact(msg string) string { return quoted.ReplaceAllString(msg, "`<redacted>`") }
