package blackbox

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/crc64nvme"
)

var hexSHA256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checksumB64 is the base64 S3 checksum of data with algorithm alg.
func checksumB64(alg types.ChecksumAlgorithm, data []byte) string {
	var sum []byte
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		sum = binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	case types.ChecksumAlgorithmCrc32c:
		sum = binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	case types.ChecksumAlgorithmCrc64nvme:
		h := crc64nvme.New()
		h.Write(data)
		sum = h.Sum(nil)
	case types.ChecksumAlgorithmSha1:
		s := sha1.Sum(data)
		sum = s[:]
	case types.ChecksumAlgorithmSha256:
		s := sha256.Sum256(data)
		sum = s[:]
	default:
		panic("unknown checksum algorithm " + alg)
	}
	return base64.StdEncoding.EncodeToString(sum)
}

// checksumOf returns the checksum field of GetObject/HeadObject output for alg.
func checksumOf(alg types.ChecksumAlgorithm, crc32v, crc32c, crc64, sha1v, sha256v *string) string {
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		return aws.ToString(crc32v)
	case types.ChecksumAlgorithmCrc32c:
		return aws.ToString(crc32c)
	case types.ChecksumAlgorithmCrc64nvme:
		return aws.ToString(crc64)
	case types.ChecksumAlgorithmSha1:
		return aws.ToString(sha1v)
	case types.ChecksumAlgorithmSha256:
		return aws.ToString(sha256v)
	}
	return ""
}

var allChecksums = []types.ChecksumAlgorithm{
	types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1,
	types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme,
}

// tlsSDK returns an SDK client addressed to https:// whose requests travel
// over plain HTTP: the SDK then uses what it does over TLS (trailing
// checksums in STREAMING-UNSIGNED-PAYLOAD-TRAILER), as against an HTTPS
// gateway. Its recorder is returned too.
func (b *bctx) tlsSDK(opts ...func(*s3.Options)) (*s3.Client, *recorder) {
	rec := &recorder{}
	ct := &checkTransport{t: b.t, base: baseTransport, rec: rec, httpsToHTTP: true}
	all := append([]func(*s3.Options){func(o *s3.Options) { o.BaseEndpoint = aws.String("https://" + env.host) }}, opts...)
	return newS3Client(ct, all...), rec
}

func whenRequired(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

func unsignedPayloadOpt(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// TestSDKPayloadModes uploads with every payload mode and checksum dialect
// the AWS SDK for Go v2 can produce, proves from the recorded request that
// the mode was really used, and reads the object and its checksum back.
func TestSDKPayloadModes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		type mode struct {
			name     string
			client   *s3.Client
			rec      *recorder
			alg      types.ChecksumAlgorithm // requested, or "" for the client's default
			unseek   bool                    // body is a plain io.Reader with ContentLength
			wantHash func(string) bool       // x-amz-content-sha256 the SDK must have sent
			wantSum  types.ChecksumAlgorithm // checksum the SDK must have sent (header or trailer)
			trailer  bool                    // the checksum travels as a trailer
		}
		isHex := func(s string) bool { return hexSHA256RE.MatchString(s) }
		is := func(v string) func(string) bool { return func(s string) bool { return s == v } }
		var modes []mode
		modes = append(modes,
			mode{name: "default-http", client: b.s3, rec: b.rec, wantHash: isHex, wantSum: types.ChecksumAlgorithmCrc32},
			mode{name: "signed-payload", client: b.sdk(whenRequired), rec: b.rec, wantHash: isHex},
			mode{name: "unsigned-payload", client: b.sdk(whenRequired, unsignedPayloadOpt), rec: b.rec, wantHash: is(unsignedPayload)},
		)
		tc, trec := b.tlsSDK()
		modes = append(modes,
			mode{name: "default-tls", client: tc, rec: trec, wantHash: is(streamingUnsignedTrail), wantSum: types.ChecksumAlgorithmCrc32, trailer: true},
			mode{name: "default-tls-unseekable", client: tc, rec: trec, unseek: true, wantHash: is(streamingUnsignedTrail), wantSum: types.ChecksumAlgorithmCrc32, trailer: true},
		)
		tcu, turec := b.tlsSDK(whenRequired)
		modes = append(modes, mode{name: "unsigned-payload-tls", client: tcu, rec: turec, wantHash: is(unsignedPayload)})
		for _, alg := range allChecksums {
			modes = append(modes,
				mode{name: "header-" + string(alg), client: b.s3, rec: b.rec, alg: alg, wantHash: isHex, wantSum: alg},
				mode{name: "trailer-" + string(alg), client: tc, rec: trec, alg: alg, wantHash: is(streamingUnsignedTrail), wantSum: alg, trailer: true},
			)
		}
		for i, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				ctx := ctxTimeout(t, 2*time.Minute)
				for _, size := range []int{0, 300*1024 + 5} {
					key := b.key(fmt.Sprintf("%s-%d", m.name, size))
					data := randBytes(uint64(1000+i*7+size%7), size)
					if m.rec != nil {
						m.rec.reset()
					}
					in := &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: bytes.NewReader(data), ChecksumAlgorithm: m.alg}
					if m.unseek {
						in.Body = io.MultiReader(bytes.NewReader(data))
						in.ContentLength = aws.Int64(int64(size))
					}
					put, err := m.client.PutObject(ctx, in)
					if err != nil {
						t.Errorf("PutObject %d bytes: %v", size, err)
						continue
					}
					if aws.ToString(put.ETag) != quoted(md5Hex(data)) {
						t.Errorf("PutObject %d bytes: ETag %s, want %s", size, aws.ToString(put.ETag), quoted(md5Hex(data)))
					}
					// Which checksum reached the gateway: the SDK sends none for
					// an empty body unless one is asked for, and never a
					// trailer for an empty body.
					sum := m.wantSum
					if m.rec != nil {
						puts := m.rec.find("PUT")
						if len(puts) != 1 {
							t.Fatalf("recorded %d PUT requests, want 1", len(puts))
						}
						h := puts[0].Header
						name := "x-amz-checksum-" + strings.ToLower(string(m.wantSum))
						switch got := h.Get("X-Amz-Content-Sha256"); {
						case size == 0:
							if h.Get(name) == "" {
								sum = ""
							}
						case m.wantHash != nil && !m.wantHash(got):
							t.Fatalf("the SDK sent x-amz-content-sha256 %q: this mode was not exercised", got)
						case m.wantSum == "":
						case m.trailer:
							if got := h.Get("X-Amz-Trailer"); !strings.EqualFold(got, name) {
								t.Fatalf("the SDK sent x-amz-trailer %q, want %q: this mode was not exercised", got, name)
							}
						default:
							if got := h.Get(name); got != checksumB64(m.wantSum, data) {
								t.Fatalf("the SDK sent %s: %q, want %q", name, got, checksumB64(m.wantSum, data))
							}
						}
					}
					head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
					if err != nil {
						t.Errorf("HeadObject: %v", err)
						continue
					}
					if aws.ToInt64(head.ContentLength) != int64(size) {
						t.Errorf("HeadObject: Content-Length %d, want %d (the decoded length, not the aws-chunked one)", aws.ToInt64(head.ContentLength), size)
					}
					b.wantContent(key, data)
					if sum != "" {
						got := checksumOf(sum, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256)
						if want := checksumB64(sum, data); got != want {
							t.Errorf("HeadObject x-amz-checksum-mode ENABLED: %s %q, want %q (stored from the upload)", sum, got, want)
						}
					}
				}
			})
		}
	})
}

func TestSDKChecksumMode(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		ctx := ctxTimeout(t, 2*time.Minute)
		data := randBytes(41, 200000)
		key := b.key("sum")
		alg := types.ChecksumAlgorithmCrc32c
		if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: bytes.NewReader(data), ChecksumAlgorithm: alg}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		want := checksumB64(alg, data)
		get, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("GetObject ChecksumMode ENABLED: %v", err)
		}
		body, err := io.ReadAll(get.Body) // the SDK validates the checksum while reading
		get.Body.Close()
		if err != nil || !bytes.Equal(body, data) {
			t.Errorf("GetObject ChecksumMode ENABLED: %d bytes, %v", len(body), err)
		}
		if aws.ToString(get.ChecksumCRC32C) != want {
			t.Errorf("GetObject ChecksumMode ENABLED: CRC32C %q, want %q", aws.ToString(get.ChecksumCRC32C), want)
		}
		// Ranged GET: never the whole-object checksum.
		rg, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled, Range: aws.String("bytes=10-99")})
		if err != nil {
			t.Fatalf("GetObject ranged ChecksumMode ENABLED: %v", err)
		}
		rb, _ := io.ReadAll(rg.Body)
		rg.Body.Close()
		if !bytes.Equal(rb, data[10:100]) {
			t.Errorf("ranged GET: %d bytes, want bytes 10-99", len(rb))
		}
		for name, v := range map[string]*string{"CRC32": rg.ChecksumCRC32, "CRC32C": rg.ChecksumCRC32C, "CRC64NVME": rg.ChecksumCRC64NVME, "SHA1": rg.ChecksumSHA1, "SHA256": rg.ChecksumSHA256} {
			if v != nil {
				t.Errorf("ranged GET with ChecksumMode ENABLED returned x-amz-checksum-%s %q: a whole-object checksum on a partial body", strings.ToLower(name), *v)
			}
		}
		// Without x-amz-checksum-mode the checksum is not sent.
		r := b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key})
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
			t.Fatalf("raw GET: %s", r)
		}
		if v := r.Header.Get("x-amz-checksum-crc32c"); v != "" {
			t.Errorf("GET without x-amz-checksum-mode returned x-amz-checksum-crc32c %q", v)
		}
		r = b.do(rawReq{Method: "GET", Bucket: b.bucket, Key: key, Header: http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}})
		if v := r.Header.Get("x-amz-checksum-crc32c"); v != want {
			t.Errorf("raw GET x-amz-checksum-mode ENABLED: x-amz-checksum-crc32c %q, want %q", v, want)
		}
	})
}

// nonSeeker hides Seek so the uploader cannot know the size in advance.
type nonSeeker struct{ io.Reader }

func TestSDKTransferManager(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *bctx) {
		tc, trec := b.tlsSDK()
		for _, c := range []struct {
			name   string
			client *s3.Client
			rec    *recorder
			hash   string
		}{
			{"http", b.s3, b.rec, ""},
			{"tls-trailer", tc, trec, streamingUnsignedTrail},
		} {
			t.Run(c.name, func(t *testing.T) {
				ctx := ctxTimeout(t, 5*time.Minute)
				const size = 17<<20 + 3
				data := randBytes(51, size)
				key := b.key(c.name + "/big")
				if c.rec != nil {
					c.rec.reset()
				}
				up := manager.NewUploader(c.client, func(u *manager.Uploader) { u.PartSize = 5 << 20; u.Concurrency = 3 })
				out, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: nonSeeker{bytes.NewReader(data)}})
				if err != nil {
					t.Fatalf("manager.Upload of %d bytes: %v", size, err)
				}
				var parts [][]byte
				for off := 0; off < size; off += 5 << 20 {
					parts = append(parts, data[off:min(off+5<<20, size)])
				}
				if want := quoted(multipartETag(parts...)); aws.ToString(out.ETag) != want {
					t.Errorf("manager.Upload: ETag %s, want %s", aws.ToString(out.ETag), want)
				}
				if c.hash != "" {
					ups := c.rec.find("PUT", "uploadId", "partNumber")
					if len(ups) != len(parts) {
						t.Fatalf("recorded %d UploadPart requests, want %d", len(ups), len(parts))
					}
					for _, u := range ups {
						if got := u.Header.Get("X-Amz-Content-Sha256"); got != c.hash {
							t.Fatalf("UploadPart sent x-amz-content-sha256 %q, want %q", got, c.hash)
						}
					}
				}
				head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("HeadObject: %v", err)
				}
				if aws.ToInt64(head.ContentLength) != size || aws.ToString(head.ETag) != aws.ToString(out.ETag) {
					t.Errorf("HeadObject: %d bytes ETag %s; want %d bytes ETag %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), size, aws.ToString(out.ETag))
				}

				dl := manager.NewDownloader(c.client, func(d *manager.Downloader) { d.PartSize = 5 << 20; d.Concurrency = 3 })
				buf := manager.NewWriteAtBuffer(make([]byte, 0, size))
				n, err := dl.Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("manager.Download: %v", err)
				}
				if n != size || !bytes.Equal(buf.Bytes(), data) {
					t.Errorf("manager.Download: %d bytes (md5 %s), want %d (md5 %s)", n, md5Hex(buf.Bytes()), size, md5Hex(data))
				}

				// Below the part size the uploader sends one PutObject.
				small := randBytes(52, 1<<20)
				so, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key + "-small"), Body: nonSeeker{bytes.NewReader(small)}})
				if err != nil {
					t.Fatalf("manager.Upload of 1 MiB: %v", err)
				}
				if aws.ToString(so.ETag) != quoted(md5Hex(small)) {
					t.Errorf("manager.Upload of 1 MiB: ETag %s, want %s", aws.ToString(so.ETag), quoted(md5Hex(small)))
				}
				b.wantContent(key+"-small", small)
				b.deleteKeys([]string{key, key + "-small"})
			})
		}
	})
}
