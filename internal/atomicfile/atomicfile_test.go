package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestWriteReplacesAndLeavesNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rec.json")
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer"), nil} {
		if err := Write(p, data, 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("mode %v: others may read", fi.Mode())
	}
	assertOnly(t, dir, "rec.json")
}

func TestWriteMissingDirectory(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), 0o600)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v, want ErrNotExist", err)
	}
}

func TestConcurrentWritersLeaveOneWholeValue(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rec")
	var wg sync.WaitGroup
	values := map[string]bool{}
	for i := 0; i < 16; i++ {
		v := bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
		values[string(v)] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Write(p, v, 0o600); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := os.ReadFile(p)
	if err != nil || !values[string(got)] {
		t.Fatalf("content of %d bytes is not one writer's value (err %v)", len(got), err)
	}
	assertOnly(t, dir, "rec")
}

func TestCreateOnlyOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for i := 0; i < 16; i++ {
		v := fmt.Sprintf("value-%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := Create(p, []byte(v), 0o600)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, v)
				mu.Unlock()
			case !errors.Is(err, fs.ErrExist):
				t.Errorf("Create: %v, want nil or ErrExist", err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d creators succeeded (%v), want exactly 1", len(winners), winners)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != winners[0] {
		t.Fatalf("file holds %q (%v), want the winner's %q", got, err, winners[0])
	}
	assertOnly(t, dir, "key")
}

// assertOnly fails unless dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}
