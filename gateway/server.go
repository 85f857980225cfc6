// Package gateway serves the S3 HTTP API on net/http and gorilla/mux: routing,
// SigV4 authentication (through package sigv4), request parsing, XML responses,
// and the translation of every S3 operation into calls on the storage contract
// of package backends. It talks to storage only through the backends
// interfaces and to policy only through the Authorizer interface it declares.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway/s3err"
	"github.com/lakegate/lakegate/gateway/sigv4"
	"github.com/lakegate/lakegate/internal/identity"
)

// AuthzRequest is what the gateway asks its Authorizer about one request.
type AuthzRequest struct {
	Identity  identity.Identity
	Anonymous bool
	// Action is the IAM action name of the S3 operation, e.g. "s3:GetObject".
	Action string
	// Operation is the S3 API operation name, e.g. "GetObject".
	Operation string
	Bucket    string
	Key       string
	RequestID string
}

// Decision is an Authorizer's answer.
type Decision struct {
	Allow  bool
	Reason string
}

// Authorizer decides whether an authenticated request may proceed. It must be
// safe for concurrent use. An error is answered as AccessDenied and logged.
type Authorizer interface {
	Authorize(ctx context.Context, req AuthzRequest) (Decision, error)
}

// AllowAuthenticated lets every authenticated identity do everything and
// denies anonymous requests. It is the default until per-team policy lands.
type AllowAuthenticated struct{}

// Authorize implements Authorizer.
func (AllowAuthenticated) Authorize(_ context.Context, req AuthzRequest) (Decision, error) {
	if req.Anonymous {
		return Decision{Allow: false, Reason: "anonymous requests are denied"}, nil
	}
	return Decision{Allow: true, Reason: "authenticated"}, nil
}

// NamedBackend is one configured backend; Name is what CreateBucket's
// LocationConstraint selects and GetBucketLocation returns.
type NamedBackend struct {
	Name    string
	Backend backends.Backend
}

// Config configures a Server.
type Config struct {
	// Backends in configuration order; at least one.
	Backends []NamedBackend
	// DefaultBackend is the backend for CreateBucket without a
	// LocationConstraint. Default: the first backend.
	DefaultBackend string
	// Domain enables virtual-host style requests (bucket.Domain) in
	// addition to path-style. Default: "" (path-style only).
	Domain string
	// Region is returned in x-amz-bucket-region. Default: "us-east-1".
	Region string
	// Verifier authenticates requests. Required.
	Verifier *sigv4.Verifier
	// Authorizer decides access. Default: AllowAuthenticated.
	Authorizer Authorizer
	// Logger receives one line per request. Default: slog.Default().
	Logger *slog.Logger
	// Registerer receives the gateway's metrics. Default: none registered.
	Registerer prometheus.Registerer
	// MaxObjectSize is the largest single PutObject body in bytes.
	// Default: 5 GiB, as S3.
	MaxObjectSize int64
	// ListTokenKey authenticates ListObjectsV2 continuation tokens (HMAC
	// key, at least 32 bytes recommended). Gateway processes behind one load
	// balancer must share it. Default: a random key per process, so a
	// token is valid only at the process that issued it.
	ListTokenKey []byte
}

// Server is the S3 API handler. It is safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	router   *mux.Router
	buckets  *bucketRegistry
	metrics  *metrics
	ready    atomic.Bool
	inflight atomic.Int64
}

// New returns a Server for cfg. It fails if no backend is configured, a
// backend name repeats, or the default backend is unknown.
func New(cfg Config) (*Server, error) {
	if len(cfg.Backends) == 0 {
		return nil, errors.New("gateway: no backend configured")
	}
	if cfg.Verifier == nil {
		return nil, errors.New("gateway: no verifier configured")
	}
	seen := map[string]bool{}
	for _, b := range cfg.Backends {
		if b.Name == "" || seen[b.Name] {
			return nil, fmt.Errorf("gateway: backend name %q empty or repeated", b.Name)
		}
		seen[b.Name] = true
	}
	if cfg.DefaultBackend == "" {
		cfg.DefaultBackend = cfg.Backends[0].Name
	}
	if !seen[cfg.DefaultBackend] {
		return nil, fmt.Errorf("gateway: default backend %q is not configured", cfg.DefaultBackend)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = AllowAuthenticated{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxObjectSize == 0 {
		cfg.MaxObjectSize = 5 << 30
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.buckets = newBucketRegistry(cfg.Backends)
	s.metrics = newMetrics(cfg.Registerer)
	s.router = s.routes()
	s.ready.Store(true)
	return s, nil
}

// SetReady marks the server ready or not for /readyz (false during shutdown).
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// opFunc handles one S3 operation. It writes the success response itself and
// returns an error otherwise, which the dispatcher turns into S3 XML.
type opFunc func(rc *reqCtx) error

// route is one S3 operation's routing rule.
type route struct {
	op      string   // S3 API operation name
	action  string   // IAM action
	method  string   // HTTP method
	queries []string // query keys that must be present
	level   level    // service, bucket or object
	handler opFunc
}

type level int

const (
	levelService level = iota
	levelBucket
	levelObject
)

// routes builds the router: health and readiness endpoints, then every S3
// operation for virtual-host style (when Domain is set) and path-style.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter().SkipClean(true).UseEncodedPath()
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}).Methods(http.MethodGet, http.MethodHead)

	table := s.operations()
	if s.cfg.Domain != "" {
		host := "{vhbucket:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]}." + s.cfg.Domain
		vh := r.Host(host).Subrouter()
		vh.SkipClean(true).UseEncodedPath()
		for _, rt := range table {
			switch rt.level {
			case levelBucket:
				s.add(vh.Path("/"), rt)
			case levelObject:
				s.add(vh.PathPrefix("/").MatcherFunc(hasKeyVH), rt)
			}
		}
		vh.PathPrefix("/").Handler(s.dispatch(route{op: "Unknown"}))
	}
	for _, rt := range table {
		switch rt.level {
		case levelService:
			s.add(r.Path("/"), rt)
		case levelBucket:
			s.add(r.Path("/{bucket:[^/]+}{slash:/?}"), rt)
		case levelObject:
			s.add(r.Path("/{bucket:[^/]+}/{key:.+}"), rt)
		}
	}
	r.NotFoundHandler = s.dispatch(route{op: "Unknown"})
	r.MethodNotAllowedHandler = s.dispatch(route{op: "Unknown"})
	return r
}

func hasKeyVH(r *http.Request, _ *mux.RouteMatch) bool { return len(r.URL.EscapedPath()) > 1 }

func (s *Server) add(rt *mux.Route, op route) {
	rt = rt.Methods(op.method)
	for _, q := range op.queries {
		rt = rt.Queries(q, "")
	}
	rt.Handler(s.dispatch(op))
}

// operations is the S3 API surface lakegate implements. Order matters: routes
// with more specific query matchers come first.
func (s *Server) operations() []route {
	return []route{
		{"ListBuckets", "s3:ListAllMyBuckets", "GET", nil, levelService, s.listBuckets},

		{"GetBucketLocation", "s3:GetBucketLocation", "GET", []string{"location"}, levelBucket, s.getBucketLocation},
		{"ListMultipartUploads", "s3:ListBucketMultipartUploads", "GET", []string{"uploads"}, levelBucket, s.listMultipartUploads},
		{"ListObjectsV2", "s3:ListBucket", "GET", []string{"list-type"}, levelBucket, s.listObjectsV2},
		{"DeleteObjects", "s3:DeleteObject", "POST", []string{"delete"}, levelBucket, s.deleteObjects},
		{"ListObjects", "s3:ListBucket", "GET", nil, levelBucket, s.listObjects},
		{"CreateBucket", "s3:CreateBucket", "PUT", nil, levelBucket, s.createBucket},
		{"HeadBucket", "s3:ListBucket", "HEAD", nil, levelBucket, s.headBucket},
		{"DeleteBucket", "s3:DeleteBucket", "DELETE", nil, levelBucket, s.deleteBucket},

		{"GetObjectTagging", "s3:GetObjectTagging", "GET", []string{"tagging"}, levelObject, s.getObjectTagging},
		{"PutObjectTagging", "s3:PutObjectTagging", "PUT", []string{"tagging"}, levelObject, s.putObjectTagging},
		{"DeleteObjectTagging", "s3:DeleteObjectTagging", "DELETE", []string{"tagging"}, levelObject, s.deleteObjectTagging},
		{"ListParts", "s3:ListMultipartUploadParts", "GET", []string{"uploadId"}, levelObject, s.listParts},
		{"CreateMultipartUpload", "s3:PutObject", "POST", []string{"uploads"}, levelObject, s.createMultipartUpload},
		{"CompleteMultipartUpload", "s3:PutObject", "POST", []string{"uploadId"}, levelObject, s.completeMultipartUpload},
		{"UploadPartCopy", "s3:PutObject", "PUT", []string{"partNumber", "uploadId"}, levelObject, s.uploadPartCopyOrPart},
		{"AbortMultipartUpload", "s3:AbortMultipartUpload", "DELETE", []string{"uploadId"}, levelObject, s.abortMultipartUpload},
		{"GetObject", "s3:GetObject", "GET", nil, levelObject, s.getObject},
		{"HeadObject", "s3:GetObject", "HEAD", nil, levelObject, s.headObject},
		{"PutObject", "s3:PutObject", "PUT", nil, levelObject, s.putOrCopyObject},
		{"DeleteObject", "s3:DeleteObject", "DELETE", nil, levelObject, s.deleteObject},
	}
}

// unsupportedSubresources are query keys naming S3 features lakegate does not
// implement; a request carrying one answers NotImplemented instead of being
// mistaken for a plain object or bucket operation.
var unsupportedSubresources = []string{
	"acl", "policy", "policyStatus", "cors", "lifecycle", "versioning", "versions", "versionId",
	"website", "logging", "notification", "replication", "encryption", "object-lock", "retention",
	"legal-hold", "requestPayment", "accelerate", "analytics", "inventory", "metrics", "intelligent-tiering",
	"ownershipControls", "publicAccessBlock", "restore", "select", "torrent", "attributes", "renameObject",
}

// unsupportedBucketSubresources are query keys naming bucket features
// lakegate does not implement. They are checked only on bucket requests:
// "tagging" is implemented on objects, and without this check GET, PUT and
// DELETE /bucket?tagging (GetBucketTagging, PutBucketTagging,
// DeleteBucketTagging) were taken for ListObjects, CreateBucket and
// DeleteBucket, so deleting a bucket's tags deleted the empty bucket.
var unsupportedBucketSubresources = []string{"tagging", "session", "metadataTable", "metadataConfiguration"}

// reqCtx carries one request through dispatch and its handler.
type reqCtx struct {
	w         *responseWriter
	r         *http.Request
	ctx       context.Context
	op        string
	requestID string
	bucket    string
	key       string
	auth      *sigv4.Request
	log       *slog.Logger
	// backend and backendName are set for bucket and object operations on an
	// existing bucket (resolved lazily by rc.resolveBucket).
	backend     backends.Backend
	backendName string
	bytesIn     atomic.Int64
}

// body returns the authenticated, decoded request body; bytes read through it
// are counted for metrics. Call rc.auth.Body.Digest() after it returned io.EOF.
func (rc *reqCtx) body() io.Reader { return countingReader{r: rc.auth.Body, n: &rc.bytesIn} }

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// dispatch wraps an operation: request ID, bucket/key extraction,
// authentication, authorization, the handler, error mapping, metrics, logs.
func (s *Server) dispatch(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.inflight.Add(1)
		s.metrics.inflight.Inc()
		defer func() {
			s.inflight.Add(-1)
			s.metrics.inflight.Dec()
		}()
		rw := &responseWriter{ResponseWriter: w}
		rc := &reqCtx{w: rw, r: r, ctx: r.Context(), op: rt.op, requestID: newRequestID()}
		rw.Header().Set("x-amz-request-id", rc.requestID)
		rw.Header().Set("x-amz-id-2", rc.requestID)
		rw.Header().Set("Server", "lakegate")
		rc.log = s.log.With("request_id", rc.requestID, "op", rt.op)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &requestBody{rc: r.Body}
		}

		err := s.serve(rc, rt)
		if rc.auth != nil && rc.auth.Body != nil {
			_ = rc.auth.Body.Close()
		}
		abort := false
		if err != nil {
			abort = s.writeError(rc, err)
		}
		dur := time.Since(start)
		status := rw.status
		if status == 0 {
			status = http.StatusOK
		}
		bytesIn := rc.bytesIn.Load()
		s.metrics.observe(rc.op, rc.backendName, status, dur, bytesIn, rw.written)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		rc.log.Log(rc.ctx, level, "request", "bucket", rc.bucket, "backend", rc.backendName,
			"status", status, "duration", dur.Seconds(), "bytes_in", bytesIn, "bytes_out", rw.written,
			"method", r.Method, "remote", r.RemoteAddr, "aborted", abort)
		if abort {
			// The response had started: abort the connection so the client
			// sees a truncated body rather than a silently short object.
			panic(http.ErrAbortHandler)
		}
	})
}

// serve runs the parts of dispatch that may fail with an S3 error.
func (s *Server) serve(rc *reqCtx, rt route) error {
	r := rc.r
	var err error
	rc.bucket, rc.key, err = s.bucketAndKey(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	for _, k := range unsupportedSubresources {
		if q.Has(k) {
			rc.op = "Unsupported"
			rc.log = s.log.With("request_id", rc.requestID, "op", rc.op)
			return s3err.NotImplemented.With("the " + k + " subresource is not implemented by lakegate")
		}
	}
	if rc.bucket != "" && rc.key == "" {
		for _, k := range unsupportedBucketSubresources {
			if q.Has(k) {
				rc.op = "Unsupported"
				rc.log = s.log.With("request_id", rc.requestID, "op", rc.op)
				return s3err.NotImplemented.With("the bucket " + k + " subresource is not implemented by lakegate")
			}
		}
	}
	if rt.op == "Unknown" {
		if r.Method == http.MethodOptions || r.Method == http.MethodPost && rc.key == "" && !q.Has("delete") {
			return s3err.NotImplemented
		}
		if rc.bucket == "" && r.URL.EscapedPath() != "/" {
			return s3err.MethodNotAllowed
		}
		return s3err.NotImplemented
	}
	auth, err := s.cfg.Verifier.Verify(r)
	if err != nil {
		return err
	}
	rc.auth = auth
	if !auth.Anonymous {
		rc.log = rc.log.With("user", auth.Identity.Name)
	}
	d, err := s.cfg.Authorizer.Authorize(rc.ctx, AuthzRequest{
		Identity: auth.Identity, Anonymous: auth.Anonymous, Action: rt.action, Operation: rt.op,
		Bucket: rc.bucket, Key: rc.key, RequestID: rc.requestID,
	})
	if err != nil {
		rc.log.Warn("authorization error", "err", err)
		return s3err.AccessDenied
	}
	if !d.Allow {
		return s3err.AccessDenied
	}
	if r.ContentLength == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		// net/http sends "100 Continue" only when a handler reads a body;
		// with none, some clients (botocore before PR #3010) keep waiting
		// for it and then misread the connection's next response. The
		// interim response is optional (RFC 9110, 10.1.1), so send it.
		rc.w.ResponseWriter.WriteHeader(http.StatusContinue)
	}
	if rc.bucket != "" && rt.op != "CreateBucket" {
		if err := s.resolveBucket(rc); err != nil {
			return err
		}
	}
	return rt.handler(rc)
}

// bucketAndKey extracts the bucket and the decoded key from a path-style or
// virtual-host style request. The key is taken from the escaped path and
// decoded once, so "//", "%2F", "+" and unicode survive exactly.
func (s *Server) bucketAndKey(r *http.Request) (bucket, key string, err error) {
	p := r.URL.EscapedPath()
	if v := mux.Vars(r)["vhbucket"]; v != "" {
		bucket = v
		if len(p) > 1 {
			key = p[1:]
		}
	} else {
		p = strings.TrimPrefix(p, "/")
		bucket, key, _ = strings.Cut(p, "/")
		if b, err := url.PathUnescape(bucket); err == nil {
			bucket = b
		}
	}
	if key != "" {
		k, err := url.PathUnescape(key)
		if err != nil {
			return "", "", s3err.InvalidArgument.With("the object key is not validly URI-encoded")
		}
		key = k
		if len(key) > 1024 {
			return "", "", s3err.KeyTooLongError
		}
	}
	return bucket, key, nil
}

// resolveBucket sets rc.backend for rc.bucket or fails with NoSuchBucket.
func (s *Server) resolveBucket(rc *reqCtx) error {
	name, b, err := s.buckets.lookup(rc.ctx, rc.bucket)
	if err != nil {
		return err
	}
	rc.backendName, rc.backend = name, b
	return nil
}

// writeError maps err to an S3 error and writes it unless the response has
// already started; then it reports true and the caller aborts the connection.
func (s *Server) writeError(rc *reqCtx, err error) (abort bool) {
	e, known := s3err.FromError(err)
	if !known {
		rc.log.Error("internal error", "err", err)
	} else if e.Status >= 500 && e.Status != http.StatusNotImplemented {
		rc.log.Warn("backend error", "err", err)
	}
	if rc.w.wroteHeader {
		return true
	}
	resource := rc.r.URL.Path
	s3err.Write(rc.w, rc.r, e, rc.requestID, resource)
	return false
}

// requestBody keeps the handler's Close of a request body from reading it.
// net/http's server-side Body.Close reads up to 256 KiB looking for EOF so
// that the connection can be reused. A client that sent "Expect:
// 100-continue" sends nothing until it gets the interim response, which
// net/http writes only when the body is read; so after an early answer
// (AccessDenied, NoSuchBucket, ...) that read blocked until the client gave
// up, and the answer was never sent. Close here only ends further reads;
// after the handler returns, net/http itself drains the body or closes the
// connection, once the response is out.
type requestBody struct {
	rc     io.ReadCloser
	closed atomic.Bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.rc.Read(p)
}

func (b *requestBody) Close() error {
	b.closed.Store(true)
	return nil
}

// responseWriter records the status and the number of body bytes written.
type responseWriter struct {
	http.ResponseWriter
	status      int
	written     int64
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.status = code
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom implements io.ReaderFrom: it hands src to the underlying
// writer's ReadFrom when it has one, so that net/http can send an *os.File,
// or an *io.LimitedReader over one, with sendfile(2) instead of copying it
// through user space (GetObject on posix; only on plain TCP, TLS copies).
// Bytes are counted as by Write. The error may come from src or from the
// connection.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(src)
		w.written += n
		return n, err
	}
	bp := streamBufPool.Get().(*[]byte)
	defer streamBufPool.Put(bp)
	return io.CopyBuffer(writeOnly{w}, src, *bp)
}

// writeOnly hides a writer's ReadFrom from io.CopyBuffer.
type writeOnly struct{ io.Writer }

// Flush implements http.Flusher when the underlying writer does.
func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// InFlight returns the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }
