package sigv4

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakegate/lakegate/gateway/s3err"
	"github.com/lakegate/lakegate/internal/identity"
)

// Fuzz targets for every parser of untrusted input in this package: the
// Authorization header, presigned query parameters, the aws-chunked decoder
// in its three modes, and the trailer section. Their seed corpora live in
// testdata/fuzz/<target>; TestFuzzSeedCorpus checks they are there and
// current (go test -run TestFuzzSeedCorpus -update-fuzz-seeds rewrites
// them). Run one target with, for example:
//
//	go test -run '^$' -fuzz '^FuzzChunkedDecoder$' -fuzztime 30s ./gateway/sigv4

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz seed corpora")

// fuzzSigner returns the fixed signer the fuzz targets decode with.
func fuzzSigner() *chunkSigner {
	return &chunkSigner{
		key:     deriveSigningKey("fuzz/secret+key", "20240101", "us-east-1", "s3"),
		amzDate: "20240101T000000Z",
		scope:   "20240101/us-east-1/s3/aws4_request",
		prev:    sha256Hex("seed"),
	}
}

// encodeChunked frames payload as aws-chunked with chunks of chunkSize
// bytes, as a client would: signed modes sign each chunk with s (starting
// from s.prev) and, in modeSignedTrailer, the trailer.
func encodeChunked(payload []byte, chunkSize int, mode chunkMode, s *chunkSigner, trailers []trailerField) []byte {
	var b bytes.Buffer
	sign := func(data []byte) string {
		sum := sha256.Sum256(data)
		sig := s.chunkSignature(sum[:])
		s.prev = sig
		return sig
	}
	for off := 0; off < len(payload); off += chunkSize {
		end := min(off+chunkSize, len(payload))
		chunk := payload[off:end]
		b.WriteString(strconv.FormatInt(int64(len(chunk)), 16))
		if mode.signed() {
			b.WriteString(";chunk-signature=" + sign(chunk))
		}
		b.WriteString("\r\n")
		b.Write(chunk)
		b.WriteString("\r\n")
	}
	b.WriteString("0")
	if mode.signed() {
		b.WriteString(";chunk-signature=" + sign(nil))
	}
	b.WriteString("\r\n")
	var canonical strings.Builder
	for _, t := range trailers {
		b.WriteString(t.name + ":" + t.value + "\r\n")
		canonical.WriteString(t.name + ":" + t.value + "\n")
	}
	if mode == modeSignedTrailer {
		b.WriteString("x-amz-trailer-signature:" + s.trailerSignature(canonical.String()) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// decodeAll reads d with varying read sizes.
func decodeAll(r io.Reader, sizes []byte) ([]byte, error) {
	var out []byte
	buf := make([]byte, 8192)
	for i := 0; ; i++ {
		n := 1 + int(sizes[i%len(sizes)])*37%len(buf)
		k, err := r.Read(buf[:n])
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if i > 10_000_000 {
			return out, errors.New("decoder does not progress")
		}
	}
}

// requireS3Error fails unless err is an *s3err.Error: the decoder must
// never surface a raw parsing error.
func requireS3Error(t *testing.T, err error) {
	t.Helper()
	var se *s3err.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not an *s3err.Error", err, err)
	}
}

type chunkedSeed struct {
	mode       byte
	body       []byte
	decodedLen int64
	trailer    string
}

func chunkedSeeds() []chunkedSeed {
	crc := trailerField{"x-amz-checksum-crc32", "NhCmhg=="}
	var seeds []chunkedSeed
	for _, m := range []chunkMode{modeSigned, modeSignedTrailer, modeUnsignedTrailer} {
		var trs []trailerField
		decl := ""
		if m != modeSigned {
			trs, decl = []trailerField{crc}, crc.name
		}
		for _, p := range []string{"", "hello", strings.Repeat("0123456789", 30)} {
			body := encodeChunked([]byte(p), 64, m, fuzzSigner(), trs)
			seeds = append(seeds, chunkedSeed{byte(m), body, int64(len(p)), decl})
		}
	}
	// minio-go's trailer layout ("name:value\n\r\n") and a truncated body.
	seeds = append(seeds,
		chunkedSeed{byte(modeUnsignedTrailer), []byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\n\r\n\r\n"), 5, "x-amz-checksum-crc32"},
		chunkedSeed{byte(modeUnsignedTrailer), []byte("5\r\nhel"), 5, ""},
		chunkedSeed{byte(modeUnsignedTrailer), []byte("fffffffffffffff\r\n"), -1, ""},
	)
	return seeds
}

func FuzzChunkedDecoder(f *testing.F) {
	for _, s := range chunkedSeeds() {
		f.Add(s.mode, s.body, s.decodedLen, s.trailer, []byte{3, 200, 1})
	}
	f.Fuzz(func(t *testing.T, modeByte byte, body []byte, decodedLen int64, trailer string, sizes []byte) {
		mode := chunkMode(modeByte % 3)
		if decodedLen < -1 {
			decodedLen = -1
		}
		if len(sizes) == 0 {
			sizes = []byte{0}
		}
		var declared []string
		for _, n := range strings.Split(trailer, ",") {
			if n = strings.TrimSpace(strings.ToLower(n)); n != "" {
				declared = append(declared, n)
			}
		}
		var signer *chunkSigner
		if mode.signed() {
			signer = fuzzSigner()
		}
		d := newChunkedReader(bytes.NewReader(body), mode, signer, declared, decodedLen)
		out, err := decodeAll(d, sizes)
		if err != nil {
			requireS3Error(t, err)
			return
		}
		if decodedLen >= 0 && int64(len(out)) != decodedLen {
			t.Fatalf("decoded %d bytes, x-amz-decoded-content-length %d", len(out), decodedLen)
		}
		if int64(len(out)) != d.decoded {
			t.Fatalf("delivered %d, counted %d", len(out), d.decoded)
		}
		if mode != modeSigned && len(d.trailers) != len(declared) {
			t.Fatalf("trailers %v, declared %v", d.trailers, declared)
		}
		// Whatever decoded cleanly re-encodes to a body that decodes to the
		// same payload and trailers.
		re := encodeChunked(out, 1000, mode, fuzzSigner(), d.trailers)
		var s2 *chunkSigner
		if mode.signed() {
			s2 = fuzzSigner()
		}
		d2 := newChunkedReader(bytes.NewReader(re), mode, s2, declared, decodedLen)
		out2, err := io.ReadAll(d2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("re-encoded body: %v, %d vs %d bytes", err, len(out2), len(out))
		}
	})
}

// FuzzTrailer feeds arbitrary trailer sections after a valid final chunk,
// through the whole Body so that trailer checksum values are decoded too.
func FuzzTrailer(f *testing.F) {
	for _, s := range []struct {
		section, declared string
		signed            bool
	}{
		{"x-amz-checksum-crc32:NhCmhg==\r\n\r\n", "x-amz-checksum-crc32", false},
		{"x-amz-checksum-crc32:NhCmhg==\n\r\n\r\n", "x-amz-checksum-crc32", false},
		{"x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + strings.Repeat("0", 64) + "\r\n\r\n", "x-amz-checksum-crc32c", true},
		{"x-amz-checksum-sha256:not base64\r\n\r\n", "x-amz-checksum-sha256", false},
		{":\r\n\r\n", "", false},
		{"\r\n", "", true},
	} {
		f.Add(s.section, s.declared, s.signed)
	}
	f.Fuzz(func(t *testing.T, section, declared string, signed bool) {
		mode := modeUnsignedTrailer
		if signed {
			mode = modeSignedTrailer
		}
		// A valid body up to the final chunk, then the fuzzed section.
		prefix := encodeChunked([]byte("hello"), 5, mode, fuzzSigner(), nil)
		prefix = prefix[:len(prefix)-2] // drop the closing CRLF
		if signed {
			prefix = prefix[:bytes.LastIndex(prefix, []byte("x-amz-trailer-signature:"))]
		}
		body := append(prefix, section...)

		if !signed {
			r := httptest.NewRequest("PUT", "http://gw/b/k", bytes.NewReader(body))
			r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
			r.Header.Set("X-Amz-Trailer", declared)
			r.Header.Set("X-Amz-Decoded-Content-Length", "5")
			v := &Verifier{Credentials: noCredentials{}}
			req, err := v.Verify(r)
			if err != nil {
				requireS3Error(t, err)
				return
			}
			out, err := io.ReadAll(req.Body)
			req.Body.Close()
			if err != nil {
				requireS3Error(t, err)
				return
			}
			if string(out) != "hello" {
				t.Fatalf("payload %q", out)
			}
			return
		}
		var decl []string
		if declared != "" {
			decl = strings.Split(strings.ToLower(declared), ",")
		}
		d := newChunkedReader(bytes.NewReader(body), mode, fuzzSigner(), decl, 5)
		out, err := io.ReadAll(d)
		if err != nil {
			requireS3Error(t, err)
			return
		}
		if string(out) != "hello" {
			t.Fatalf("payload %q", out)
		}
	})
}

type noCredentials struct{}

func (noCredentials) Lookup(string) (identity.Identity, string, bool) {
	return identity.Identity{}, "", false
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		"AWS4-HMAC-SHA256 Credential=AK/with/slash/20240101/eu/s3/aws4_request,SignedHeaders=host,Signature=00",
		"AWS4-HMAC-SHA256 Credential=,SignedHeaders=,Signature=",
		"AWS4-HMAC-SHA256 Signature=a, Signature=b",
		"AWS AKID:sig",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			if err.Code != "AuthorizationHeaderMalformed" {
				t.Fatalf("error code %s", err.Code)
			}
			return
		}
		if a.signature == "" || len(a.signedHeaders) == 0 || a.cred.service != serviceS3 || a.cred.accessKey == "" ||
			a.cred.region == "" || len(a.cred.date) != 8 {
			t.Fatalf("accepted incomplete fields %+v", a)
		}
		for _, h := range a.signedHeaders {
			if h == "" || strings.ToLower(h) != h {
				t.Fatalf("signed header %q", h)
			}
		}
		// Rendering the fields again parses to the same fields.
		again := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, Signature=%s",
			a.cred.accessKey, a.cred.date, a.cred.region, a.signedRaw, a.signature)
		b, err := parseAuthorization(again)
		if err != nil || b.cred != a.cred || b.signedRaw != a.signedRaw || b.signature != a.signature {
			t.Fatalf("round trip of %q: %+v %v", again, b, err)
		}
	})
}

func FuzzParsePresigned(f *testing.F) {
	for _, s := range []string{
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1",
		"X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256",
		"X-Amz-Credential=%zz",
		"list-type=2&prefix=a+b&X-Amz-Signature=",
	} {
		f.Add(s)
	}
	v := &Verifier{Credentials: noCredentials{}, Now: func() time.Time { return time.Date(2013, 5, 24, 1, 0, 0, 0, time.UTC) }}
	f.Fuzz(func(t *testing.T, q string) {
		a, err := parsePresigned(q)
		if err == nil {
			if a.expires < 0 || a.expires > maxExpires*time.Second {
				t.Fatalf("expires %v", a.expires)
			}
			if _, ok := parseAmzDate(a.amzDate); !ok {
				t.Fatalf("date %q", a.amzDate)
			}
			if a.cred.service != serviceS3 || a.signature == "" || len(a.signedHeaders) == 0 {
				t.Fatalf("incomplete %+v", a)
			}
		} else if err.Code != "AuthorizationQueryParametersError" && err.Code != "NotImplemented" {
			t.Fatalf("error code %s", err.Code)
		}
		// The whole Verify path on such a URL never panics and answers
		// with S3 errors only.
		r := httptest.NewRequest("GET", "http://gw/b/k", nil)
		r.URL.RawQuery = q
		if _, err := v.Verify(r); err != nil {
			requireS3Error(t, err)
		}
	})
}

// seedFiles renders the seed corpora in the go test fuzz v1 format.
func seedFiles() map[string]string {
	files := map[string]string{}
	add := func(target string, i int, values ...string) {
		files[filepath.Join("testdata", "fuzz", target, fmt.Sprintf("seed-%02d", i))] =
			"go test fuzz v1\n" + strings.Join(values, "\n") + "\n"
	}
	for i, s := range chunkedSeeds() {
		add("FuzzChunkedDecoder", i, fmt.Sprintf("byte(%q)", rune(s.mode)), fmt.Sprintf("[]byte(%q)", s.body),
			fmt.Sprintf("int64(%d)", s.decodedLen), fmt.Sprintf("string(%q)", s.trailer), `[]byte("\x03\xc8\x01")`)
	}
	// Signed trailer sections with a correct signature, so the fuzzer
	// starts from the accepting path.
	s := fuzzSigner()
	full := encodeChunked([]byte("hello"), 5, modeSignedTrailer, s, []trailerField{{"x-amz-checksum-crc32", "NhCmhg=="}})
	i := bytes.Index(full, []byte("x-amz-checksum-crc32:"))
	for j, sec := range []struct {
		section, declared string
		signed            bool
	}{
		{string(full[i:]), "x-amz-checksum-crc32", true},
		{"x-amz-checksum-crc32:NhCmhg==\r\n\r\n", "x-amz-checksum-crc32", false},
		{"x-amz-checksum-crc32:NhCmhg==\n\r\n\r\n", "x-amz-checksum-crc32", false},
		{"x-amz-checksum-crc32:AAAAAA==\r\n\r\n", "x-amz-checksum-crc32", false},
		{"x-amz-checksum-crc64nvme:not-base64\r\n\r\n", "x-amz-checksum-crc64nvme", false},
		{"x-amz-meta-x:1\r\n\r\n", "x-amz-checksum-crc32", false},
	} {
		add("FuzzTrailer", j, fmt.Sprintf("string(%q)", sec.section), fmt.Sprintf("string(%q)", sec.declared), fmt.Sprintf("bool(%v)", sec.signed))
	}
	for j, h := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/any-region/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
		"AWS4-HMAC-SHA256 SignedHeaders=host, Credential=A/20240101/r/s3/aws4_request, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=A/2024011/r/s3/aws4_request, SignedHeaders=Host, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=A/20240101/r/sts/aws4_request, SignedHeaders=host, Signature=ab",
	} {
		add("FuzzParseAuthorization", j, fmt.Sprintf("string(%q)", h))
	}
	for j, q := range []string{
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20130524%2Fr%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=99999999999999999999",
		"uploadId=a%2Bb&partNumber=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Algorithm=AWS4-HMAC-SHA256",
		"X-Amz-Signature=%G0",
	} {
		add("FuzzParsePresigned", j, fmt.Sprintf("string(%q)", q))
	}
	return files
}

// TestFuzzSeedCorpus checks that the checked-in seed corpora exist and match
// what seedFiles renders (signed seeds depend on this package's signing).
func TestFuzzSeedCorpus(t *testing.T) {
	for path, want := range seedFiles() {
		if *updateSeeds {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("seed corpus file %s is missing or stale (run go test -run TestFuzzSeedCorpus -update-fuzz-seeds): %v", path, err)
		}
	}
}
