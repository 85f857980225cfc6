// Package atomicfile writes small files (state records, keys) so that a
// reader sees either the old content or the whole new content, never a
// partial file, and so that a write that returned nil survives a crash.
//
// Both functions write to a uniquely named temporary file in the target's
// directory, fsync it, move it into place (rename(2) or link(2)) and fsync
// the directory. The temporary file is removed on every error path.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces the file at path with data (mode perm for a new file).
// Concurrent writers of the same path are safe: the last rename wins and
// each reader sees one writer's complete data. The directory must exist.
// Errors are the *fs.PathError of the failing step.
func Write(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// Create writes data to path only if nothing is there yet: of concurrent
// creators, across processes, exactly one succeeds and the others get an
// error matching fs.ErrExist, with the file left as the winner wrote it.
// The directory must exist.
func Create(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	// link(2) fails with EEXIST instead of replacing, unlike rename(2).
	err = os.Link(tmp, path)
	os.Remove(tmp)
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a new file beside path and fsyncs it; it returns
// the temporary file's name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("atomicfile %s: %w", path, err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// syncDir fsyncs dir so that the rename or link in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
