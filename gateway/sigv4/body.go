package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"strings"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// Body is the decoded, verified payload of an authenticated request:
// aws-chunked framing removed, chunk and trailer signatures, the signed
// payload SHA-256, Content-MD5 and x-amz-checksum-* values checked. It
// computes the MD5 of every body (the ETag of a single-part object) unless
// SkipMD5 was called.
//
// If anything does not verify, Read returns an *s3err.Error before it
// delivers the final byte of the payload (it holds one byte back until the
// end is checked) and never io.EOF, so a backend that streams the body can
// never commit an unverified object. A Body is not safe for concurrent use.
type Body struct {
	ctx     context.Context
	src     io.Reader      // raw body or chunked decoder
	chunked *chunkedReader // nil unless aws-chunked
	raw     io.ReadCloser  // r.Body, closed by Close
	size    int64          // decoded length, -1 unknown
	n       int64          // decoded bytes read from src

	wantSHA256 []byte           // signed payload hash, nil if not verifying
	sha        hash.Hash        // running SHA-256 when wantSHA256 != nil
	wantMD5    []byte           // Content-MD5, nil if absent
	md5        md5Hasher        // nil after SkipMD5
	sum        *runningChecksum // nil if no checksum algorithm

	held     byte
	hasHeld  bool
	one      [1]byte
	verified bool
	err      error
	digest   backends.Digest
}

// runningChecksum is the one x-amz-checksum-* algorithm of a request.
type runningChecksum struct {
	alg         *checksumAlgorithm
	h           hash.Hash
	want        []byte // from the header; nil when from a trailer or not sent
	fromTrailer bool
}

// newBody assembles a Body; see Verifier.Verify for how the fields are
// chosen.
func newBody(ctx context.Context, raw io.ReadCloser, src io.Reader, chunked *chunkedReader, size int64) *Body {
	if raw == nil {
		raw = noBody{}
	}
	if src == nil {
		src = raw
	}
	return &Body{ctx: ctx, src: src, chunked: chunked, raw: raw, size: size, md5: newMD5(ctx)}
}

// newMD5 makes the ETag hasher of a body; benchmarks swap it to compare
// engines.
var newMD5 = func(ctx context.Context) md5Hasher { return newAsyncMD5(ctx) }

// noBody stands in for a missing request body.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Close() error             { return nil }

// Size returns the decoded length of the payload in bytes: Content-Length,
// or x-amz-decoded-content-length for aws-chunked bodies; -1 if unknown.
func (b *Body) Size() int64 { return b.size }

// Digest returns, after Read returned io.EOF, the MD5 of the payload (16
// bytes; nil after SkipMD5) and the S3 checksums that were verified or requested with
// x-amz-sdk-checksum-algorithm (algorithm -> base64). Before that it
// returns the zero Digest.
func (b *Body) Digest() backends.Digest {
	if !b.verified {
		return backends.Digest{}
	}
	d := backends.Digest{MD5: append([]byte(nil), b.digest.MD5...)}
	if len(b.digest.Checksums) > 0 {
		d.Checksums = make(map[string]string, len(b.digest.Checksums))
		for k, v := range b.digest.Checksums {
			d.Checksums[k] = v
		}
	}
	return d
}

// SkipMD5 stops the body from computing the MD5 of the payload, for a
// consumer that does not need it (an S3 backend that computes the ETag
// itself and is configured not to check it); Digest then has no MD5. It
// must be called before the first Read. It does nothing and returns false
// when the request carries Content-MD5, which is always verified, or after
// reading started; it returns true when the MD5 is not computed.
func (b *Body) SkipMD5() bool {
	if b.md5 == nil {
		return true
	}
	if b.wantMD5 != nil || b.n > 0 || b.hasHeld || b.verified || b.err != nil {
		return false
	}
	b.md5.Close()
	b.md5 = nil
	return true
}

// Close releases the hashing resources and closes the request body. It is
// optional: the end of the request's context releases them too.
func (b *Body) Close() error {
	if b.md5 != nil {
		b.md5.Close()
	}
	return b.raw.Close()
}

// Read implements io.Reader over the decoded payload. Verification errors
// are *s3err.Error values: IncompleteBody (body shorter or longer than
// Content-Length or x-amz-decoded-content-length, or broken aws-chunked
// framing), SignatureDoesNotMatch (a chunk or trailer signature),
// XAmzContentSHA256Mismatch, BadDigest (Content-MD5 or x-amz-checksum-*),
// InvalidRequest (a malformed trailing checksum) and MalformedTrailerError
// (a trailer not declared in x-amz-trailer, missing or malformed). Other
// transport errors pass through. Every error is returned again by later
// calls.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.verified {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	off := 0
	if b.hasHeld {
		p[0] = b.held
		off = 1
	}
	var n int
	var err error
	if off < len(p) {
		n, err = b.src.Read(p[off:])
		if n > 0 {
			if uerr := b.update(p[off : off+n]); uerr != nil {
				return 0, b.fail(uerr)
			}
		}
	} else {
		// len(p) == 1 and a byte is held: the held byte goes out only if
		// another byte follows it, or after the end was verified.
		n, err = b.src.Read(b.one[:])
		if n > 0 {
			if uerr := b.update(b.one[:1]); uerr != nil {
				return 0, b.fail(uerr)
			}
			b.held = b.one[0]
			return 1, nil
		}
	}
	total := off + n
	if err == io.EOF {
		if ferr := b.finish(); ferr != nil {
			return 0, b.fail(ferr)
		}
		b.verified = true
		b.hasHeld = false
		if total == 0 {
			return 0, io.EOF
		}
		return total, nil
	}
	if err != nil {
		return 0, b.fail(err)
	}
	if total == 0 {
		return 0, nil
	}
	b.held = p[total-1]
	b.hasHeld = true
	return total - 1, nil
}

// fail records a terminal error: a body that ends before its declared
// length is IncompleteBody; other transport errors pass through.
func (b *Body) fail(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = s3err.IncompleteBody
	}
	b.err = err
	b.hasHeld = false
	return err
}

// update feeds decoded payload bytes to the hashes.
func (b *Body) update(p []byte) error {
	b.n += int64(len(p))
	if b.chunked == nil && b.size >= 0 && b.n > b.size {
		return s3err.IncompleteBody
	}
	if b.sha != nil {
		b.sha.Write(p)
	}
	if b.sum != nil {
		b.sum.h.Write(p)
	}
	if b.md5 == nil {
		return nil
	}
	return b.md5.Write(p)
}

// finish runs every end-of-payload check, in the order AWS reports them.
func (b *Body) finish() error {
	if b.chunked == nil && b.size >= 0 && b.n != b.size {
		return s3err.IncompleteBody
	}
	if b.sha != nil && !bytes.Equal(b.sha.Sum(nil), b.wantSHA256) {
		return s3err.XAmzContentSHA256Mismatch
	}
	if b.md5 != nil {
		sum := b.md5.Sum()
		if sum == nil {
			// The request context ended while the MD5 was being computed.
			if err := b.ctx.Err(); err != nil {
				return err
			}
			return s3err.RequestTimeout
		}
		if b.wantMD5 != nil && !bytes.Equal(sum, b.wantMD5) {
			return s3err.BadDigest.With("The Content-MD5 you specified did not match what we received.")
		}
		b.digest.MD5 = sum
	}
	if c := b.sum; c != nil {
		got := c.h.Sum(nil)
		want := c.want
		if c.fromTrailer {
			v, _ := b.chunked.trailer(c.alg.header)
			w, ok := c.alg.decode(v)
			if !ok {
				return s3err.InvalidRequest.With("Value for " + c.alg.header + " trailing header is invalid.")
			}
			want = w
		}
		if want != nil && !bytes.Equal(got, want) {
			return s3err.BadDigest.With("The " + c.alg.name + " you specified did not match the calculated checksum.")
		}
		b.digest.Checksums = map[string]string{c.alg.name: base64.StdEncoding.EncodeToString(got)}
	}
	return nil
}

// decodeHexSHA256 decodes a 64-digit hex SHA-256 (either case).
func decodeHexSHA256(s string) ([]byte, bool) {
	if len(s) != 2*sha256.Size {
		return nil, false
	}
	out := make([]byte, sha256.Size)
	for i := 0; i < sha256.Size; i++ {
		h, ok1 := unhex(s[2*i])
		l, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		out[i] = h<<4 | l
	}
	return out, true
}

// StripAWSChunked removes "aws-chunked" from a Content-Encoding value, which
// is transport framing and must not be stored with the object ("aws-chunked,
// gzip" becomes "gzip"). See the Amazon S3 API Reference, PutObject.
func StripAWSChunked(contentEncoding string) string {
	if !strings.Contains(strings.ToLower(contentEncoding), "aws-chunked") {
		return contentEncoding
	}
	var keep []string
	for _, e := range strings.Split(contentEncoding, ",") {
		e = strings.TrimSpace(e)
		if e == "" || strings.EqualFold(e, "aws-chunked") {
			continue
		}
		keep = append(keep, e)
	}
	return strings.Join(keep, ",")
}
