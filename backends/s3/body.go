package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lakegate/lakegate/backends"
)

// exactReader passes exactly size bytes of r to the HTTP request and makes
// sure the request never completes unless r holds exactly size bytes: before
// it hands over the last bytes it reads r once more and fails unless r is
// at io.EOF. (net/http would send size bytes of a longer body and only then
// complain, by which time the backend has stored the object.) The first
// error from r is kept in err, so that the caller can return it instead of
// the transport's wrapper. Once ctx is done every Read fails with its error,
// so a cancelled upload cannot complete the body (net/http notices the
// cancellation asynchronously and may otherwise go on sending a body that
// is still readable, and the backend would store it).
type exactReader struct {
	ctx       context.Context
	r         io.Reader
	remaining int64
	eof       bool  // r returned io.EOF
	err       error // first failure: r's error, ctx's, io.ErrUnexpectedEOF or errBodyTooLong
}

// newExactReader returns an exactReader for size bytes of an upload made
// under ctx.
func newExactReader(ctx context.Context, r io.Reader, size int64) *exactReader {
	return &exactReader{ctx: ctx, r: r, remaining: size}
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err == nil {
		e.err = e.ctx.Err()
	}
	if e.err != nil {
		return 0, e.err
	}
	if e.remaining == 0 {
		if err := e.checkEOF(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.remaining {
		p = p[:e.remaining]
	}
	n, err := e.r.Read(p)
	e.remaining -= int64(n)
	switch {
	case err == io.EOF:
		e.eof = true
		if e.remaining > 0 {
			e.err = io.ErrUnexpectedEOF
			return 0, e.err
		}
	case err != nil:
		e.err = err
		return 0, err
	}
	if e.remaining == 0 {
		if err := e.checkEOF(); err != nil {
			return 0, err
		}
		// The last bytes complete the request: not after a cancel.
		if err := e.ctx.Err(); err != nil {
			e.err = err
			return 0, err
		}
	}
	return n, nil
}

// checkEOF reads r until it reports io.EOF, failing if it yields data.
func (e *exactReader) checkEOF() error {
	var one [1]byte
	for !e.eof {
		n, err := e.r.Read(one[:])
		if n > 0 {
			e.err = errBodyTooLong
			return e.err
		}
		if err == io.EOF {
			e.eof = true
			break
		}
		if err != nil {
			e.err = err
			return err
		}
	}
	return nil
}

// bodyError returns the error to report for a failed upload: the body's own
// error (wrapped, so callers can errors.Is it) when the body failed, else
// nil.
func (e *exactReader) bodyError(op, bucket, key string) error {
	if e.err == nil {
		return nil
	}
	if errors.Is(e.err, errBodyTooLong) || errors.Is(e.err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("s3 %s %s/%s: body length differs from the declared size: %w", op, bucket, key, e.err)
	}
	return fmt.Errorf("s3 %s %s/%s: reading body: %w", op, bucket, key, e.err)
}

// failingReadCloser translates read errors of a backend response body into
// errors that wrap backends.ErrUnavailable (the backend went away mid-stream)
// while io.EOF stays io.EOF.
type failingReadCloser struct {
	rc          io.ReadCloser
	bucket, key string
}

func (f *failingReadCloser) Read(p []byte) (int, error) {
	n, err := f.rc.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("s3 get %s/%s: reading body: %w: %w", f.bucket, f.key, backends.ErrUnavailable, err)
	}
	return n, err
}

func (f *failingReadCloser) Close() error { return f.rc.Close() }
