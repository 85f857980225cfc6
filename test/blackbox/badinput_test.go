package blackbox

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func contentMD5(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// createUpload starts a multipart upload and registers its abort.
func (b *bctx) createUpload(key string) string {
	b.t.Helper()
	cr, err := b.s3.CreateMultipartUpload(ctxTimeout(b.t, time.Minute), &s3.CreateMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		b.t.Fatalf("CreateMultipartUpload: %v", err)
	}
	id := aws.ToString(cr.UploadId)
	b.t.Cleanup(func() {
		_, _ = adminClient().AbortMultipartUpload(ctxTimeout(b.t, time.Minute), &s3.AbortMultipartUploadInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: aws.String(id)})
	})
	return id
}

func (b *bctx) tags(key string) map[string]string {
	b.t.Helper()
	out, err := b.s3.GetObjectTagging(ctxTimeout(b.t, time.Minute), &s3.GetObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		b.t.Fatalf("GetObjectTagging: %v", err)
	}
	m := map[string]string{}
	for _, tg := range out.TagSet {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func TestBadInputXML(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		victim := b.key("victim")
		b.mustPut(victim, []byte("still here"))

		for name, body := range map[string]string{
			"truncated":  "<Delete><Object><Key>" + victim + "</Key></Object>",
			"not XML":    "this is not xml",
			"no objects": "<Delete></Delete>",
			"wrong root": "<Tagging><TagSet></TagSet></Tagging>",
		} {
			r := b.do(rawReq{Method: "POST", Bucket: b.bucket, RawQuery: "delete=", Body: []byte(body),
				Header: http.Header{"Content-Md5": {contentMD5([]byte(body))}, "Content-Type": {"application/xml"}}})
			wantRaw(t, "DeleteObjects with a "+name+" body", r, http.StatusBadRequest, "MalformedXML")
		}
		b.wantContent(victim, []byte("still here"))

		var many strings.Builder
		many.WriteString("<Delete>")
		for i := 0; i < 1001; i++ {
			fmt.Fprintf(&many, "<Object><Key>%s</Key></Object>", b.key(fmt.Sprintf("many-%d", i)))
		}
		fmt.Fprintf(&many, "<Object><Key>%s</Key></Object></Delete>", victim)
		r := b.do(rawReq{Method: "POST", Bucket: b.bucket, RawQuery: "delete=", Body: []byte(many.String()),
			Header: http.Header{"Content-Md5": {contentMD5([]byte(many.String()))}}})
		wantRaw(t, "DeleteObjects of 1002 keys (limit 1000)", r, http.StatusBadRequest, "MalformedXML")
		b.wantContent(victim, []byte("still here"))

		// CompleteMultipartUpload.
		mkey := b.key("mp-malformed")
		id := b.createUpload(mkey)
		part, err := b.s3.UploadPart(ctxTimeout(t, time.Minute), &s3.UploadPartInput{Bucket: aws.String(b.bucket), Key: aws.String(mkey), UploadId: aws.String(id), PartNumber: aws.Int32(1), Body: strings.NewReader("part one")})
		if err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
		for name, body := range map[string]string{
			"truncated":  "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + aws.ToString(part.ETag),
			"not XML":    "{\"parts\": [1]}",
			"bad number": "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>" + aws.ToString(part.ETag) + "</ETag></Part></CompleteMultipartUpload>",
		} {
			r := b.do(rawReq{Method: "POST", Bucket: b.bucket, Key: mkey, RawQuery: "uploadId=" + id, Body: []byte(body)})
			wantRaw(t, "CompleteMultipartUpload with a "+name+" body", r, http.StatusBadRequest, "MalformedXML")
		}
		// Oversized: 3 MiB of parts.
		var big strings.Builder
		big.WriteString("<CompleteMultipartUpload>")
		for i := 1; big.Len() < 3<<20; i++ {
			fmt.Fprintf(&big, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i, aws.ToString(part.ETag))
		}
		big.WriteString("</CompleteMultipartUpload>")
		r = b.do(rawReq{Method: "POST", Bucket: b.bucket, Key: mkey, RawQuery: "uploadId=" + id, Body: []byte(big.String())})
		if r.Status != http.StatusBadRequest || r.Err.Code == "" {
			t.Errorf("CompleteMultipartUpload with a %d-byte body: %s; want 400 with an S3 error code", big.Len(), r)
		}
		b.wantAbsent(mkey)
		lp, err := b.s3.ListParts(ctxTimeout(t, time.Minute), &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(mkey), UploadId: aws.String(id)})
		if err != nil || len(lp.Parts) != 1 {
			t.Errorf("ListParts after refused completions: %v, %d parts; want the upload intact with 1 part", err, len(lp.Parts))
		}

		// PutObjectTagging.
		if _, err := b.s3.PutObjectTagging(ctxTimeout(t, time.Minute), &s3.PutObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(victim),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("keep"), Value: aws.String("me")}}}}); err != nil {
			t.Fatalf("PutObjectTagging: %v", err)
		}
		for name, body := range map[string]string{
			"truncated": "<Tagging><TagSet><Tag><Key>a</Key>",
			"not XML":   "a=b",
		} {
			r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: victim, RawQuery: "tagging=", Body: []byte(body),
				Header: http.Header{"Content-Md5": {contentMD5([]byte(body))}}})
			wantRaw(t, "PutObjectTagging with a "+name+" body", r, http.StatusBadRequest, "MalformedXML")
		}
		huge := "<Tagging><TagSet><Tag><Key>k</Key><Value>" + strings.Repeat("v", 2<<20) + "</Value></Tag></TagSet></Tagging>"
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: victim, RawQuery: "tagging=", Body: []byte(huge),
			Header: http.Header{"Content-Md5": {contentMD5([]byte(huge))}}})
		if r.Status != http.StatusBadRequest || r.Err.Code == "" {
			t.Errorf("PutObjectTagging with a 2 MiB body: %s; want 400 with an S3 error code", r)
		}
		if got := b.tags(victim); fmt.Sprint(got) != "map[keep:me]" {
			t.Errorf("tags after refused PutObjectTagging: %v, want map[keep:me]", got)
		}

		// CreateBucket.
		nb := bucketName(b.backend, "xml")
		body := "<CreateBucketConfiguration><LocationConstraint>" + b.backend
		r = b.do(rawReq{Method: "PUT", Bucket: nb, Body: []byte(body)})
		wantRaw(t, "CreateBucket with a truncated configuration", r, http.StatusBadRequest, "MalformedXML")
		if _, err := b.s3.HeadBucket(ctxTimeout(t, time.Minute), &s3.HeadBucketInput{Bucket: aws.String(nb)}); err == nil {
			t.Errorf("the bucket %s exists after a refused CreateBucket", nb)
			_ = removeBucket(nb)
		}
	})
}

func TestBadInputArguments(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		key := b.key("parts")
		id := b.createUpload(key)
		for _, pn := range []string{"0", "10001", "x", "-1", "1.5", ""} {
			r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: key, RawQuery: "partNumber=" + pn + "&uploadId=" + id, Body: []byte("data")})
			wantRaw(t, "UploadPart partNumber="+pn, r, http.StatusBadRequest, "InvalidArgument")
		}
		r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: key, RawQuery: "partNumber=1&uploadId=no-such-upload-" + randHex(8), Body: []byte("data")})
		wantRaw(t, "UploadPart to an unknown upload ID", r, http.StatusNotFound, "NoSuchUpload")
		r = b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, RawQuery: "uploadId=no-such-upload-" + randHex(8)})
		wantRaw(t, "ListParts of an unknown upload ID", r, http.StatusNotFound, "NoSuchUpload")
		r = b.do(rawReq{Method: "DELETE", Bucket: b.bucket, Key: key, RawQuery: "uploadId=no-such-upload-" + randHex(8)})
		wantRaw(t, "AbortMultipartUpload of an unknown upload ID", r, http.StatusNotFound, "NoSuchUpload")
		lp, err := b.s3.ListParts(ctxTimeout(t, time.Minute), &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(key), UploadId: aws.String(id)})
		if err != nil || len(lp.Parts) != 0 {
			t.Errorf("ListParts after refused UploadParts: %v, %d parts; want none", err, len(lp.Parts))
		}

		for _, mk := range []string{"abc", "-1"} {
			r := b.do(rawReq{Method: "GET", Bucket: b.bucket, RawQuery: "list-type=2&max-keys=" + mk})
			wantRaw(t, "ListObjectsV2 max-keys="+mk, r, http.StatusBadRequest, "InvalidArgument")
		}

		// Ranges.
		data := []byte("0123456789")
		rk := b.key("range")
		b.mustPut(rk, data)
		for _, rng := range []string{"bytes=10-", "bytes=10-20", "bytes=-0", "bytes=100-200"} {
			r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: rk, Header: http.Header{"Range": {rng}}})
			wantRaw(t, "GET Range "+rng+" of a 10-byte object", r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
		}
		// A syntactically invalid Range is ignored (RFC 9110) or refused; it
		// never yields a partial or wrong body.
		for _, rng := range []string{"bytes=5-2", "bytes=abc", "items=0-1", "bytes=--1", "bytes=1-2-3"} {
			r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: rk, Header: http.Header{"Range": {rng}}})
			switch {
			case r.Status == http.StatusOK && bytes.Equal(r.Body, data):
			case r.Status == http.StatusRequestedRangeNotSatisfiable && r.Err.Code == "InvalidRange":
			case r.Status == http.StatusBadRequest && r.Err.Code == "InvalidArgument":
			default:
				t.Errorf("GET Range %q: %s; want the whole object (200), 416 InvalidRange or 400 InvalidArgument", rng, r)
			}
		}
	})
}

func TestBadInputAuth(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		key := b.key("auth")
		b.mustPut(key, []byte("secret data"))
		wrong := aws.Credentials{AccessKeyID: env.accessKey, SecretAccessKey: env.secretKey + "x"}
		unknown := aws.Credentials{AccessKeyID: "AKIANOSUCHKEY" + strings.ToUpper(randHex(4)), SecretAccessKey: env.secretKey}

		wantRaw(t, "GET signed with a wrong secret", b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, Creds: &wrong}), http.StatusForbidden, "SignatureDoesNotMatch")
		wantRaw(t, "PUT signed with a wrong secret", b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: b.key("auth-wrong"), Body: []byte("x"), Creds: &wrong}), http.StatusForbidden, "SignatureDoesNotMatch")
		b.wantAbsent(b.key("auth-wrong"))
		wantRaw(t, "GET with an unknown access key", b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, Creds: &unknown}), http.StatusForbidden, "InvalidAccessKeyId")
		wantRaw(t, "ListBuckets with an unknown access key", b.do(rawReq{Method: "GET", Creds: &unknown}), http.StatusForbidden, "InvalidAccessKeyId")

		tamper := func(req *http.Request) { req.Header.Set("X-Amz-Meta-Owner", "mallory") }
		wantRaw(t, "PUT whose signed x-amz-meta header was changed after signing",
			b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: b.key("auth-tampered"), Body: []byte("x"), Header: http.Header{"X-Amz-Meta-Owner": {"alice"}}, AfterSign: tamper}),
			http.StatusForbidden, "SignatureDoesNotMatch")
		b.wantAbsent(b.key("auth-tampered"))
		wantRaw(t, "GET whose query was changed after signing",
			b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, AfterSign: func(r *http.Request) { r.URL.RawQuery = "response-content-type=text%2Fhtml" }}),
			http.StatusForbidden, "SignatureDoesNotMatch")

		for _, skew := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
			r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, Time: time.Now().Add(skew)})
			wantRaw(t, fmt.Sprintf("GET signed with the clock %v off", skew), r, http.StatusForbidden, "RequestTimeTooSkewed")
		}
		r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: b.key("auth-skewed"), Body: []byte("x"), Time: time.Now().Add(-time.Hour)})
		wantRaw(t, "PUT signed an hour ago", r, http.StatusForbidden, "RequestTimeTooSkewed")
		b.wantAbsent(b.key("auth-skewed"))
		// Within 15 minutes is fine.
		if r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, Time: time.Now().Add(-5 * time.Minute)}); r.Status != http.StatusOK {
			t.Errorf("GET signed 5 minutes ago: %s, want 200", r)
		}

		for what, req := range map[string]rawReq{
			"anonymous GET object":   {Method: "GET", Bucket: b.bucket, Key: key, Anonymous: true},
			"anonymous HEAD object":  {Method: "HEAD", Bucket: b.bucket, Key: key, Anonymous: true},
			"anonymous ListObjects":  {Method: "GET", Bucket: b.bucket, Anonymous: true},
			"anonymous ListBuckets":  {Method: "GET", Anonymous: true},
			"anonymous PUT object":   {Method: "PUT", Bucket: b.bucket, Key: b.key("auth-anon"), Body: []byte("x"), Anonymous: true},
			"anonymous DELETE":       {Method: "DELETE", Bucket: b.bucket, Key: key, Anonymous: true},
			"anonymous CreateBucket": {Method: "PUT", Bucket: bucketName(b.backend, "anon"), Anonymous: true},
		} {
			r := b.do(req)
			if req.Method == "HEAD" {
				wantRaw(t, what, r, http.StatusForbidden)
			} else {
				wantRaw(t, what, r, http.StatusForbidden, "AccessDenied")
			}
		}
		b.wantAbsent(b.key("auth-anon"))
		b.wantContent(key, []byte("secret data"))

		for what, auth := range map[string]string{
			"garbage":             "garbage",
			"no credential":       "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
			"short credential":    "AWS4-HMAC-SHA256 Credential=AKIA/20200101, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
			"unsupported version": "AWS3-HTTPS AWSAccessKeyId=" + env.accessKey + ",Algorithm=HmacSHA256,Signature=x",
		} {
			r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, AfterSign: func(r *http.Request) { r.Header.Set("Authorization", auth) }})
			if (r.Status != http.StatusBadRequest && r.Status != http.StatusForbidden) || r.Err.Code == "" {
				t.Errorf("GET with a %s Authorization header: %s; want 400 or 403 with an S3 error code", what, r)
			}
		}
	})
}

func TestBadInputIntegrity(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		data := randBytes(91, 70000)
		other := randBytes(92, 70000)

		// Content-MD5.
		k := b.key("md5-wrong")
		r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: k, Body: data, Header: http.Header{"Content-Md5": {contentMD5(other)}}})
		wantRaw(t, "PUT with a wrong Content-MD5", r, http.StatusBadRequest, "BadDigest")
		b.wantAbsent(k)
		for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
			r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: k, Body: data, Header: http.Header{"Content-Md5": {bad}}})
			wantRaw(t, fmt.Sprintf("PUT with Content-MD5 %q", bad), r, http.StatusBadRequest, "InvalidDigest")
			b.wantAbsent(k)
		}
		if r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: k, Body: data, Header: http.Header{"Content-Md5": {contentMD5(data)}}}); r.Status != http.StatusOK {
			t.Errorf("PUT with the right Content-MD5: %s", r)
		}
		// A failed overwrite keeps the previous object.
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: k, Body: other, Header: http.Header{"Content-Md5": {contentMD5(data)}}})
		wantRaw(t, "overwrite with a wrong Content-MD5", r, http.StatusBadRequest, "BadDigest")
		b.wantContent(k, data)

		// x-amz-checksum-*.
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
			ck := b.key("checksum-wrong-" + string(alg))
			h := "X-Amz-Checksum-" + string(alg)
			r := b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: ck, Body: data, Header: http.Header{h: {checksumB64(alg, other)}}})
			wantRaw(t, "PUT with a wrong "+strings.ToLower(h), r, http.StatusBadRequest, "BadDigest")
			b.wantAbsent(ck)
			r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: ck, Body: data, Header: http.Header{h: {"!!notbase64"}}})
			if r.Status != http.StatusBadRequest {
				t.Errorf("PUT with a malformed %s: %s; want 400", strings.ToLower(h), r)
			}
			b.wantAbsent(ck)
		}

		// x-amz-content-sha256 that does not match the body.
		sk := b.key("sha256-wrong")
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: sk, Body: data, PayloadHash: sha256Hex(other)})
		wantRaw(t, "PUT whose signed x-amz-content-sha256 does not match the body", r, http.StatusBadRequest, "XAmzContentSHA256Mismatch")
		b.wantAbsent(sk)
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: sk, Body: data, PayloadHash: "not-a-hash"})
		if r.Status != http.StatusBadRequest && r.Status != http.StatusForbidden {
			t.Errorf("PUT with x-amz-content-sha256 \"not-a-hash\": %s; want 400 or 403", r)
		}
		b.wantAbsent(sk)

		// UploadPart with a wrong Content-MD5 stores no part.
		pk := b.key("part-md5")
		id := b.createUpload(pk)
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: pk, RawQuery: "partNumber=1&uploadId=" + id, Body: data, Header: http.Header{"Content-Md5": {contentMD5(other)}}})
		wantRaw(t, "UploadPart with a wrong Content-MD5", r, http.StatusBadRequest, "BadDigest")
		lp, err := b.s3.ListParts(ctxTimeout(t, time.Minute), &s3.ListPartsInput{Bucket: aws.String(b.bucket), Key: aws.String(pk), UploadId: aws.String(id)})
		if err != nil || len(lp.Parts) != 0 {
			t.Errorf("ListParts after a refused UploadPart: %v, %d parts; want none", err, len(lp.Parts))
		}

		// Expect: 100-continue is honoured.
		ek := b.key("expect-continue")
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: ek, Body: data, Header: http.Header{"Expect": {"100-continue"}}})
		if r.Status != http.StatusOK {
			t.Errorf("PUT with Expect: 100-continue: %s", r)
		}
		b.wantContent(ek, data)
	})
}

// chunkedPut sends data as STREAMING-AWS4-HMAC-SHA256-PAYLOAD with 64 KiB
// chunks. keep >= 0 truncates the encoded body to keep bytes (Content-Length
// says so too), tamper corrupts the last data chunk's signature, and
// decoded overrides x-amz-decoded-content-length.
func (b *bctx) chunkedPut(key string, data []byte, keep int, tamper bool, decoded int) rawResp {
	b.t.Helper()
	const chunk = 64 << 10
	sizes := chunkSizes(len(data), chunk)
	length := signedChunkedLen(sizes)
	if keep >= 0 {
		length = keep
	}
	now := time.Now()
	req := b.build(rawReq{Method: "PUT", Bucket: b.bucket, Key: key, PayloadHash: streamingSigned, Time: now,
		BodyReader: bytes.NewReader(nil), ContentLength: int64(length),
		Header: http.Header{"Content-Encoding": {"aws-chunked"}, "X-Amz-Decoded-Content-Length": {strconv.Itoa(decoded)}}})
	enc := encodeSignedChunks(data, chunk, newChunkSigner(env.secretKey, now, seedSignature(req)))
	if len(enc) != signedChunkedLen(sizes) {
		b.t.Fatalf("aws-chunked encoder: %d bytes, computed %d", len(enc), signedChunkedLen(sizes))
	}
	if tamper {
		// The signature of the last data chunk: the second ";chunk-signature=" from the end.
		i := bytes.LastIndex(enc[:bytes.LastIndex(enc, []byte(";chunk-signature="))], []byte(";chunk-signature="))
		p := i + len(";chunk-signature=")
		enc[p] ^= 1 // '0'..'f' stays printable
	}
	if keep >= 0 {
		enc = enc[:keep]
	}
	req.Body = io.NopCloser(bytes.NewReader(enc))
	req.GetBody = nil
	return b.send(req)
}

func TestBadInputAWSChunked(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		data := randBytes(93, 150000) // three chunks: 64 KiB, 64 KiB, 18928 bytes

		ok := b.key("chunked-ok")
		if r := b.chunkedPut(ok, data, -1, false, len(data)); r.Status != http.StatusOK || r.Header.Get("ETag") != quoted(md5Hex(data)) {
			t.Fatalf("PUT with valid signed chunks: %s, ETag %s (the encoder itself is checked here)", r, r.Header.Get("ETag"))
		}
		b.wantContent(ok, data)

		// An empty object in aws-chunked form: Content-Length counts the
		// encoding (the final chunk), the object must have 0 bytes.
		empty := b.key("chunked-empty")
		if r := b.chunkedPut(empty, nil, -1, false, 0); r.Status != http.StatusOK {
			t.Errorf("PUT of 0 bytes with signed chunks: %s", r)
		}
		b.wantContent(empty, []byte{})

		k := b.key("chunked-tampered")
		wantRaw(t, "signed chunks with one bad chunk signature", b.chunkedPut(k, data, -1, true, len(data)), http.StatusForbidden, "SignatureDoesNotMatch")
		b.wantAbsent(k)

		k = b.key("chunked-truncated")
		firstTwo := signedChunkedLen([]int{64 << 10, 64 << 10}) - signedChunkedLen(nil)
		r := b.chunkedPut(k, data, firstTwo+100, false, len(data)) // cut inside the third chunk's header/data
		if r.Status != http.StatusBadRequest || !contains([]string{"IncompleteBody", "InvalidRequest"}, r.Err.Code) {
			t.Errorf("truncated aws-chunked body: %s; want 400 IncompleteBody", r)
		}
		b.wantAbsent(k)

		k = b.key("chunked-no-final")
		r = b.chunkedPut(k, data, signedChunkedLen(chunkSizes(len(data), 64<<10))-signedChunkedLen(nil), false, len(data)) // every data chunk, no final chunk
		if r.Status != http.StatusBadRequest || !contains([]string{"IncompleteBody", "InvalidRequest"}, r.Err.Code) {
			t.Errorf("aws-chunked body without the final chunk: %s; want 400 IncompleteBody", r)
		}
		b.wantAbsent(k)

		k = b.key("chunked-decoded-mismatch")
		r = b.chunkedPut(k, data, -1, false, len(data)+1000)
		if r.Status != http.StatusBadRequest || !contains([]string{"IncompleteBody", "InvalidRequest"}, r.Err.Code) {
			t.Errorf("aws-chunked body shorter than x-amz-decoded-content-length: %s; want 400 IncompleteBody", r)
		}
		b.wantAbsent(k)

		// STREAMING-UNSIGNED-PAYLOAD-TRAILER, correct and wrong trailer.
		trailerReq := func(key, value string) rawResp {
			body := encodeUnsignedTrailer(data, 64<<10, "x-amz-checksum-crc32", value)
			return b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: key, Body: body, PayloadHash: streamingUnsignedTrail,
				Header: http.Header{"Content-Encoding": {"aws-chunked"}, "X-Amz-Decoded-Content-Length": {strconv.Itoa(len(data))},
					"X-Amz-Trailer": {"x-amz-checksum-crc32"}, "X-Amz-Sdk-Checksum-Algorithm": {"CRC32"}}})
		}
		k = b.key("trailer-ok")
		if r := trailerReq(k, checksumB64(types.ChecksumAlgorithmCrc32, data)); r.Status != http.StatusOK {
			t.Fatalf("PUT with a correct unsigned trailer: %s", r)
		}
		b.wantContent(k, data)
		k = b.key("trailer-empty")
		body := encodeUnsignedTrailer(nil, 64<<10, "x-amz-checksum-crc32", checksumB64(types.ChecksumAlgorithmCrc32, nil))
		r = b.do(rawReq{Method: "PUT", Bucket: b.bucket, Key: k, Body: body, PayloadHash: streamingUnsignedTrail,
			Header: http.Header{"Content-Encoding": {"aws-chunked"}, "X-Amz-Decoded-Content-Length": {"0"}, "X-Amz-Trailer": {"x-amz-checksum-crc32"}}})
		if r.Status != http.StatusOK {
			t.Errorf("PUT of 0 bytes with an unsigned trailer: %s", r)
		}
		b.wantContent(k, []byte{})
		k = b.key("trailer-wrong")
		wantRaw(t, "unsigned trailer with a wrong x-amz-checksum-crc32", trailerReq(k, checksumB64(types.ChecksumAlgorithmCrc32, other(data))), http.StatusBadRequest, "BadDigest")
		b.wantAbsent(k)

		// A plain PUT whose client stops sending half-way and half-closes.
		k = b.key("tcp-truncated")
		req := b.build(rawReq{Method: "PUT", Bucket: b.bucket, Key: k, PayloadHash: unsignedPayload, BodyReader: bytes.NewReader(data[:50000]), ContentLength: int64(len(data))})
		conn, err := net.DialTimeout("tcp", env.host, 10*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		_ = req.Write(conn) // fails after the 50000 bytes: the body is short
		_ = conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("PUT whose body stopped at 50000 of %d bytes: %s %s; want a 4xx (IncompleteBody)", len(data), resp.Status, body)
			}
		}
		b.wantAbsent(k)
	})
}

func other(b []byte) []byte {
	o := append([]byte(nil), b...)
	o[0] ^= 0xff
	return o
}

func TestUnknownOperations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		key := b.key("unknown-ops")
		b.mustPut(key, []byte("x"))
		for _, c := range []struct{ method, key, query string }{
			{"GET", "", "acl="},
			{"PUT", "", "acl="},
			{"GET", key, "acl="},
			{"PUT", key, "acl="},
			{"GET", "", "versioning="},
			{"PUT", "", "versioning="},
			{"GET", "", "lifecycle="},
			{"PUT", "", "lifecycle="},
			{"GET", "", "policy="},
			{"PUT", "", "policy="},
			{"GET", "", "cors="},
			{"GET", "", "versions="},
			{"GET", "", "website="},
			{"GET", "", "encryption="},
			{"GET", "", "object-lock="},
			{"GET", "", "replication="},
			{"GET", "", "notification="},
			{"GET", key, "retention="},
			{"GET", key, "legal-hold="},
			{"POST", key, "restore="},
			{"POST", key, "select=&select-type=2"},
			{"GET", key, "torrent="},
			{"GET", key, "attributes="},
		} {
			r := b.do(rawReq{Method: c.method, Bucket: b.bucket, Key: c.key, RawQuery: c.query})
			wantRaw(t, fmt.Sprintf("%s ?%s on %s", c.method, c.query, map[bool]string{true: "the bucket", false: "an object"}[c.key == ""]), r, http.StatusNotImplemented, "NotImplemented")
		}
		// The object and bucket are untouched by the refused operations.
		b.wantContent(key, []byte("x"))
		r := b.do(rawReq{Method: "PATCH", Bucket: b.bucket, Key: key, Body: []byte("y")})
		if (r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusNotImplemented) || r.Err.Code == "" {
			t.Errorf("PATCH of an object: %s; want 405 MethodNotAllowed or 501 NotImplemented", r)
		}
		b.wantContent(key, []byte("x"))
	})
}
