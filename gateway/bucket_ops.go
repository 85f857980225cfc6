package gateway

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// s3XMLNS is the namespace of every S3 result document.
const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

// xmlTime formats t as S3 XML documents do: RFC 3339 in UTC with milliseconds.
func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// bucketOwner is the Owner element of ListBuckets. lakegate has no canonical
// user IDs; both fields carry the identity's name.
type bucketOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

func ownerOf(rc *reqCtx) bucketOwner {
	name := rc.auth.Identity.Name
	if name == "" {
		name = rc.auth.Identity.AccessKey
	}
	return bucketOwner{ID: name, DisplayName: name}
}

type listAllMyBucketsResult struct {
	XMLName           xml.Name         `xml:"ListAllMyBucketsResult"`
	Xmlns             string           `xml:"xmlns,attr"`
	Owner             bucketOwner      `xml:"Owner"`
	Buckets           []bucketEntryXML `xml:"Buckets>Bucket"`
	ContinuationToken string           `xml:"ContinuationToken,omitempty"`
	Prefix            string           `xml:"Prefix,omitempty"`
}

type bucketEntryXML struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

// listBuckets answers the buckets of every backend in name order, optionally
// filtered by prefix and bucket-region and paged by max-buckets (1..10000)
// and continuation-token (the base64 of the last name of the previous page).
// See the Amazon S3 API Reference, ListBuckets.
func (s *Server) listBuckets(rc *reqCtx) error {
	q := rc.r.URL.Query()
	prefix := q.Get("prefix")
	limit := 0
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return s3err.InvalidArgument.With("max-buckets must be an integer between 1 and 10000")
		}
		limit = n
	}
	after := ""
	if v := q.Get("continuation-token"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			return s3err.InvalidArgument.With("the continuation token provided is incorrect")
		}
		after = string(b)
	}
	entries, err := s.buckets.list(rc.ctx)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{Xmlns: s3XMLNS, Owner: ownerOf(rc), Buckets: []bucketEntryXML{}, Prefix: prefix}
	if r := q.Get("bucket-region"); r != "" && r != s.cfg.Region {
		entries = nil
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name, prefix) || e.Name <= after {
			continue
		}
		if limit > 0 && len(res.Buckets) == limit {
			res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Buckets[limit-1].Name))
			break
		}
		res.Buckets = append(res.Buckets, bucketEntryXML{Name: e.Name, CreationDate: xmlTime(e.Created), BucketRegion: s.cfg.Region})
	}
	return writeXML(rc, http.StatusOK, res)
}

// createBucketConfiguration is the optional body of CreateBucket.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

// parseCreateBucketConfiguration decodes a CreateBucket body and returns its
// LocationConstraint ("" when the body is empty or has none).
// Errors: MalformedXML.
func parseCreateBucketConfiguration(data []byte) (string, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return "", nil
	}
	var c createBucketConfiguration
	if err := xml.Unmarshal(data, &c); err != nil {
		return "", s3err.MalformedXML
	}
	return strings.TrimSpace(c.LocationConstraint), nil
}

// readXMLBody reads a whole XML request body of at most maxXMLBody bytes; an
// empty body is returned as nil. Errors: MaxMessageLengthExceeded and body
// verification errors (BadDigest, XAmzContentSHA256Mismatch, ...).
func readXMLBody(rc *reqCtx) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rc.body(), maxXMLBody+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxXMLBody {
		return nil, s3err.MaxMessageLengthExceeded
	}
	return data, nil
}

// createBucket creates a bucket on the backend its LocationConstraint names
// (the configured default backend without one). See the Amazon S3 API
// Reference, CreateBucket.
//
// lakegate behaviour: LocationConstraint is a backend name. A constraint equal
// to the gateway's region (Config.Region) also selects the default backend,
// so that clients which always send their region (aws s3 mb outside
// us-east-1) work. Any other value is InvalidLocationConstraint. A name that
// exists on any backend is BucketAlreadyOwnedByYou (409): bucket names are one
// namespace across backends. Object Lock cannot be enabled (NotImplemented).
func (s *Server) createBucket(rc *reqCtx) error {
	if !backends.ValidBucketName(rc.bucket) {
		return s3err.InvalidBucketName
	}
	if strings.EqualFold(rc.r.Header.Get("x-amz-bucket-object-lock-enabled"), "true") {
		return s3err.NotImplemented.With("object lock is not implemented by lakegate")
	}
	data, err := readXMLBody(rc)
	if err != nil {
		return err
	}
	loc, err := parseCreateBucketConfiguration(data)
	if err != nil {
		return err
	}
	name := s.cfg.DefaultBackend
	if loc != "" {
		if _, ok := s.buckets.backend(loc); ok {
			name = loc
		} else if loc != s.cfg.Region {
			return s3err.InvalidLocationConstraint.With("unknown location constraint " + loc + ": it must name a configured lakegate backend")
		}
	}
	b, _ := s.buckets.backend(name)
	rc.backendName = name
	bk, ok := b.(backends.Buckets)
	if !ok {
		return s3err.NotImplemented.With("backend " + name + " cannot create buckets")
	}
	if _, _, err := s.buckets.lookup(rc.ctx, rc.bucket); err == nil {
		return s3err.BucketAlreadyOwnedByYou
	} else if !errors.Is(err, s3err.NoSuchBucket) {
		return err
	}
	if err := bk.CreateBucket(rc.ctx, rc.bucket); err != nil {
		return err
	}
	s.buckets.remember(rc.bucket, name)
	rc.w.Header().Set("Location", "/"+rc.bucket)
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
	return nil
}

// headBucket answers 200 with x-amz-bucket-region for an existing bucket and
// 404 (no body) otherwise. It asks the backend rather than trusting the
// registry's cache, so a bucket removed by another gateway process is not
// reported as present. See the Amazon S3 API Reference, HeadBucket.
func (s *Server) headBucket(rc *reqCtx) error {
	if bk, ok := rc.backend.(backends.Buckets); ok {
		if _, err := bk.HeadBucket(rc.ctx, rc.bucket); err != nil {
			if errors.Is(err, backends.ErrBucketNotFound) {
				s.buckets.forget(rc.bucket)
			}
			return err
		}
	}
	h := rc.w.Header()
	h.Set("x-amz-bucket-region", s.cfg.Region)
	h.Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteBucket removes an empty bucket and answers 204. Errors: BucketNotEmpty
// (objects or multipart uploads remain), NoSuchBucket. See the Amazon S3 API
// Reference, DeleteBucket.
func (s *Server) deleteBucket(rc *reqCtx) error {
	bk, ok := rc.backend.(backends.Buckets)
	if !ok {
		return s3err.NotImplemented.With("backend " + rc.backendName + " cannot delete buckets")
	}
	if err := bk.DeleteBucket(rc.ctx, rc.bucket); err != nil {
		if errors.Is(err, backends.ErrBucketNotFound) {
			s.buckets.forget(rc.bucket)
		}
		return err
	}
	s.buckets.forget(rc.bucket)
	rc.w.WriteHeader(http.StatusNoContent)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Value   string   `xml:",chardata"`
}

// getBucketLocation answers the name of the backend holding the bucket as
// LocationConstraint: documented lakegate behaviour, the value CreateBucket
// accepts to place a bucket on that backend. Clients that derive their
// signing region from GetBucketLocation (minio-go without a configured
// region) then sign for that name, which lakegate accepts unless a region is
// configured. See the Amazon S3 API Reference, GetBucketLocation.
func (s *Server) getBucketLocation(rc *reqCtx) error {
	return writeXML(rc, http.StatusOK, locationConstraint{Xmlns: s3XMLNS, Value: rc.backendName})
}
