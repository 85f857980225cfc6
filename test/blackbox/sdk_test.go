package blackbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Scenarios with the AWS SDK for Go v2 in its default configuration.

func TestSDKObjectRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 5*time.Minute)
		for i, size := range []int{0, 1, 1000, 1<<20 + 7} {
			key := b.key(fmt.Sprintf("obj-%d", size))
			data := randBytes(uint64(100+i), size)
			put, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
			if err != nil {
				t.Fatalf("PutObject %d bytes: %v", size, err)
			}
			if got, want := aws.ToString(put.ETag), quoted(md5Hex(data)); got != want {
				t.Errorf("PutObject %d bytes: ETag %s, want %s (MD5 of the content)", size, got, want)
			}
			head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.ToInt64(head.ContentLength) != int64(size) {
				t.Errorf("HeadObject: Content-Length %d, want %d", aws.ToInt64(head.ContentLength), size)
			}
			if head.LastModified == nil || time.Since(*head.LastModified) > time.Hour || time.Until(*head.LastModified) > time.Hour {
				t.Errorf("HeadObject: Last-Modified %v is not about now", head.LastModified)
			}
			b.wantContent(key, data)
			if _, err := b.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			b.wantAbsent(key)
			_, err = b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
			wantAPIError(t, "GetObject after delete", err, http.StatusNotFound, "NoSuchKey")
			// DeleteObject is idempotent: deleting a missing key succeeds.
			if _, err := b.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}); err != nil {
				t.Errorf("DeleteObject of a missing key: %v, want success (204)", err)
			}
		}
		_, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lgbb-no-such-bucket-" + randHex(4)), Key: aws.String("k")})
		wantAPIError(t, "GetObject on a missing bucket", err, http.StatusNotFound, "NoSuchBucket")
	})
}

func TestSDKRanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		data := randBytes(7, 1000)
		key := b.key("ranged")
		b.mustPut(key, data)
		cases := []struct {
			rng        string
			start, end int // inclusive
		}{
			{"bytes=0-0", 0, 0},
			{"bytes=10-19", 10, 19},
			{"bytes=990-", 990, 999},     // open
			{"bytes=-10", 990, 999},      // suffix
			{"bytes=-2000", 0, 999},      // suffix longer than the object
			{"bytes=500-5000", 500, 999}, // end past the object
			{"bytes=0-999", 0, 999},
		}
		for _, c := range cases {
			out, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Range: aws.String(c.rng)})
			if err != nil {
				t.Errorf("GetObject Range %s: %v", c.rng, err)
				continue
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Errorf("GetObject Range %s: reading: %v", c.rng, err)
				continue
			}
			if !bytes.Equal(got, data[c.start:c.end+1]) {
				t.Errorf("GetObject Range %s: %d bytes, want bytes %d-%d", c.rng, len(got), c.start, c.end)
			}
			if want := fmt.Sprintf("bytes %d-%d/1000", c.start, c.end); aws.ToString(out.ContentRange) != want {
				t.Errorf("GetObject Range %s: Content-Range %q, want %q", c.rng, aws.ToString(out.ContentRange), want)
			}
			if aws.ToInt64(out.ContentLength) != int64(c.end-c.start+1) {
				t.Errorf("GetObject Range %s: Content-Length %d, want %d", c.rng, aws.ToInt64(out.ContentLength), c.end-c.start+1)
			}
		}
		// The status is 206 for a range, 200 without one.
		r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, Header: http.Header{"Range": {"bytes=1-2"}}})
		if r.Status != http.StatusPartialContent || !bytes.Equal(r.Body, data[1:3]) {
			t.Errorf("raw GET Range bytes=1-2: %s, want 206 with 2 bytes", r)
		}
		for _, rng := range []string{"bytes=1000-", "bytes=1000-1001", "bytes=5000-6000"} {
			_, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Range: aws.String(rng)})
			wantAPIError(t, "GetObject Range "+rng+" of a 1000-byte object", err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
		}
	})
}

func TestSDKConditional(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		key := b.key("cond")
		v1 := []byte("version one")
		etag := b.mustPut(key, v1)
		head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		lm := aws.ToTime(head.LastModified)
		get := func(in *s3.GetObjectInput) error {
			in.Bucket, in.Key = aws.String(b.bucket), aws.String(key)
			out, err := b.s3.GetObject(ctx, in)
			if err == nil {
				_, _ = io.Copy(io.Discard, out.Body)
				out.Body.Close()
			}
			return err
		}
		wantAPIError(t, "GetObject If-None-Match <etag>", get(&s3.GetObjectInput{IfNoneMatch: aws.String(etag)}), http.StatusNotModified)
		wantAPIError(t, "GetObject If-Match <other etag>", get(&s3.GetObjectInput{IfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`)}), http.StatusPreconditionFailed, "PreconditionFailed")
		if err := get(&s3.GetObjectInput{IfMatch: aws.String(etag)}); err != nil {
			t.Errorf("GetObject If-Match <etag>: %v", err)
		}
		if err := get(&s3.GetObjectInput{IfNoneMatch: aws.String(`"0123456789abcdef0123456789abcdef"`)}); err != nil {
			t.Errorf("GetObject If-None-Match <other etag>: %v", err)
		}
		wantAPIError(t, "GetObject If-Modified-Since <after last-modified>", get(&s3.GetObjectInput{IfModifiedSince: aws.Time(lm.Add(time.Hour))}), http.StatusNotModified)
		wantAPIError(t, "GetObject If-Unmodified-Since <before last-modified>", get(&s3.GetObjectInput{IfUnmodifiedSince: aws.Time(lm.Add(-time.Hour))}), http.StatusPreconditionFailed, "PreconditionFailed")
		if err := get(&s3.GetObjectInput{IfModifiedSince: aws.Time(lm.Add(-time.Hour))}); err != nil {
			t.Errorf("GetObject If-Modified-Since <before last-modified>: %v", err)
		}

		// Conditional writes: If-None-Match: * never overwrites.
		_, err = b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader("version two"), IfNoneMatch: aws.String("*")})
		wantAPIError(t, "PutObject If-None-Match: * on an existing key", err, http.StatusPreconditionFailed, "PreconditionFailed")
		b.wantContent(key, v1)
		fresh := b.key("cond-fresh")
		if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(fresh), Body: strings.NewReader("first"), IfNoneMatch: aws.String("*")}); err != nil {
			t.Errorf("PutObject If-None-Match: * on a new key: %v", err)
		}
		_, err = b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(fresh), Body: strings.NewReader("second"), IfNoneMatch: aws.String("*")})
		wantAPIError(t, "second PutObject If-None-Match: *", err, http.StatusPreconditionFailed, "PreconditionFailed")
		b.wantContent(fresh, []byte("first"))

		// If-Match on PutObject.
		_, err = b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader("v2"), IfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`)})
		wantAPIError(t, "PutObject If-Match <other etag>", err, http.StatusPreconditionFailed, "PreconditionFailed")
		b.wantContent(key, v1)
		if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader("v2"), IfMatch: aws.String(etag)}); err != nil {
			t.Errorf("PutObject If-Match <current etag>: %v", err)
		}
		b.wantContent(key, []byte("v2"))
		_, err = b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("cond-missing")), Body: strings.NewReader("x"), IfMatch: aws.String(etag)})
		wantAPIError(t, "PutObject If-Match on a missing key", err, http.StatusNotFound, "NoSuchKey")
		b.wantAbsent(b.key("cond-missing"))

		// If-None-Match: * on CompleteMultipartUpload.
		cr, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		part, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("multipart v3")})
		if err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
		_, err = b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId, IfNoneMatch: aws.String("*"),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
		wantAPIError(t, "CompleteMultipartUpload If-None-Match: * on an existing key", err, http.StatusPreconditionFailed, "PreconditionFailed")
		b.wantContent(key, []byte("v2"))
		if _, err := b.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId}); err != nil {
			if code, _ := apiCode(err); code != "NoSuchUpload" {
				t.Errorf("AbortMultipartUpload after the failed conditional complete: %v", err)
			}
		}
	})
}

func TestSDKMetadata(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		key := b.key("meta")
		meta := map[string]string{"Color": "blue", "project-id": "42", "with-space": "a b  c", "empty": ""}
		_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader("{}"),
			ContentType:        aws.String("application/x-lakegate+json; charset=utf-8"),
			CacheControl:       aws.String("max-age=60"),
			ContentDisposition: aws.String(`attachment; filename="x.json"`),
			ContentLanguage:    aws.String("en-GB"),
			Metadata:           meta,
		})
		if err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		check := func(what, ctype, cc, cd, cl string, got map[string]string) {
			if ctype != "application/x-lakegate+json; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", what, ctype)
			}
			if cc != "max-age=60" || cd != `attachment; filename="x.json"` || cl != "en-GB" {
				t.Errorf("%s: Cache-Control %q, Content-Disposition %q, Content-Language %q", what, cc, cd, cl)
			}
			wantMeta(t, what, got, meta)
		}
		head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		check("HeadObject", aws.ToString(head.ContentType), aws.ToString(head.CacheControl), aws.ToString(head.ContentDisposition), aws.ToString(head.ContentLanguage), head.Metadata)
		get, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		get.Body.Close()
		check("GetObject", aws.ToString(get.ContentType), aws.ToString(get.CacheControl), aws.ToString(get.ContentDisposition), aws.ToString(get.ContentLanguage), get.Metadata)

		// response-* overrides change the answer, not the object.
		over, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key),
			ResponseContentType: aws.String("text/plain"), ResponseContentDisposition: aws.String("inline"), ResponseCacheControl: aws.String("no-cache")})
		if err != nil {
			t.Fatalf("GetObject with response-* overrides: %v", err)
		}
		over.Body.Close()
		if aws.ToString(over.ContentType) != "text/plain" || aws.ToString(over.ContentDisposition) != "inline" || aws.ToString(over.CacheControl) != "no-cache" {
			t.Errorf("GetObject response-* overrides: Content-Type %q, Content-Disposition %q, Cache-Control %q; want text/plain, inline, no-cache",
				aws.ToString(over.ContentType), aws.ToString(over.ContentDisposition), aws.ToString(over.CacheControl))
		}
		// An object stored without a content type is served as binary/octet-stream.
		plain := b.key("meta-none")
		r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: plain, Body: []byte("x")})
		if r.Status != http.StatusOK {
			t.Fatalf("raw PUT without Content-Type: %s", r)
		}
		h, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(plain)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if ct := aws.ToString(h.ContentType); ct != "binary/octet-stream" && ct != "application/octet-stream" {
			t.Errorf("HeadObject of an object stored without Content-Type: %q, want binary/octet-stream", ct)
		}
	})
}

// wantMeta compares user metadata case-insensitively on names (S3 stores
// them lower-case).
func wantMeta(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	norm := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[strings.ToLower(k)] = v
		}
		return out
	}
	g, w := norm(got), norm(want)
	for k, v := range w {
		gv, ok := g[k]
		if !ok {
			// S3 drops nothing, but an empty value may be sent as an
			// empty header, which some clients omit.
			if v == "" {
				continue
			}
			t.Errorf("%s: metadata %q missing (got %v)", what, k, got)
			continue
		}
		if gv != v {
			t.Errorf("%s: metadata %q = %q, want %q", what, k, gv, v)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: unexpected metadata %q = %q", what, k, g[k])
		}
	}
}

func TestSDKCopyObject(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		src := b.key("copy src + ü")
		data := randBytes(11, 70000)
		_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(src), Body: bytes.NewReader(data),
			ContentType: aws.String("image/png"), Metadata: map[string]string{"origin": "src"}})
		if err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		copySource := url.PathEscape(b.bucket) + "/" + s3Escape(src)

		dst := b.key("copy-dst")
		cp, err := b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(dst), CopySource: aws.String(copySource)})
		if err != nil {
			t.Fatalf("CopyObject (COPY): %v", err)
		}
		if cp.CopyObjectResult == nil || aws.ToString(cp.CopyObjectResult.ETag) != quoted(md5Hex(data)) {
			t.Errorf("CopyObject: result ETag %v, want %s", cp.CopyObjectResult, quoted(md5Hex(data)))
		}
		b.wantContent(dst, data)
		h, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(dst)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if aws.ToString(h.ContentType) != "image/png" {
			t.Errorf("COPY directive: Content-Type %q, want the source's image/png", aws.ToString(h.ContentType))
		}
		wantMeta(t, "COPY directive", h.Metadata, map[string]string{"origin": "src"})

		rep := b.key("copy-replace")
		_, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(rep), CopySource: aws.String(copySource),
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/csv"), Metadata: map[string]string{"replaced": "yes"}})
		if err != nil {
			t.Fatalf("CopyObject (REPLACE): %v", err)
		}
		h, err = b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(rep)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if aws.ToString(h.ContentType) != "text/csv" {
			t.Errorf("REPLACE directive: Content-Type %q, want text/csv", aws.ToString(h.ContentType))
		}
		wantMeta(t, "REPLACE directive", h.Metadata, map[string]string{"replaced": "yes"})
		b.wantContent(rep, data)

		// Copying onto itself is only legal when something changes.
		_, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(src), CopySource: aws.String(copySource)})
		wantAPIError(t, "CopyObject onto itself without REPLACE", err, http.StatusBadRequest, "InvalidRequest")
		_, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(src), CopySource: aws.String(copySource),
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("image/png"), Metadata: map[string]string{"origin": "updated"}})
		if err != nil {
			t.Errorf("CopyObject onto itself with REPLACE (metadata update): %v", err)
		} else {
			h, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(src)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			wantMeta(t, "metadata update by self-copy", h.Metadata, map[string]string{"origin": "updated"})
			b.wantContent(src, data)
		}

		// x-amz-copy-source-if-*.
		_, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("copy-cond")), CopySource: aws.String(copySource),
			CopySourceIfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`)})
		wantAPIError(t, "CopyObject x-amz-copy-source-if-match <other etag>", err, http.StatusPreconditionFailed, "PreconditionFailed")
		b.wantAbsent(b.key("copy-cond"))
		_, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("copy-cond")), CopySource: aws.String(copySource),
			CopySourceIfNoneMatch: aws.String(quoted(md5Hex(data)))})
		wantAPIError(t, "CopyObject x-amz-copy-source-if-none-match <etag>", err, http.StatusPreconditionFailed, "PreconditionFailed")
		if _, err := b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("copy-cond")), CopySource: aws.String(copySource),
			CopySourceIfMatch: aws.String(quoted(md5Hex(data)))}); err != nil {
			t.Errorf("CopyObject x-amz-copy-source-if-match <etag>: %v", err)
		}
		_, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("copy-x")), CopySource: aws.String(url.PathEscape(b.bucket) + "/" + s3Escape(b.key("no-such-source")))})
		wantAPIError(t, "CopyObject from a missing source", err, http.StatusNotFound, "NoSuchKey")
	})
}

func TestSDKDeleteObjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		var ids []types.ObjectIdentifier
		for i := 0; i < 5; i++ {
			k := b.key(fmt.Sprintf("verbose/%d", i))
			b.mustPut(k, []byte(k))
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(b.key("verbose/missing"))})
		out, err := b.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.bucket), Delete: &types.Delete{Objects: ids}})
		if err != nil {
			t.Fatalf("DeleteObjects (verbose): %v", err)
		}
		var deleted []string
		for _, d := range out.Deleted {
			deleted = append(deleted, aws.ToString(d.Key))
		}
		sort.Strings(deleted)
		var want []string
		for _, id := range ids {
			want = append(want, aws.ToString(id.Key))
		}
		sort.Strings(want)
		if strings.Join(deleted, "|") != strings.Join(want, "|") || len(out.Errors) != 0 {
			t.Errorf("DeleteObjects (verbose): Deleted %q, %d errors; want every key (a missing key counts as deleted) and no errors", deleted, len(out.Errors))
		}
		if keys := b.listKeys(b.key("verbose/")); len(keys) != 0 {
			t.Errorf("after DeleteObjects: still listed %q", keys)
		}

		ids = nil
		for i := 0; i < 3; i++ {
			k := b.key(fmt.Sprintf("quiet/%d", i))
			b.mustPut(k, []byte(k))
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		out, err = b.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			t.Fatalf("DeleteObjects (quiet): %v", err)
		}
		if len(out.Deleted) != 0 || len(out.Errors) != 0 {
			t.Errorf("DeleteObjects (quiet): %d Deleted and %d Errors entries, want none (quiet mode reports errors only)", len(out.Deleted), len(out.Errors))
		}
		if keys := b.listKeys(b.key("quiet/")); len(keys) != 0 {
			t.Errorf("after quiet DeleteObjects: still listed %q", keys)
		}

		// A partitioned tree: a few keys per directory, deleted in one call
		// (what aws s3 rm --recursive and Spark's table deletes look like).
		name := func(i int) string { return b.key(fmt.Sprintf("tree/p=%02d/part-%d", i/5, i%5)) }
		b.putMany(200, name)
		ids = nil
		for i := 0; i < 200; i++ {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(name(i))})
		}
		out, err = b.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.bucket), Delete: &types.Delete{Objects: ids}})
		if err != nil {
			t.Fatalf("DeleteObjects of a 40-directory tree: %v", err)
		}
		if len(out.Deleted) != 200 || len(out.Errors) != 0 {
			first := ""
			if len(out.Errors) > 0 {
				first = fmt.Sprintf("; first error %s: %s %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Code), aws.ToString(out.Errors[0].Message))
			}
			t.Errorf("DeleteObjects of 200 keys in 40 directories: %d Deleted, %d Errors%s; want 200 and none", len(out.Deleted), len(out.Errors), first)
		}
		if keys := b.listKeys(b.key("tree/")); len(keys) != 0 {
			t.Errorf("after DeleteObjects of the tree: %d keys still listed, first %q", len(keys), keys[0])
		}
	})
}

func TestSDKTagging(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		key := b.key("tagged")
		_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader("t"), Tagging: aws.String("team=data&env=dev%20x")})
		if err != nil {
			t.Fatalf("PutObject with x-amz-tagging: %v", err)
		}
		wantTags := func(what string, want map[string]string) {
			t.Helper()
			out, err := b.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
			if err != nil {
				t.Errorf("%s: GetObjectTagging: %v", what, err)
				return
			}
			got := map[string]string{}
			for _, tg := range out.TagSet {
				got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: tags %v, want %v", what, got, want)
			}
		}
		wantTags("after PutObject", map[string]string{"team": "data", "env": "dev x"})
		get, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		get.Body.Close()
		if aws.ToInt32(get.TagCount) != 2 {
			t.Errorf("GetObject: x-amz-tagging-count %d, want 2", aws.ToInt32(get.TagCount))
		}
		_, err = b.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(key),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("tier"), Value: aws.String("cold")}}}})
		if err != nil {
			t.Fatalf("PutObjectTagging: %v", err)
		}
		wantTags("after PutObjectTagging", map[string]string{"tier": "cold"})
		b.wantContent(key, []byte("t"))
		if _, err := b.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}); err != nil {
			t.Fatalf("DeleteObjectTagging: %v", err)
		}
		wantTags("after DeleteObjectTagging", map[string]string{})
		var many []types.Tag
		for i := 0; i < 11; i++ {
			many = append(many, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
		}
		_, err = b.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Tagging: &types.Tagging{TagSet: many}})
		wantAPIError(t, "PutObjectTagging with 11 tags", err, http.StatusBadRequest)
		wantTags("after the rejected 11-tag set", map[string]string{})
		_, err = b.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("untagged-missing"))})
		wantAPIError(t, "GetObjectTagging of a missing key", err, http.StatusNotFound, "NoSuchKey")
	})
}

// putMany stores n small objects named by name(i) with 16 writers.
func (b *bctx) putMany(n int, name func(int) string) {
	b.t.Helper()
	ctx := ctxTimeout(b.t, 10*time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			k := name(i)
			if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
				errs <- fmt.Errorf("PutObject %q: %w", k, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.t.Fatal(err)
	}
}

// deleteKeys removes keys with DeleteObjects in batches of 1000.
func (b *bctx) deleteKeys(keys []string) {
	b.t.Helper()
	for len(keys) > 0 {
		n := min(1000, len(keys))
		var ids []types.ObjectIdentifier
		for _, k := range keys[:n] {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		keys = keys[n:]
		out, err := b.s3.DeleteObjects(context.Background(), &s3.DeleteObjectsInput{Bucket: aws.String(b.bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			b.t.Fatalf("DeleteObjects of %d keys: %v", n, err)
		}
		if len(out.Errors) > 0 {
			b.t.Fatalf("DeleteObjects of %d keys: %d errors, first %s %s", n, len(out.Errors), aws.ToString(out.Errors[0].Code), aws.ToString(out.Errors[0].Message))
		}
	}
}

func TestSDKListPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 10*time.Minute)
		const n = 1005
		name := func(i int) string { return b.key(fmt.Sprintf("k%05d", i)) }
		b.putMany(n, name)
		var all []string
		for i := 0; i < n; i++ {
			all = append(all, name(i))
		}

		// Default max-keys is 1000.
		p1, err := b.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if len(p1.Contents) != 1000 || !aws.ToBool(p1.IsTruncated) || aws.ToInt32(p1.KeyCount) != 1000 || p1.NextContinuationToken == nil {
			t.Fatalf("ListObjectsV2 page 1: %d keys, KeyCount %d, truncated %v, token %v; want 1000, 1000, true, a token",
				len(p1.Contents), aws.ToInt32(p1.KeyCount), aws.ToBool(p1.IsTruncated), p1.NextContinuationToken != nil)
		}
		p2, err := b.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix), ContinuationToken: p1.NextContinuationToken})
		if err != nil {
			t.Fatalf("ListObjectsV2 page 2: %v", err)
		}
		if len(p2.Contents) != 5 || aws.ToBool(p2.IsTruncated) {
			t.Errorf("ListObjectsV2 page 2: %d keys, truncated %v; want 5, false", len(p2.Contents), aws.ToBool(p2.IsTruncated))
		}
		if aws.ToString(p2.ContinuationToken) != aws.ToString(p1.NextContinuationToken) {
			t.Errorf("ListObjectsV2 page 2 echoes ContinuationToken %q, want %q", aws.ToString(p2.ContinuationToken), aws.ToString(p1.NextContinuationToken))
		}
		var got []string
		for _, o := range append(p1.Contents, p2.Contents...) {
			got = append(got, aws.ToString(o.Key))
			if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) {
				t.Errorf("listed %q with Size %d, want %d", aws.ToString(o.Key), aws.ToInt64(o.Size), len(aws.ToString(o.Key)))
				break
			}
		}
		wantSameList(t, "ListObjectsV2 two default pages", got, all)

		// Paginator with max-keys 333.
		got = nil
		pg := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix), MaxKeys: aws.Int32(333)})
		pages := 0
		for pg.HasMorePages() && pages < 100 {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListObjectsV2 paginator: %v", err)
			}
			pages++
			if len(out.Contents) > 333 {
				t.Errorf("ListObjectsV2 max-keys 333 returned %d keys", len(out.Contents))
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
		}
		wantSameList(t, "ListObjectsV2 max-keys 333", got, all)
		if pages != 4 {
			t.Errorf("ListObjectsV2 max-keys 333 over 1005 keys: %d pages, want 4", pages)
		}

		// start-after.
		sa, err := b.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix), StartAfter: aws.String(name(999))})
		if err != nil {
			t.Fatalf("ListObjectsV2 start-after: %v", err)
		}
		got = nil
		for _, o := range sa.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		wantSameList(t, "ListObjectsV2 start-after k00999", got, all[1000:])

		// ListObjects (V1) with markers.
		got = nil
		marker := ""
		for i := 0; i < 100; i++ {
			out, err := b.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix), Marker: aws.String(marker), MaxKeys: aws.Int32(400)})
			if err != nil {
				t.Fatalf("ListObjects marker %q: %v", marker, err)
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if len(out.Contents) == 0 {
				t.Fatalf("ListObjects: truncated page without keys")
			}
			marker = aws.ToString(out.Contents[len(out.Contents)-1].Key)
			if out.NextMarker != nil {
				marker = aws.ToString(out.NextMarker)
			}
		}
		wantSameList(t, "ListObjects (V1) marker paging", got, all)

		b.deleteKeys(all)
		if keys := b.listKeys(b.prefix); len(keys) != 0 {
			t.Errorf("after deleting every key: %d still listed, first %q", len(keys), keys[0])
		}
	})
}

func wantSameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Errorf("%s: key %d is %q, want %q", what, i, got[i], want[i])
			return
		}
	}
}

func TestSDKListDelimiter(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		rel := []string{"d/a/1", "d/a/2", "d/b/1", "d/c", "d/e.txt", "d/f/", "o/a-b/x", "o/a/y", "o/a0"}
		for _, k := range rel {
			b.mustPut(b.key(k), nil)
		}
		list := func(prefix, delim string, maxKeys int32) (keys, prefixes []string) {
			t.Helper()
			in := &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(b.key(prefix))}
			if delim != "" {
				in.Delimiter = aws.String(delim)
			}
			if maxKeys > 0 {
				in.MaxKeys = aws.Int32(maxKeys)
			}
			pg := s3.NewListObjectsV2Paginator(b.s3, in)
			for i := 0; pg.HasMorePages() && i < 100; i++ {
				out, err := pg.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListObjectsV2 prefix %q delimiter %q: %v", prefix, delim, err)
				}
				if maxKeys > 0 && len(out.Contents)+len(out.CommonPrefixes) > int(maxKeys) {
					t.Errorf("ListObjectsV2 max-keys %d: page with %d keys + %d prefixes", maxKeys, len(out.Contents), len(out.CommonPrefixes))
				}
				for _, o := range out.Contents {
					keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), b.prefix))
				}
				for _, p := range out.CommonPrefixes {
					prefixes = append(prefixes, strings.TrimPrefix(aws.ToString(p.Prefix), b.prefix))
				}
			}
			return keys, prefixes
		}
		check := func(what string, gotK, gotP, wantK, wantP []string) {
			t.Helper()
			if strings.Join(gotK, "|") != strings.Join(wantK, "|") || strings.Join(gotP, "|") != strings.Join(wantP, "|") {
				t.Errorf("%s: keys %q prefixes %q; want keys %q prefixes %q", what, gotK, gotP, wantK, wantP)
			}
		}
		k, p := list("d/", "/", 0)
		check("prefix d/ delimiter /", k, p, []string{"d/c", "d/e.txt"}, []string{"d/a/", "d/b/", "d/f/"})
		k, p = list("d/", "/", 2)
		check("prefix d/ delimiter / max-keys 2", k, p, []string{"d/c", "d/e.txt"}, []string{"d/a/", "d/b/", "d/f/"})
		k, p = list("d/a/", "/", 0)
		check("prefix d/a/ delimiter /", k, p, []string{"d/a/1", "d/a/2"}, nil)
		k, p = list("d/f/", "/", 0)
		check("prefix d/f/ (a directory marker) delimiter /", k, p, []string{"d/f/"}, nil)
		k, p = list("o/", "", 0)
		check("UTF-8 byte order over the whole key", k, p, []string{"o/a-b/x", "o/a/y", "o/a0"}, nil)
		k, p = list("o/", "/", 0)
		check("byte order with delimiter", k, p, []string{"o/a0"}, []string{"o/a-b/", "o/a/"})
		k, p = list("d/", "e", 0)
		check("non-slash delimiter", k, p, []string{"d/a/1", "d/a/2", "d/b/1", "d/c", "d/f/"}, []string{"d/e"})
		// S3A directory semantics.
		_, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("d/f"))})
		wantAPIError(t, "HEAD of a directory marker's name without the slash", err, http.StatusNotFound)
		if _, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("d/f/"))}); err != nil {
			t.Errorf("HEAD of the directory marker d/f/: %v", err)
		}
	})
}

// awkwardKeys are names that real data sets contain and that every backend
// must store (S3 itself accepts them all).
var awkwardKeys = []string{
	"with space.txt",
	"plus+sign",
	"percent%20literal",
	"percent%zz",
	"eq=1/k=v",
	"unicodé/日本語 ファイル.txt",
	"emoji-🦆",
	"hash#tag",
	"amp&and",
	"quote'single",
	"question?mark",
	"tilde~x",
	"semi;colon,comma",
	"paren(1)[2]{3}",
	"at@dollar$star*",
	"exclaim!caret^pipe|",
	"lt<gt>",
	`back\slash`,
	`dq"uote`,
	"deep/a/b/c/d/e/f/g/h/i/j/leaf",
	strings.Repeat("long-segment-", 15) + "/" + strings.Repeat("x", 200) + "/" + strings.Repeat("y", 200),
}

func TestSDKAwkwardKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 3*time.Minute)
		var keys []string
		for _, k := range awkwardKeys {
			key := b.key(k)
			keys = append(keys, key)
			if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader(key)}); err != nil {
				t.Errorf("PutObject %q: %v", key, err)
				continue
			}
			b.wantContent(key, []byte(key))
			if _, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}); err != nil {
				t.Errorf("HeadObject %q: %v", key, err)
			}
		}
		sorted := append([]string(nil), keys...)
		sort.Strings(sorted) // Go compares strings bytewise: UTF-8 byte order
		wantSameList(t, "ListObjectsV2 of awkward keys", b.listKeys(b.prefix), sorted)

		// encoding-type=url: keys come back URL-encoded and decode exactly.
		r := b.do(rawReq{Method: "GET", Bucket: b.bucket, RawQuery: "encoding-type=url&list-type=2&prefix=" + url.QueryEscape(b.prefix)})
		if r.Status != http.StatusOK {
			t.Fatalf("ListObjectsV2 encoding-type=url: %s", r)
		}
		var res struct {
			EncodingType string
			Contents     []struct{ Key string }
		}
		if err := xml.Unmarshal(r.Body, &res); err != nil {
			t.Fatalf("ListObjectsV2 encoding-type=url: %v", err)
		}
		if res.EncodingType != "url" {
			t.Errorf("ListObjectsV2 encoding-type=url: EncodingType %q, want url", res.EncodingType)
		}
		var decoded []string
		for _, c := range res.Contents {
			d, err := url.QueryUnescape(c.Key)
			if err != nil {
				t.Errorf("encoding-type=url key %q does not decode: %v", c.Key, err)
			}
			decoded = append(decoded, d)
		}
		wantSameList(t, "ListObjectsV2 encoding-type=url, decoded", decoded, sorted)

		// Without encoding-type the keys are sent verbatim (a literal %20 stays).
		r = b.do(rawReq{Method: "GET", Bucket: b.bucket, RawQuery: "list-type=2&prefix=" + url.QueryEscape(b.key("percent%20"))})
		var plain struct{ Contents []struct{ Key string } }
		if err := xml.Unmarshal(r.Body, &plain); err != nil || len(plain.Contents) != 1 || plain.Contents[0].Key != b.key("percent%20literal") {
			t.Errorf("ListObjectsV2 prefix %q without encoding-type: %s; want exactly the key %q", b.key("percent%20"), r, b.key("percent%20literal"))
		}
		b.deleteKeys(keys)
		for _, k := range keys[:3] {
			b.wantAbsent(k)
		}
	})
}

func TestSDKETagConsistency(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 5*time.Minute)
		etagEverywhere := func(what, key, want string) {
			t.Helper()
			h, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("%s: HeadObject: %v", what, err)
			}
			g, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("%s: GetObject: %v", what, err)
			}
			_, _ = io.Copy(io.Discard, g.Body)
			g.Body.Close()
			l, err := b.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
			if err != nil || len(l.Contents) != 1 {
				t.Fatalf("%s: ListObjectsV2: %v, %d keys", what, err, len(l.Contents))
			}
			for src, got := range map[string]string{"HEAD": aws.ToString(h.ETag), "GET": aws.ToString(g.ETag), "LIST": aws.ToString(l.Contents[0].ETag)} {
				if got != want {
					t.Errorf("%s: %s ETag %s, want %s", what, src, got, want)
				}
			}
		}
		data := randBytes(21, 123457)
		single := b.key("single")
		put := b.mustPut(single, data)
		if put != quoted(md5Hex(data)) {
			t.Errorf("PutObject ETag %s, want %s", put, quoted(md5Hex(data)))
		}
		etagEverywhere("single-part", single, quoted(md5Hex(data)))
		cp, err := b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("single-copy")), CopySource: aws.String(b.bucket + "/" + s3Escape(single))})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if aws.ToString(cp.CopyObjectResult.ETag) != quoted(md5Hex(data)) {
			t.Errorf("CopyObject ETag %s, want %s", aws.ToString(cp.CopyObjectResult.ETag), quoted(md5Hex(data)))
		}
		etagEverywhere("copy of a single-part object", b.key("single-copy"), quoted(md5Hex(data)))

		parts := [][]byte{randBytes(22, 5<<20), randBytes(23, 5<<20), randBytes(24, 1234)}
		mp := b.key("multi")
		complete := b.multipartUpload(ctx, mp, parts, true)
		want := quoted(multipartETag(parts...))
		if aws.ToString(complete.ETag) != want {
			t.Errorf("CompleteMultipartUpload ETag %s, want %s", aws.ToString(complete.ETag), want)
		}
		etagEverywhere("multipart", mp, want)
		cp, err = b.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("multi-copy")), CopySource: aws.String(b.bucket + "/" + s3Escape(mp))})
		if err != nil {
			t.Fatalf("CopyObject of a multipart object: %v", err)
		}
		etagEverywhere("copy of a multipart object", b.key("multi-copy"), aws.ToString(cp.CopyObjectResult.ETag))
		b.wantContent(b.key("multi-copy"), bytes.Join(parts, nil))
	})
}

// multipartUpload uploads parts (in parallel and out of order when parallel)
// and completes the upload.
func (b *bctx) multipartUpload(ctx context.Context, key string, parts [][]byte, parallel bool) *s3.CompleteMultipartUploadOutput {
	b.t.Helper()
	cr, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		b.t.Fatalf("CreateMultipartUpload %q: %v", key, err)
	}
	done := make([]types.CompletedPart, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i := len(parts) - 1; i >= 0; i-- {
		upload := func(i int) {
			out, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(parts[i])})
			if err != nil {
				errs[i] = err
				return
			}
			done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag}
			if aws.ToString(out.ETag) != quoted(md5Hex(parts[i])) {
				errs[i] = fmt.Errorf("UploadPart %d: ETag %s, want %s", i+1, aws.ToString(out.ETag), quoted(md5Hex(parts[i])))
			}
		}
		if parallel {
			wg.Add(1)
			go func(i int) { defer wg.Done(); upload(i) }(i)
		} else {
			upload(i)
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.t.Fatalf("UploadPart %d of %q: %v", i+1, key, err)
		}
	}
	out, err := b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		b.t.Fatalf("CompleteMultipartUpload %q: %v", key, err)
	}
	return out
}

func TestSDKMultipart(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 5*time.Minute)
		key := b.key("mp/object")
		parts := [][]byte{randBytes(31, 5<<20), randBytes(32, 5<<20+1), randBytes(33, 100000)}
		cr, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), ContentType: aws.String("application/x-parquet"),
			Metadata: map[string]string{"writer": "blackbox"}})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		// A second upload to abort, and one under another prefix.
		other, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("mp/aborted"))})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		elsewhere, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("zz/elsewhere"))})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		etags := make([]*string, len(parts))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var upErr []error
		for _, i := range []int{2, 0, 1} {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				out, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(parts[i])})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					upErr = append(upErr, fmt.Errorf("UploadPart %d: %w", i+1, err))
					return
				}
				etags[i] = out.ETag
			}(i)
		}
		wg.Wait()
		for _, err := range upErr {
			t.Fatal(err)
		}
		// Re-uploading a part replaces it.
		out, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
			PartNumber: aws.Int32(3), Body: bytes.NewReader(parts[2])})
		if err != nil {
			t.Fatalf("UploadPart 3 again: %v", err)
		}
		etags[2] = out.ETag

		lp, err := b.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId})
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if len(lp.Parts) != 3 {
			t.Fatalf("ListParts: %d parts, want 3", len(lp.Parts))
		}
		for i, p := range lp.Parts {
			if aws.ToInt32(p.PartNumber) != int32(i+1) || aws.ToInt64(p.Size) != int64(len(parts[i])) || aws.ToString(p.ETag) != quoted(md5Hex(parts[i])) {
				t.Errorf("ListParts entry %d: number %d size %d ETag %s; want %d %d %s", i, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), aws.ToString(p.ETag),
					i+1, len(parts[i]), quoted(md5Hex(parts[i])))
			}
		}
		lp2, err := b.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId, MaxParts: aws.Int32(2)})
		if err != nil {
			t.Fatalf("ListParts max-parts 2: %v", err)
		}
		if len(lp2.Parts) != 2 || !aws.ToBool(lp2.IsTruncated) {
			t.Errorf("ListParts max-parts 2: %d parts, truncated %v; want 2, true", len(lp2.Parts), aws.ToBool(lp2.IsTruncated))
		} else {
			lp3, err := b.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumberMarker: lp2.NextPartNumberMarker})
			if err != nil || len(lp3.Parts) != 1 || aws.ToInt32(lp3.Parts[0].PartNumber) != 3 {
				t.Errorf("ListParts after part-number-marker %v: %v, %+v; want part 3 only", aws.ToString(lp2.NextPartNumberMarker), err, lp3)
			}
		}

		mu2, err := b.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.bucket), Prefix: aws.String(b.key("mp/"))})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		ups := map[string]string{}
		for _, u := range mu2.Uploads {
			ups[aws.ToString(u.UploadId)] = aws.ToString(u.Key)
		}
		if len(ups) != 2 || ups[aws.ToString(cr.UploadId)] != key || ups[aws.ToString(other.UploadId)] != b.key("mp/aborted") {
			t.Errorf("ListMultipartUploads prefix mp/: %v; want exactly the two uploads under mp/", ups)
		}
		md, err := b.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatalf("ListMultipartUploads delimiter: %v", err)
		}
		var cps []string
		for _, p := range md.CommonPrefixes {
			cps = append(cps, strings.TrimPrefix(aws.ToString(p.Prefix), b.prefix))
		}
		if strings.Join(cps, "|") != "mp/|zz/" || len(md.Uploads) != 0 {
			t.Errorf("ListMultipartUploads delimiter /: prefixes %q, %d uploads; want mp/ and zz/, none", cps, len(md.Uploads))
		}
		// The object is invisible until completion.
		b.wantAbsent(key)

		// Completion rules: ascending order, known ETags, 5 MiB minimum.
		_, err = b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(2), ETag: etags[1]}, {PartNumber: aws.Int32(1), ETag: etags[0]}}}})
		wantAPIError(t, "CompleteMultipartUpload with parts out of order", err, http.StatusBadRequest, "InvalidPartOrder")
		_, err = b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"0123456789abcdef0123456789abcdef"`)}}}})
		wantAPIError(t, "CompleteMultipartUpload with a wrong part ETag", err, http.StatusBadRequest, "InvalidPart")
		_, err = b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(4), ETag: etags[2]}}}})
		wantAPIError(t, "CompleteMultipartUpload naming only a part never uploaded", err, http.StatusBadRequest, "InvalidPart")
		b.wantAbsent(key)

		comp, err := b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
				{PartNumber: aws.Int32(1), ETag: etags[0]}, {PartNumber: aws.Int32(2), ETag: etags[1]}, {PartNumber: aws.Int32(3), ETag: etags[2]}}}})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		if aws.ToString(comp.ETag) != quoted(multipartETag(parts...)) {
			t.Errorf("CompleteMultipartUpload ETag %s, want %s", aws.ToString(comp.ETag), quoted(multipartETag(parts...)))
		}
		b.wantContent(key, bytes.Join(parts, nil))
		h, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if aws.ToString(h.ContentType) != "application/x-parquet" {
			t.Errorf("multipart object Content-Type %q, want the one given at CreateMultipartUpload", aws.ToString(h.ContentType))
		}
		wantMeta(t, "multipart object", h.Metadata, map[string]string{"writer": "blackbox"})
		// GET ?partNumber=2 answers part 2 or NotImplemented, never the
		// whole object as if the parameter were absent.
		r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, RawQuery: "partNumber=2"})
		switch {
		case r.Status == http.StatusNotImplemented && r.Err.Code == "NotImplemented":
		case r.Status == http.StatusPartialContent && bytes.Equal(r.Body, parts[1]):
		default:
			t.Errorf("GET ?partNumber=2 of a 3-part object: HTTP %d, %d bytes, code %q; want 206 with part 2 (%d bytes) or 501 NotImplemented",
				r.Status, len(r.Body), r.Err.Code, len(parts[1]))
		}
		_, err = b.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: cr.UploadId})
		wantAPIError(t, "ListParts after completion", err, http.StatusNotFound, "NoSuchUpload")

		// Abort.
		if _, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("mp/aborted")), UploadId: other.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(parts[2])}); err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
		if _, err := b.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("mp/aborted")), UploadId: other.UploadId}); err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}
		_, err = b.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("mp/aborted")), UploadId: other.UploadId})
		wantAPIError(t, "ListParts after abort", err, http.StatusNotFound, "NoSuchUpload")
		_, err = b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("mp/aborted")), UploadId: other.UploadId,
			PartNumber: aws.Int32(2), Body: bytes.NewReader(parts[2])})
		wantAPIError(t, "UploadPart after abort", err, http.StatusNotFound, "NoSuchUpload")
		b.wantAbsent(b.key("mp/aborted"))
		mu3, err := b.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix)})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		if len(mu3.Uploads) != 1 || aws.ToString(mu3.Uploads[0].UploadId) != aws.ToString(elsewhere.UploadId) {
			t.Errorf("ListMultipartUploads after complete and abort: %d uploads, want only the zz/ one", len(mu3.Uploads))
		}
		if _, err := b.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key("zz/elsewhere")), UploadId: elsewhere.UploadId}); err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}

		// A part below 5 MiB that is not the last one.
		small := b.key("mp/small")
		sc, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(small)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		var cps2 []types.CompletedPart
		for i := 1; i <= 2; i++ {
			o, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(small), UploadId: sc.UploadId, PartNumber: aws.Int32(int32(i)), Body: bytes.NewReader(parts[2])})
			if err != nil {
				t.Fatalf("UploadPart: %v", err)
			}
			cps2 = append(cps2, types.CompletedPart{PartNumber: aws.Int32(int32(i)), ETag: o.ETag})
		}
		_, err = b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(small), UploadId: sc.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: cps2}})
		wantAPIError(t, "CompleteMultipartUpload with a 100 kB first part", err, http.StatusBadRequest, "EntityTooSmall")
		b.wantAbsent(small)
		if _, err := b.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(small), UploadId: sc.UploadId}); err != nil {
			t.Errorf("AbortMultipartUpload after EntityTooSmall: %v", err)
		}
	})
}

func TestBucketOperations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		// The suite's bucket is where it was asked to be.
		loc, err := b.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b.bucket)})
		if err != nil || string(loc.LocationConstraint) != b.backend {
			t.Errorf("GetBucketLocation %s: %v %v, want %q", b.bucket, loc, err, b.backend)
		}
		name := bucketName(b.backend, "ops")
		if _, err := b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(b.backend)}}); err != nil {
			t.Fatalf("CreateBucket %s on %s: %v", name, b.backend, err)
		}
		t.Cleanup(func() { _ = removeBucket(name) })
		if _, err := b.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Errorf("HeadBucket: %v", err)
		}
		lb, err := b.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatalf("ListBuckets: %v", err)
		}
		found := 0
		for _, bk := range lb.Buckets {
			if n := aws.ToString(bk.Name); n == name || n == b.bucket {
				found++
				if bk.CreationDate == nil {
					t.Errorf("ListBuckets: %s has no CreationDate", n)
				}
			}
		}
		if found != 2 {
			t.Errorf("ListBuckets lists %d of the buckets %s and %s", found, name, b.bucket)
		}
		_, err = b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(b.backend)}})
		wantAPIError(t, "CreateBucket of an existing bucket", err, http.StatusConflict, "BucketAlreadyOwnedByYou", "BucketAlreadyExists")
		_, err = b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucketName(b.backend, "bad")),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "no-such-backend-" + types.BucketLocationConstraint(randHex(3))}})
		wantAPIError(t, "CreateBucket with an unknown LocationConstraint", err, http.StatusBadRequest, "InvalidLocationConstraint")
		_, err = b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Bucket_Name")})
		wantAPIError(t, "CreateBucket Bad_Bucket_Name", err, http.StatusBadRequest, "InvalidBucketName")

		if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		_, err = b.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
		wantAPIError(t, "DeleteBucket of a non-empty bucket", err, http.StatusConflict, "BucketNotEmpty")
		if _, err := b.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String("k")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		if _, err := b.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("DeleteBucket: %v", err)
		}
		_, err = b.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
		wantAPIError(t, "HeadBucket after DeleteBucket", err, http.StatusNotFound)
		_, err = b.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		wantAPIError(t, "GetBucketLocation after DeleteBucket", err, http.StatusNotFound, "NoSuchBucket")
		_, err = b.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		wantAPIError(t, "ListObjectsV2 after DeleteBucket", err, http.StatusNotFound, "NoSuchBucket")
	})
}
