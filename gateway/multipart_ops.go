package gateway

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/minio/crc64nvme"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
)

// mpMaxPartSize is S3's largest part, in bytes (5 GiB), for UploadPart and
// UploadPartCopy.
const mpMaxPartSize = 5 << 30

// mpMaxCompleteBody bounds a CompleteMultipartUpload body in bytes: 10,000
// parts with a SHA-256 checksum each, indented, fit well below it.
const mpMaxCompleteBody = 8 << 20

// mpKeepAliveInterval is how long CompleteMultipartUpload and UploadPartCopy
// wait for the backend before committing to 200 and sending whitespace, and
// then the interval between whitespace bytes, in nanoseconds. Tests shorten it.
var mpKeepAliveInterval atomic.Int64

func init() { mpKeepAliveInterval.Store(int64(10 * time.Second)) }

// mpCapability returns the bucket backend's Multipart capability, or
// NotImplemented when the backend has none.
func mpCapability(rc *reqCtx) (backends.Multipart, error) {
	mp, ok := rc.backend.(backends.Multipart)
	if !ok {
		return nil, s3err.NotImplemented.With("multipart uploads are not supported by backend " + rc.backendName)
	}
	return mp, nil
}

// mpChecksumHashes are the S3 additional checksum algorithms by S3 name.
var mpChecksumHashes = map[string]func() hash.Hash{
	backends.ChecksumCRC32:     func() hash.Hash { return crc32.NewIEEE() },
	backends.ChecksumCRC32C:    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	backends.ChecksumCRC64NVME: func() hash.Hash { return crc64nvme.New() },
	backends.ChecksumSHA1:      sha1.New,
	backends.ChecksumSHA256:    sha256.New,
}

// mpCanonicalAlgorithm returns the S3 spelling of a checksum algorithm name
// given in any case.
func mpCanonicalAlgorithm(v string) (string, bool) {
	for a := range mpChecksumHashes {
		if strings.EqualFold(a, strings.TrimSpace(v)) {
			return a, true
		}
	}
	return "", false
}

// mpUploadAlgorithm returns the checksum algorithm an upload was created
// with. CreateMultipartUpload records it in the upload's Metadata.Checksums
// as the algorithm with an empty value (the value is filled with the
// composite checksum on completion).
func mpUploadAlgorithm(m backends.Metadata) string {
	algos := make([]string, 0, 1)
	for a, v := range m.Checksums {
		if v == "" {
			algos = append(algos, a)
		}
	}
	sort.Strings(algos)
	if len(algos) == 0 {
		return ""
	}
	return algos[0]
}

// mpAlgoCache remembers the checksum algorithm of uploads this process has
// seen, so UploadPart asks the backend (ListParts) once per upload rather
// than once per part. Entries are keyed by backend, bucket, key and upload
// ID; the cache is cleared when it reaches mpAlgoCacheMax entries.
type mpAlgoCache struct {
	mu sync.Mutex
	m  map[string]string
}

const mpAlgoCacheMax = 10000

var mpAlgorithms = &mpAlgoCache{m: map[string]string{}}

func mpAlgoKey(rc *reqCtx, uploadID string) string {
	return rc.backendName + "\x00" + rc.bucket + "\x00" + rc.key + "\x00" + uploadID
}

func (c *mpAlgoCache) store(k, algo string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= mpAlgoCacheMax {
		c.m = map[string]string{}
	}
	c.m[k] = algo
}

func (c *mpAlgoCache) forget(k string) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// lookup returns the upload's checksum algorithm ("" for none). A miss asks
// the backend, which also answers NoSuchUpload for an unknown upload before
// any part byte is read.
func (c *mpAlgoCache) lookup(rc *reqCtx, mp backends.Multipart, uploadID string) (string, error) {
	k := mpAlgoKey(rc, uploadID)
	c.mu.Lock()
	a, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	res, err := mp.ListParts(rc.ctx, rc.bucket, rc.key, uploadID, 0, 1)
	if err != nil {
		return "", err
	}
	a = mpUploadAlgorithm(res.Upload.Metadata)
	c.store(k, a)
	return a, nil
}

// mpChecksums are the Checksum* elements of multipart XML documents.
type mpChecksums struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

func mpChecksumsOf(m map[string]string) mpChecksums {
	return mpChecksums{
		ChecksumCRC32:     m[backends.ChecksumCRC32],
		ChecksumCRC32C:    m[backends.ChecksumCRC32C],
		ChecksumCRC64NVME: m[backends.ChecksumCRC64NVME],
		ChecksumSHA1:      m[backends.ChecksumSHA1],
		ChecksumSHA256:    m[backends.ChecksumSHA256],
	}
}

func (c mpChecksums) toMap() map[string]string {
	m := map[string]string{}
	for a, v := range map[string]string{
		backends.ChecksumCRC32:     c.ChecksumCRC32,
		backends.ChecksumCRC32C:    c.ChecksumCRC32C,
		backends.ChecksumCRC64NVME: c.ChecksumCRC64NVME,
		backends.ChecksumSHA1:      c.ChecksumSHA1,
		backends.ChecksumSHA256:    c.ChecksumSHA256,
	} {
		if v = strings.TrimSpace(v); v != "" {
			m[a] = v
		}
	}
	return m
}

// mpChecksumType is COMPOSITE for "<base64>-N" values, FULL_OBJECT for
// others, "" when there is no checksum.
func mpChecksumType(m map[string]string) string {
	_, typ := listChecksumAlgorithms(m)
	return typ
}

// mpSetChecksumHeaders echoes non-empty checksums as x-amz-checksum-* headers.
func mpSetChecksumHeaders(h http.Header, m map[string]string) {
	for a, v := range m {
		if v != "" {
			h.Set("x-amz-checksum-"+strings.ToLower(a), v)
		}
	}
}

// mpUploadID reads the uploadId query parameter; an empty one names no
// upload.
func mpUploadID(q url.Values) (string, error) {
	id := q.Get("uploadId")
	if id == "" {
		return "", s3err.NoSuchUpload
	}
	return id, nil
}

// mpParsePartNumber reads partNumber: an integer 1..10000, else
// InvalidArgument.
func mpParsePartNumber(q url.Values) (int, error) {
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > backends.MaxPartNumber {
		return 0, s3err.TooManyParts
	}
	return n, nil
}

// mpInitiateResult is the InitiateMultipartUploadResult document.
type mpInitiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// createMultipartUpload implements CreateMultipartUpload. Metadata comes
// from the headers as for PutObject, and the same unsupported features
// (server-side encryption, object lock, ACL grants, storage classes other
// than STANDARD) are refused as there; x-amz-checksum-algorithm is
// remembered with the upload (see mpUploadAlgorithm) and every part must
// then carry a checksum of that algorithm (except CRC64NVME, see below).
// See the Amazon S3 API Reference, CreateMultipartUpload.
func (s *Server) createMultipartUpload(rc *reqCtx) error {
	mp, err := mpCapability(rc)
	if err != nil {
		return err
	}
	h := rc.r.Header
	if err := rejectUnsupportedWriteHeaders(h); err != nil {
		return err
	}
	meta, err := metadataFromHeaders(h)
	if err != nil {
		return err
	}
	algo := ""
	if v := h.Get("x-amz-checksum-algorithm"); v != "" {
		a, ok := mpCanonicalAlgorithm(v)
		if !ok {
			return s3err.InvalidRequest.With("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		algo = a
	}
	if err := mpCheckChecksumType(h.Get("x-amz-checksum-type"), algo); err != nil {
		return err
	}
	// The algorithm parts must carry. CRC64NVME has no composite form
	// (S3 offers it only as a full-object checksum, which lakegate does not
	// compute for multipart objects), so it is accepted but not enforced or
	// recorded: a recorded algorithm whose composite cannot be computed
	// would stay in the object's metadata without a value.
	enforced := algo
	if algo == backends.ChecksumCRC64NVME {
		enforced = ""
	}
	if enforced != "" {
		meta.Checksums = map[string]string{enforced: ""}
	}
	id, err := mp.CreateMultipartUpload(rc.ctx, rc.bucket, rc.key, meta)
	if err != nil {
		return err
	}
	mpAlgorithms.store(mpAlgoKey(rc, id), enforced)
	if algo != "" {
		rc.w.Header().Set("x-amz-checksum-algorithm", algo)
		if algo != backends.ChecksumCRC64NVME {
			rc.w.Header().Set("x-amz-checksum-type", "COMPOSITE")
		}
	}
	return writeXML(rc, http.StatusOK, mpInitiateResult{Bucket: rc.bucket, Key: rc.key, UploadID: id})
}

// mpCheckChecksumType validates CreateMultipartUpload's x-amz-checksum-type
// against the upload's checksum algorithm (S3: COMPOSITE for SHA-1 and
// SHA-256, FULL_OBJECT for CRC64NVME, either for CRC32 and CRC32C). lakegate
// computes only composite checksums of multipart objects (see
// backends.CompositeChecksum), so FULL_OBJECT with CRC32 or CRC32C is
// NotImplemented rather than silently answered with a composite checksum the
// client did not ask for (a client that sends the full-object checksum on
// completion would then fail there). CRC64NVME keeps its documented
// behaviour: accepted, not recorded. Errors: InvalidRequest, NotImplemented.
func mpCheckChecksumType(v, algo string) error {
	typ := strings.ToUpper(strings.TrimSpace(v))
	switch typ {
	case "":
		return nil
	case "COMPOSITE", "FULL_OBJECT":
	default:
		return s3err.InvalidRequest.With("Value for x-amz-checksum-type header is invalid.")
	}
	switch {
	case algo == "":
		return s3err.InvalidRequest.With("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
	case typ == "FULL_OBJECT" && (algo == backends.ChecksumSHA1 || algo == backends.ChecksumSHA256):
		return s3err.InvalidRequest.With("The FULL_OBJECT checksum type cannot be used with the " + strings.ToLower(algo) + " checksum algorithm.")
	case typ == "COMPOSITE" && algo == backends.ChecksumCRC64NVME:
		return s3err.InvalidRequest.With("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
	case typ == "FULL_OBJECT" && algo != backends.ChecksumCRC64NVME:
		return s3err.NotImplemented.With("full-object checksums of multipart uploads are not implemented by lakegate; use the COMPOSITE checksum type")
	}
	return nil
}

// uploadPartCopyOrPart routes PUT ?partNumber&uploadId to UploadPartCopy
// when x-amz-copy-source is present and to UploadPart otherwise.
func (s *Server) uploadPartCopyOrPart(rc *reqCtx) error {
	copying := rc.r.Header.Get("x-amz-copy-source") != ""
	rc.op = "UploadPart"
	if copying {
		rc.op = "UploadPartCopy"
	}
	rc.log = s.log.With("request_id", rc.requestID, "op", rc.op)
	if !rc.auth.Anonymous {
		rc.log = rc.log.With("user", rc.auth.Identity.Name)
	}
	if copying {
		return s.uploadPartCopy(rc)
	}
	return s.uploadPart(rc)
}

// mpPartTarget is the upload and part number a part request writes.
type mpPartTarget struct {
	mp         backends.Multipart
	uploadID   string
	partNumber int
	algo       string // the upload's checksum algorithm, "" for none
}

// mpTarget validates partNumber and uploadId and finds the upload.
func mpTarget(rc *reqCtx) (mpPartTarget, error) {
	var t mpPartTarget
	var err error
	if t.mp, err = mpCapability(rc); err != nil {
		return t, err
	}
	q := rc.r.URL.Query()
	if t.partNumber, err = mpParsePartNumber(q); err != nil {
		return t, err
	}
	if t.uploadID, err = mpUploadID(q); err != nil {
		return t, err
	}
	if t.algo, err = mpAlgorithms.lookup(rc, t.mp, t.uploadID); err != nil {
		return t, err
	}
	return t, nil
}

// mpDeclaredChecksums lists the checksum algorithms a request declares, in
// x-amz-checksum-<algo> headers or in x-amz-trailer.
func mpDeclaredChecksums(h http.Header) []string {
	var out []string
	add := func(name string) {
		name = strings.ToLower(strings.TrimSpace(name))
		a, ok := strings.CutPrefix(name, "x-amz-checksum-")
		if !ok {
			return
		}
		if c, ok := mpCanonicalAlgorithm(a); ok {
			out = append(out, c)
		}
	}
	for name := range h {
		if h.Get(name) != "" {
			add(name)
		}
	}
	for _, t := range strings.Split(h.Get("x-amz-trailer"), ",") {
		add(t)
	}
	sort.Strings(out)
	return out
}

// uploadPart implements UploadPart: the body is streamed to the backend with
// its size and digest (MD5 and verified checksums from SigV4). The response
// carries the part's quoted ETag and echoes its checksums. See the Amazon S3
// API Reference, UploadPart.
func (s *Server) uploadPart(rc *reqCtx) error {
	t, err := mpTarget(rc)
	if err != nil {
		return err
	}
	if t.algo != "" {
		declared := mpDeclaredChecksums(rc.r.Header)
		found := false
		for _, a := range declared {
			found = found || a == t.algo
		}
		if !found {
			actual := "null"
			if len(declared) > 0 {
				actual = strings.ToLower(declared[0])
			}
			return s3err.InvalidRequest.With(fmt.Sprintf(
				"Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
				strings.ToLower(t.algo), actual))
		}
	}
	size := rc.auth.Body.Size()
	if size < 0 && rc.r.ContentLength < 0 && rc.r.Header.Get("x-amz-decoded-content-length") == "" {
		return s3err.MissingContentLength
	}
	if size > mpMaxPartSize {
		return s3err.EntityTooLarge
	}
	// putBody (object_ops.go) reads on to the end once the declared size has
	// arrived, so trailing checksums are verified and the digest is final
	// before the backend sees the last bytes.
	body := &putBody{r: rc.body(), size: size, max: mpMaxPartSize}
	info, err := t.mp.UploadPart(rc.ctx, rc.bucket, rc.key, t.uploadID, t.partNumber, body,
		backends.PutOptions{Size: size, Digest: rc.auth.Body.Digest})
	if body.err != nil {
		return body.err
	}
	if err != nil {
		return err
	}
	sums := info.Checksums
	if len(sums) == 0 {
		sums = rc.auth.Body.Digest().Checksums
	}
	hd := rc.w.Header()
	hd.Set("ETag", quoteETag(info.ETag))
	mpSetChecksumHeaders(hd, sums)
	hd.Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
	return nil
}

// mpCopyRangeError is S3's message for a malformed x-amz-copy-source-range.
const mpCopyRangeError = "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"

// mpParseCopyRange parses x-amz-copy-source-range "bytes=first-last"
// (inclusive offsets, first <= last). Errors: InvalidArgument.
func mpParseCopyRange(v string) (first, last int64, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok {
		return 0, 0, s3err.InvalidArgument.With(mpCopyRangeError)
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok || !mpDigits(a) || !mpDigits(b) {
		return 0, 0, s3err.InvalidArgument.With(mpCopyRangeError)
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first > last {
		return 0, 0, s3err.InvalidArgument.With(mpCopyRangeError)
	}
	return first, last, nil
}

func mpDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mpCopySpec is the source selection of an UploadPartCopy.
type mpCopySpec struct {
	hasRange    bool
	first, last int64
}

// check applies the x-amz-copy-source-if-* preconditions and the range to
// the source described by info and returns the byte range to read.
func (c mpCopySpec) check(h http.Header, info backends.ObjectInfo) (backends.Range, error) {
	if err := checkPreconditions(h, "x-amz-copy-source-", info, false); err != nil {
		return backends.Range{}, err
	}
	rng := backends.Range{Offset: 0, Length: info.Size}
	if c.hasRange {
		if c.last >= info.Size {
			return rng, s3err.InvalidRange.With("Range specified is not valid for source object of size: " + strconv.FormatInt(info.Size, 10))
		}
		rng = backends.Range{Offset: c.first, Length: c.last - c.first + 1}
	}
	if rng.Length > mpMaxPartSize {
		return rng, s3err.InvalidRequest.With("The specified copy source is larger than the maximum allowable size for a copy source: " + strconv.Itoa(mpMaxPartSize))
	}
	return rng, nil
}

// mpCopyPartResult is the CopyPartResult document.
type mpCopyPartResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
	mpChecksums
}

// uploadPartCopy implements UploadPartCopy: x-amz-copy-source (read access
// to it is authorized separately), x-amz-copy-source-range bytes=first-last
// (InvalidArgument when malformed, InvalidRange when beyond the source), and
// x-amz-copy-source-if-* preconditions. The source bytes are streamed from
// Open into UploadPart; when the upload has a checksum algorithm, the part's
// checksum is computed on the way. See the Amazon S3 API Reference,
// UploadPartCopy.
func (s *Server) uploadPartCopy(rc *reqCtx) error {
	h := rc.r.Header
	srcBucket, srcKey, err := parseCopySource(h.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	var spec mpCopySpec
	if v := h.Get("x-amz-copy-source-range"); v != "" {
		spec.hasRange = true
		if spec.first, spec.last, err = mpParseCopyRange(v); err != nil {
			return err
		}
	}
	t, err := mpTarget(rc)
	if err != nil {
		return err
	}
	src, _, err := s.sourceBackend(rc, srcBucket, srcKey)
	if err != nil {
		return err
	}
	// Open first and judge the object the bytes come from, so the
	// preconditions and the range are checked against exactly what is copied.
	rng := backends.FullRange
	if spec.hasRange {
		rng = backends.Range{Offset: spec.first, Length: spec.last - spec.first + 1}
	}
	body, info, err := src.Open(rc.ctx, srcBucket, srcKey, rng)
	if errors.Is(err, backends.ErrInvalidRange) {
		if info, serr := src.Stat(rc.ctx, srcBucket, srcKey); serr == nil {
			_, err = spec.check(h, info)
		}
		if err == nil || errors.Is(err, backends.ErrInvalidRange) {
			err = s3err.InvalidRange.With("Range specified is not valid for source object")
		}
		return err
	}
	if err != nil {
		return err
	}
	defer body.Close()
	rng, err = spec.check(h, info)
	if err != nil {
		return err
	}
	opts := backends.PutOptions{Size: rng.Length}
	var r io.Reader = body
	if t.algo != "" {
		dr := newMPDigestReader(body, t.algo)
		r, opts.Digest = dr, dr.digest
	}
	return s.mpRunWithKeepAlive(rc, rc.ctx, func(ctx context.Context) (any, error) {
		p, err := t.mp.UploadPart(ctx, rc.bucket, rc.key, t.uploadID, t.partNumber, r, opts)
		if err != nil {
			return nil, err
		}
		return mpCopyPartResult{ETag: quoteETag(p.ETag), LastModified: listTime(p.LastModified), mpChecksums: mpChecksumsOf(p.Checksums)}, nil
	})
}

// mpDigestReader computes MD5 and one S3 checksum of what is read through it.
type mpDigestReader struct {
	r    io.Reader
	md5  hash.Hash
	algo string
	sum  hash.Hash
}

func newMPDigestReader(r io.Reader, algo string) *mpDigestReader {
	return &mpDigestReader{r: r, md5: md5.New(), algo: algo, sum: mpChecksumHashes[algo]()}
}

func (d *mpDigestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.md5.Write(p[:n])
	d.sum.Write(p[:n])
	return n, err
}

func (d *mpDigestReader) digest() backends.Digest {
	return backends.Digest{
		MD5:       d.md5.Sum(nil),
		Checksums: map[string]string{d.algo: base64.StdEncoding.EncodeToString(d.sum.Sum(nil))},
	}
}

// mpRunWithKeepAlive runs work and writes the XML document it returns. S3
// answers long-running CompleteMultipartUpload and UploadPartCopy requests
// with 200 at once and whitespace while it works, then the result or an
// Error document inside the 200 body; the AWS SDKs read that Error document
// as a failure. Here the status is held back for one keep-alive interval, so
// fast requests still get their real error status (412, 400, 404); after
// that, 200 and the XML declaration are sent, then a space every interval
// until work returns. work runs with workCtx.
func (s *Server) mpRunWithKeepAlive(rc *reqCtx, workCtx context.Context, work func(ctx context.Context) (any, error)) error {
	type outcome struct {
		doc any
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		doc, err := work(workCtx)
		done <- outcome{doc, err}
	}()
	interval := time.Duration(mpKeepAliveInterval.Load())
	timer := time.NewTimer(interval)
	defer timer.Stop()
	started := false
	for {
		select {
		case out := <-done:
			if !started {
				if out.err != nil {
					return out.err
				}
				return writeXML(rc, http.StatusOK, out.doc)
			}
			s.mpFinishStarted(rc, out.doc, out.err)
			return nil
		case <-timer.C:
			if !started {
				rc.w.Header().Set("Content-Type", "application/xml")
				rc.w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(rc.w, xml.Header)
				started = true
			}
			// Write errors (a client that went away) are ignored: the work
			// goes on and its outcome is logged.
			_, _ = io.WriteString(rc.w, " ")
			rc.w.Flush()
			timer.Reset(interval)
		}
	}
}

// mpFinishStarted writes the outcome of a request whose 200 status and
// keep-alive whitespace are already sent.
func (s *Server) mpFinishStarted(rc *reqCtx, doc any, err error) {
	var body []byte
	if err == nil {
		body, err = xml.Marshal(doc)
	}
	if err != nil {
		e, known := s3err.FromError(err)
		if !known {
			rc.log.Error("internal error", "err", err)
		} else {
			rc.log.Warn("error after keep-alive", "code", e.Code, "err", err)
		}
		body, _ = xml.Marshal(s3err.Response{Code: e.Code, Message: e.ResponseMessage(), Resource: rc.r.URL.Path, RequestID: rc.requestID})
	}
	_, _ = rc.w.Write(body)
	rc.w.Flush()
}

// mpCompleteXML is the CompleteMultipartUpload request document.
type mpCompleteXML struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber string `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
		mpChecksums
	} `xml:"Part"`
}

// parseCompleteMultipartUpload parses a CompleteMultipartUpload request body
// into its part list: part numbers 1..10000 in strictly ascending order,
// unquoted ETags. Errors: MalformedXML (not the document, no parts, a
// non-integer part number), InvalidArgument (a part number out of range),
// InvalidPartOrder, InvalidPart (an empty ETag). See the Amazon S3 API
// Reference, CompleteMultipartUpload.
func parseCompleteMultipartUpload(data []byte) ([]backends.CompletePart, error) {
	parts, _, err := mpParseComplete(data)
	return parts, err
}

// mpParseComplete is parseCompleteMultipartUpload that also returns the
// checksums given for each part (index-aligned with the parts).
func mpParseComplete(data []byte) ([]backends.CompletePart, []map[string]string, error) {
	var doc mpCompleteXML
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, nil, s3err.MalformedXML
	}
	if len(doc.Parts) == 0 {
		return nil, nil, s3err.MalformedXML.With("the part list is empty")
	}
	parts := make([]backends.CompletePart, 0, len(doc.Parts))
	sums := make([]map[string]string, 0, len(doc.Parts))
	for i, p := range doc.Parts {
		n, err := strconv.Atoi(strings.TrimSpace(p.PartNumber))
		if err != nil {
			return nil, nil, s3err.MalformedXML.With("a part number is not an integer")
		}
		if n < 1 || n > backends.MaxPartNumber {
			return nil, nil, s3err.TooManyParts
		}
		if i > 0 && n <= parts[i-1].PartNumber {
			return nil, nil, s3err.InvalidPartOrder
		}
		etag := unquoteETag(p.ETag)
		if etag == "" {
			return nil, nil, s3err.InvalidPart.With("part " + strconv.Itoa(n) + " has no ETag")
		}
		parts = append(parts, backends.CompletePart{PartNumber: n, ETag: etag})
		sums = append(sums, p.mpChecksums.toMap())
	}
	return parts, sums, nil
}

// mpReadBody reads a request body of at most limit bytes.
func mpReadBody(rc *reqCtx, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rc.body(), limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, s3err.MaxMessageLengthExceeded
	}
	if len(data) == 0 {
		return nil, s3err.MalformedXML.With("the request body is empty")
	}
	return data, nil
}

// mpCompleteResult is the CompleteMultipartUploadResult document.
type mpCompleteResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	mpChecksums
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// mpLocation is the object URL reported by CompleteMultipartUpload.
func mpLocation(rc *reqCtx) string {
	scheme := "http"
	if rc.r.TLS != nil {
		scheme = "https"
	}
	segs := strings.Split(rc.key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	path := "/" + strings.Join(segs, "/")
	if mux.Vars(rc.r)["vhbucket"] == "" {
		path = "/" + url.PathEscape(rc.bucket) + path
	}
	return scheme + "://" + rc.r.Host + path
}

func mpCompleteDoc(rc *reqCtx, info backends.ObjectInfo) mpCompleteResult {
	sums := map[string]string{}
	for a, v := range info.Metadata.Checksums {
		if v != "" {
			sums[a] = v
		}
	}
	return mpCompleteResult{
		Location:     mpLocation(rc),
		Bucket:       rc.bucket,
		Key:          rc.key,
		ETag:         quoteETag(info.ETag),
		mpChecksums:  mpChecksumsOf(sums),
		ChecksumType: mpChecksumType(sums),
	}
}

// mpAlreadyCompleted reports whether this exact completion already happened:
// the upload is gone and the object at the key has the ETag the part list
// produces. A client that lost the response of a successful completion and
// retries then gets the same success, as from S3.
func mpAlreadyCompleted(rc *reqCtx, mp backends.Multipart, uploadID string, parts []backends.CompletePart) (backends.ObjectInfo, bool) {
	etags := make([]string, len(parts))
	for i, p := range parts {
		etags[i] = p.ETag
	}
	want, err := backends.MultipartETag(etags)
	if err != nil {
		return backends.ObjectInfo{}, false
	}
	ctx := context.WithoutCancel(rc.ctx)
	info, err := rc.backend.Stat(ctx, rc.bucket, rc.key)
	if err != nil || info.ETag != want {
		return backends.ObjectInfo{}, false
	}
	if _, err := mp.ListParts(ctx, rc.bucket, rc.key, uploadID, 0, 1); !errors.Is(err, backends.ErrUploadNotFound) {
		return backends.ObjectInfo{}, false
	}
	return info, true
}

// mpVerifyPartChecksums compares the checksums a CompleteMultipartUpload
// gives for its parts with the stored parts' checksums: InvalidPart on a
// difference or a part without that checksum.
func mpVerifyPartChecksums(rc *reqCtx, mp backends.Multipart, uploadID string, parts []backends.CompletePart, sums []map[string]string) error {
	given := false
	for _, m := range sums {
		given = given || len(m) > 0
	}
	// x-amz-checksum-<algo> on Complete is the object's composite checksum.
	objectSums := map[string]string{}
	for a := range mpChecksumHashes {
		if v := strings.TrimSpace(rc.r.Header.Get("x-amz-checksum-" + strings.ToLower(a))); v != "" {
			objectSums[a] = v
		}
	}
	if !given && len(objectSums) == 0 {
		return nil
	}
	stored := map[int]map[string]string{}
	marker := 0
	for {
		res, err := mp.ListParts(rc.ctx, rc.bucket, rc.key, uploadID, marker, listMaxKeys)
		if err != nil {
			return err
		}
		for _, p := range res.Parts {
			stored[p.PartNumber] = p.Checksums
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			break
		}
		marker = res.NextPartNumberMarker
	}
	for i, p := range parts {
		for a, v := range sums[i] {
			if stored[p.PartNumber][a] != v {
				return s3err.InvalidPart.With("the " + a + " checksum of part " + strconv.Itoa(p.PartNumber) + " does not match the uploaded part")
			}
		}
	}
	for a, want := range objectSums {
		partSums := make([]string, 0, len(parts))
		for _, p := range parts {
			ps := stored[p.PartNumber][a]
			if ps == "" {
				return s3err.InvalidRequest.With("part " + strconv.Itoa(p.PartNumber) + " was uploaded without an " + a + " checksum")
			}
			partSums = append(partSums, ps)
		}
		got, err := backends.CompositeChecksum(a, partSums)
		if err != nil {
			return s3err.InvalidRequest.With("the x-amz-checksum-" + strings.ToLower(a) + " of a multipart object must be the composite checksum of parts uploaded with that algorithm")
		}
		if want != got && want+"-"+strconv.Itoa(len(parts)) != got {
			return s3err.BadDigest.With("the x-amz-checksum-" + strings.ToLower(a) + " header does not match the composite checksum of the parts")
		}
	}
	return nil
}

// completeMultipartUpload implements CompleteMultipartUpload: the part list
// (see parseCompleteMultipartUpload), conditional writes (If-None-Match: *
// and If-Match, 412 when they fail: checked up front for a fast answer and
// by the backend atomically), optional per-part checksums compared with the
// stored parts, and a result whose ETag equals later HEAD/GET/LIST ETags.
// The backend assembly runs to its end even if the client goes away; a long
// one is answered with 200 and keep-alive whitespace (see
// mpRunWithKeepAlive). A retry of a completion that already succeeded gets
// the same result. See the Amazon S3 API Reference, CompleteMultipartUpload.
func (s *Server) completeMultipartUpload(rc *reqCtx) error {
	mp, err := mpCapability(rc)
	if err != nil {
		return err
	}
	uploadID, err := mpUploadID(rc.r.URL.Query())
	if err != nil {
		return err
	}
	cond, err := writeCondition(rc.r.Header)
	if err != nil {
		return err
	}
	data, err := mpReadBody(rc, mpMaxCompleteBody)
	if err != nil {
		return err
	}
	parts, sums, err := mpParseComplete(data)
	if err != nil {
		return err
	}
	if cond.IfNoneMatchStar || cond.IfMatch != "" {
		info, err := rc.backend.Stat(rc.ctx, rc.bucket, rc.key)
		switch {
		case err == nil:
			if cond.IfNoneMatchStar || info.ETag != cond.IfMatch {
				if done, ok := mpAlreadyCompleted(rc, mp, uploadID, parts); ok {
					return writeXML(rc, http.StatusOK, mpCompleteDoc(rc, done))
				}
				return s3err.PreconditionFailed
			}
		case errors.Is(err, backends.ErrObjectNotFound):
			if cond.IfMatch != "" {
				return s3err.NoSuchKey
			}
		default:
			return err
		}
	}
	if err := mpVerifyPartChecksums(rc, mp, uploadID, parts, sums); err != nil {
		return err
	}
	key := mpAlgoKey(rc, uploadID)
	return s.mpRunWithKeepAlive(rc, context.WithoutCancel(rc.ctx), func(ctx context.Context) (any, error) {
		info, err := mp.CompleteMultipartUpload(ctx, rc.bucket, rc.key, uploadID, parts, cond)
		if errors.Is(err, backends.ErrUploadNotFound) {
			if done, ok := mpAlreadyCompleted(rc, mp, uploadID, parts); ok {
				info, err = done, nil
			}
		}
		if err != nil {
			return nil, err
		}
		mpAlgorithms.forget(key)
		return mpCompleteDoc(rc, info), nil
	})
}

// abortMultipartUpload implements AbortMultipartUpload: 204, or NoSuchUpload
// (404) for an unknown upload. See the Amazon S3 API Reference,
// AbortMultipartUpload.
func (s *Server) abortMultipartUpload(rc *reqCtx) error {
	mp, err := mpCapability(rc)
	if err != nil {
		return err
	}
	uploadID, err := mpUploadID(rc.r.URL.Query())
	if err != nil {
		return err
	}
	if err := mp.AbortMultipartUpload(rc.ctx, rc.bucket, rc.key, uploadID); err != nil {
		return err
	}
	mpAlgorithms.forget(mpAlgoKey(rc, uploadID))
	rc.w.WriteHeader(http.StatusNoContent)
	return nil
}

// mpListPartsResult is the ListPartsResult document.
type mpListPartsResult struct {
	XMLName              xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string       `xml:"Bucket"`
	Key                  string       `xml:"Key"`
	UploadID             string       `xml:"UploadId"`
	Initiator            *listOwner   `xml:"Initiator,omitempty"`
	Owner                *listOwner   `xml:"Owner,omitempty"`
	StorageClass         string       `xml:"StorageClass"`
	PartNumberMarker     int          `xml:"PartNumberMarker"`
	NextPartNumberMarker int          `xml:"NextPartNumberMarker"`
	MaxParts             int          `xml:"MaxParts"`
	IsTruncated          bool         `xml:"IsTruncated"`
	Parts                []mpListPart `xml:"Part"`
	ChecksumAlgorithm    string       `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string       `xml:"ChecksumType,omitempty"`
}

type mpListPart struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	mpChecksums
}

// listParts implements ListParts: part-number-marker, max-parts (default
// and cap 1000), NextPartNumberMarker and IsTruncated for paging. Initiator
// and Owner name the requesting identity (see listOwnerOf). See the Amazon
// S3 API Reference, ListParts.
func (s *Server) listParts(rc *reqCtx) error {
	mp, err := mpCapability(rc)
	if err != nil {
		return err
	}
	q := rc.r.URL.Query()
	uploadID, err := mpUploadID(q)
	if err != nil {
		return err
	}
	marker := 0
	if v := q.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s3err.InvalidArgument.With("Argument part-number-marker must be an integer between 0 and 2147483647")
		}
		marker = n
	}
	maxParts, err := listParseMax(q, "max-parts")
	if err != nil {
		return err
	}
	ask := maxParts
	if ask == 0 {
		ask = 1 // still proves the upload exists
	}
	res, err := mp.ListParts(rc.ctx, rc.bucket, rc.key, uploadID, marker, ask)
	if err != nil {
		return err
	}
	if maxParts == 0 {
		res.IsTruncated, res.Parts, res.NextPartNumberMarker = len(res.Parts) > 0, nil, marker
	}
	owner := listOwnerOf(rc)
	algo := mpUploadAlgorithm(res.Upload.Metadata)
	out := mpListPartsResult{
		Bucket:               rc.bucket,
		Key:                  rc.key,
		UploadID:             uploadID,
		Initiator:            owner,
		Owner:                owner,
		StorageClass:         "STANDARD",
		PartNumberMarker:     marker,
		NextPartNumberMarker: res.NextPartNumberMarker,
		MaxParts:             maxParts,
		IsTruncated:          res.IsTruncated,
		ChecksumAlgorithm:    algo,
	}
	if algo != "" && algo != backends.ChecksumCRC64NVME {
		out.ChecksumType = "COMPOSITE"
	}
	if n := len(res.Parts); n > 0 && out.NextPartNumberMarker == 0 {
		out.NextPartNumberMarker = res.Parts[n-1].PartNumber
	}
	out.Parts = make([]mpListPart, 0, len(res.Parts))
	for _, p := range res.Parts {
		out.Parts = append(out.Parts, mpListPart{
			PartNumber:   p.PartNumber,
			LastModified: listTime(p.LastModified),
			ETag:         quoteETag(p.ETag),
			Size:         p.Size,
			mpChecksums:  mpChecksumsOf(p.Checksums),
		})
	}
	return writeXML(rc, http.StatusOK, out)
}
