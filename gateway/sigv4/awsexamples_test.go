package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The examples of the Amazon S3 API Reference: "Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk"
// (Examples: GET Object, PUT Object, GET Bucket Lifecycle, Get Bucket (List
// Objects)), "Authenticating Requests: Using Query Parameters" (presigned
// GET), "Transferring Payload in Multiple Chunks" (Example: PUT Object) and
// "Signature calculations for trailing headers" (Example). Inputs and the
// expected signatures are the documented ones; the test derives everything
// else (canonical request, signing key, chain) with this package's code.

var awsExampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func awsExampleVerifier(t *testing.T) *Verifier {
	v := newTestVerifier(t, awsExampleAK, awsExampleSK)
	v.Now = func() time.Time { return awsExampleTime.Add(3 * time.Minute) }
	return v
}

func awsAuthorization(signed, signature string) string {
	return "AWS4-HMAC-SHA256 Credential=" + awsExampleAK + "/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=" + signed + ",Signature=" + signature
}

type awsExample struct {
	name    string
	method  string
	target  string
	body    string
	headers [][2]string
	signed  string
	sig     string
}

var awsSingleChunkExamples = []awsExample{
	{
		name: "GET Object", method: "GET", target: "https://examplebucket.s3.amazonaws.com/test.txt",
		headers: [][2]string{{"Range", "bytes=0-9"}, {"x-amz-content-sha256", emptySHA256}, {"x-amz-date", "20130524T000000Z"}},
		signed:  "host;range;x-amz-content-sha256;x-amz-date",
		sig:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	},
	{
		name: "PUT Object", method: "PUT", target: "https://examplebucket.s3.amazonaws.com/test$file.text",
		body: "Welcome to Amazon S3.",
		headers: [][2]string{{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-date", "20130524T000000Z"},
			{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
			{"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}},
		signed: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
		sig:    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
	},
	{
		name: "GET Bucket Lifecycle", method: "GET", target: "https://examplebucket.s3.amazonaws.com/?lifecycle",
		headers: [][2]string{{"x-amz-date", "20130524T000000Z"}, {"x-amz-content-sha256", emptySHA256}},
		signed:  "host;x-amz-content-sha256;x-amz-date",
		sig:     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
	},
	{
		name: "Get Bucket (List Objects)", method: "GET", target: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
		headers: [][2]string{{"x-amz-date", "20130524T000000Z"}, {"x-amz-content-sha256", emptySHA256}},
		signed:  "host;x-amz-content-sha256;x-amz-date",
		sig:     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
	},
}

func (e awsExample) request() *http.Request {
	var body io.Reader
	if e.body != "" {
		body = strings.NewReader(e.body)
	}
	r := httptest.NewRequest(e.method, e.target, body)
	for _, h := range e.headers {
		r.Header.Set(h[0], h[1])
	}
	r.Header.Set("Authorization", awsAuthorization(e.signed, e.sig))
	return r
}

func TestAWSSingleChunkExamples(t *testing.T) {
	for _, e := range awsSingleChunkExamples {
		t.Run(e.name, func(t *testing.T) {
			v := awsExampleVerifier(t)
			o := verifyAndRead(v, e.request())
			if c := o.code(); c != "" {
				t.Fatalf("documented request refused: %s (%v %v)", c, o.err, o.readErr)
			}
			if string(o.body) != e.body {
				t.Fatalf("body %q, want %q", o.body, e.body)
			}
			if o.req.Identity.AccessKey != awsExampleAK || o.req.Anonymous {
				t.Fatalf("identity %+v anonymous=%v", o.req.Identity, o.req.Anonymous)
			}

			// Any change to a signed part must be refused.
			r := e.request()
			r.Header.Set("X-Amz-Date", "20130524T000001Z")
			if c := verifyAndRead(v, r).code(); c != "SignatureDoesNotMatch" {
				t.Errorf("changed x-amz-date: %q, want SignatureDoesNotMatch", c)
			}
			r = e.request()
			r.Host = "otherbucket.s3.amazonaws.com"
			if c := verifyAndRead(v, r).code(); c != "SignatureDoesNotMatch" {
				t.Errorf("changed host: %q, want SignatureDoesNotMatch", c)
			}
			r = e.request()
			r.Method = "DELETE"
			if c := verifyAndRead(v, r).code(); c != "SignatureDoesNotMatch" {
				t.Errorf("changed method: %q, want SignatureDoesNotMatch", c)
			}
		})
	}
}

func TestAWSPutObjectExampleBodyTampered(t *testing.T) {
	e := awsSingleChunkExamples[1]
	e.body = "Welcome to Amazon S4."
	v := awsExampleVerifier(t)
	r := e.request()
	o := verifyAndRead(v, r)
	if o.err != nil {
		t.Fatalf("Verify must not read the body, so it cannot know yet: %v", o.err)
	}
	if c := o.code(); c != "XAmzContentSHA256Mismatch" {
		t.Fatalf("tampered body: %q, want XAmzContentSHA256Mismatch", c)
	}
	// The bytes delivered before the error never include the last one.
	r = e.request()
	req, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(iotest.OneByteReader(req.Body))
	if err == nil || len(got) >= len(e.body) {
		t.Fatalf("read %d of %d bytes, err %v: the final byte of an unverified body was delivered", len(got), len(e.body), err)
	}
}

func TestAWSPresignedExample(t *testing.T) {
	target := "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	v := awsExampleVerifier(t)
	if c := verifyAndRead(v, httptest.NewRequest("GET", target, nil)).code(); c != "" {
		t.Fatalf("documented presigned URL refused: %s", c)
	}
	// Valid until 24 hours after X-Amz-Date, not after.
	v.Now = func() time.Time { return awsExampleTime.Add(24*time.Hour - time.Second) }
	if c := verifyAndRead(v, httptest.NewRequest("GET", target, nil)).code(); c != "" {
		t.Fatalf("presigned URL refused one second before expiry: %s", c)
	}
	v.Now = func() time.Time { return awsExampleTime.Add(24*time.Hour + time.Second) }
	if c := verifyAndRead(v, httptest.NewRequest("GET", target, nil)).code(); c != "AccessDenied" {
		t.Fatalf("expired presigned URL: %q, want AccessDenied", c)
	}
	v.Now = func() time.Time { return awsExampleTime.Add(-time.Hour) }
	if c := verifyAndRead(v, httptest.NewRequest("GET", target, nil)).code(); c != "AccessDenied" {
		t.Fatalf("presigned URL used before X-Amz-Date: %q, want AccessDenied", c)
	}
	v.Now = func() time.Time { return awsExampleTime }
	for name, tampered := range map[string]string{
		"expires":  strings.Replace(target, "X-Amz-Expires=86400", "X-Amz-Expires=86401", 1),
		"path":     strings.Replace(target, "test.txt", "test.tx", 1),
		"query":    target + "&versionId=1",
		"date":     strings.Replace(target, "T000000Z", "T000001Z", 1),
		"sig case": strings.Replace(target, "aeeed9bb", "AEEED9BB", 1),
	} {
		if c := verifyAndRead(v, httptest.NewRequest("GET", tampered, nil)).code(); c != "SignatureDoesNotMatch" {
			t.Errorf("%s tampered: %q, want SignatureDoesNotMatch", name, c)
		}
	}
}

// awsStreamingBody builds the documented chunked body: 65536 and 1024 bytes
// of 'a', the final chunk, and the trailer lines if any.
func awsStreamingBody(sigs [3]string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=" + sigs[0] + "\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 65536))
	b.WriteString("\r\n400;chunk-signature=" + sigs[1] + "\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 1024))
	b.WriteString("\r\n0;chunk-signature=" + sigs[2] + "\r\n")
	b.WriteString(trailer)
	b.WriteString("\r\n")
	return b.Bytes()
}

var (
	awsChunkSigs = [3]string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	awsTrailerChunkSigs = [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
	awsTrailer = "x-amz-checksum-crc32c:sOO8/Q==\r\n" +
		"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
)

func awsStreamingRequest(trailer bool, body []byte) *http.Request {
	r := httptest.NewRequest("PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Header.Set("x-amz-date", "20130524T000000Z")
	r.Header.Set("x-amz-storage-class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("x-amz-decoded-content-length", "66560")
	if trailer {
		r.Header.Set("x-amz-content-sha256", streamingSignedTrailer)
		r.Header.Set("x-amz-trailer", "x-amz-checksum-crc32c")
		r.Header.Set("Authorization", awsAuthorization(
			"content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
			"106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"))
	} else {
		r.Header.Set("x-amz-content-sha256", streamingSigned)
		r.Header.Set("Content-Length", "66824")
		r.Header.Set("Authorization", awsAuthorization(
			"content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
			"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"))
	}
	return r
}

func TestAWSStreamingExample(t *testing.T) {
	v := awsExampleVerifier(t)
	body := awsStreamingBody(awsChunkSigs, "")
	if len(body) != 66824 {
		t.Fatalf("documented encoded length is 66824, built %d", len(body))
	}
	o := verifyAndRead(v, awsStreamingRequest(false, body))
	if c := o.code(); c != "" {
		t.Fatalf("documented chunked upload refused: %s (%v %v)", c, o.err, o.readErr)
	}
	if !bytes.Equal(o.body, bytes.Repeat([]byte{'a'}, 66560)) {
		t.Fatalf("decoded %d bytes, want 66560 x 'a'", len(o.body))
	}
	if o.req.Body.Size() != 66560 {
		t.Fatalf("Size %d, want 66560", o.req.Body.Size())
	}
	want := md5Hex(bytes.Repeat([]byte{'a'}, 66560))
	if got := hex.EncodeToString(o.digest.MD5); got != want {
		t.Fatalf("MD5 %s, want %s", got, want)
	}

	tamper := func(name, code string, f func([]byte) []byte) {
		t.Helper()
		b := f(append([]byte(nil), body...))
		o := verifyAndRead(v, awsStreamingRequest(false, b))
		if c := o.code(); c != code {
			t.Errorf("%s: %q, want %s", name, c, code)
		}
	}
	tamper("data byte of chunk 1", "SignatureDoesNotMatch", func(b []byte) []byte { b[1000] = 'b'; return b })
	tamper("data byte of chunk 2", "SignatureDoesNotMatch", func(b []byte) []byte { b[len(b)-200] = 'b'; return b })
	tamper("final chunk signature", "SignatureDoesNotMatch", func(b []byte) []byte {
		return bytes.Replace(b, []byte(awsChunkSigs[2]), []byte(awsChunkSigs[1]), 1)
	})
	tamper("chunks swapped", "SignatureDoesNotMatch", func(b []byte) []byte {
		// Same total, different chunking: 1024 then 65536 bytes.
		var s bytes.Buffer
		s.WriteString("400;chunk-signature=" + awsChunkSigs[1] + "\r\n")
		s.Write(bytes.Repeat([]byte{'a'}, 1024))
		s.WriteString("\r\n10000;chunk-signature=" + awsChunkSigs[0] + "\r\n")
		s.Write(bytes.Repeat([]byte{'a'}, 65536))
		s.WriteString("\r\n0;chunk-signature=" + awsChunkSigs[2] + "\r\n\r\n")
		return s.Bytes()
	})
	tamper("truncated", "IncompleteBody", func(b []byte) []byte { return b[:40000] })
	tamper("final chunk missing", "IncompleteBody", func(b []byte) []byte { return b[:88+65536+2+86+1024+2] })
	tamper("trailer without x-amz-trailer", "MalformedTrailerError", func(b []byte) []byte {
		return append(b[:len(b)-2], []byte("x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n")...)
	})
}

func TestAWSStreamingTrailerExample(t *testing.T) {
	v := awsExampleVerifier(t)
	body := awsStreamingBody(awsTrailerChunkSigs, awsTrailer)
	o := verifyAndRead(v, awsStreamingRequest(true, body))
	if c := o.code(); c != "" {
		t.Fatalf("documented trailer upload refused: %s (%v %v)", c, o.err, o.readErr)
	}
	if len(o.body) != 66560 {
		t.Fatalf("decoded %d bytes", len(o.body))
	}
	// The documented CRC32C of 66560 x 'a' is what this package computes.
	if got := o.digest.Checksums["CRC32C"]; got != "sOO8/Q==" {
		t.Fatalf("CRC32C %q, want sOO8/Q==", got)
	}
	for name, c := range map[string]struct{ from, to, code string }{
		"trailer value":     {"sOO8/Q==", "sOO8/A==", "SignatureDoesNotMatch"},
		"trailer signature": {"d81f82fc", "d81f82fd", "SignatureDoesNotMatch"},
		"trailer name":      {"x-amz-checksum-crc32c:", "x-amz-checksum-crc32:", "MalformedTrailerError"},
		"no signature":      {"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n", "", "MalformedTrailerError"},
		"chunk signature":   {awsTrailerChunkSigs[1], awsChunkSigs[1], "SignatureDoesNotMatch"},
	} {
		b := bytes.Replace(body, []byte(c.from), []byte(c.to), 1)
		if got := verifyAndRead(v, awsStreamingRequest(true, b)).code(); got != c.code {
			t.Errorf("%s changed: %q, want %s", name, got, c.code)
		}
	}
	// A trailer of the right form whose checksum is wrong, signed correctly:
	// it must fail on the checksum. Re-sign the trailer with this package.
	signer := &chunkSigner{
		key:     deriveSigningKey(awsExampleSK, "20130524", "us-east-1", "s3"),
		amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request",
		prev: awsTrailerChunkSigs[2],
	}
	if got := signer.trailerSignature("x-amz-checksum-crc32c:sOO8/Q==\n"); got != "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435" {
		t.Fatalf("derived trailer signature %s differs from the documented one", got)
	}
	wrong := "x-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:" + signer.trailerSignature("x-amz-checksum-crc32c:AAAAAA==\n") + "\r\n"
	b := awsStreamingBody(awsTrailerChunkSigs, wrong)
	if got := verifyAndRead(v, awsStreamingRequest(true, b)).code(); got != "BadDigest" {
		t.Errorf("signed wrong CRC32C: %q, want BadDigest", got)
	}
	bad := "x-amz-checksum-crc32c:not base64\r\nx-amz-trailer-signature:" + signer.trailerSignature("x-amz-checksum-crc32c:not base64\n") + "\r\n"
	b = awsStreamingBody(awsTrailerChunkSigs, bad)
	if got := verifyAndRead(v, awsStreamingRequest(true, b)).code(); got != "InvalidRequest" {
		t.Errorf("signed malformed CRC32C: %q, want InvalidRequest", got)
	}
}

// TestAWSSeedSignatureDerivation checks the intermediate values the
// documentation prints for the trailer example: the string to sign of the
// seed signature and the chunk string to sign.
func TestAWSSeedSignatureDerivation(t *testing.T) {
	canonical := "PUT\n/examplebucket/chunkObject.txt\n\n" +
		"content-encoding:aws-chunked\nhost:s3.amazonaws.com\n" +
		"x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\nx-amz-date:20130524T000000Z\n" +
		"x-amz-decoded-content-length:66560\nx-amz-storage-class:REDUCED_REDUNDANCY\nx-amz-trailer:x-amz-checksum-crc32c\n\n" +
		"content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer\n" +
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	r := awsStreamingRequest(true, nil)
	signed := strings.Split("content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer", ";")
	got := canonicalRequest("PUT", canonicalURIs(r)[0], canonicalQueries(r.URL.RawQuery, "")[0],
		canonicalHeaders(r, signed), strings.Join(signed, ";"), streamingSignedTrailer)
	if got != canonical {
		t.Fatalf("canonical request\n%s\nwant\n%s", got, canonical)
	}
	sts := stringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", got)
	if !strings.HasSuffix(sts, "\n44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559") {
		t.Fatalf("string to sign %q", sts)
	}
	chunk := sha256.Sum256(bytes.Repeat([]byte{'a'}, 65536))
	if h := hex.EncodeToString(chunk[:]); h != "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a" {
		t.Fatalf("chunk hash %s", h)
	}
}
