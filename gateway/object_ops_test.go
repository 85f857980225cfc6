package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
)

func crc32B64(b []byte) string {
	var s [4]byte
	v := crc32.ChecksumIEEE(b)
	s[0], s[1], s[2], s[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestPutObjectMetadataRoundTrip(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	data := []byte("hello, lakegate")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	put, err := g.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bkt"), Key: aws.String("docs/report 2024.json"), Body: bytes.NewReader(data),
		ContentType: aws.String("application/json"), ContentDisposition: aws.String(`attachment; filename="r.json"`),
		ContentLanguage: aws.String("de-CH"), CacheControl: aws.String("max-age=60"), ContentEncoding: aws.String("identity"),
		Expires: aws.Time(exp), Metadata: map[string]string{"owner": "team-a", "x-hadoop": "v"},
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `"` + md5Hex(data) + `"`
	if aws.ToString(put.ETag) != want {
		t.Errorf("PutObject ETag %s, want %s", aws.ToString(put.ETag), want)
	}
	if aws.ToString(put.ChecksumCRC32) != crc32B64(data) {
		t.Errorf("PutObject echoed CRC32 %q, want %q", aws.ToString(put.ChecksumCRC32), crc32B64(data))
	}
	get, err := g.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("docs/report 2024.json"),
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !bytes.Equal(body, data) || aws.ToString(get.ETag) != want || aws.ToInt64(get.ContentLength) != int64(len(data)) {
		t.Errorf("GetObject = %q etag %s len %d", body, aws.ToString(get.ETag), aws.ToInt64(get.ContentLength))
	}
	if aws.ToString(get.ContentType) != "application/json" || aws.ToString(get.ContentDisposition) != `attachment; filename="r.json"` ||
		aws.ToString(get.ContentLanguage) != "de-CH" || aws.ToString(get.CacheControl) != "max-age=60" ||
		aws.ToString(get.ContentEncoding) != "identity" || get.Metadata["owner"] != "team-a" || get.Metadata["x-hadoop"] != "v" {
		t.Errorf("GetObject metadata: %+v", get)
	}
	if get.ExpiresString == nil || !strings.Contains(aws.ToString(get.ExpiresString), "2030") {
		t.Errorf("GetObject Expires = %v", aws.ToString(get.ExpiresString))
	}
	if aws.ToString(get.ChecksumCRC32) != crc32B64(data) {
		t.Errorf("GetObject with checksum mode: CRC32 %q, want %q", aws.ToString(get.ChecksumCRC32), crc32B64(data))
	}
	if get.LastModified == nil || time.Since(*get.LastModified) > time.Minute {
		t.Errorf("GetObject LastModified %v", get.LastModified)
	}
	// Without checksum mode no checksum is returned.
	r := objSend(t, g, "HEAD", "/bkt/docs/report%202024.json", nil, nil)
	if r.Header.Get("x-amz-checksum-crc32") != "" {
		t.Errorf("HEAD without checksum mode returned x-amz-checksum-crc32")
	}
	// A default object has S3's default content type.
	if r := objSend(t, g, "PUT", "/bkt/plain", []byte("x"), nil); r.Status != 200 {
		t.Fatalf("PUT plain: %d %s", r.Status, r.Body)
	}
	r = objSend(t, g, "HEAD", "/bkt/plain", nil, nil)
	if r.Header.Get("Content-Type") != "binary/octet-stream" || r.Header.Get("Content-Length") != "1" {
		t.Errorf("HEAD plain: type %q length %q", r.Header.Get("Content-Type"), r.Header.Get("Content-Length"))
	}
	// Too much user metadata.
	_, err = g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("meta"),
		Body: strings.NewReader("x"), Metadata: map[string]string{"big": strings.Repeat("v", 2100)}})
	wantAPIError(t, "PutObject 2 KiB+ metadata", err, 400, "MetadataTooLarge")
}

func TestPutObjectIntegrity(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	data := []byte("the content that was sent")
	wrong := []byte("something else entirely")

	r := objSend(t, g, "PUT", "/bkt/md5", data, http.Header{"Content-MD5": {md5B64(wrong)}})
	wantS3Error(t, "PUT wrong Content-MD5", r, 400, "BadDigest")
	r = objSend(t, g, "PUT", "/bkt/md5", data, http.Header{"Content-MD5": {"not base64!"}})
	wantS3Error(t, "PUT invalid Content-MD5", r, 400, "InvalidDigest")
	r = objSend(t, g, "PUT", "/bkt/crc", data, http.Header{"x-amz-checksum-crc32": {crc32B64(wrong)}})
	wantS3Error(t, "PUT wrong x-amz-checksum-crc32", r, 400, "BadDigest")
	r = objSend(t, g, "PUT", "/bkt/sha", data, http.Header{"x-amz-content-sha256": {strings.Repeat("0", 64)}})
	wantS3Error(t, "PUT wrong signed payload hash", r, 400, "XAmzContentSHA256Mismatch")
	r = objSend(t, g, "PUT", "/bkt/empty", nil, http.Header{"Content-MD5": {md5B64(wrong)}})
	wantS3Error(t, "PUT empty body with a wrong Content-MD5", r, 400, "BadDigest")
	r = objSend(t, g, "PUT", "/bkt/emptydir/", nil, http.Header{"x-amz-checksum-crc32": {crc32B64(wrong)}})
	wantS3Error(t, "PUT empty marker with a wrong CRC32", r, 400, "BadDigest")
	for _, k := range []string{"md5", "crc", "sha", "empty", "emptydir/"} {
		if objExists(t, g, "bkt", k) {
			t.Errorf("a failed PUT left object %s behind", k)
		}
	}
	// The right values store the object and echo the checksum.
	r = objSend(t, g, "PUT", "/bkt/ok", data, http.Header{"Content-MD5": {md5B64(data)}, "x-amz-checksum-crc32": {crc32B64(data)}})
	if r.Status != 200 || r.Header.Get("ETag") != `"`+md5Hex(data)+`"` || r.Header.Get("x-amz-checksum-crc32") != crc32B64(data) {
		t.Errorf("PUT with right digests: %d etag %q crc %q %s", r.Status, r.Header.Get("ETag"), r.Header.Get("x-amz-checksum-crc32"), r.Body)
	}
	if r.Header.Get("Content-Length") != "0" {
		t.Errorf("PUT response Content-Length %q", r.Header.Get("Content-Length"))
	}
}

// hidingBackend wraps posix and reports every Put failure as an opaque
// error, as a backend that loses the body's error would.
type hidingBackend struct{ *posix.Backend }

func (h hidingBackend) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	info, err := h.Backend.Put(ctx, bucket, key, body, opts)
	if err != nil {
		return info, fmt.Errorf("opaque storage failure: %v", err)
	}
	return info, nil
}

func TestPutObjectBodyErrorSurvivesOpaqueBackend(t *testing.T) {
	g := newMultiGateway(t, func(b *posix.Backend) backends.Backend { return hidingBackend{b} }, "posix")
	objTestBucket(t, g, "bkt")
	data := []byte("payload")
	r := objSend(t, g, "PUT", "/bkt/k", data, http.Header{"Content-MD5": {md5B64([]byte("other"))}})
	wantS3Error(t, "PUT wrong Content-MD5 through an opaque backend", r, 400, "BadDigest")
	if objExists(t, g, "bkt", "k") {
		t.Error("object stored despite BadDigest")
	}
}

func TestPutObjectLimitsAndMarkers(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	g.Server.cfg.MaxObjectSize = 1000
	r := objSend(t, g, "PUT", "/bkt/big", make([]byte, 1001), nil)
	wantS3Error(t, "PUT over MaxObjectSize", r, 400, "EntityTooLarge")
	r = objSend(t, g, "PUT", "/bkt/fits", make([]byte, 1000), nil)
	if r.Status != 200 {
		t.Errorf("PUT at MaxObjectSize: %d %s", r.Status, r.Body)
	}
	if objExists(t, g, "bkt", "big") {
		t.Error("EntityTooLarge left an object")
	}

	// Directory markers (S3A mkdirs): "dir/" is an object, "dir" is not.
	if _, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	r = objSend(t, g, "HEAD", "/bkt/dir/", nil, nil)
	if r.Status != 200 || r.Header.Get("Content-Length") != "0" || r.Header.Get("ETag") != `"`+md5Hex(nil)+`"` {
		t.Errorf("HEAD dir/: %d len %q etag %q", r.Status, r.Header.Get("Content-Length"), r.Header.Get("ETag"))
	}
	r = objSend(t, g, "HEAD", "/bkt/dir", nil, nil)
	if r.Status != 404 || len(r.Body) != 0 {
		t.Errorf("HEAD dir with only dir/ present: %d %q, want 404 without body", r.Status, r.Body)
	}
	r = objSend(t, g, "GET", "/bkt/dir", nil, nil)
	wantS3Error(t, "GET dir", r, 404, "NoSuchKey")
	// A key ending in "/" holds no content (documented lakegate behaviour).
	_, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("full/"), Body: strings.NewReader("data")})
	wantAPIError(t, "PUT non-empty full/", err, 400, "InvalidObjectName")
	if objExists(t, g, "bkt", "full/") {
		t.Error("non-empty marker stored")
	}
	// minio-go sends bodies aws-chunked over plain HTTP: an empty marker
	// arrives with x-amz-decoded-content-length: 0 and a non-empty framing.
	mc, err := minio.New(strings.TrimPrefix(g.URL, "http://"), &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.PutObject(ctx, "bkt", "mdir/", bytes.NewReader(nil), 0, minio.PutObjectOptions{ContentType: "application/x-directory"}); err != nil {
		t.Fatalf("minio-go PUT mdir/: %v", err)
	}
	st, err := mc.StatObject(ctx, "bkt", "mdir/", minio.StatObjectOptions{})
	if err != nil || st.Size != 0 || st.ContentType != "application/x-directory" {
		t.Errorf("minio-go marker: %v size %d type %q", err, st.Size, st.ContentType)
	}
	if objExists(t, g, "bkt", "mdir") {
		t.Error(`HEAD "mdir" found the marker "mdir/"`)
	}
	_, err = mc.PutObject(ctx, "bkt", "mdir2/", strings.NewReader("content"), 7, minio.PutObjectOptions{})
	if minio.ToErrorResponse(err).Code != "InvalidObjectName" {
		t.Errorf("minio-go PUT of content at mdir2/: %v", err)
	}
	if objExists(t, g, "bkt", "mdir2/") {
		t.Error("non-empty marker stored through aws-chunked")
	}
}

func TestPutObjectConditional(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	put := func(key, body string, ifNoneMatch, ifMatch *string) error {
		_, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key),
			Body: strings.NewReader(body), IfNoneMatch: ifNoneMatch, IfMatch: ifMatch})
		return err
	}
	if err := put("k", "v1", aws.String("*"), nil); err != nil {
		t.Fatalf("If-None-Match: * on a new key: %v", err)
	}
	wantAPIError(t, "If-None-Match: * on an existing key", put("k", "v2", aws.String("*"), nil), 412, "PreconditionFailed")
	wantAPIError(t, "If-Match wrong ETag", put("k", "v2", nil, aws.String(`"`+md5Hex([]byte("nope"))+`"`)), 412, "PreconditionFailed")
	if got := string(objGet(t, g, "bkt", "k")); got != "v1" {
		t.Fatalf("failed conditional writes changed the object: %q", got)
	}
	if err := put("k", "v2", nil, aws.String(`"`+md5Hex([]byte("v1"))+`"`)); err != nil {
		t.Fatalf("If-Match right ETag: %v", err)
	}
	if got := string(objGet(t, g, "bkt", "k")); got != "v2" {
		t.Fatalf("If-Match write: object is %q", got)
	}
	wantAPIError(t, "If-Match on a missing key", put("missing", "x", nil, aws.String(`"`+md5Hex([]byte("x"))+`"`)), 404, "NoSuchKey")
	r := objSend(t, g, "PUT", "/bkt/k", []byte("v3"), http.Header{"If-None-Match": {`"` + md5Hex([]byte("v2")) + `"`}})
	wantS3Error(t, "If-None-Match with an ETag on PUT", r, 501, "NotImplemented")
	if got := string(objGet(t, g, "bkt", "k")); got != "v2" {
		t.Fatalf("refused conditional write changed the object: %q", got)
	}
}

func TestPutObjectUnsupportedHeaders(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	for _, c := range []struct {
		h      http.Header
		status int
		code   string
	}{
		{http.Header{"x-amz-server-side-encryption": {"AES256"}}, 501, "NotImplemented"},
		{http.Header{"x-amz-server-side-encryption-customer-algorithm": {"AES256"}}, 501, "NotImplemented"},
		{http.Header{"x-amz-object-lock-mode": {"GOVERNANCE"}}, 501, "NotImplemented"},
		{http.Header{"x-amz-acl": {"public-read"}}, 501, "NotImplemented"},
		{http.Header{"x-amz-storage-class": {"GLACIER"}}, 400, "InvalidStorageClass"},
		{http.Header{"x-amz-tagging": {"a=1&a=2"}}, 400, "InvalidTag"},
	} {
		r := objSend(t, g, "PUT", "/bkt/k", []byte("x"), c.h)
		wantS3Error(t, fmt.Sprintf("PUT with %v", c.h), r, c.status, c.code)
	}
	if objExists(t, g, "bkt", "k") {
		t.Error("a refused PUT stored the object")
	}
	for _, h := range []http.Header{{"x-amz-acl": {"private"}}, {"x-amz-storage-class": {"STANDARD"}}} {
		if r := objSend(t, g, "PUT", "/bkt/k", []byte("x"), h); r.Status != 200 {
			t.Errorf("PUT with %v: %d %s", h, r.Status, r.Body)
		}
	}
}

// TestAwkwardKeys stores and reads keys that need escaping, through the SDK,
// minio-go and raw requests, and checks each is stored under exactly its
// own name.
func TestAwkwardKeys(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	keys := []string{
		"with space", "plus+sign", "percent%20literal", "100%", "ünïcødé/日本語.txt", "q?x=1&y",
		"hash#frag", "tilde~star*", "semi;colon,comma", "equals=sign", "emoji-😀", "trailing space ",
	}
	for i, k := range keys {
		data := []byte(fmt.Sprintf("content %d of %q", i, k))
		if strings.HasSuffix(k, "/") {
			data = nil
		}
		etag := objPut(t, g, "bkt", k, data)
		if etag != `"`+md5Hex(data)+`"` {
			t.Errorf("PUT %q ETag %s", k, etag)
		}
		if got := objGet(t, g, "bkt", k); !bytes.Equal(got, data) {
			t.Errorf("GET %q = %q, want %q", k, got, data)
		}
		r := objSend(t, g, "HEAD", "/bkt/"+pathKey(k), nil, nil)
		if r.Status != 200 || r.Header.Get("ETag") != etag {
			t.Errorf("raw HEAD %q: %d %q", k, r.Status, r.Header.Get("ETag"))
		}
	}
	// "+" in a path is a plus, never a space.
	if objExists(t, g, "bkt", "plus sign") {
		t.Error(`"plus sign" exists: "+" was decoded as a space`)
	}
	if objExists(t, g, "bkt", "percent literal") {
		t.Error(`"percent literal" exists: the key was decoded twice`)
	}
	// Keys a file system cannot represent exactly reach the backend
	// unchanged, never cleaned: posix refuses them (InvalidObjectName, its
	// documented behaviour), other backends store them as they are.
	for _, k := range []string{"a//b", "dir//", "x/./y", "x/../y", "./z", "/lead"} {
		r := objSend(t, g, "PUT", "/bkt/"+pathKey(k), []byte("v"), nil)
		switch {
		case r.Status == 400 && r.code() == "InvalidObjectName":
		case r.Status == 200:
			if got := objGet(t, g, "bkt", k); string(got) != "v" {
				t.Errorf("GET %q = %q", k, got)
			}
		default:
			t.Errorf("PUT %q: %d %s, want 200 or 400 InvalidObjectName", k, r.Status, r.Body)
		}
	}
	for _, k := range []string{"a/b", "dir/", "x/y", "y", "z", "lead"} {
		if objExists(t, g, "bkt", k) {
			t.Errorf("%q exists: a key with empty or dot segments was cleaned", k)
		}
	}

	mc, err := minio.New(strings.TrimPrefix(g.URL, "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Secure: false, Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if strings.HasSuffix(k, "/") {
			continue
		}
		data := []byte(fmt.Sprintf("minio %d", i))
		if _, err := mc.PutObject(ctx, "bkt", k, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Errorf("minio-go PUT %q: %v", k, err)
			continue
		}
		if got := objGet(t, g, "bkt", k); !bytes.Equal(got, data) {
			t.Errorf("after minio-go PUT %q, SDK GET = %q", k, got)
		}
		o, err := mc.GetObject(ctx, "bkt", k, minio.GetObjectOptions{})
		if err != nil {
			t.Errorf("minio-go GET %q: %v", k, err)
			continue
		}
		got, err := io.ReadAll(o)
		o.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("minio-go GET %q = %q, %v", k, got, err)
		}
	}
	// An over-long key.
	r := objSend(t, g, "PUT", "/bkt/"+strings.Repeat("k", 1025), []byte("x"), nil)
	wantS3Error(t, "PUT 1025-byte key", r, 400, "KeyTooLongError")
}

func TestCopyObject(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	objTestBucket(t, g, "src")
	objTestBucket(t, g, "dst")
	data := []byte("copy me, please")
	if _, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("a b+c"),
		Body: bytes.NewReader(data), ContentType: aws.String("text/plain"), Metadata: map[string]string{"m": "1"},
		Tagging: aws.String("t=1"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}); err != nil {
		t.Fatal(err)
	}
	etag := `"` + md5Hex(data) + `"`

	// COPY directive: metadata, tags and ETag follow the source.
	out, err := g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"),
		CopySource: aws.String("src/a%20b%2Bc")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != etag || out.CopyObjectResult.LastModified == nil {
		t.Errorf("CopyObjectResult = %+v, want ETag %s", out.CopyObjectResult, etag)
	}
	h, err := g.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ETag) != etag || aws.ToString(h.ContentType) != "text/plain" || h.Metadata["m"] != "1" ||
		aws.ToInt32(h.TagCount) != 1 || aws.ToString(h.ChecksumCRC32) != crc32B64(data) {
		t.Errorf("copy (COPY) head: etag %s type %s meta %v tags %d crc %s", aws.ToString(h.ETag), aws.ToString(h.ContentType),
			h.Metadata, aws.ToInt32(h.TagCount), aws.ToString(h.ChecksumCRC32))
	}
	if got := objGet(t, g, "dst", "copy"); !bytes.Equal(got, data) {
		t.Errorf("copy content %q", got)
	}

	// REPLACE directives.
	if _, err := g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced"),
		CopySource: aws.String("src/a%20b%2Bc"), MetadataDirective: types.MetadataDirectiveReplace,
		ContentType: aws.String("application/x-new"), Metadata: map[string]string{"n": "2"},
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("x=1&y=2")}); err != nil {
		t.Fatal(err)
	}
	h, err = g.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ETag) != etag || aws.ToString(h.ContentType) != "application/x-new" || h.Metadata["n"] != "2" ||
		h.Metadata["m"] != "" || aws.ToInt32(h.TagCount) != 2 {
		t.Errorf("copy (REPLACE) head: etag %s type %s meta %v tags %d", aws.ToString(h.ETag), aws.ToString(h.ContentType), h.Metadata, aws.ToInt32(h.TagCount))
	}

	// Copy onto itself: only with REPLACE.
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("a b+c"), CopySource: aws.String("src/a%20b%2Bc")})
	wantAPIError(t, "copy to itself without REPLACE", err, 400, "InvalidRequest")
	if _, err := g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("a b+c"),
		CopySource: aws.String("src/a%20b%2Bc"), MetadataDirective: types.MetadataDirectiveReplace,
		Metadata: map[string]string{"m": "self"}}); err != nil {
		t.Errorf("copy to itself with REPLACE: %v", err)
	}

	// Source preconditions.
	lm := time.Now().Add(-time.Hour)
	for _, c := range []struct {
		in   s3.CopyObjectInput
		want int
	}{
		{s3.CopyObjectInput{CopySourceIfMatch: aws.String(`"0123"`)}, 412},
		{s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(etag)}, 412},
		{s3.CopyObjectInput{CopySourceIfUnmodifiedSince: aws.Time(lm)}, 412},
		{s3.CopyObjectInput{CopySourceIfModifiedSince: aws.Time(time.Now().Add(time.Hour))}, 412},
		{s3.CopyObjectInput{CopySourceIfMatch: aws.String(etag)}, 200},
		{s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(`"0123"`), CopySourceIfModifiedSince: aws.Time(lm)}, 200},
		{s3.CopyObjectInput{CopySourceIfMatch: aws.String(etag), CopySourceIfUnmodifiedSince: aws.Time(lm)}, 200},
	} {
		in := c.in
		in.Bucket, in.Key, in.CopySource = aws.String("dst"), aws.String("cond"), aws.String("src/a%20b%2Bc")
		_, err := g.Client.CopyObject(ctx, &in)
		if c.want == 200 && err != nil {
			t.Errorf("copy with %+v: %v", c.in, err)
		}
		if c.want == 412 {
			wantAPIError(t, fmt.Sprintf("copy with %+v", c.in), err, 412, "PreconditionFailed")
		}
	}

	// Destination conditions.
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"),
		CopySource: aws.String("src/a%20b%2Bc"), IfNoneMatch: aws.String("*")})
	wantAPIError(t, "copy with If-None-Match: * onto an existing key", err, 412, "PreconditionFailed")

	// Errors.
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantAPIError(t, "copy of a missing key", err, 404, "NoSuchKey")
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("nobucket/k")})
	wantAPIError(t, "copy from a missing bucket", err, 404, "NoSuchBucket")
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x/"), CopySource: aws.String("src/a%20b%2Bc")})
	wantAPIError(t, "copy of content onto a marker key", err, 400, "InvalidObjectName")
	for _, c := range []struct {
		h    http.Header
		code string
	}{
		{http.Header{"x-amz-copy-source": {"justabucket"}}, "InvalidArgument"},
		{http.Header{"x-amz-copy-source": {"src/a%20b%2Bc"}, "x-amz-metadata-directive": {"MERGE"}}, "InvalidArgument"},
		{http.Header{"x-amz-copy-source": {"src/a%20b%2Bc"}, "x-amz-copy-source-range": {"bytes=0-1"}}, "InvalidArgument"},
		{http.Header{"x-amz-copy-source": {"src/%zz"}}, "InvalidArgument"},
	} {
		r := objSend(t, g, "PUT", "/dst/y", nil, c.h)
		wantS3Error(t, fmt.Sprintf("copy with %v", c.h), r, 400, c.code)
	}
	// The raw response is namespaced XML with a millisecond timestamp.
	r := objSend(t, g, "PUT", "/dst/raw", nil, http.Header{"x-amz-copy-source": {"/src/a%20b%2Bc"}})
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)) ||
		!bytes.Contains(r.Body, []byte("<ETag>&#34;"+md5Hex(data)+"&#34;</ETag>")) ||
		!regexp.MustCompile(`<LastModified>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</LastModified>`).Match(r.Body) {
		t.Errorf("raw CopyObject: %d %s", r.Status, r.Body)
	}
}

// TestCopyObjectAcrossBackends streams a copy from one backend to another.
func TestCopyObjectAcrossBackends(t *testing.T) {
	g := newMultiGateway(t, nil, "hot", "cold")
	ctx := context.Background()
	objTestBucket(t, g, "hotb")
	if _, err := g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("coldb"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "cold"}}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if _, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hotb"), Key: aws.String("k"),
		Body: bytes.NewReader(data), Metadata: map[string]string{"m": "1"}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}); err != nil {
		t.Fatal(err)
	}
	out, err := g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("coldb"), Key: aws.String("k2"), CopySource: aws.String("hotb/k")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != `"`+md5Hex(data)+`"` {
		t.Errorf("cross-backend copy ETag %s", aws.ToString(out.CopyObjectResult.ETag))
	}
	h, err := g.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("coldb"), Key: aws.String("k2"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || h.Metadata["m"] != "1" || aws.ToString(h.ChecksumCRC32) != crc32B64(data) {
		t.Errorf("cross-backend copy head: %v %+v", err, h)
	}
	if got := objGet(t, g, "coldb", "k2"); !bytes.Equal(got, data) {
		t.Errorf("cross-backend copy content differs (%d bytes)", len(got))
	}
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("coldb"), Key: aws.String("k3"),
		CopySource: aws.String("hotb/k"), CopySourceIfMatch: aws.String(`"abc"`)})
	wantAPIError(t, "cross-backend copy with a failing source condition", err, 412, "PreconditionFailed")
	if objExists(t, g, "coldb", "k3") {
		t.Error("failed copy stored an object")
	}
	g.Server.cfg.MaxObjectSize = 1000
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("coldb"), Key: aws.String("k4"), CopySource: aws.String("hotb/k")})
	wantAPIError(t, "copy of a source over the size limit", err, 400, "InvalidRequest")
}

func TestDeleteObject(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	objPut(t, g, "bkt", "k", []byte("x"))
	for i := 0; i < 2; i++ { // existing, then missing
		r := objSend(t, g, "DELETE", "/bkt/k", nil, nil)
		if r.Status != http.StatusNoContent {
			t.Errorf("DELETE #%d: %d %s", i, r.Status, r.Body)
		}
	}
	if objExists(t, g, "bkt", "k") {
		t.Error("object still exists after DELETE")
	}
	r := objSend(t, g, "DELETE", "/nobucket/k", nil, nil)
	wantS3Error(t, "DELETE in a missing bucket", r, 404, "NoSuchBucket")
	objPut(t, g, "bkt", "c", []byte("x"))
	r = objSend(t, g, "DELETE", "/bkt/c", nil, http.Header{"If-Match": {`"` + md5Hex([]byte("x")) + `"`}})
	wantS3Error(t, "conditional DELETE", r, 501, "NotImplemented")
	if !objExists(t, g, "bkt", "c") {
		t.Error("refused conditional DELETE removed the object")
	}
}

func TestUnknownOperationsAndAnonymous(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	objPut(t, g, "bkt", "k", []byte("x"))
	for _, c := range []struct{ method, path string }{
		{"GET", "/bkt/k?acl"}, {"PUT", "/bkt/k?acl"}, {"GET", "/bkt?versioning"}, {"PUT", "/bkt?lifecycle"},
		{"GET", "/bkt?policy"}, {"POST", "/bkt/k?select&select-type=2"}, {"GET", "/bkt/k?versionId=abc"},
		{"GET", "/bkt?cors"}, {"DELETE", "/bkt?encryption"},
	} {
		r := objSend(t, g, c.method, c.path, nil, nil)
		wantS3Error(t, c.method+" "+c.path, r, 501, "NotImplemented")
	}
	// Unauthenticated requests are denied.
	for _, c := range []struct{ method, path string }{{"GET", "/bkt/k"}, {"PUT", "/bkt/k2"}, {"GET", "/"}, {"DELETE", "/bkt/k"}} {
		req, _ := http.NewRequest(c.method, g.URL+c.path, strings.NewReader(""))
		r := objDo(t, req)
		wantS3Error(t, "anonymous "+c.method+" "+c.path, r, 403, "AccessDenied")
	}
	if !objExists(t, g, "bkt", "k") {
		t.Error("anonymous DELETE removed the object")
	}
	// A bad signature.
	req := objRequest(t, g, "GET", "/bkt/k", nil, nil)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "Signature=", "Signature=00", 1))
	r := objDo(t, req)
	if r.Status != 403 {
		t.Errorf("bad signature: %d %s", r.Status, r.Body)
	}
}

func TestErrorsAreNeverInternal(t *testing.T) {
	// A smoke pass over malformed requests: none may be a 500.
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	objPut(t, g, "bkt", "k", []byte("0123456789"))
	for _, c := range []struct {
		method, path string
		body         string
		h            http.Header
	}{
		{"GET", "/bkt/k", "", http.Header{"Range": {"bytes=99999999999999999999-"}}},
		{"GET", "/bkt/k", "", http.Header{"Range": {"bytes=--1"}}},
		{"GET", "/bkt/k", "", http.Header{"If-Modified-Since": {"yesterday"}}},
		{"GET", "/bkt/k?partNumber=99999999999999999999", "", nil},
		{"GET", "/bkt/k?response-content-type=%0d%0aX-Injected:%201", "", nil},
		{"PUT", "/bkt/k?tagging", "<Tagging><TagSet><Tag><Key>a</Key>", nil},
		{"POST", "/bkt?delete", "<Delete><Object><Key>k</Key></Object>", http.Header{"Content-MD5": {md5B64([]byte("<Delete><Object><Key>k</Key></Object>"))}}},
		{"PUT", "/bkt/k", "x", http.Header{"x-amz-copy-source": {""}}},
		{"PUT", "/bkt/%ff%fe", "x", nil},
		{"PUT", "/bkt/k", "x", http.Header{"x-amz-meta-": {"v"}}},
		{"PUT", "/bkt/k", "x", http.Header{"x-amz-tagging": {"%zz"}}},
		{"PUT", "/bkt/k", "x", http.Header{"If-Match": {"*"}}},
	} {
		r := objSend(t, g, c.method, c.path, []byte(c.body), c.h)
		if r.Status >= 500 && r.Status != 501 {
			t.Errorf("%s %s %v: %d", c.method, c.path, c.h, r.Status)
		}
		if r.Header.Get("X-Injected") != "" {
			t.Errorf("%s %s: header injection through response-content-type", c.method, c.path)
		}
	}
}

// TestPutObjectWithoutLength: a PUT with neither Content-Length nor
// x-amz-decoded-content-length is MissingContentLength (411), as S3.
func TestPutObjectWithoutLength(t *testing.T) {
	g := newTestGateway(t)
	objTestBucket(t, g, "bkt")
	req := objRequest(t, g, "PUT", "/bkt/k", nil, http.Header{"x-amz-content-sha256": {"UNSIGNED-PAYLOAD"}})
	req.Body = io.NopCloser(strings.NewReader("streamed without a length"))
	req.ContentLength = -1
	r := objDo(t, req)
	wantS3Error(t, "PUT without a length", r, http.StatusLengthRequired, "MissingContentLength")
	if objExists(t, g, "bkt", "k") {
		t.Error("PUT without a length stored an object")
	}
}

// lazyBackend stores empty objects without reading their body.
type lazyBackend struct{ *posix.Backend }

func (l lazyBackend) Put(ctx context.Context, bucket, key string, body io.Reader, opts backends.PutOptions) (backends.ObjectInfo, error) {
	if opts.Size == 0 {
		body = strings.NewReader("")
	}
	return l.Backend.Put(ctx, bucket, key, body, opts)
}

// TestPutObjectEmptyBodyVerifiedBeforeStore: the digest of an empty body is
// checked even when the backend never reads it.
func TestPutObjectEmptyBodyVerifiedBeforeStore(t *testing.T) {
	g := newMultiGateway(t, func(b *posix.Backend) backends.Backend { return lazyBackend{b} }, "posix")
	objTestBucket(t, g, "bkt")
	r := objSend(t, g, "PUT", "/bkt/e", nil, http.Header{"Content-MD5": {md5B64([]byte("x"))}})
	wantS3Error(t, "PUT empty with a wrong Content-MD5", r, 400, "BadDigest")
	if objExists(t, g, "bkt", "e") {
		t.Error("empty object stored despite BadDigest")
	}
	r = objSend(t, g, "PUT", "/bkt/e", nil, http.Header{"Content-MD5": {md5B64(nil)}})
	if r.Status != 200 || r.Header.Get("ETag") != `"`+md5Hex(nil)+`"` {
		t.Errorf("PUT empty with the right Content-MD5: %d %q", r.Status, r.Header.Get("ETag"))
	}
}

// racingBackend replaces the source of the first server-side copy between
// the gateway's Stat and the copy itself.
type racingBackend struct {
	*posix.Backend
	raced *atomic.Bool
}

func (r racingBackend) CopyObject(ctx context.Context, sb, sk, db, dk string, opts backends.CopyOptions) (backends.ObjectInfo, error) {
	if r.raced.CompareAndSwap(false, true) {
		data := []byte("replaced while copying")
		if _, err := r.Backend.Put(ctx, sb, sk, bytes.NewReader(data), backends.PutOptions{Size: int64(len(data))}); err != nil {
			return backends.ObjectInfo{}, err
		}
	}
	return r.Backend.CopyObject(ctx, sb, sk, db, dk, opts)
}

// TestCopyObjectSourceReplacedDuringCopy: a copy without source conditions
// copies the version that replaced the source (never a mix of old metadata
// and new content); with x-amz-copy-source-if-match on the old ETag it is
// 412.
func TestCopyObjectSourceReplacedDuringCopy(t *testing.T) {
	var raced atomic.Bool
	g := newMultiGateway(t, func(b *posix.Backend) backends.Backend { return racingBackend{b, &raced} }, "posix")
	ctx := context.Background()
	objTestBucket(t, g, "bkt")
	old := objPut(t, g, "bkt", "src", []byte("original"))
	out, err := g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dst"), CopySource: aws.String("bkt/src")})
	if err != nil {
		t.Fatal(err)
	}
	if !raced.Load() || aws.ToString(out.CopyObjectResult.ETag) != `"`+md5Hex([]byte("replaced while copying"))+`"` ||
		string(objGet(t, g, "bkt", "dst")) != "replaced while copying" {
		t.Errorf("copy during a replacement: raced %v ETag %s content %q", raced.Load(), aws.ToString(out.CopyObjectResult.ETag), objGet(t, g, "bkt", "dst"))
	}
	raced.Store(false)
	objPut(t, g, "bkt", "src", []byte("original"))
	_, err = g.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dst2"),
		CopySource: aws.String("bkt/src"), CopySourceIfMatch: aws.String(old)})
	wantAPIError(t, "copy with if-match on a replaced source", err, 412, "PreconditionFailed")
	if objExists(t, g, "bkt", "dst2") {
		t.Error("a failed copy stored an object")
	}
}
