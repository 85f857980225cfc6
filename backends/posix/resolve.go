package posix

import (
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Key paths contain no "." or ".." segments (keyToPath), but a symbolic
// link planted inside a bucket by another program could still lead a path
// out of the root. Every path derived from a key is therefore opened with
// openat2(2) RESOLVE_NO_SYMLINKS, and changes are made with *at(2) calls on
// the parent directory opened that way, so no component of it is ever a
// symbolic link. The root itself is resolved once at start-up.

// noOpenat2 is set when the kernel lacks openat2(2) (before Linux 5.6).
var noOpenat2 atomic.Bool

// openNoSymlinks opens path (absolute) with flags, failing with ELOOP if any
// component is a symbolic link.
func openNoSymlinks(path string, flags int) (*os.File, error) {
	flags |= unix.O_CLOEXEC | unix.O_NOFOLLOW
	if !noOpenat2.Load() {
		for {
			fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
			if err == nil {
				return os.NewFile(uintptr(fd), path), nil
			}
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err != unix.ENOSYS {
				return nil, &os.PathError{Op: "openat2", Path: path, Err: err}
			}
			noOpenat2.Store(true)
			break
		}
	}
	// Fallback: check every component with lstat, then open without
	// following a final link. Racy against a concurrent swap, unlike
	// openat2, but still refuses links that are in place.
	for i := 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		fi, err := os.Lstat(path[:i])
		if err != nil {
			return nil, err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil, &os.PathError{Op: "open", Path: path, Err: syscall.ELOOP}
		}
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openDir opens directory path for reading and *at calls, refusing symlinks.
func openDir(path string) (*os.File, error) {
	return openNoSymlinks(path, unix.O_RDONLY|unix.O_DIRECTORY)
}

// splitPath returns the parent directory and base name of a clean absolute
// path.
func splitPath(path string) (string, string) {
	i := strings.LastIndexByte(path, '/')
	return path[:i], path[i+1:]
}

// statAt lstat(2)s name in directory d.
func statAt(d *os.File, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return st, &os.PathError{Op: "fstatat", Path: d.Name() + "/" + name, Err: err}
	}
	return st, nil
}

// openAt opens name in directory d without following a final link.
func openAt(d *os.File, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(int(d.Fd()), name, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: d.Name() + "/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), d.Name()+"/"+name), nil
}

// isErrno reports whether err wraps one of errnos.
func isErrno(err error, errnos ...syscall.Errno) bool {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// statInfoOf converts a raw stat to statInfo.
func statInfoOf(st *unix.Stat_t) statInfo {
	ns := st.Mtim.Nano()
	return statInfo{ino: st.Ino, size: st.Size, mtimeNS: ns, mtime: timeFromNS(ns), dir: st.Mode&unix.S_IFMT == unix.S_IFDIR}
}
