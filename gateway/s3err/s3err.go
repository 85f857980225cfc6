// Package s3err holds the S3 error table (code, HTTP status, message) and
// FromError, the one place where Go errors become S3 errors. See the Amazon S3
// API Reference, "Error responses", for the codes and statuses.
package s3err

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/lakegate/lakegate/backends"
)

// Error is an S3 error: an error code as AWS spells it, the HTTP status it is
// answered with, and a human-readable message. Error values are comparable
// with errors.Is by Code.
type Error struct {
	Code    string
	Status  int
	Message string
	// Detail is an optional, more specific message for this occurrence; it
	// replaces Message in the response when set.
	Detail string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Code + ": " + e.Detail
	}
	return e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e whose response message is detail.
func (e *Error) With(detail string) *Error {
	c := *e
	c.Detail = detail
	return &c
}

// ResponseMessage is the message sent to the client.
func (e *Error) ResponseMessage() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Message
}

func def(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// The S3 errors lakegate answers with.
var (
	AccessDenied                      = def("AccessDenied", http.StatusForbidden, "Access Denied")
	AuthorizationHeaderMalformed      = def("AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed.")
	AuthorizationQueryParametersError = def("AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter.")
	BadDigest                         = def("BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum value that you specified did not match what the server received.")
	BucketAlreadyExists               = def("BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available.")
	BucketAlreadyOwnedByYou           = def("BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it.")
	BucketNotEmpty                    = def("BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty.")
	ConditionalRequestConflict        = def("ConditionalRequestConflict", http.StatusConflict, "A conflicting operation occurred. If using PutObject you can retry the request.")
	EntityTooLarge                    = def("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size.")
	EntityTooSmall                    = def("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size.")
	ExpiredToken                      = def("ExpiredToken", http.StatusBadRequest, "The provided token has expired.")
	IncompleteBody                    = def("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	InternalError                     = def("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	InvalidAccessKeyID                = def("InvalidAccessKeyId", http.StatusForbidden, "The AWS access key ID you provided does not exist in our records.")
	InvalidArgument                   = def("InvalidArgument", http.StatusBadRequest, "Invalid Argument")
	InvalidBucketName                 = def("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid.")
	InvalidDigest                     = def("InvalidDigest", http.StatusBadRequest, "The Content-MD5 or checksum value you specified is not valid.")
	InvalidLocationConstraint         = def("InvalidLocationConstraint", http.StatusBadRequest, "The specified location constraint is not valid.")
	InvalidObjectName                 = def("InvalidObjectName", http.StatusBadRequest, "The specified key cannot be stored by this bucket's backend.")
	InvalidPart                       = def("InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.")
	InvalidPartOrder                  = def("InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
	InvalidRange                      = def("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	InvalidRequest                    = def("InvalidRequest", http.StatusBadRequest, "Invalid Request")
	InvalidTag                        = def("InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag.")
	KeyConflict                       = def("KeyConflict", http.StatusConflict, "The key cannot be stored: on this bucket's backend a key cannot be both an object and a prefix of other objects (for example 'a' and 'a/b').")
	KeyTooLongError                   = def("KeyTooLongError", http.StatusBadRequest, "Your key is too long.")
	MalformedXML                      = def("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	MaxMessageLengthExceeded          = def("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big.")
	MetadataTooLarge                  = def("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size.")
	MethodNotAllowed                  = def("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")
	MissingContentLength              = def("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
	MissingSecurityHeader             = def("MissingSecurityHeader", http.StatusBadRequest, "Your request is missing a required header.")
	NoSuchBucket                      = def("NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist.")
	NoSuchKey                         = def("NoSuchKey", http.StatusNotFound, "The specified key does not exist.")
	NoSuchUpload                      = def("NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.")
	NotImplemented                    = def("NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented.")
	NotModified                       = def("NotModified", http.StatusNotModified, "Not Modified")
	PreconditionFailed                = def("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the preconditions you specified did not hold.")
	RequestTimeTooSkewed              = def("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large.")
	ServiceUnavailable                = def("ServiceUnavailable", http.StatusServiceUnavailable, "The storage backend is unavailable. Please retry.")
	SignatureDoesNotMatch             = def("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	SlowDown                          = def("SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate.")
	XAmzContentSHA256Mismatch         = def("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	RequestTimeout                    = def("RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period.")
	InvalidEncryptionAlgorithm        = def("InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The encryption request you specified is not valid.")
	MalformedPOSTRequest              = def("MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data.")
	InvalidStorageClass               = def("InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid.")
	ObjectNotInActiveTierError        = def("ObjectNotInActiveTierError", http.StatusForbidden, "The source object of the COPY action is not in the active tier and is only stored in Amazon S3 Glacier.")
	InvalidObjectState                = def("InvalidObjectState", http.StatusForbidden, "The operation is not valid for the current state of the object.")
	TooManyParts                      = def("InvalidArgument", http.StatusBadRequest, "Part number must be an integer between 1 and 10000, inclusive.")
	MalformedTrailerError             = def("MalformedTrailerError", http.StatusBadRequest, "The request contained trailing data that was not well-formed or did not conform to our published schema.")
	InvalidToken                      = def("InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	InvalidPartNumber                 = def("InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable")
	UserKeyMustBeSpecified            = def("UserKeyMustBeSpecified", http.StatusBadRequest, "The bucket POST must contain the specified field name. If it is specified, please check the order of the fields.")
	UnexpectedContent                 = def("UnexpectedContent", http.StatusBadRequest, "This request does not support content.")
)

// sentinelTable maps every backends sentinel to its S3 error. A table test
// proves every sentinel exported by package backends is here.
var sentinelTable = []struct {
	sentinel error
	s3       *Error
}{
	{backends.ErrBucketNotFound, NoSuchBucket},
	{backends.ErrBucketExists, BucketAlreadyOwnedByYou},
	{backends.ErrBucketNotEmpty, BucketNotEmpty},
	{backends.ErrInvalidBucketName, InvalidBucketName},
	{backends.ErrObjectNotFound, NoSuchKey},
	{backends.ErrInvalidObjectName, InvalidObjectName},
	{backends.ErrKeyConflict, KeyConflict},
	{backends.ErrPreconditionFailed, PreconditionFailed},
	{backends.ErrConditionalConflict, ConditionalRequestConflict},
	{backends.ErrUploadNotFound, NoSuchUpload},
	{backends.ErrInvalidPart, InvalidPart},
	{backends.ErrInvalidPartOrder, InvalidPartOrder},
	{backends.ErrEntityTooSmall, EntityTooSmall},
	{backends.ErrNotImplemented, NotImplemented},
	{backends.ErrSlowDown, SlowDown},
	{backends.ErrUnavailable, ServiceUnavailable},
	{backends.ErrInvalidRange, InvalidRange},
	{backends.ErrAccessDenied, AccessDenied},
	{backends.ErrMetadataTooLarge, MetadataTooLarge},
}

// FromError returns the S3 error for err and whether it was recognised. An
// *Error anywhere in err's chain wins; then backends sentinels; a cancelled
// context becomes RequestTimeout; anything else is InternalError with
// known=false, so the caller logs it once with the request ID.
func FromError(err error) (e *Error, known bool) {
	if err == nil {
		return nil, true
	}
	var se *Error
	if errors.As(err, &se) {
		return se, true
	}
	for _, m := range sentinelTable {
		if errors.Is(err, m.sentinel) {
			return m.s3, true
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return RequestTimeout, true
	}
	return InternalError, false
}

// Response is the XML body of an S3 error response.
type Response struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId,omitempty"`
	// Extra elements some errors carry (BucketName, Key, UploadId...).
	BucketName string `xml:"BucketName,omitempty"`
	Key        string `xml:"Key,omitempty"`
}

// Write sends e as an S3 XML error response. HEAD requests and 304 get no
// body, as S3 does.
func Write(w http.ResponseWriter, r *http.Request, e *Error, requestID, resource string) {
	h := w.Header()
	h.Set("x-amz-request-id", requestID)
	if e.Status == http.StatusNotModified {
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Type", "application/xml")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	body, err := xml.Marshal(Response{Code: e.Code, Message: e.ResponseMessage(), Resource: resource, RequestID: requestID})
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
