package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/lakegate/lakegate/backends"
)

// errBodyTooLong: the body had more bytes than PutOptions.Size.
var errBodyTooLong = errors.New("body longer than declared size")

// codeSentinels maps S3 error codes returned by backends (and minio-go's
// client-side checks) to lakegate's sentinels.
var codeSentinels = map[string]error{
	"NoSuchKey":                  backends.ErrObjectNotFound,
	"NoSuchBucket":               backends.ErrBucketNotFound,
	"NoSuchUpload":               backends.ErrUploadNotFound,
	"BucketAlreadyOwnedByYou":    backends.ErrBucketExists,
	"BucketAlreadyExists":        backends.ErrBucketExists,
	"BucketNotEmpty":             backends.ErrBucketNotEmpty,
	"InvalidBucketName":          backends.ErrInvalidBucketName,
	"PreconditionFailed":         backends.ErrPreconditionFailed,
	"ConditionalRequestConflict": backends.ErrConditionalConflict,
	"InvalidPart":                backends.ErrInvalidPart,
	"InvalidPartOrder":           backends.ErrInvalidPartOrder,
	"EntityTooSmall":             backends.ErrEntityTooSmall,
	"InvalidRange":               backends.ErrInvalidRange,
	"NotImplemented":             backends.ErrNotImplemented,
	"XMinioInvalidObjectName":    backends.ErrInvalidObjectName,
	"InvalidObjectName":          backends.ErrInvalidObjectName,
	"KeyTooLongError":            backends.ErrInvalidObjectName,
	"XMinioObjectNameTooLong":    backends.ErrInvalidObjectName,
	"XMinioInvalidResourceName":  backends.ErrInvalidObjectName,
	"SlowDown":                   backends.ErrSlowDown,
	"SlowDownRead":               backends.ErrSlowDown,
	"SlowDownWrite":              backends.ErrSlowDown,
	"Throttling":                 backends.ErrSlowDown,
	"ThrottlingException":        backends.ErrSlowDown,
	"RequestLimitExceeded":       backends.ErrSlowDown,
	"RequestThrottled":           backends.ErrSlowDown,
	"TooManyRequests":            backends.ErrSlowDown,
	"ServiceUnavailable":         backends.ErrUnavailable,
	"XMinioServerNotInitialized": backends.ErrUnavailable,
}

// translate turns an error from minio-go into one that wraps a backends
// sentinel, with op, bucket and key as context. The backend's own message is
// never passed on; its error code is kept in the text for the logs. Errors
// without a sentinel (e.g. a backend InternalError or AccessDenied) come back
// as plain errors, which the gateway answers with 500.
func translate(err error, op, bucket, key string) error {
	if err == nil {
		return nil
	}
	where := "s3 " + op + " " + bucket
	if key != "" {
		where += "/" + key
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", where, err)
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && (resp.Code != "" || resp.StatusCode != 0) {
		if s, ok := codeSentinels[resp.Code]; ok {
			return fmt.Errorf("%s: backend %s: %w", where, resp.Code, s)
		}
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			return fmt.Errorf("%s: backend status %d: %w", where, resp.StatusCode, backends.ErrSlowDown)
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return fmt.Errorf("%s: backend status %d: %w", where, resp.StatusCode, backends.ErrUnavailable)
		case http.StatusNotFound:
			if key == "" {
				return fmt.Errorf("%s: backend status 404: %w", where, backends.ErrBucketNotFound)
			}
			return fmt.Errorf("%s: backend status 404: %w", where, backends.ErrObjectNotFound)
		case http.StatusPreconditionFailed:
			return fmt.Errorf("%s: backend status 412: %w", where, backends.ErrPreconditionFailed)
		case http.StatusBadRequest:
			if key != "" && strings.HasPrefix(resp.Code, "400 ") {
				// No error body: Ceph RGW refusing a key it cannot parse.
				return fmt.Errorf("%s: backend status 400: %w", where, backends.ErrInvalidObjectName)
			}
		case http.StatusRequestedRangeNotSatisfiable:
			return fmt.Errorf("%s: backend status 416: %w", where, backends.ErrInvalidRange)
		}
		return fmt.Errorf("%s: backend error %s (status %d)", where, resp.Code, resp.StatusCode)
	}
	if isNetworkError(err) {
		return fmt.Errorf("%s: %w: %s", where, backends.ErrUnavailable, networkReason(err))
	}
	return fmt.Errorf("%s: %w", where, err)
}

// isNetworkError reports whether err means the backend could not be reached
// or the connection broke: refused, reset, timed out, closed mid-response.
func isNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &oe), errors.As(err, &ne):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &ue):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "server closed") || strings.Contains(msg, "transport connection broken")
}

// networkReason is a short description of a network error for the message.
func networkReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed early"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "network error"
}

// errorCode returns the S3 error code in err, or "".
func errorCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

// isNotFound reports whether err (raw from minio-go) means a missing key
// (HEAD answers 404 without a body, so only the status is known).
func isNotFound(err error) bool {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	return resp.Code == "NoSuchKey" || resp.Code == "NoSuchBucket" || (resp.Code == "" && resp.StatusCode == http.StatusNotFound)
}
