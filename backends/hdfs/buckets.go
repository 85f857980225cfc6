package hdfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/lakegate/lakegate/backends"
)

// CreateBucket creates the directory <root>/<bucket> and records its
// creation time. Errors: ErrInvalidBucketName (see validBucket),
// ErrBucketExists, ErrUnavailable. Safe for concurrent use.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	bdir, err := b.bucketDir(bucket, nil)
	if err != nil {
		return err
	}
	return b.withClient(ctx, false, func(c *client) error {
		if err := c.mkdir(bdir, 0o755); err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketExists)
			}
			return b.wrap("mkdir", bdir, err)
		}
		if err := c.setXAttr(bdir, xattrBucket, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return b.wrap("setXAttr", bdir, err)
		}
		return nil
	})
}

// DeleteBucket removes the bucket directory if it holds no object, no
// directory (markers are objects) and no multipart upload. Errors:
// ErrBucketNotFound, ErrBucketNotEmpty, ErrUnavailable. Safe for concurrent
// use.
func (b *Backend) DeleteBucket(ctx context.Context, bucket string) error {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return err
	}
	return b.withClient(ctx, false, func(c *client) error {
		fi, err := b.statBucket(c, bucket, bdir)
		switch {
		case err != nil:
			return err
		case childrenNum(fi) != 0:
			return fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketNotEmpty)
		}
		udir := b.uploadsDir + "/" + bucket
		ups, err := c.readDir(udir)
		if err != nil && !notFound(err) {
			return b.wrap("list", udir, err)
		}
		if len(ups) > 0 {
			return fmt.Errorf("hdfs bucket %q: %d multipart uploads in progress: %w", bucket, len(ups), backends.ErrBucketNotEmpty)
		}
		if err := c.remove(bdir); err != nil {
			switch {
			case errors.Is(err, syscall.ENOTEMPTY):
				return fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketNotEmpty)
			case notFound(err):
				return fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketNotFound)
			}
			return b.wrap("delete", bdir, err)
		}
		if err == nil && ups != nil {
			c.remove(udir) // empty; an upload created meanwhile keeps it
		}
		return nil
	})
}

// HeadBucket returns the bucket's name and creation time (the recorded one,
// or the directory's modification time for a directory made outside
// lakegate). Errors: ErrBucketNotFound, ErrInvalidBucketName,
// ErrUnavailable. Safe for concurrent use.
func (b *Backend) HeadBucket(ctx context.Context, bucket string) (backends.BucketInfo, error) {
	bdir, err := b.bucketDir(bucket, nil)
	if err != nil {
		return backends.BucketInfo{}, err
	}
	var info backends.BucketInfo
	err = b.withClient(ctx, true, func(c *client) error {
		fi, err := b.statBucket(c, bucket, bdir)
		if err != nil {
			return err
		}
		info, err = b.bucketInfo(c, bucket, bdir, fi)
		return err
	})
	return info, err
}

// bucketInfo reads a bucket directory's creation time.
func (b *Backend) bucketInfo(c *client, bucket, bdir string, fi os.FileInfo) (backends.BucketInfo, error) {
	info := backends.BucketInfo{Name: bucket, Created: fi.ModTime()}
	attrs, err := c.readAttrs(b.attrPath(bdir, fileID(fi)), xattrBucket)
	if err != nil {
		if notFound(err) {
			return info, fmt.Errorf("hdfs bucket %q: %w", bucket, backends.ErrBucketNotFound)
		}
		return info, b.wrap("getXAttrs", bdir, err)
	}
	if t, err := time.Parse(time.RFC3339Nano, attrs[xattrBucket]); err == nil {
		info.Created = t
	}
	return info, nil
}

// ListBuckets returns every directory under the root whose name is a valid
// bucket name (so not the staging area .lakegate), sorted by name. Safe for
// concurrent use.
func (b *Backend) ListBuckets(ctx context.Context) ([]backends.BucketInfo, error) {
	var fis []os.FileInfo
	err := b.withClient(ctx, true, func(c *client) error {
		var err error
		fis, err = c.readDir(b.root)
		if err != nil {
			return b.wrap("list", b.root, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var dirs []os.FileInfo
	for _, fi := range fis {
		if fi.IsDir() && validBucket(fi.Name()) == nil {
			dirs = append(dirs, fi)
		}
	}
	out := make([]backends.BucketInfo, len(dirs))
	gone := make([]bool, len(dirs))
	err = b.forEach(ctx, nil, len(dirs), func(c *client, i int) error {
		info, err := b.bucketInfo(c, dirs[i].Name(), b.root+"/"+dirs[i].Name(), dirs[i])
		if errors.Is(err, backends.ErrBucketNotFound) {
			gone[i] = true
			return nil
		}
		out[i] = info
		return err
	})
	if err != nil {
		return nil, err
	}
	res := out[:0]
	for i, info := range out {
		if !gone[i] {
			res = append(res, info)
		}
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Name < res[j].Name })
	return res, nil
}
