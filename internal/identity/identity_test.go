package identity

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bob.secret", "bob-secret-value\n")
	secretFile := "bob.secret" // relative to the identities file
	path := writeFile(t, dir, "ids.yaml", `
users:
  - name: alice
    access_key: AKIAALICE
    secret_key: alice-secret
    groups: [analysts, readers]
    team: data-eng
  - name: bob
    access_key: AKIABOB
    secret_file: `+secretFile+`
  - name: carol
    access_key: AKIACAROL
    secret_env: CAROL_SECRET
    team: ml
`)
	s, err := Load(path, env(map[string]string{
		EnvRootAccessKey: "ROOTKEY", EnvRootSecretKey: "root-secret", "CAROL_SECRET": "carol-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, name, secret, team string
		groups                  []string
		root                    bool
	}{
		{"ROOTKEY", "root", "root-secret", "", nil, true},
		{"AKIAALICE", "alice", "alice-secret", "data-eng", []string{"analysts", "readers"}, false},
		{"AKIABOB", "bob", "bob-secret-value", "", nil, false},
		{"AKIACAROL", "carol", "carol-secret", "ml", nil, false},
	} {
		id, secret, ok := s.Lookup(c.key)
		if !ok || id.Name != c.name || secret != c.secret || id.Team != c.team || id.Root != c.root ||
			id.AccessKey != c.key || strings.Join(id.Groups, ",") != strings.Join(c.groups, ",") {
			t.Errorf("Lookup(%s) = %+v %q %v", c.key, id, secret, ok)
		}
	}
	if _, _, ok := s.Lookup("AKIANOBODY"); ok {
		t.Error("unknown key found")
	}
	if s.Len() != 4 {
		t.Errorf("Len %d", s.Len())
	}
	// Callers cannot change the stored groups.
	id, _, _ := s.Lookup("AKIAALICE")
	id.Groups[0] = "admins"
	if id2, _, _ := s.Lookup("AKIAALICE"); id2.Groups[0] != "analysts" {
		t.Error("Lookup returned shared group slice")
	}
}

func TestLoadRootOnlyAndEmpty(t *testing.T) {
	s, err := Load("", env(map[string]string{EnvRootAccessKey: "R", EnvRootSecretKey: "S"}))
	if err != nil || s.Len() != 1 {
		t.Fatalf("root only: %v %d", err, s.Len())
	}
	s, err = Load("", env(nil))
	if err != nil || s.Len() != 0 {
		t.Fatalf("nothing configured: %v %d", err, s.Len())
	}
	if _, err := Load("", env(map[string]string{EnvRootAccessKey: "R"})); !errors.Is(err, ErrInvalid) {
		t.Fatalf("root key without secret: %v", err)
	}
	if _, err := Load("", env(map[string]string{EnvRootSecretKey: "S"})); !errors.Is(err, ErrInvalid) {
		t.Fatalf("root secret without key: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	const secret = "do-not-print-me"
	for _, c := range []struct {
		name, yaml, mention string
	}{
		{"duplicate access key", `
users:
  - {name: a, access_key: K1, secret_key: ` + secret + `}
  - {name: b, access_key: K1, secret_key: ` + secret + `}`, `"b"`},
		{"duplicate of root key", `
users:
  - {name: a, access_key: ROOT, secret_key: ` + secret + `}`, `"a"`},
		{"duplicate name", `
users:
  - {name: a, access_key: K1, secret_key: ` + secret + `}
  - {name: a, access_key: K2, secret_key: ` + secret + `}`, `"a"`},
		{"no secret", `
users:
  - {name: nosecret, access_key: K1}`, `"nosecret"`},
		{"two secrets", `
users:
  - {name: twosecrets, access_key: K1, secret_key: ` + secret + `, secret_env: X}`, `"twosecrets"`},
		{"missing env", `
users:
  - {name: envuser, access_key: K1, secret_env: NOT_SET_ANYWHERE}`, "NOT_SET_ANYWHERE"},
		{"missing file", `
users:
  - {name: fileuser, access_key: K1, secret_file: /nonexistent/secret}`, `"fileuser"`},
		{"no access key", `
users:
  - {name: nokey, secret_key: ` + secret + `}`, `"nokey"`},
		{"no name", `
users:
  - {access_key: K1, secret_key: ` + secret + `}`, "#1"},
		{"unknown field", `
users:
  - {name: typo, access_key: K1, secret: ` + secret + `}`, "secret"},
		{"secret in a list field", `
users:
  - {name: a, access_key: K1, secret_key: x, groups: ` + secret + `}`, "cannot unmarshal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, "ids.yaml", c.yaml)
			_, err := Load(p, env(map[string]string{EnvRootAccessKey: "ROOT", EnvRootSecretKey: "rootsecret"}))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %s", err, c.mention)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "rootsecret") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), env(nil)); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "ids.yaml", "users:\n  - {name: a, access_key: K1, secret_key: s1}\n")
	s, err := Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Every lookup sees one whole set: K1 with s1, or K2 with s2.
			_, s1, ok1 := s.Lookup("K1")
			_, s2, ok2 := s.Lookup("K2")
			if ok1 && s1 != "s1" || ok2 && s2 != "s2" {
				t.Error("torn identity")
				return
			}
		}
	}()
	writeFile(t, dir, "ids.yaml", "users:\n  - {name: b, access_key: K2, secret_key: s2}\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.Lookup("K1"); ok {
		t.Error("removed user still present")
	}
	if _, sec, ok := s.Lookup("K2"); !ok || sec != "s2" {
		t.Error("new user missing")
	}
	// An invalid file is refused and the set in use stays.
	writeFile(t, dir, "ids.yaml", "users:\n  - {name: c, access_key: K3}\n")
	if err := s.Reload(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid reload: %v", err)
	}
	if _, _, ok := s.Lookup("K2"); !ok {
		t.Error("failed reload dropped the old set")
	}
	close(stop)
	wg.Wait()
}

func TestEmptyFile(t *testing.T) {
	p := writeFile(t, t.TempDir(), "ids.yaml", "")
	s, err := Load(p, env(map[string]string{EnvRootAccessKey: "R", EnvRootSecretKey: "S"}))
	if err != nil || s.Len() != 1 {
		t.Fatalf("empty file: %v", err)
	}
}
