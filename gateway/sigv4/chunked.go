package sigv4

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"

	"github.com/lakegate/lakegate/gateway/s3err"
)

// chunkMode is the aws-chunked flavour selected by x-amz-content-sha256.
type chunkMode int

const (
	// modeSigned is STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk carries a
	// chunk-signature chained from the seed signature; no trailer.
	modeSigned chunkMode = iota
	// modeSignedTrailer is STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER:
	// signed chunks, then trailing headers signed by x-amz-trailer-signature.
	modeSignedTrailer
	// modeUnsignedTrailer is STREAMING-UNSIGNED-PAYLOAD-TRAILER: plain
	// chunks, then unsigned trailing headers.
	modeUnsignedTrailer
)

func (m chunkMode) signed() bool { return m != modeUnsignedTrailer }

// Limits on the framing, so that hostile input cannot make the decoder
// buffer without bound.
const (
	maxChunkLine    = 4 << 10  // one chunk header or trailer line, bytes
	maxTrailerBytes = 16 << 10 // the whole trailer section, bytes
	maxChunkSize    = 1 << 40  // one chunk's data, bytes
	chunkBufferSize = 64 << 10 // read buffer of the decoder
)

// Errors of the aws-chunked decoder, as AWS answers them. Framing errors are
// IncompleteBody; trailer errors MalformedTrailerError, which s3err does not
// list yet.
var (
	errFraming = s3err.IncompleteBody.With("The request body terminated unexpectedly")
	errTooLong = s3err.IncompleteBody.With("The request body is longer than x-amz-decoded-content-length")
	errShort   = s3err.IncompleteBody.With("The request body is shorter than x-amz-decoded-content-length")
	// errMalformedTrailer is AWS's answer to a trailer that is not
	// well-formed, not declared in x-amz-trailer, or missing.
	errMalformedTrailer = s3err.MalformedTrailerError
	errChunkSignature   = s3err.SignatureDoesNotMatch.With("The chunk signature we calculated does not match the signature you provided.")
	errTrailerSignature = s3err.SignatureDoesNotMatch.With("The trailer signature we calculated does not match the signature you provided.")
)

// chunkSigner verifies the signature chain of a streaming signed upload:
// each chunk's signature is computed over the previous one, starting from
// the seed signature of the request. See the Amazon S3 API Reference,
// "Signature Calculations for the Authorization Header: Transferring Payload
// in Multiple Chunks (Chunked Upload) (AWS Signature Version 4)" and
// "Signature calculations for trailing headers (chunked uploads)".
type chunkSigner struct {
	key     []byte // derived signing key
	amzDate string // request timestamp, ISO 8601 basic
	scope   string // "<date>/<region>/s3/aws4_request"
	prev    string // hex signature of the previous chunk (the seed first)
}

// chunkSignature is the signature of a data chunk whose SHA-256 is sum.
func (s *chunkSigner) chunkSignature(sum []byte) string {
	sts := chunkStringToSignPrefix + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(sum)
	return signHex(s.key, sts)
}

// trailerSignature is the signature of the trailer chunk whose canonical
// form ("name:value\n" per trailing header) is canonical.
func (s *chunkSigner) trailerSignature(canonical string) string {
	sts := trailerStringToSignPrefix + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + sha256Hex(canonical)
	return signHex(s.key, sts)
}

// verify checks got against want in constant time and advances the chain.
func (s *chunkSigner) verify(want, got string) bool {
	ok := subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
	if ok {
		s.prev = want
	}
	return ok
}

// trailerField is one trailing header, name lower case.
type trailerField struct{ name, value string }

// chunkedReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n trailers \r\n
//
// In the signed modes each chunk signature is verified when the chunk ends,
// before the decoder moves on; trailers are parsed after the final chunk.
// Read returns io.EOF only after the whole body, including the trailer, was
// read and checked; every framing or signature failure is an *s3err.Error.
// See the Amazon S3 API Reference, "sigv4-streaming" and
// "sigv4-streaming-trailers".
type chunkedReader struct {
	src        *bufio.Reader
	mode       chunkMode
	signer     *chunkSigner // nil in modeUnsignedTrailer
	declared   []string     // lower-case names from x-amz-trailer
	decodedLen int64        // x-amz-decoded-content-length, -1 if unknown

	decoded   int64     // data bytes delivered
	remaining int64     // data bytes left in the current chunk
	chunkSig  string    // signature sent for the current chunk
	sha       hash.Hash // SHA-256 of the current chunk, signed modes
	inData    bool
	done      bool
	err       error
	trailers  []trailerField
}

func newChunkedReader(src io.Reader, mode chunkMode, signer *chunkSigner, declared []string, decodedLen int64) *chunkedReader {
	d := &chunkedReader{
		src:        bufio.NewReaderSize(src, chunkBufferSize),
		mode:       mode,
		signer:     signer,
		declared:   declared,
		decodedLen: decodedLen,
	}
	if mode.signed() {
		d.sha = sha256.New()
	}
	return d
}

// fail records a terminal error. Underlying EOFs mean the body ended early.
func (d *chunkedReader) fail(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errFraming
	}
	d.err = err
	return err
}

// Read implements io.Reader over the decoded payload.
func (d *chunkedReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := 0
	for n < len(p) {
		if d.done {
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
		// Return what we have rather than block on the network.
		if n > 0 && d.src.Buffered() == 0 {
			return n, nil
		}
		if !d.inData {
			if err := d.readChunkHeader(); err != nil {
				return 0, d.fail(err)
			}
			continue
		}
		want := int64(len(p) - n)
		if want > d.remaining {
			want = d.remaining
		}
		k, err := d.src.Read(p[n : n+int(want)])
		if k > 0 {
			if d.sha != nil {
				d.sha.Write(p[n : n+k])
			}
			n += k
			d.remaining -= int64(k)
			d.decoded += int64(k)
		}
		if d.remaining == 0 {
			if err := d.endChunk(); err != nil {
				return 0, d.fail(err)
			}
			continue
		}
		if err != nil {
			return 0, d.fail(err)
		}
	}
	return n, nil
}

// readLine reads one line of at most maxChunkLine bytes and returns it
// without "\n" or "\r\n". At the end of the input it returns io.EOF, with
// any partial last line.
func (d *chunkedReader) readLine() (string, error) {
	line, err := d.src.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(line) > maxChunkLine {
		return "", errFraming
	}
	s := string(line)
	if err != nil {
		return strings.TrimSuffix(s, "\r"), err
	}
	s = s[:len(s)-1]
	return strings.TrimSuffix(s, "\r"), nil
}

// parseChunkHeader parses "hex-size[;name=value...]" and returns the size and
// the chunk-signature extension ("" when absent).
func parseChunkHeader(line string) (size int64, sig string, ok bool) {
	sizeHex, ext, _ := strings.Cut(line, ";")
	if sizeHex == "" || len(sizeHex) > 16 {
		return 0, "", false
	}
	for i := 0; i < len(sizeHex); i++ {
		v, ok := unhex(sizeHex[i])
		if !ok {
			return 0, "", false
		}
		size = size<<4 | int64(v)
	}
	if size < 0 || size > maxChunkSize {
		return 0, "", false
	}
	for ext != "" {
		var e string
		e, ext, _ = strings.Cut(ext, ";")
		k, v, _ := strings.Cut(e, "=")
		if strings.TrimSpace(k) == "chunk-signature" {
			if sig != "" {
				return 0, "", false
			}
			sig = strings.TrimSpace(v)
			if sig == "" {
				return 0, "", false
			}
		}
	}
	return size, sig, true
}

func (d *chunkedReader) readChunkHeader() error {
	line, err := d.readLine()
	if err != nil {
		return errFraming
	}
	size, sig, ok := parseChunkHeader(line)
	if !ok {
		return errFraming
	}
	if d.mode.signed() && sig == "" {
		return errChunkSignature
	}
	if d.decodedLen >= 0 && size > d.decodedLen-d.decoded {
		return errTooLong
	}
	d.chunkSig = sig
	if size > 0 {
		d.remaining = size
		d.inData = true
		if d.sha != nil {
			d.sha.Reset()
		}
		return nil
	}
	// The final, empty chunk.
	if d.signer != nil {
		want := d.signer.chunkSignature(sha256Empty[:])
		if !d.signer.verify(want, sig) {
			return errChunkSignature
		}
	}
	if err := d.readTrailers(); err != nil {
		return err
	}
	if d.decodedLen >= 0 && d.decoded != d.decodedLen {
		return errShort
	}
	d.done = true
	return nil
}

var sha256Empty = sha256.Sum256(nil)

// endChunk consumes the CRLF after a chunk's data and verifies its signature.
func (d *chunkedReader) endChunk() error {
	d.inData = false
	var crlf [2]byte
	if _, err := io.ReadFull(d.src, crlf[:1]); err != nil {
		return errFraming
	}
	if crlf[0] == '\r' {
		if _, err := io.ReadFull(d.src, crlf[1:]); err != nil || crlf[1] != '\n' {
			return errFraming
		}
	} else if crlf[0] != '\n' {
		return errFraming
	}
	if d.signer != nil {
		want := d.signer.chunkSignature(d.sha.Sum(nil))
		if !d.signer.verify(want, d.chunkSig) {
			return errChunkSignature
		}
	}
	return nil
}

// readTrailers reads everything after the final chunk up to the end of the
// body: in the trailer modes, "name:value" lines (CRLF or LF terminated,
// blank lines ignored) naming exactly the trailers declared in x-amz-trailer,
// and in modeSignedTrailer the x-amz-trailer-signature line last; in
// modeSigned, only blank lines. Clients differ in the blank lines they put
// around trailers (minio-go ends a trailer with "\n\r\n"), so blank lines
// carry no meaning. See the Amazon S3 API Reference,
// "sigv4-streaming-trailers".
func (d *chunkedReader) readTrailers() error {
	total := 0
	var sig string
	haveSig := false
	for {
		line, err := d.readLine()
		if err != nil && err != io.EOF {
			return errFraming
		}
		total += len(line) + 2
		if total > maxTrailerBytes {
			return errMalformedTrailer
		}
		if line != "" {
			if perr := d.trailerLine(line, &sig, &haveSig); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			break
		}
	}
	if d.mode == modeSigned {
		return nil
	}
	if len(d.trailers) != len(d.declared) {
		return errMalformedTrailer
	}
	if d.mode == modeSignedTrailer {
		if !haveSig {
			if len(d.declared) == 0 {
				return nil
			}
			return errMalformedTrailer
		}
		var b strings.Builder
		for _, t := range d.trailers {
			b.WriteString(t.name)
			b.WriteByte(':')
			b.WriteString(t.value)
			b.WriteByte('\n')
		}
		want := d.signer.trailerSignature(b.String())
		if !d.signer.verify(want, sig) {
			return errTrailerSignature
		}
	}
	return nil
}

// trailerLine handles one non-blank trailer line.
func (d *chunkedReader) trailerLine(line string, sig *string, haveSig *bool) error {
	if d.mode == modeSigned {
		// x-amz-trailer was not used, yet the body has a trailer.
		return errMalformedTrailer
	}
	name, value, ok := strings.Cut(line, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	value = strings.TrimSpace(value)
	if !ok || name == "" {
		return errMalformedTrailer
	}
	if name == "x-amz-trailer-signature" {
		if d.mode != modeSignedTrailer || *haveSig || value == "" {
			return errMalformedTrailer
		}
		*haveSig, *sig = true, value
		return nil
	}
	if *haveSig {
		return errMalformedTrailer // data after the signature is not signed
	}
	declared := false
	for _, n := range d.declared {
		if n == name {
			declared = true
		}
	}
	if !declared {
		return errMalformedTrailer
	}
	for _, t := range d.trailers {
		if t.name == name {
			return errMalformedTrailer
		}
	}
	d.trailers = append(d.trailers, trailerField{name, value})
	return nil
}

// trailer returns the value of the trailing header name, after io.EOF.
func (d *chunkedReader) trailer(name string) (string, bool) {
	for _, t := range d.trailers {
		if t.name == name {
			return t.value, true
		}
	}
	return "", false
}
