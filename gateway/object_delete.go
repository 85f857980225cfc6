package gateway

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// maxDeleteObjects is the most keys one DeleteObjects request may name.
const maxDeleteObjects = 1000

// deleteObjectsWorkers bounds the concurrent backend deletes of one
// DeleteObjects request.
const deleteObjectsWorkers = 8

var errMissingContentMD5 = s3err.InvalidRequest.With("Missing required header for this request: Content-MD5")

var errUserKeyMustBeSpecified = s3err.UserKeyMustBeSpecified

// deleteRequest is the body of DeleteObjects.
type deleteRequest struct {
	XMLName xml.Name         `xml:"Delete"`
	Quiet   bool             `xml:"Quiet"`
	Objects []deleteObjectID `xml:"Object"`
}

type deleteObjectID struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
	// Conditions on the object (S3 honours them for directory buckets);
	// lakegate refuses them per key, as DeleteObject refuses If-Match.
	ETag             string `xml:"ETag"`
	LastModifiedTime string `xml:"LastModifiedTime"`
	Size             string `xml:"Size"`
}

// parseDeleteRequest decodes and checks a DeleteObjects body: 1 to 1000
// objects, each with a key. Errors: MalformedXML, UserKeyMustBeSpecified.
func parseDeleteRequest(data []byte) (deleteRequest, error) {
	var d deleteRequest
	if len(data) == 0 {
		return d, s3err.MalformedXML.With("the request body is empty")
	}
	if err := xml.Unmarshal(data, &d); err != nil {
		return d, s3err.MalformedXML
	}
	if len(d.Objects) == 0 || len(d.Objects) > maxDeleteObjects {
		return d, s3err.MalformedXML.With("a Delete request names 1 to 1000 objects")
	}
	for _, o := range d.Objects {
		if o.Key == "" {
			return d, errUserKeyMustBeSpecified
		}
	}
	return d, nil
}

type deleteResult struct {
	XMLName xml.Name         `xml:"DeleteResult"`
	Xmlns   string           `xml:"xmlns,attr"`
	Deleted []deletedObject  `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

type deletedObject struct {
	Key string `xml:"Key"`
}

type deleteErrorXML struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// hasIntegrityHeader reports whether a request carries Content-MD5 or an S3
// checksum (as a header or announced as a trailer); package sigv4 verifies
// whichever is present against the body.
func hasIntegrityHeader(h http.Header) bool {
	if h.Get("Content-MD5") != "" {
		return true
	}
	for _, a := range []string{"crc32", "crc32c", "crc64nvme", "sha1", "sha256"} {
		if h.Get("x-amz-checksum-"+a) != "" {
			return true
		}
	}
	return strings.Contains(strings.ToLower(h.Get("x-amz-trailer")), "x-amz-checksum-")
}

// deleteObjects deletes up to 1000 keys and answers 200 with a DeleteResult
// listing each key as Deleted (omitted in Quiet mode) or as an Error with
// its S3 code. A missing key counts as deleted. The request must carry
// Content-MD5 or an x-amz-checksum-* value (InvalidRequest otherwise, as
// S3); the body is verified against it before any key is deleted. Keys are
// deleted concurrently by a small bounded pool of workers. Version IDs other
// than "null" and per-object conditions (ETag, LastModifiedTime, Size) are
// reported per key as NotImplemented and the key is left alone. See the Amazon S3 API
// Reference, DeleteObjects.
func (s *Server) deleteObjects(rc *reqCtx) error {
	if !hasIntegrityHeader(rc.r.Header) {
		return errMissingContentMD5
	}
	data, err := readXMLBody(rc)
	if err != nil {
		return err
	}
	req, err := parseDeleteRequest(data)
	if err != nil {
		return err
	}
	errs := make([]error, len(req.Objects))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(deleteObjectsWorkers, len(req.Objects)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				errs[i] = s.deleteOne(rc, req.Objects[i])
			}
		}()
	}
	for i := range req.Objects {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	res := deleteResult{Xmlns: s3XMLNS}
	for i, o := range req.Objects {
		if errs[i] == nil {
			if !req.Quiet {
				res.Deleted = append(res.Deleted, deletedObject{Key: o.Key})
			}
			continue
		}
		e, known := s3err.FromError(errs[i])
		if !known {
			rc.log.Error("internal error deleting an object", "key", o.Key, "err", errs[i])
		}
		res.Errors = append(res.Errors, deleteErrorXML{Key: o.Key, Code: e.Code, Message: e.ResponseMessage()})
	}
	return writeXML(rc, http.StatusOK, res)
}

func (s *Server) deleteOne(rc *reqCtx, o deleteObjectID) error {
	if o.VersionID != "" && o.VersionID != "null" {
		return s3err.NotImplemented.With("versioning is not implemented by lakegate")
	}
	if o.ETag != "" || o.LastModifiedTime != "" || o.Size != "" {
		// Deleting anyway would ignore a condition the client relies on.
		return s3err.NotImplemented.With("conditional deletes are not implemented by lakegate")
	}
	if len(o.Key) > 1024 {
		return s3err.KeyTooLongError
	}
	err := rc.backend.Delete(rc.ctx, rc.bucket, o.Key)
	if errors.Is(err, backends.ErrObjectNotFound) {
		return nil
	}
	return err
}
