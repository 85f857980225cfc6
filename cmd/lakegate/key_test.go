package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Gateways starting together on one state_dir must agree on the key, or a
// continuation token issued by one is refused by another.
func TestLoadOrCreateKeyConcurrentStartsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "list-token.key")
	keys := make([][]byte, 12)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := loadOrCreateKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("start %d got key %x, start 0 got %x", i, k, keys[0])
		}
	}
	again, err := loadOrCreateKey(path)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("restart read %x (%v), want %x", again, err, keys[0])
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode(), err)
	}
}
