package hdfs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/lakegate/lakegate/backends"
)

// CopyObject copies srcKey to dstKey inside HDFS; see backends.Copier. The
// bytes stream from the source inode (by the gateway, DataNode to DataNode:
// HDFS has no server-side copy) into a temporary file that is renamed into
// place, so the copy is atomic for readers and a source overwritten during
// the copy fails it rather than mixing versions (it is retried once). The
// copy keeps the source's ETag and parts count, and its checksums (they
// describe the content). A directory marker copies to a marker; an empty
// file may be copied to a marker key. Errors: as Stat and Put, plus
// ErrPreconditionFailed for SourceIfMatch. Safe for concurrent use.
func (b *Backend) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts backends.CopyOptions) (backends.ObjectInfo, error) {
	sbdir, err := b.bucketDir(srcBucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	dbdir, err := b.bucketDir(dstBucket, backends.ErrBucketNotFound)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	dst, dstIsDir, err := keyToPath(dbdir, dstKey, b.maxComp)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	for attempt := 0; ; attempt++ {
		info, err := b.copyOnce(ctx, srcBucket, sbdir, srcKey, dstBucket, dbdir, dstKey, dst, dstIsDir, opts)
		if attempt == 0 && errors.Is(err, errChanged) && ctx.Err() == nil {
			continue
		}
		return info, err
	}
}

// copyOnce is one attempt of CopyObject.
func (b *Backend) copyOnce(ctx context.Context, srcBucket, sbdir, srcKey, dstBucket, dbdir, dstKey, dst string, dstIsDir bool, opts backends.CopyOptions) (backends.ObjectInfo, error) {
	var src objStat
	err := b.withClient(ctx, true, func(c *client) error {
		var err error
		src, err = b.statObject(c, srcBucket, sbdir, srcKey)
		return err
	})
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	if opts.SourceIfMatch != "" && strings.Trim(opts.SourceIfMatch, `"`) != src.info.ETag {
		return backends.ObjectInfo{}, fmt.Errorf("hdfs copy %s/%s: ETag %s does not match %s: %w", srcBucket, srcKey, src.info.ETag, opts.SourceIfMatch, backends.ErrPreconditionFailed)
	}
	meta := src.info.Metadata
	if opts.ReplaceMetadata {
		sums := meta.Checksums
		meta = opts.Metadata
		if len(meta.Checksums) == 0 {
			meta.Checksums = sums
		}
	}
	meta.Tags = src.info.Metadata.Tags
	if opts.ReplaceTags {
		meta.Tags = opts.Metadata.Tags
	}
	meta.Tags = maps.Clone(meta.Tags)

	if dstIsDir {
		if src.info.Size != 0 {
			return backends.ObjectInfo{}, fmt.Errorf("hdfs copy to %s/%s: a key ending in / is a directory and cannot hold %d bytes: %w", dstBucket, dstKey, src.info.Size, backends.ErrInvalidObjectName)
		}
		return b.putMarker(ctx, dstBucket, dbdir, dstKey, dst, strings.NewReader(""), backends.PutOptions{Size: 0, Metadata: meta, Condition: opts.Condition})
	}

	c, err := b.pool.get(ctx)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	var from []stagedPart
	if !src.dir && src.info.Size > 0 {
		from = []stagedPart{{path: src.path, fi: src.fi}}
	}
	var t tempFile
	c, t, err = b.copyInto(ctx, c, from, "copy: source "+srcKey, src.info.Size)
	if c == nil {
		return backends.ObjectInfo{}, err
	}
	defer b.pool.put(c)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	sm := newStoredMeta(meta, src.info.ETag, src.info.PartsCount)
	if err := b.setAttrs(c, t, sm, meta.Tags); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.ObjectInfo{}, err
	}
	if err := b.publish(ctx, c, dstBucket, dbdir, t.path, dst, false, opts.Condition); err != nil {
		b.discardTemp(c, nil, t.path)
		return backends.ObjectInfo{}, err
	}
	info := backends.ObjectInfo{Key: dstKey, Size: t.size, ETag: src.info.ETag, LastModified: t.mtime, PartsCount: src.info.PartsCount, Metadata: sm.metadata(true)}
	info.Metadata.Tags = meta.Tags
	return info, nil
}

// PutObjectTagging replaces the object's tag set without touching content,
// ETag or other metadata; see backends.Tagger. For an object written
// through lakegate it rewrites xattrMeta of the same inode with the new
// tags (the rest of xattrMeta never changes for an inode, so nothing is
// lost to a concurrent tagging, and an object replaced meanwhile is not
// touched); for files written by other HDFS clients it sets xattrTags.
// Errors: ErrBucketNotFound, ErrObjectNotFound, ErrInvalidObjectName,
// ErrUnavailable. Safe for concurrent use.
func (b *Backend) PutObjectTagging(ctx context.Context, bucket, key string, tags map[string]string) error {
	bdir, err := b.bucketDir(bucket, backends.ErrBucketNotFound)
	if err != nil {
		return err
	}
	return b.withClient(ctx, true, func(c *client) error {
		st, err := b.statObject(c, bucket, bdir, key)
		if err != nil {
			return err
		}
		name, v := xattrTags, ""
		if st.meta != nil {
			m := *st.meta
			m.Tags = nilIfEmpty(tags)
			name, v, err = xattrMeta, "", nil
			if v, err = m.encode(); err != nil {
				return err
			}
		} else if v, err = encodeTags(tags); err != nil {
			return err
		}
		if err := c.setXAttr(b.attrPath(st.path, st.id), name, v); err != nil {
			if notFound(err) {
				return fmt.Errorf("hdfs %s/%s: %w", bucket, key, backends.ErrObjectNotFound)
			}
			return b.wrap("setXAttr", st.path, err)
		}
		return nil
	})
}
