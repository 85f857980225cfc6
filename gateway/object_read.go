package gateway

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// errInvalidPartNumber answers GetObject/HeadObject with a partNumber the
// object does not have.
var errInvalidPartNumber = s3err.InvalidPartNumber

// streamBufSize is the size in bytes of the buffers GetObject streams through.
const streamBufSize = 256 << 10

var streamBufPool = sync.Pool{New: func() any { b := make([]byte, streamBufSize); return &b }}

// rangeSpec is a parsed single-range Range header: bytes=first-last,
// bytes=first- (last < 0) or bytes=-last (suffix: the last "last" bytes).
type rangeSpec struct {
	first, last int64
	suffix      bool
}

// parseRange parses a Range header value. ok is false when the header is to
// be ignored and the whole object served, as S3 does: no header, a unit other
// than bytes, several ranges, or a syntactically invalid range (RFC 9110
// §14.2: a last position before the first makes the range invalid, not
// unsatisfiable).
func parseRange(v string) (spec rangeSpec, ok bool) {
	unit, set, found := strings.Cut(strings.TrimSpace(v), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return rangeSpec{}, false
	}
	set = strings.TrimSpace(set)
	if strings.Contains(set, ",") {
		return rangeSpec{}, false
	}
	first, last, found := strings.Cut(set, "-")
	if !found {
		return rangeSpec{}, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, ok := parseDigits(last)
		if !ok {
			return rangeSpec{}, false
		}
		return rangeSpec{last: n, suffix: true}, true
	}
	a, ok := parseDigits(first)
	if !ok {
		return rangeSpec{}, false
	}
	if last == "" {
		return rangeSpec{first: a, last: -1}, true
	}
	b, ok := parseDigits(last)
	if !ok || b < a {
		return rangeSpec{}, false
	}
	return rangeSpec{first: a, last: b}, true
}

// parseDigits parses a non-empty string of ASCII digits that fits in int64.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// resolve returns the byte range [start, start+length) the spec selects in
// an object of size bytes, the end clamped to the object; ok is false when
// the range is not satisfiable (416): it starts at or past the end, or it
// is a zero-length suffix, or the object is empty.
func (r rangeSpec) resolve(size int64) (start, length int64, ok bool) {
	if r.suffix {
		if r.last == 0 || size == 0 {
			return 0, 0, false
		}
		n := min(r.last, size)
		return size - n, n, true
	}
	if r.first >= size {
		return 0, 0, false
	}
	end := size - 1
	if r.last >= 0 && r.last < end {
		end = r.last
	}
	return r.first, end - r.first + 1, true
}

// openRange is the backend range for a non-suffix spec, before the object's
// size is known (backends clamp a length past the end).
func (r rangeSpec) openRange() backends.Range {
	if r.last < 0 || r.last == math.MaxInt64 {
		return backends.Range{Offset: r.first, Length: -1}
	}
	return backends.Range{Offset: r.first, Length: r.last - r.first + 1}
}

// responseOverrides maps the query parameters of GetObject and HeadObject
// that override response headers to those headers.
var responseOverrides = [][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// getObject streams an object or a byte range of it. See the Amazon S3 API
// Reference, GetObject, and readObject for the behaviour.
func (s *Server) getObject(rc *reqCtx) error { return s.readObject(rc, true) }

// headObject answers GetObject's headers without a body; a missing key is 404
// without a body, and "dir" is missing when only the marker "dir/" exists.
// See the Amazon S3 API Reference, HeadObject.
func (s *Server) headObject(rc *reqCtx) error { return s.readObject(rc, false) }

// readObject serves GetObject (withBody) and HeadObject:
//   - Range: bytes=a-b, a- and -n (suffix) with the end clamped to the
//     object: 206 with Content-Range; a range starting past the end (or any
//     range on an empty object) is 416 InvalidRange with
//     Content-Range: bytes */size; several ranges or an invalid range are
//     ignored and the whole object is served with 200, as S3 does.
//   - If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since with
//     S3's precedence: 412 PreconditionFailed or 304 Not Modified.
//   - response-* query parameters override the response headers.
//   - partNumber=N: documented lakegate limitation. The storage contract does
//     not record part boundaries, so N=1 of a single-part (or one-part)
//     object answers the whole object (206 with Content-Range, as S3), a
//     number beyond the object's parts is 416 InvalidPartNumber, and any
//     other part of a multipart object is NotImplemented.
//   - x-amz-checksum-mode: ENABLED returns the stored full-object checksums
//     only when the whole object is returned, never for a byte range.
//
// Content-Length is always set. The body is streamed through a pooled
// buffer; if the backend fails after the headers were sent, the connection
// is aborted so the client sees a truncated response, never a short object.
func (s *Server) readObject(rc *reqCtx, withBody bool) error {
	q := rc.r.URL.Query()
	h := rc.r.Header
	partNumber := 0
	if q.Has("partNumber") {
		n, err := strconv.Atoi(q.Get("partNumber"))
		if err != nil || n < 1 || n > backends.MaxPartNumber {
			return s3err.TooManyParts
		}
		if h.Get("Range") != "" {
			return s3err.InvalidRequest.With("Cannot specify both Range header and partNumber query parameter")
		}
		partNumber = n
	}
	spec, ranged := parseRange(h.Get("Range"))

	rd, info, err := s.openRead(rc, spec, ranged, withBody)
	if rd != nil {
		defer rd.Close()
	}
	if err != nil {
		return err
	}
	out := rc.w.Header()
	if err := checkPreconditions(h, "", info, true); err != nil {
		if errors.Is(err, s3err.NotModified) {
			out.Set("ETag", quoteETag(info.ETag))
			out.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
		}
		return err
	}
	start, length := int64(0), info.Size
	status := http.StatusOK
	switch {
	case partNumber > 0:
		if partNumber > max(info.PartsCount, 1) {
			return errInvalidPartNumber
		}
		if info.PartsCount > 1 {
			return s3err.NotImplemented.With("GetObject of one part of a multipart object is not implemented by lakegate; use a byte range")
		}
		if info.PartsCount > 0 {
			out.Set("x-amz-mp-parts-count", strconv.Itoa(info.PartsCount))
		}
		if info.Size > 0 {
			status = http.StatusPartialContent
			out.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", info.Size-1, info.Size))
		}
	case ranged:
		var ok bool
		start, length, ok = spec.resolve(info.Size)
		if !ok {
			out.Set("Content-Range", fmt.Sprintf("bytes */%d", info.Size))
			return s3err.InvalidRange
		}
		status = http.StatusPartialContent
		out.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, info.Size))
	}
	checksums := strings.EqualFold(h.Get("x-amz-checksum-mode"), "ENABLED") && !ranged
	setObjectHeaders(out, info, checksums)
	for _, o := range responseOverrides {
		if q.Has(o[0]) {
			out.Set(o[1], q.Get(o[0]))
		}
	}
	out.Set("Content-Length", strconv.FormatInt(length, 10))
	if withBody && rd == nil {
		return fmt.Errorf("get %s/%s: no reader for a satisfiable range", rc.bucket, rc.key)
	}
	rc.w.WriteHeader(status)
	if !withBody {
		return nil
	}
	return streamBody(rc, rd, length)
}

// openRead returns the object's info and, for GET, a reader positioned at
// the requested range. A range whose start is known is opened directly (one
// backend call); a suffix range, or a range the backend found past the end,
// needs the size first: Stat, then Open, retried if the object changed in
// between. When the range is not satisfiable, rd is nil and info describes
// the object for the 416 answer.
func (s *Server) openRead(rc *reqCtx, spec rangeSpec, ranged, withBody bool) (io.ReadCloser, backends.ObjectInfo, error) {
	b := rc.backend
	if !withBody {
		info, err := b.Stat(rc.ctx, rc.bucket, rc.key)
		return nil, info, err
	}
	if !ranged {
		return b.Open(rc.ctx, rc.bucket, rc.key, backends.FullRange)
	}
	for attempt := 0; attempt < 3; attempt++ {
		if !spec.suffix {
			rd, info, err := b.Open(rc.ctx, rc.bucket, rc.key, spec.openRange())
			if err == nil || !errors.Is(err, backends.ErrInvalidRange) {
				return rd, info, err
			}
		}
		info, err := b.Stat(rc.ctx, rc.bucket, rc.key)
		if err != nil {
			return nil, info, err
		}
		start, length, ok := spec.resolve(info.Size)
		if !ok {
			return nil, info, nil
		}
		rd, oinfo, err := b.Open(rc.ctx, rc.bucket, rc.key, backends.Range{Offset: start, Length: length})
		if errors.Is(err, backends.ErrInvalidRange) {
			continue // the object shrank between Stat and Open
		}
		if err != nil {
			return nil, info, err
		}
		if oinfo.ETag == info.ETag && oinfo.Size == info.Size {
			return rd, oinfo, nil
		}
		rd.Close()
	}
	return nil, backends.ObjectInfo{}, s3err.ServiceUnavailable.With("the object changed repeatedly while it was being opened; retry")
}

// streamBody copies exactly length bytes of rd to the client. A read error
// or a short object is returned (the dispatcher then aborts the connection);
// a client that goes away ends the request quietly.
//
// On plain TCP, a reader that implements io.WriterTo (posix files) writes
// itself to the response, so that its *os.File reaches net/http's ReadFrom
// and is sent with sendfile(2): about a third of the gateway's CPU per byte
// (bench/RESULTS.md). Backends' readers are already limited to the range; a
// count other than length is an error as with the buffered copy. Over TLS
// there is no sendfile and net/http's ReadFrom would copy in 32 KiB writes,
// so the pooled buffer is used.
func streamBody(rc *reqCtx, rd io.Reader, length int64) error {
	if wt, ok := rd.(io.WriterTo); ok && rc.r.TLS == nil {
		sent, err := wt.WriteTo(rc.w)
		switch {
		case err != nil && clientGone(rc, err):
			rc.log.Info("client closed the connection during the response", "err", err, "sent", sent, "length", length)
			return nil
		case err != nil:
			return fmt.Errorf("send %s/%s after %d of %d bytes: %w", rc.bucket, rc.key, sent, length, err)
		case sent < length:
			return fmt.Errorf("read %s/%s: object ended after %d of %d bytes: %w", rc.bucket, rc.key, sent, length, io.ErrUnexpectedEOF)
		case sent > length:
			return fmt.Errorf("read %s/%s: backend sent %d bytes, more than the %d of the response", rc.bucket, rc.key, sent, length)
		}
		return nil
	}
	bp := streamBufPool.Get().(*[]byte)
	defer streamBufPool.Put(bp)
	buf := *bp
	var sent int64
	for sent < length {
		chunk := buf
		if rem := length - sent; rem < int64(len(chunk)) {
			chunk = chunk[:rem]
		}
		n, rerr := rd.Read(chunk)
		if n > 0 {
			if _, werr := rc.w.Write(chunk[:n]); werr != nil {
				rc.log.Info("client closed the connection during the response", "err", werr, "sent", sent, "length", length)
				return nil
			}
			sent += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read %s/%s after %d of %d bytes: %w", rc.bucket, rc.key, sent, length, rerr)
		}
	}
	if sent < length {
		return fmt.Errorf("read %s/%s: object ended after %d of %d bytes: %w", rc.bucket, rc.key, sent, length, io.ErrUnexpectedEOF)
	}
	return nil
}

// clientGone reports whether a failed response write means the client went
// away: the request context ended, or the connection was closed or reset.
func clientGone(rc *reqCtx, err error) bool {
	return rc.ctx.Err() != nil || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrHandlerTimeout)
}
