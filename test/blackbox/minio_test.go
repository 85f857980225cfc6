package blackbox

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// minioClient returns a minio-go client on the gateway over plain HTTP
// (where minio-go signs every chunk of a PUT body) with its recorder.
func (b *bctx) minioClient(trailing bool) (*minio.Client, *recorder) {
	b.t.Helper()
	rec := &recorder{}
	c, err := minio.New(env.host, &minio.Options{
		Creds:           miniocreds.NewStaticV4(env.accessKey, env.secretKey, ""),
		Secure:          false,
		Transport:       &checkTransport{t: b.t, base: baseTransport, rec: rec},
		BucketLookup:    minio.BucketLookupPath,
		TrailingHeaders: trailing,
		MaxRetries:      1,
	})
	if err != nil {
		b.t.Fatalf("minio.New: %v", err)
	}
	return c, rec
}

func TestMinioGo(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		mc, rec := b.minioClient(false)

		t.Run("PutObjectUnknownSize", func(t *testing.T) {
			ctx := ctxTimeout(t, 5*time.Minute)
			const size = 12<<20 + 5
			data := randBytes(61, size)
			key := b.key("stream/unknown-size")
			rec.reset()
			info, err := mc.PutObject(ctx, b.bucket, key, nonSeeker{bytes.NewReader(data)}, -1, minio.PutObjectOptions{PartSize: 5 << 20, ContentType: "application/octet-stream"})
			if err != nil {
				t.Fatalf("PutObject size -1: %v", err)
			}
			parts := rec.find("PUT", "uploadId", "partNumber")
			if len(parts) != 3 {
				t.Fatalf("minio-go sent %d UploadPart requests, want 3 (5 MiB parts)", len(parts))
			}
			for _, p := range parts {
				if got := p.Header.Get("X-Amz-Content-Sha256"); !strings.HasPrefix(got, streamingSigned) {
					t.Fatalf("UploadPart x-amz-content-sha256 %q, want %s (signed chunks): this mode was not exercised", got, streamingSigned)
				}
			}
			want := multipartETag(data[:5<<20], data[5<<20:10<<20], data[10<<20:])
			if strings.Trim(info.ETag, `"`) != want {
				t.Errorf("PutObject size -1: ETag %s, want %s", info.ETag, want)
			}
			st, err := mc.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatalf("StatObject: %v", err)
			}
			if st.Size != size || strings.Trim(st.ETag, `"`) != want {
				t.Errorf("StatObject: %d bytes ETag %s; want %d, %s", st.Size, st.ETag, size, want)
			}
			obj, err := mc.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			got, err := io.ReadAll(obj)
			obj.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("GetObject: %d bytes (md5 %s), %v; want %d (md5 %s)", len(got), md5Hex(got), err, size, md5Hex(data))
			}
			// A ranged read through minio-go's ReadAt.
			obj, err = mc.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			part := make([]byte, 1000)
			if n, err := obj.ReadAt(part, 5<<20-500); err != nil || n != 1000 || !bytes.Equal(part, data[5<<20-500:5<<20+500]) {
				t.Errorf("ReadAt across a part boundary: %d bytes, %v", n, err)
			}
			obj.Close()
		})

		t.Run("PutObjectKnownSize", func(t *testing.T) {
			ctx := ctxTimeout(t, time.Minute)
			data := randBytes(62, 1<<20+1)
			key := b.key("stream/known-size")
			rec.reset()
			info, err := mc.PutObject(ctx, b.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{UserMetadata: map[string]string{"Source": "minio-go"}})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			puts := rec.find("PUT")
			if len(puts) != 1 || !strings.HasPrefix(puts[0].Header.Get("X-Amz-Content-Sha256"), streamingSigned) {
				t.Fatalf("minio-go sent %d PUTs; want one with signed chunks", len(puts))
			}
			if strings.Trim(info.ETag, `"`) != md5Hex(data) {
				t.Errorf("PutObject ETag %s, want %s", info.ETag, md5Hex(data))
			}
			st, err := mc.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatalf("StatObject: %v", err)
			}
			if st.UserMetadata["Source"] != "minio-go" {
				t.Errorf("StatObject user metadata %v, want Source=minio-go", st.UserMetadata)
			}
			b.wantContent(key, data)
		})

		t.Run("SignedTrailer", func(t *testing.T) {
			ctx := ctxTimeout(t, time.Minute)
			tmc, trec := b.minioClient(true)
			data := randBytes(63, 300*1024+1)
			key := b.key("stream/signed-trailer")
			_, err := tmc.PutObject(ctx, b.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C})
			if err != nil {
				t.Fatalf("PutObject with a CRC32C trailer: %v", err)
			}
			puts := trec.find("PUT")
			if len(puts) != 1 || puts[0].Header.Get("X-Amz-Content-Sha256") != streamingSignedTrailer {
				var got []string
				for _, p := range puts {
					got = append(got, p.Header.Get("X-Amz-Content-Sha256"))
				}
				t.Fatalf("minio-go sent PUTs with x-amz-content-sha256 %q; want one %s: this mode was not exercised", got, streamingSignedTrailer)
			}
			b.wantContent(key, data)
			h, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if got, want := aws.ToString(h.ChecksumCRC32C), checksumB64(types.ChecksumAlgorithmCrc32c, data); got != want {
				t.Errorf("HeadObject checksum mode: CRC32C %q, want %q (from the signed trailer)", got, want)
			}
		})

		t.Run("FPutFGet", func(t *testing.T) {
			ctx := ctxTimeout(t, 2*time.Minute)
			dir := t.TempDir()
			src := filepath.Join(dir, "in.bin")
			data := randBytes(64, 7<<20+3)
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			key := b.key("file/in.bin")
			if _, err := mc.FPutObject(ctx, b.bucket, key, src, minio.PutObjectOptions{ContentType: "application/x-test", PartSize: 5 << 20}); err != nil {
				t.Fatalf("FPutObject: %v", err)
			}
			dst := filepath.Join(dir, "out.bin")
			if err := mc.FGetObject(ctx, b.bucket, key, dst, minio.GetObjectOptions{}); err != nil {
				t.Fatalf("FGetObject: %v", err)
			}
			got, err := os.ReadFile(dst)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("FGetObject: %d bytes, %v; want %d identical bytes", len(got), err, len(data))
			}
			st, err := mc.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
			if err != nil || st.ContentType != "application/x-test" {
				t.Errorf("StatObject: content type %q, %v; want application/x-test", st.ContentType, err)
			}
		})

		t.Run("ListAndRemove", func(t *testing.T) {
			ctx := ctxTimeout(t, 2*time.Minute)
			rel := []string{"l/a", "l/b/c", "l/b/d", "l/e/f/g"}
			for _, k := range rel {
				if _, err := mc.PutObject(ctx, b.bucket, b.key(k), strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{}); err != nil {
					t.Fatalf("PutObject %q: %v", k, err)
				}
			}
			list := func(recursive bool) []string {
				var out []string
				for o := range mc.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: b.key("l/"), Recursive: recursive}) {
					if o.Err != nil {
						t.Fatalf("ListObjects recursive=%v: %v", recursive, o.Err)
					}
					out = append(out, strings.TrimPrefix(o.Key, b.prefix))
				}
				return out
			}
			if got := list(true); strings.Join(got, "|") != strings.Join(rel, "|") {
				t.Errorf("ListObjects recursive: %q, want %q", got, rel)
			}
			if got, want := list(false), []string{"l/a", "l/b/", "l/e/"}; strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("ListObjects non-recursive: %q, want %q", got, want)
			}
			ch := make(chan minio.ObjectInfo, len(rel)+1)
			for _, k := range rel {
				ch <- minio.ObjectInfo{Key: b.key(k)}
			}
			ch <- minio.ObjectInfo{Key: b.key("l/never-existed")}
			close(ch)
			for e := range mc.RemoveObjects(ctx, b.bucket, ch, minio.RemoveObjectsOptions{}) {
				t.Errorf("RemoveObjects: %q: %v", e.ObjectName, e.Err)
			}
			if got := list(true); len(got) != 0 {
				t.Errorf("after RemoveObjects: %q still listed", got)
			}
		})

		t.Run("ComposeAndCopy", func(t *testing.T) {
			ctx := ctxTimeout(t, 3*time.Minute)
			a := randBytes(65, 6<<20)
			bb := randBytes(66, 2<<20)
			ka, kb := b.key("compose/a"), b.key("compose/b")
			for k, d := range map[string][]byte{ka: a, kb: bb} {
				if _, err := mc.PutObject(ctx, b.bucket, k, bytes.NewReader(d), int64(len(d)), minio.PutObjectOptions{}); err != nil {
					t.Fatalf("PutObject %q: %v", k, err)
				}
			}
			rec.reset()
			dst := b.key("compose/dst")
			info, err := mc.ComposeObject(ctx, minio.CopyDestOptions{Bucket: b.bucket, Object: dst},
				minio.CopySrcOptions{Bucket: b.bucket, Object: ka, MatchRange: true, Start: 0, End: 5<<20 + 99},
				minio.CopySrcOptions{Bucket: b.bucket, Object: kb, MatchRange: true, Start: 100, End: 1099},
			)
			if err != nil {
				t.Fatalf("ComposeObject: %v", err)
			}
			var ranges []string
			for _, r := range rec.find("PUT", "uploadId", "partNumber") {
				ranges = append(ranges, r.Header.Get("X-Amz-Copy-Source-Range"))
			}
			sort.Strings(ranges)
			if strings.Join(ranges, "|") != "bytes=0-5242979|bytes=100-1099" {
				t.Errorf("ComposeObject sent UploadPartCopy ranges %q; want bytes=0-5242979 and bytes=100-1099", ranges)
			}
			want := append(append([]byte(nil), a[:5<<20+100]...), bb[100:1100]...)
			b.wantContent(dst, want)
			if info.Size != int64(len(want)) {
				t.Errorf("ComposeObject: size %d, want %d", info.Size, len(want))
			}

			cp := b.key("compose/copy")
			if _, err := mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: b.bucket, Object: cp, ReplaceMetadata: true, UserMetadata: map[string]string{"copied": "yes"}},
				minio.CopySrcOptions{Bucket: b.bucket, Object: kb}); err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			b.wantContent(cp, bb)
			st, err := mc.StatObject(ctx, b.bucket, cp, minio.StatObjectOptions{})
			if err != nil || st.UserMetadata["Copied"] != "yes" {
				t.Errorf("CopyObject with replaced metadata: %v, %v; want Copied=yes", st.UserMetadata, err)
			}
		})

		t.Run("Presigned", func(t *testing.T) {
			ctx := ctxTimeout(t, time.Minute)
			key := b.key("presigned/put")
			data := randBytes(67, 4096)
			u, err := mc.PresignedPutObject(ctx, b.bucket, key, 5*time.Minute)
			if err != nil {
				t.Fatalf("PresignedPutObject: %v", err)
			}
			req, _ := http.NewRequest("PUT", u.String(), bytes.NewReader(data))
			if r := b.send(req); r.Status != http.StatusOK {
				t.Fatalf("PUT to the presigned URL: %s", r)
			}
			b.wantContent(key, data)
			u, err = mc.PresignedGetObject(ctx, b.bucket, key, 5*time.Minute, nil)
			if err != nil {
				t.Fatalf("PresignedGetObject: %v", err)
			}
			req, _ = http.NewRequest("GET", u.String(), nil)
			if r := b.send(req); r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
				t.Errorf("GET of the presigned URL: %s", r)
			}
		})
	})
}
