package gateway

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// listMaxKeys is S3's page size limit for ListObjects, ListObjectsV2,
// ListMultipartUploads and ListParts: larger requests are capped to it.
const listMaxKeys = 1000

// listTimeFormat is the timestamp format of S3 XML documents: UTC with
// millisecond precision.
const listTimeFormat = "2006-01-02T15:04:05.000Z"

func listTime(t time.Time) string { return t.UTC().Format(listTimeFormat) }

// listOwner is the Owner (and Initiator) element of S3 listings.
type listOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// listOwnerOf returns the owner reported in listings. lakegate records no
// per-object owner (access is per team), so listings name the requesting
// identity, exactly as ListBuckets does (ownerOf).
func listOwnerOf(rc *reqCtx) *listOwner {
	if rc.auth == nil || rc.auth.Anonymous {
		return nil
	}
	o := ownerOf(rc)
	return &listOwner{ID: o.ID, DisplayName: o.DisplayName}
}

// listEntry is one Contents element of ListObjects and ListObjectsV2.
type listEntry struct {
	Key               string     `xml:"Key"`
	LastModified      string     `xml:"LastModified"`
	ETag              string     `xml:"ETag"`
	ChecksumAlgorithm []string   `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string     `xml:"ChecksumType,omitempty"`
	Size              int64      `xml:"Size"`
	Owner             *listOwner `xml:"Owner,omitempty"`
	StorageClass      string     `xml:"StorageClass"`
}

type listCommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listV1Result is the ListBucketResult of ListObjects (V1).
type listV1Result struct {
	XMLName        xml.Name           `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string             `xml:"Name"`
	Prefix         string             `xml:"Prefix"`
	Marker         string             `xml:"Marker"`
	MaxKeys        int                `xml:"MaxKeys"`
	Delimiter      string             `xml:"Delimiter,omitempty"`
	IsTruncated    bool               `xml:"IsTruncated"`
	NextMarker     string             `xml:"NextMarker,omitempty"`
	Contents       []listEntry        `xml:"Contents"`
	CommonPrefixes []listCommonPrefix `xml:"CommonPrefixes"`
	EncodingType   string             `xml:"EncodingType,omitempty"`
}

// listV2Result is the ListBucketResult of ListObjectsV2.
type listV2Result struct {
	XMLName               xml.Name           `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string             `xml:"Name"`
	Prefix                string             `xml:"Prefix"`
	MaxKeys               int                `xml:"MaxKeys"`
	KeyCount              int                `xml:"KeyCount"`
	Delimiter             string             `xml:"Delimiter,omitempty"`
	IsTruncated           bool               `xml:"IsTruncated"`
	ContinuationToken     *string            `xml:"ContinuationToken"`
	NextContinuationToken string             `xml:"NextContinuationToken,omitempty"`
	StartAfter            string             `xml:"StartAfter,omitempty"`
	Contents              []listEntry        `xml:"Contents"`
	CommonPrefixes        []listCommonPrefix `xml:"CommonPrefixes"`
	EncodingType          string             `xml:"EncodingType,omitempty"`
}

// listParams are the query parameters ListObjects and ListObjectsV2 share.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	encodeURL         bool
}

// listParseMax parses a page size parameter (max-keys, max-uploads,
// max-parts): absent means listMaxKeys, values above it are capped, 0 is
// allowed, and a negative or non-numeric value is InvalidArgument.
func listParseMax(q url.Values, name string) (int, error) {
	if !q.Has(name) {
		return listMaxKeys, nil
	}
	v := q.Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(v, "-") {
			return listMaxKeys, nil
		}
		return 0, s3err.InvalidArgument.With("Provided " + name + " not an integer or within integer range")
	}
	if n < 0 {
		return 0, s3err.InvalidArgument.With("Argument " + name + " must be an integer between 0 and 2147483647")
	}
	if n > listMaxKeys {
		return listMaxKeys, nil
	}
	return int(n), nil
}

// listParseEncoding reads encoding-type: only "url" is defined by S3.
func listParseEncoding(q url.Values) (bool, error) {
	v := q.Get("encoding-type")
	if v == "" {
		return false, nil
	}
	if !strings.EqualFold(v, "url") {
		return false, s3err.InvalidArgument.With("Invalid Encoding Method specified in Request")
	}
	return true, nil
}

func listParseCommon(q url.Values) (listParams, error) {
	var p listParams
	var err error
	p.prefix, p.delimiter = q.Get("prefix"), q.Get("delimiter")
	if p.maxKeys, err = listParseMax(q, "max-keys"); err != nil {
		return p, err
	}
	if p.encodeURL, err = listParseEncoding(q); err != nil {
		return p, err
	}
	return p, nil
}

// listURLEncode applies S3's encoding-type=url encoding: every byte except
// the unreserved characters of RFC 3986 and "/" becomes %XX (so a space is
// %20 and "+" is %2B). Both a percent-decoder and a form-decoder (which the
// AWS SDK for Java v2 applies, turning "+" into a space) recover the key.
func listURLEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !listUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if listUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func listUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || c == '/'
}

// listEncoder returns the function applied to keys and prefixes in a listing.
func listEncoder(encodeURL bool) func(string) string {
	if encodeURL {
		return listURLEncode
	}
	return func(s string) string { return s }
}

// listEntries converts a backend page to Contents and CommonPrefixes.
func listEntries(res backends.ListResult, enc func(string) string, owner *listOwner) ([]listEntry, []listCommonPrefix) {
	contents := make([]listEntry, 0, len(res.Objects))
	for _, o := range res.Objects {
		e := listEntry{
			Key:          enc(o.Key),
			LastModified: listTime(o.LastModified),
			ETag:         quoteETag(o.ETag),
			Size:         o.Size,
			Owner:        owner,
			StorageClass: "STANDARD",
		}
		e.ChecksumAlgorithm, e.ChecksumType = listChecksumAlgorithms(o.Metadata.Checksums)
		contents = append(contents, e)
	}
	prefixes := make([]listCommonPrefix, 0, len(res.CommonPrefixes))
	for _, p := range res.CommonPrefixes {
		prefixes = append(prefixes, listCommonPrefix{Prefix: enc(p)})
	}
	return contents, prefixes
}

// listChecksumAlgorithms returns the algorithms with a stored value, sorted,
// and their checksum type (COMPOSITE for a multipart "<b64>-N" value).
func listChecksumAlgorithms(sums map[string]string) ([]string, string) {
	var algos []string
	typ := ""
	for a, v := range sums {
		if v == "" {
			continue
		}
		algos = append(algos, a)
		if strings.Contains(v, "-") {
			typ = "COMPOSITE"
		} else if typ == "" {
			typ = "FULL_OBJECT"
		}
	}
	sort.Strings(algos)
	return algos, typ
}

// listNextStartAfter is where the next page starts: the backend's
// NextStartAfter, or (defensively, should a backend leave it empty) the
// greatest key or common prefix of the page.
func listNextStartAfter(res backends.ListResult) string {
	if res.NextStartAfter != "" {
		return res.NextStartAfter
	}
	last := ""
	if n := len(res.Objects); n > 0 {
		last = res.Objects[n-1].Key
	}
	if n := len(res.CommonPrefixes); n > 0 && res.CommonPrefixes[n-1] > last {
		last = res.CommonPrefixes[n-1]
	}
	return last
}

// listPage asks the backend for one page; maxKeys 0 answers an empty,
// untruncated page without a backend call (the bucket exists: dispatch
// resolved it).
func listPage(rc *reqCtx, p listParams, startAfter string) (backends.ListResult, error) {
	if p.maxKeys == 0 {
		return backends.ListResult{}, nil
	}
	res, err := rc.backend.List(rc.ctx, rc.bucket, backends.ListQuery{
		Prefix: p.prefix, Delimiter: p.delimiter, StartAfter: startAfter, MaxKeys: p.maxKeys,
	})
	if err != nil {
		return res, err
	}
	if res.IsTruncated && listNextStartAfter(res) == "" {
		// A truncated page that cannot be resumed would loop forever.
		return res, errors.New("backend returned a truncated list page without a resume point")
	}
	return res, nil
}

// listObjects implements ListObjects (V1): prefix, delimiter, max-keys,
// marker, encoding-type. NextMarker is returned only when a delimiter is set
// and the page is truncated, as S3 does; without a delimiter clients resume
// after the last key. Owner is always included, as in S3's V1.
// See the Amazon S3 API Reference, ListObjects.
func (s *Server) listObjects(rc *reqCtx) error {
	q := rc.r.URL.Query()
	p, err := listParseCommon(q)
	if err != nil {
		return err
	}
	marker := q.Get("marker")
	res, err := listPage(rc, p, marker)
	if err != nil {
		return err
	}
	enc := listEncoder(p.encodeURL)
	out := listV1Result{
		Name:        rc.bucket,
		Prefix:      enc(p.prefix),
		Marker:      enc(marker),
		MaxKeys:     p.maxKeys,
		Delimiter:   enc(p.delimiter),
		IsTruncated: res.IsTruncated,
	}
	if res.IsTruncated && p.delimiter != "" {
		out.NextMarker = enc(listNextStartAfter(res))
	}
	out.Contents, out.CommonPrefixes = listEntries(res, enc, listOwnerOf(rc))
	if p.encodeURL {
		out.EncodingType = "url"
	}
	return writeXML(rc, http.StatusOK, out)
}

// listObjectsV2 implements ListObjectsV2: prefix, delimiter, max-keys,
// start-after, continuation-token (opaque, see token.go; it wins over
// start-after), fetch-owner and encoding-type.
// See the Amazon S3 API Reference, ListObjectsV2.
func (s *Server) listObjectsV2(rc *reqCtx) error {
	q := rc.r.URL.Query()
	if v := q.Get("list-type"); v != "2" {
		return s3err.InvalidArgument.With("Invalid list type specified")
	}
	p, err := listParseCommon(q)
	if err != nil {
		return err
	}
	scope := tokenScope{Bucket: rc.bucket, Prefix: p.prefix, Delimiter: p.delimiter}
	startAfter := q.Get("start-after")
	from := startAfter
	// An empty continuation-token is taken as none (some clients send the
	// parameter on the first page); any other value must be a token this
	// gateway issued for this bucket, prefix and delimiter.
	token := q.Get("continuation-token")
	if token != "" {
		from, err = tokenDecode(s.tokenKey(), scope, token)
		if err != nil {
			return s3err.InvalidArgument.With("The continuation token provided is incorrect")
		}
	}
	res, err := listPage(rc, p, from)
	if err != nil {
		return err
	}
	enc := listEncoder(p.encodeURL)
	out := listV2Result{
		Name:        rc.bucket,
		Prefix:      enc(p.prefix),
		MaxKeys:     p.maxKeys,
		KeyCount:    len(res.Objects) + len(res.CommonPrefixes),
		Delimiter:   enc(p.delimiter),
		IsTruncated: res.IsTruncated,
		StartAfter:  enc(startAfter),
	}
	if q.Has("continuation-token") {
		// Echoed whenever the request had one, even empty, as S3 does.
		out.ContinuationToken = &token
	}
	if res.IsTruncated {
		out.NextContinuationToken = tokenEncode(s.tokenKey(), scope, listNextStartAfter(res))
	}
	var owner *listOwner
	if strings.EqualFold(q.Get("fetch-owner"), "true") {
		owner = listOwnerOf(rc)
	}
	out.Contents, out.CommonPrefixes = listEntries(res, enc, owner)
	if p.encodeURL {
		out.EncodingType = "url"
	}
	return writeXML(rc, http.StatusOK, out)
}

// listUploadsResult is the ListMultipartUploadsResult document.
type listUploadsResult struct {
	XMLName            xml.Name           `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string             `xml:"Bucket"`
	KeyMarker          string             `xml:"KeyMarker"`
	UploadIDMarker     string             `xml:"UploadIdMarker"`
	NextKeyMarker      string             `xml:"NextKeyMarker"`
	NextUploadIDMarker string             `xml:"NextUploadIdMarker"`
	Delimiter          string             `xml:"Delimiter,omitempty"`
	Prefix             string             `xml:"Prefix"`
	MaxUploads         int                `xml:"MaxUploads"`
	IsTruncated        bool               `xml:"IsTruncated"`
	Uploads            []listUpload       `xml:"Upload"`
	CommonPrefixes     []listCommonPrefix `xml:"CommonPrefixes"`
	EncodingType       string             `xml:"EncodingType,omitempty"`
}

type listUpload struct {
	Key               string     `xml:"Key"`
	UploadID          string     `xml:"UploadId"`
	Initiator         *listOwner `xml:"Initiator,omitempty"`
	Owner             *listOwner `xml:"Owner,omitempty"`
	StorageClass      string     `xml:"StorageClass"`
	Initiated         string     `xml:"Initiated"`
	ChecksumAlgorithm string     `xml:"ChecksumAlgorithm,omitempty"`
}

// listMultipartUploads implements ListMultipartUploads: prefix, delimiter,
// key-marker, upload-id-marker (ignored without key-marker, as S3 does),
// max-uploads, encoding-type. Initiator and Owner name the requesting
// identity (see listOwnerOf). See the Amazon S3 API Reference,
// ListMultipartUploads.
func (s *Server) listMultipartUploads(rc *reqCtx) error {
	mp, err := mpCapability(rc)
	if err != nil {
		return err
	}
	q := rc.r.URL.Query()
	maxUploads, err := listParseMax(q, "max-uploads")
	if err != nil {
		return err
	}
	encodeURL, err := listParseEncoding(q)
	if err != nil {
		return err
	}
	query := backends.ListUploadsQuery{
		Prefix:     q.Get("prefix"),
		Delimiter:  q.Get("delimiter"),
		KeyMarker:  q.Get("key-marker"),
		MaxUploads: maxUploads,
	}
	if query.KeyMarker != "" {
		query.UploadIDMarker = q.Get("upload-id-marker")
	}
	var res backends.ListUploadsResult
	if maxUploads > 0 {
		if res, err = mp.ListMultipartUploads(rc.ctx, rc.bucket, query); err != nil {
			return err
		}
	}
	enc := listEncoder(encodeURL)
	out := listUploadsResult{
		Bucket:             rc.bucket,
		KeyMarker:          enc(query.KeyMarker),
		UploadIDMarker:     query.UploadIDMarker,
		NextKeyMarker:      enc(res.NextKeyMarker),
		NextUploadIDMarker: res.NextUploadIDMarker,
		Delimiter:          enc(query.Delimiter),
		Prefix:             enc(query.Prefix),
		MaxUploads:         maxUploads,
		IsTruncated:        res.IsTruncated,
	}
	owner := listOwnerOf(rc)
	out.Uploads = make([]listUpload, 0, len(res.Uploads))
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, listUpload{
			Key:               enc(u.Key),
			UploadID:          u.UploadID,
			Initiator:         owner,
			Owner:             owner,
			StorageClass:      "STANDARD",
			Initiated:         listTime(u.Initiated),
			ChecksumAlgorithm: mpUploadAlgorithm(u.Metadata),
		})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, listCommonPrefix{Prefix: enc(p)})
	}
	if encodeURL {
		out.EncodingType = "url"
	}
	return writeXML(rc, http.StatusOK, out)
}
