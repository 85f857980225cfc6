package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
)

// mpData returns n deterministic pseudo-random bytes.
func mpData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mpMD5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// mpExpectedETag is the S3 multipart ETag computed by the test itself.
func mpExpectedETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	s := md5.Sum(cat)
	return fmt.Sprintf(`"%x-%d"`, s, len(parts))
}

func mpCreate(t *testing.T, g *testGateway, bucket, key string) string {
	t.Helper()
	out, err := g.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	if aws.ToString(out.Bucket) != bucket || aws.ToString(out.Key) != key || aws.ToString(out.UploadId) == "" {
		t.Fatalf("CreateMultipartUpload result %+v", out)
	}
	return aws.ToString(out.UploadId)
}

func mpUpload(t *testing.T, g *testGateway, bucket, key, id string, n int32, data []byte) string {
	t.Helper()
	out, err := g.Client.UploadPart(t.Context(), &s3.UploadPartInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatalf("UploadPart %d: %v", n, err)
	}
	if got, want := aws.ToString(out.ETag), `"`+mpMD5Hex(data)+`"`; got != want {
		t.Fatalf("UploadPart %d ETag %s, want %s (hex MD5, quoted)", n, got, want)
	}
	return aws.ToString(out.ETag)
}

func mpComplete(g *testGateway, ctx context.Context, bucket, key, id string, parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
	return g.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
}

func mpPart(n int32, etag string) types.CompletedPart {
	return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
}

func mpGet(t *testing.T, g *testGateway, bucket, key string) ([]byte, string) {
	t.Helper()
	out, err := g.Client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, aws.ToString(out.ETag)
}

func TestMultipartParallelOutOfOrder(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	key := "out/part-00000.parquet"
	id := mpCreate(t, g, bucket, key)
	parts := [][]byte{mpData(1, backends.MinPartSize), mpData(2, backends.MinPartSize+1), mpData(3, backends.MinPartSize), mpData(4, 1000)}
	etags := make([]string, len(parts))
	var wg sync.WaitGroup
	for i := len(parts) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := g.Client.UploadPart(context.Background(), &s3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(parts[i]),
			})
			if err != nil {
				t.Errorf("UploadPart %d: %v", i+1, err)
				return
			}
			etags[i] = aws.ToString(out.ETag)
		}(i)
	}
	wg.Wait()
	for i, e := range etags {
		if e != `"`+mpMD5Hex(parts[i])+`"` {
			t.Fatalf("part %d ETag %s", i+1, e)
		}
	}
	// Part 2 is sent again with other content: the last upload wins.
	parts[1] = mpData(22, backends.MinPartSize+7)
	stale := etags[1]
	etags[1] = mpUpload(t, g, bucket, key, id, 2, parts[1])

	// Invisible until completed.
	if _, err := g.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err == nil {
		t.Error("object visible before CompleteMultipartUpload")
	}
	_, err := mpComplete(g, t.Context(), bucket, key, id, mpPart(1, etags[0]), mpPart(2, stale), mpPart(3, etags[2]), mpPart(4, etags[3]))
	listWantErr(t, "complete with the replaced part's ETag", err, "InvalidPart", 400)

	var cps []types.CompletedPart
	for i, e := range etags {
		cps = append(cps, mpPart(int32(i+1), e))
	}
	out, err := mpComplete(g, t.Context(), bucket, key, id, cps...)
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	want := mpExpectedETag(parts...)
	if aws.ToString(out.ETag) != want || aws.ToString(out.Bucket) != bucket || aws.ToString(out.Key) != key {
		t.Errorf("complete result ETag %s bucket %s key %s, want ETag %s", aws.ToString(out.ETag), aws.ToString(out.Bucket), aws.ToString(out.Key), want)
	}
	if loc := aws.ToString(out.Location); loc != g.URL+"/"+bucket+"/out/part-00000.parquet" {
		t.Errorf("Location %q", loc)
	}
	body, getETag := mpGet(t, g, bucket, key)
	if !bytes.Equal(body, bytes.Join(parts, nil)) {
		t.Errorf("content differs: %d bytes, want %d", len(body), len(bytes.Join(parts, nil)))
	}
	head, err := g.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	lst, err := g.Client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil || len(lst.Contents) != 1 {
		t.Fatalf("list: %v %+v", err, lst)
	}
	if getETag != want || aws.ToString(head.ETag) != want || aws.ToString(lst.Contents[0].ETag) != want {
		t.Errorf("ETags: complete %s get %s head %s list %s", want, getETag, aws.ToString(head.ETag), aws.ToString(lst.Contents[0].ETag))
	}
	// The upload is gone.
	_, err = g.Client.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
	listWantErr(t, "ListParts after complete", err, "NoSuchUpload", 404)
	// A retried completion (the client lost the first answer) succeeds again.
	out2, err := mpComplete(g, t.Context(), bucket, key, id, cps...)
	if err != nil || aws.ToString(out2.ETag) != want {
		t.Errorf("retried complete: %v %+v", err, out2)
	}
}

func TestMultipartCompleteErrors(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	key := "e"
	id := mpCreate(t, g, bucket, key)
	big1, big2, small := mpData(5, backends.MinPartSize), mpData(6, backends.MinPartSize), mpData(7, 10)
	e1 := mpUpload(t, g, bucket, key, id, 1, big1)
	e2 := mpUpload(t, g, bucket, key, id, 2, small)
	e3 := mpUpload(t, g, bucket, key, id, 3, big2)

	cases := []struct {
		name   string
		parts  []types.CompletedPart
		code   string
		status int
	}{
		{"wrong etag", []types.CompletedPart{mpPart(1, `"`+mpMD5Hex([]byte("other"))+`"`)}, "InvalidPart", 400},
		{"missing part", []types.CompletedPart{mpPart(1, e1), mpPart(4, e3)}, "InvalidPart", 400},
		{"descending", []types.CompletedPart{mpPart(3, e3), mpPart(1, e1)}, "InvalidPartOrder", 400},
		{"duplicate", []types.CompletedPart{mpPart(1, e1), mpPart(1, e1)}, "InvalidPartOrder", 400},
		{"small non-last", []types.CompletedPart{mpPart(1, e1), mpPart(2, e2), mpPart(3, e3)}, "EntityTooSmall", 400},
		{"part 0", []types.CompletedPart{mpPart(0, e1)}, "InvalidArgument", 400},
		{"part 10001", []types.CompletedPart{mpPart(1, e1), mpPart(10001, e3)}, "InvalidArgument", 400},
	}
	for _, c := range cases {
		_, err := mpComplete(g, t.Context(), bucket, key, id, c.parts...)
		listWantErr(t, c.name, err, c.code, c.status)
	}
	// Unknown uploads.
	_, err := mpComplete(g, t.Context(), bucket, key, "no-such-upload", mpPart(1, e1))
	listWantErr(t, "complete unknown upload", err, "NoSuchUpload", 404)
	_, err = mpComplete(g, t.Context(), bucket, "other-key", id, mpPart(1, e1))
	listWantErr(t, "complete upload under another key", err, "NoSuchUpload", 404)
	_, err = g.Client.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String("nope"), PartNumber: aws.Int32(1), Body: bytes.NewReader(small)})
	listWantErr(t, "upload part unknown upload", err, "NoSuchUpload", 404)
	_, err = g.Client.AbortMultipartUpload(t.Context(), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String("nope")})
	listWantErr(t, "abort unknown upload", err, "NoSuchUpload", 404)
	_, err = g.Client.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String("nope")})
	listWantErr(t, "list parts unknown upload", err, "NoSuchUpload", 404)

	// Malformed bodies, through raw requests.
	path := "/" + bucket + "/" + key
	q := map[string]string{"uploadId": id}
	for name, body := range map[string]string{
		"empty list":      `<CompleteMultipartUpload></CompleteMultipartUpload>`,
		"not xml":         `this is not xml`,
		"wrong root":      `<Delete><Part><PartNumber>1</PartNumber><ETag>` + e1 + `</ETag></Part></Delete>`,
		"bad number":      `<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>` + e1 + `</ETag></Part></CompleteMultipartUpload>`,
		"unclosed":        `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>`,
		"empty body":      ``,
		"entity bomb":     `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&b;</ETag></Part></CompleteMultipartUpload>`,
		"nested garbage":  `<CompleteMultipartUpload><Part><Part><Part></Part></Part></Part></CompleteMultipartUpload>`,
		"negative number": `<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>` + e1 + `</ETag></Part></CompleteMultipartUpload>`,
	} {
		r := listRaw(t, g, "POST", path, q, nil, []byte(body))
		if r.Status != 400 {
			t.Errorf("%s: status %d %s", name, r.Status, r.Body)
		}
	}
	r := listRaw(t, g, "POST", path, q, nil, []byte(`<CompleteMultipartUpload></CompleteMultipartUpload>`))
	listWantRaw(t, "empty list", r, 400, "MalformedXML")
	huge := append([]byte("<CompleteMultipartUpload>"), bytes.Repeat([]byte(" "), mpMaxCompleteBody)...)
	r = listRaw(t, g, "POST", path, q, nil, huge)
	listWantRaw(t, "oversized body", r, 400, "MaxMessageLengthExceeded")

	// After all that the upload is intact and completes.
	out, err := mpComplete(g, t.Context(), bucket, key, id, mpPart(1, e1), mpPart(3, e3))
	if err != nil || aws.ToString(out.ETag) != mpExpectedETag(big1, big2) {
		t.Fatalf("final complete: %v", err)
	}
	body, _ := mpGet(t, g, bucket, key)
	if !bytes.Equal(body, append(append([]byte{}, big1...), big2...)) {
		t.Error("content after complete of a subset of parts differs")
	}
}

func TestMultipartInvalidPartNumbers(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	id := mpCreate(t, g, bucket, "k")
	for _, n := range []string{"0", "10001", "abc", "-1", "", "1.0", "99999999999999999999"} {
		r := listRaw(t, g, "PUT", "/"+bucket+"/k", map[string]string{"partNumber": n, "uploadId": id}, nil, []byte("data"))
		listWantRaw(t, "UploadPart partNumber="+n, r, 400, "InvalidArgument")
		r = listRaw(t, g, "PUT", "/"+bucket+"/k", map[string]string{"partNumber": n, "uploadId": id},
			map[string]string{"x-amz-copy-source": "/" + bucket + "/k"}, nil)
		listWantRaw(t, "UploadPartCopy partNumber="+n, r, 400, "InvalidArgument")
	}
	for _, n := range []string{"1", "10000"} {
		r := listRaw(t, g, "PUT", "/"+bucket+"/k", map[string]string{"partNumber": n, "uploadId": id}, nil, []byte("data"))
		if r.Status != 200 || r.Header.Get("ETag") != `"`+mpMD5Hex([]byte("data"))+`"` {
			t.Errorf("partNumber=%s: %d %q", n, r.Status, r.Header.Get("ETag"))
		}
	}
	r := listRaw(t, g, "PUT", "/"+bucket+"/k", map[string]string{"partNumber": "1", "uploadId": ""}, nil, []byte("data"))
	listWantRaw(t, "empty uploadId", r, 404, "NoSuchUpload")
	for _, v := range []string{"-1", "x"} {
		r := listRaw(t, g, "GET", "/"+bucket+"/k", map[string]string{"uploadId": id, "max-parts": v}, nil, nil)
		listWantRaw(t, "max-parts="+v, r, 400, "InvalidArgument")
		r = listRaw(t, g, "GET", "/"+bucket+"/k", map[string]string{"uploadId": id, "part-number-marker": v}, nil, nil)
		listWantRaw(t, "part-number-marker="+v, r, 400, "InvalidArgument")
	}
}

func TestMultipartConditionalComplete(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	key := "cond"
	listPut(t, g, bucket, key)
	old, err := g.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	id := mpCreate(t, g, bucket, key)
	data := mpData(9, 100)
	e := mpUpload(t, g, bucket, key, id, 1, data)
	complete := func(ifNoneMatch, ifMatch *string) (*s3.CompleteMultipartUploadOutput, error) {
		return g.Client.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{mpPart(1, e)}},
			IfNoneMatch:     ifNoneMatch, IfMatch: ifMatch,
		})
	}
	_, err = complete(aws.String("*"), nil)
	listWantErr(t, "If-None-Match: * on an existing object", err, "PreconditionFailed", 412)
	_, err = complete(nil, aws.String(`"0123456789abcdef0123456789abcdef"`))
	listWantErr(t, "If-Match with another ETag", err, "PreconditionFailed", 412)
	if body, _ := mpGet(t, g, bucket, key); string(body) != "v:"+key {
		t.Fatalf("object changed by a failed conditional complete: %q", body)
	}
	out, err := complete(nil, old.ETag)
	if err != nil || aws.ToString(out.ETag) != mpExpectedETag(data) {
		t.Fatalf("If-Match with the current ETag: %v", err)
	}

	// If-None-Match: * on a free key succeeds; If-Match on a missing key is 404.
	id = mpCreate(t, g, bucket, "fresh")
	e = mpUpload(t, g, bucket, "fresh", id, 1, data)
	_, err = g.Client.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String("fresh"), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{mpPart(1, e)}},
		IfMatch:         aws.String(`"0123456789abcdef0123456789abcdef"`),
	})
	listWantErr(t, "If-Match on a missing key", err, "NoSuchKey", 404)
	_, err = g.Client.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String("fresh"), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{mpPart(1, e)}},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil {
		t.Fatalf("If-None-Match: * on a free key: %v", err)
	}
	r := listRaw(t, g, "POST", "/"+bucket+"/fresh", map[string]string{"uploadId": "x"}, map[string]string{"If-None-Match": `"abc"`},
		[]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>`+e+`</ETag></Part></CompleteMultipartUpload>`))
	listWantRaw(t, "If-None-Match other than *", r, 501, "NotImplemented")
}

func TestMultipartListPartsPaging(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	key := "lp"
	id := mpCreate(t, g, bucket, key)
	nums := []int32{1, 2, 3, 5, 8, 13, 21}
	etags := map[int32]string{}
	for _, n := range nums {
		etags[n] = mpUpload(t, g, bucket, key, id, n, mpData(uint64(n), int(n)*10))
	}
	for _, max := range []int32{1, 3, 1000} {
		var got []int32
		marker := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("ListParts does not end")
			}
			in := &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id), MaxParts: aws.Int32(max)}
			if marker != "" {
				in.PartNumberMarker = aws.String(marker)
			}
			out, err := g.Client.ListParts(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Parts) > int(max) || aws.ToInt32(out.MaxParts) != max {
				t.Fatalf("page of %d parts, MaxParts %d, want ≤ %d", len(out.Parts), aws.ToInt32(out.MaxParts), max)
			}
			if out.Initiator == nil || out.Owner == nil || out.StorageClass != types.StorageClassStandard ||
				aws.ToString(out.UploadId) != id || aws.ToString(out.Key) != key || aws.ToString(out.Bucket) != bucket {
				t.Errorf("ListParts fields %+v", out)
			}
			for _, p := range out.Parts {
				n := aws.ToInt32(p.PartNumber)
				got = append(got, n)
				if aws.ToString(p.ETag) != etags[n] || aws.ToInt64(p.Size) != int64(n)*10 || p.LastModified == nil {
					t.Errorf("part %d: %+v", n, p)
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			marker = aws.ToString(out.NextPartNumberMarker)
			if last := got[len(got)-1]; marker != strconv.Itoa(int(last)) {
				t.Errorf("NextPartNumberMarker %s after part %d", marker, last)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(nums) {
			t.Errorf("max-parts %d: parts %v, want %v", max, got, nums)
		}
	}
	// max-parts=0 and a marker past the end.
	r := listRaw(t, g, "GET", "/"+bucket+"/"+key, map[string]string{"uploadId": id, "max-parts": "0"}, nil, nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "<Part>") || !strings.Contains(string(r.Body), "<IsTruncated>true</IsTruncated>") {
		t.Errorf("max-parts=0: %d %s", r.Status, r.Body)
	}
	out, err := g.Client.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id), PartNumberMarker: aws.String("21")})
	if err != nil || len(out.Parts) != 0 || aws.ToBool(out.IsTruncated) {
		t.Errorf("marker past the end: %v %+v", err, out)
	}
}

func TestMultipartAbort(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	id := mpCreate(t, g, bucket, "ab")
	mpUpload(t, g, bucket, "ab", id, 1, []byte("x"))
	r := listRaw(t, g, "DELETE", "/"+bucket+"/ab", map[string]string{"uploadId": id}, nil, nil)
	if r.Status != 204 {
		t.Fatalf("abort: %d %s", r.Status, r.Body)
	}
	r = listRaw(t, g, "DELETE", "/"+bucket+"/ab", map[string]string{"uploadId": id}, nil, nil)
	listWantRaw(t, "second abort", r, 404, "NoSuchUpload")
	_, err := g.Client.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("ab"), UploadId: aws.String(id), PartNumber: aws.Int32(2), Body: strings.NewReader("y")})
	listWantErr(t, "upload after abort", err, "NoSuchUpload", 404)
	ups, err := g.Client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("uploads after abort: %v %+v", err, ups.Uploads)
	}
	if _, err := g.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("ab")}); err == nil {
		t.Error("aborted upload left an object")
	}
}

func TestUploadPartCopyRanges(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	src := mpData(11, 2*backends.MinPartSize+123)
	if _, err := g.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("src file"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	head, err := g.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("src file")})
	if err != nil {
		t.Fatal(err)
	}
	copySource := bucket + "/" + url.PathEscape("src file")
	key := "dst"
	id := mpCreate(t, g, bucket, key)
	copyPart := func(n int32, rng string, extra func(*s3.UploadPartCopyInput)) (*s3.UploadPartCopyOutput, error) {
		in := &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id), PartNumber: aws.Int32(n), CopySource: aws.String(copySource)}
		if rng != "" {
			in.CopySourceRange = aws.String(rng)
		}
		if extra != nil {
			extra(in)
		}
		return g.Client.UploadPartCopy(t.Context(), in)
	}
	split := int64(backends.MinPartSize)
	p1, err := copyPart(1, fmt.Sprintf("bytes=0-%d", split-1), nil)
	if err != nil {
		t.Fatalf("copy part 1: %v", err)
	}
	p2, err := copyPart(2, fmt.Sprintf("bytes=%d-%d", split, 2*split-1), func(in *s3.UploadPartCopyInput) { in.CopySourceIfMatch = head.ETag })
	if err != nil {
		t.Fatalf("copy part 2: %v", err)
	}
	p3, err := copyPart(3, fmt.Sprintf("bytes=%d-%d", 2*split, len(src)-1), nil)
	if err != nil {
		t.Fatalf("copy part 3: %v", err)
	}
	for i, p := range []*s3.UploadPartCopyOutput{p1, p2, p3} {
		lo := int64(i) * split
		hi := min(lo+split, int64(len(src)))
		if got, want := aws.ToString(p.CopyPartResult.ETag), `"`+mpMD5Hex(src[lo:hi])+`"`; got != want {
			t.Errorf("copy part %d ETag %s, want %s", i+1, got, want)
		}
		if p.CopyPartResult.LastModified == nil {
			t.Errorf("copy part %d: no LastModified", i+1)
		}
	}
	// A whole-object copy part (no range) is part 4 of another upload.
	id2 := mpCreate(t, g, bucket, "whole")
	pw, err := g.Client.UploadPartCopy(t.Context(), &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String("whole"), UploadId: aws.String(id2), PartNumber: aws.Int32(4), CopySource: aws.String(copySource)})
	if err != nil || aws.ToString(pw.CopyPartResult.ETag) != `"`+mpMD5Hex(src)+`"` {
		t.Fatalf("whole copy part: %v", err)
	}

	bad := []struct {
		name, rng string
		extra     func(*s3.UploadPartCopyInput)
		code      string
		status    int
	}{
		{"reversed", "bytes=5-3", nil, "InvalidArgument", 400},
		{"open ended", "bytes=0-", nil, "InvalidArgument", 400},
		{"suffix", "bytes=-5", nil, "InvalidArgument", 400},
		{"no unit", "0-5", nil, "InvalidArgument", 400},
		{"garbage", "bytes=a-b", nil, "InvalidArgument", 400},
		{"two ranges", "bytes=0-1,3-4", nil, "InvalidArgument", 400},
		{"beyond end", fmt.Sprintf("bytes=0-%d", len(src)), nil, "InvalidRange", 416},
		{"starts beyond end", fmt.Sprintf("bytes=%d-%d", len(src)+10, len(src)+20), nil, "InvalidRange", 416},
		{"if-match mismatch", "bytes=0-9", func(in *s3.UploadPartCopyInput) {
			in.CopySourceIfMatch = aws.String(`"0123456789abcdef0123456789abcdef"`)
		}, "PreconditionFailed", 412},
		{"if-none-match hit", "bytes=0-9", func(in *s3.UploadPartCopyInput) { in.CopySourceIfNoneMatch = head.ETag }, "PreconditionFailed", 412},
		{"missing source", "", func(in *s3.UploadPartCopyInput) { in.CopySource = aws.String(bucket + "/nope") }, "NoSuchKey", 404},
		{"missing source bucket", "", func(in *s3.UploadPartCopyInput) { in.CopySource = aws.String("no-such-bucket-x/k") }, "NoSuchBucket", 404},
	}
	for _, c := range bad {
		_, err := copyPart(5, c.rng, c.extra)
		listWantErr(t, "copy part "+c.name, err, c.code, c.status)
	}
	_, err = g.Client.UploadPartCopy(t.Context(), &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String("nope"), PartNumber: aws.Int32(1), CopySource: aws.String(copySource)})
	listWantErr(t, "copy part into unknown upload", err, "NoSuchUpload", 404)

	out, err := mpComplete(g, t.Context(), bucket, key, id,
		mpPart(1, aws.ToString(p1.CopyPartResult.ETag)), mpPart(2, aws.ToString(p2.CopyPartResult.ETag)), mpPart(3, aws.ToString(p3.CopyPartResult.ETag)))
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	body, etag := mpGet(t, g, bucket, key)
	if !bytes.Equal(body, src) {
		t.Error("copied object differs from its source")
	}
	if want := mpExpectedETag(src[:split], src[split:2*split], src[2*split:]); etag != want || aws.ToString(out.ETag) != want {
		t.Errorf("ETag %s / %s, want %s", etag, aws.ToString(out.ETag), want)
	}
}

func TestMultipartChecksumAlgorithm(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	key := "sums"
	cr, err := g.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	if cr.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32 {
		t.Errorf("create: ChecksumAlgorithm %q", cr.ChecksumAlgorithm)
	}
	id := aws.ToString(cr.UploadId)
	parts := [][]byte{mpData(31, backends.MinPartSize), mpData(32, 4321)}
	var sums []string
	var cps []types.CompletedPart
	for i, p := range parts {
		out, err := g.Client.UploadPart(t.Context(), &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id), PartNumber: aws.Int32(int32(i + 1)),
			Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		var b [4]byte
		sum := crc32.ChecksumIEEE(p)
		b[0], b[1], b[2], b[3] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
		want := base64.StdEncoding.EncodeToString(b[:])
		if aws.ToString(out.ChecksumCRC32) != want {
			t.Errorf("part %d: x-amz-checksum-crc32 %q, want %q", i+1, aws.ToString(out.ChecksumCRC32), want)
		}
		sums = append(sums, want)
		cps = append(cps, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: aws.String(want)})
	}
	// A part without the upload's checksum is refused before it is stored.
	r := listRaw(t, g, "PUT", "/"+bucket+"/"+key, map[string]string{"partNumber": "3", "uploadId": id}, nil, []byte("no checksum"))
	listWantRaw(t, "part without CRC32", r, 400, "InvalidRequest")
	r = listRaw(t, g, "PUT", "/"+bucket+"/"+key, map[string]string{"partNumber": "3", "uploadId": id},
		map[string]string{"x-amz-checksum-sha1": base64.StdEncoding.EncodeToString(make([]byte, 20))}, []byte("other checksum"))
	listWantRaw(t, "part with SHA1 instead of CRC32", r, 400, "InvalidRequest")

	lp, err := g.Client.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 2 || lp.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32 || aws.ToString(lp.Parts[0].ChecksumCRC32) != sums[0] {
		t.Errorf("ListParts: %d parts, algorithm %q, %+v", len(lp.Parts), lp.ChecksumAlgorithm, lp.Parts)
	}
	ups, err := g.Client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil || len(ups.Uploads) != 1 || ups.Uploads[0].ChecksumAlgorithm != types.ChecksumAlgorithmCrc32 {
		t.Errorf("ListMultipartUploads: %v %+v", err, ups)
	}

	// A wrong part checksum in the complete request is InvalidPart.
	wrong := append([]types.CompletedPart(nil), cps...)
	wrong[1].ChecksumCRC32 = aws.String(sums[0])
	_, err = mpComplete(g, t.Context(), bucket, key, id, wrong...)
	listWantErr(t, "complete with a wrong part checksum", err, "InvalidPart", 400)

	out, err := mpComplete(g, t.Context(), bucket, key, id, cps...)
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	composite, err := backends.CompositeChecksum(backends.ChecksumCRC32, sums)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ChecksumCRC32) != composite || out.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("complete checksum %q type %q, want %q COMPOSITE", aws.ToString(out.ChecksumCRC32), out.ChecksumType, composite)
	}
}

// TestMultipartCRC64NVME: CRC64NVME has no composite form; the upload is
// accepted and completes, and the object carries no empty checksum.
func TestMultipartCRC64NVME(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	key := "nvme"
	cr, err := g.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme})
	if err != nil {
		t.Fatal(err)
	}
	data := mpData(61, 2048)
	up, err := g.Client.UploadPart(t.Context(), &s3.UploadPartInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mpComplete(g, t.Context(), bucket, key, aws.ToString(cr.UploadId), mpPart(1, aws.ToString(up.ETag))); err != nil {
		t.Fatal(err)
	}
	r := listRaw(t, g, "HEAD", "/"+bucket+"/"+key, nil, map[string]string{"x-amz-checksum-mode": "ENABLED"}, nil)
	for name, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") && strings.Join(v, "") == "" {
			t.Errorf("empty %s header on HEAD", name)
		}
	}
	out, err := g.Client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("GET with checksum mode: %v, %d bytes", err, len(got))
	}
}

func TestMultipartMinioCore(t *testing.T) {
	g := newTestGateway(t)
	bucket := listNewBucket(t, g)
	u, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	core, err := minio.NewCore(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	key := "minio/obj"
	id, err := core.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{mpData(41, backends.MinPartSize), mpData(42, 77)}
	var cps []minio.CompletePart
	for i := len(parts) - 1; i >= 0; i-- {
		p, err := core.PutObjectPart(ctx, bucket, key, id, i+1, bytes.NewReader(parts[i]), int64(len(parts[i])), minio.PutObjectPartOptions{})
		if err != nil {
			t.Fatalf("PutObjectPart %d: %v", i+1, err)
		}
		if p.ETag != mpMD5Hex(parts[i]) {
			t.Errorf("part %d ETag %s", i+1, p.ETag)
		}
		cps = append([]minio.CompletePart{{PartNumber: i + 1, ETag: p.ETag}}, cps...)
	}
	lp, err := core.ListObjectParts(ctx, bucket, key, id, 0, 1)
	if err != nil || len(lp.ObjectParts) != 1 || !lp.IsTruncated || lp.NextPartNumberMarker != 1 {
		t.Errorf("ListObjectParts: %v %+v", err, lp)
	}
	lu, err := core.ListMultipartUploads(ctx, bucket, "minio/", "", "", "/", 10)
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].UploadID != id {
		t.Errorf("ListMultipartUploads: %v %+v", err, lu)
	}
	info, err := core.CompleteMultipartUpload(ctx, bucket, key, id, cps, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := mpExpectedETag(parts...); `"`+info.ETag+`"` != want {
		t.Errorf("complete ETag %s, want %s", info.ETag, want)
	}
	head, err := g.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "text/plain" || head.Metadata["team"] != "data" || aws.ToInt64(head.ContentLength) != int64(backends.MinPartSize+77) {
		t.Errorf("head after minio complete: type %q meta %v size %d", aws.ToString(head.ContentType), head.Metadata, aws.ToInt64(head.ContentLength))
	}
	// minio-go's UploadPartCopy with an offset and length.
	id2, err := core.NewMultipartUpload(ctx, bucket, "minio/copy", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := core.CopyObjectPart(ctx, bucket, key, bucket, "minio/copy", id2, 1, 10, 1000, nil)
	if err != nil || strings.Trim(cp.ETag, `"`) != mpMD5Hex(parts[0][10:1010]) {
		t.Fatalf("CopyObjectPart: %v %+v", err, cp)
	}
	if err := core.AbortMultipartUpload(ctx, bucket, "minio/copy", id2); err != nil {
		t.Fatal(err)
	}
}

// mpBlockingBackend makes CompleteMultipartUpload wait for release, then
// return err if set, else complete for real.
type mpBlockingBackend struct {
	backends.Backend
	backends.Buckets
	backends.Multipart
	entered chan struct{}
	release chan struct{}
	err     error
}

func (b *mpBlockingBackend) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []backends.CompletePart, cond backends.WriteCondition) (backends.ObjectInfo, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	if b.err != nil {
		return backends.ObjectInfo{}, b.err
	}
	return b.Multipart.CompleteMultipartUpload(ctx, bucket, key, uploadID, parts, cond)
}

func TestCompleteKeepAlive(t *testing.T) {
	prev := mpKeepAliveInterval.Load()
	mpKeepAliveInterval.Store(int64(2 * time.Millisecond))
	t.Cleanup(func() { mpKeepAliveInterval.Store(prev) })

	pb, err := posix.New(t.Context(), posix.Config{Root: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, fail := range []bool{false, true} {
		bb := &mpBlockingBackend{Backend: pb, Buckets: pb, Multipart: pb, entered: make(chan struct{}, 1), release: make(chan struct{})}
		if fail {
			bb.err = fmt.Errorf("assembly: %w", backends.ErrInvalidPart)
		}
		g := listGatewayOver(t, bb)
		bucket := listNewBucket(t, g)
		key := "slow"
		id := mpCreate(t, g, bucket, key)
		data := mpData(51, 300)
		e := mpUpload(t, g, bucket, key, id, 1, data)

		req := listRawRequest(t, g, "POST", "/"+bucket+"/"+key, map[string]string{"uploadId": id}, nil,
			[]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>`+e+`</ETag></Part></CompleteMultipartUpload>`))
		type result struct {
			resp *http.Response
			err  error
		}
		got := make(chan result, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			got <- result{resp, err}
		}()
		var res result
		select {
		case res = <-got:
		case <-time.After(60 * time.Second):
			close(bb.release)
			t.Fatal("no response headers while the backend assembles")
		}
		if res.err != nil {
			t.Fatal(res.err)
		}
		// Headers arrived while the backend is still blocked: 200 and the
		// XML declaration, then whitespace.
		select {
		case <-bb.entered:
		default:
			t.Fatal("headers sent before the backend was called")
		}
		br := bufio.NewReader(res.resp.Body)
		prefix := make([]byte, len(xml.Header)+1)
		if _, err := io.ReadFull(br, prefix); err != nil {
			t.Fatal(err)
		}
		if res.resp.StatusCode != 200 || string(prefix) != xml.Header+" " {
			t.Fatalf("keep-alive start: %d %q", res.resp.StatusCode, prefix)
		}
		close(bb.release)
		rest, err := io.ReadAll(br)
		res.resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.TrimLeft(string(rest), " ")
		if fail {
			var e listS3Error
			if err := xml.Unmarshal([]byte(doc), &e); err != nil || e.Code != "InvalidPart" {
				t.Errorf("failed assembly: body %q", doc)
			}
			continue
		}
		var ok struct {
			XMLName xml.Name
			ETag    string
			Key     string
		}
		if err := xml.Unmarshal([]byte(doc), &ok); err != nil || ok.XMLName.Local != "CompleteMultipartUploadResult" || ok.ETag != mpExpectedETag(data) || ok.Key != key {
			t.Fatalf("completed assembly: body %q: %v", doc, err)
		}
		_, etag := mpGet(t, g, bucket, key)
		if etag != ok.ETag {
			t.Errorf("GET ETag %s, complete %s", etag, ok.ETag)
		}
	}
}
