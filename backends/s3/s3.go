// Package s3 is lakegate's backend for S3-compatible object stores (Ceph RGW,
// MinIO, AWS S3), built on minio-go v7.
//
// A lakegate bucket b is the backend bucket <bucket_prefix>b; keys map 1:1.
// Objects are streamed in both directions (never buffered whole), with their
// content type, standard headers, x-amz-meta-* user metadata, tags and ETag
// kept exactly. Server-side copy, tagging and multipart uploads are passed
// through to the backend. lakegate keeps its own durable record of
// in-progress multipart uploads under state_dir, one small file per upload,
// so that ListMultipartUploads works by prefix, delimiter and markers on
// every backend (MinIO lists uploads only by exact key) and across restarts.
//
// What is stored beside the backend's own metadata, under user-metadata names
// that start with "lakegate-" (hidden from callers):
//   - lakegate-checksums: the S3 checksums the gateway verified before the
//     body was sent (x-amz-checksum-* request headers). Ceph RGW Pacific has
//     no S3 checksum support, so checksums are never sent as x-amz-checksum-*.
//   - lakegate-no-content-type: the object was written without a content
//     type (the backend would otherwise report its default).
//   - lakegate-expires: an Expires value that is not an HTTP date (minio-go
//     cannot parse such a header on HEAD).
//
// Checksums known only after the body (aws-chunked trailers, multipart
// composite checksums) cannot be sent in the request headers; they are kept
// in a small sidecar file under state_dir bound to the object's ETag, and a
// later overwrite with other content invalidates it.
//
// Conditional writes (WriteCondition):
//   - Put (single PUT): If-None-Match: * and If-Match are forwarded; MinIO,
//     Ceph RGW and AWS check them atomically. Ceph RGW compares If-Match
//     without HTTP quoting, so for it the request is re-signed with the ETag
//     unquoted; RGW answers a lost race with 500, reported as
//     ErrConditionalConflict after a HEAD shows another writer won.
//   - CompleteMultipartUpload: checked with a HEAD before the request and
//     forwarded; atomic on MinIO and AWS, best effort on Ceph RGW Pacific
//     (which ignores the headers there).
//   - CopyObject, and Put with unknown size above part_size (a multipart
//     upload): checked with a HEAD before the request only (best effort).
//
// Errors from the backend are translated to the backends sentinels, never
// passed on verbatim. Idempotent requests are retried by minio-go with
// bounded exponential backoff (max_retries); request bodies that cannot be
// replayed are not retried.
package s3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
)

// Config configures one S3-compatible backend. The YAML keys are those of a
// backends entry with type s3 (name and type are read by the caller).
type Config struct {
	// Endpoint is the backend's base URL, http:// or https://, e.g.
	// http://127.0.0.1:7480. Required.
	Endpoint string `yaml:"endpoint"`
	// AccessKey and SecretKey are the backend credentials (SigV4). Required.
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// Region is the SigV4 signing region and the LocationConstraint of new
	// buckets. Default: us-east-1.
	Region string `yaml:"region"`
	// BucketPrefix is prepended to every lakegate bucket name to form the
	// backend bucket name; ListBuckets shows only backend buckets with this
	// prefix. Default: "".
	BucketPrefix string `yaml:"bucket_prefix"`
	// StateDir holds lakegate's records of in-progress multipart uploads and
	// of checksums that could not be stored with the object. Gateways that
	// share the backend must share this directory. Required.
	StateDir string `yaml:"state_dir"`
	// BucketLookup is the addressing style: "path", "dns" (virtual host) or
	// "auto" (minio-go's choice: virtual host for AWS, path otherwise).
	// Default: path.
	BucketLookup string `yaml:"bucket_lookup"`
	// PayloadSigning is how request bodies are signed: "unsigned"
	// (UNSIGNED-PAYLOAD; integrity is checked through the returned ETag
	// against the gateway's MD5) or "streaming"
	// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD on http endpoints, costs a SHA-256
	// over every byte). Default: unsigned.
	PayloadSigning string `yaml:"payload_signing"`
	// Flavor selects backend-specific workarounds: "auto" (detected from
	// the endpoint's response headers on first use), "ceph", "minio", "aws"
	// or "generic". Default: auto.
	Flavor string `yaml:"flavor"`
	// MaxRetries is how many times minio-go tries an idempotent request
	// (with exponential backoff of 200 ms doubling, at most 1 s apart)
	// before giving up; 1 disables retries. Default: 4.
	MaxRetries int `yaml:"max_retries"`
	// MaxIdleConnsPerHost bounds the pooled keep-alive connections to the
	// backend. Default: 64.
	MaxIdleConnsPerHost int `yaml:"max_idle_conns_per_host"`
	// DialTimeout bounds connecting to the backend. Default: 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ResponseHeaderTimeout bounds the wait for response headers after a
	// request was sent. Default: 5m.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	// PartSize is the part size in bytes for Put with unknown size: bodies
	// up to this size are buffered and stored with a single PUT (ETag = MD5),
	// larger ones become a multipart upload of parts this size.
	// Default: 16 MiB (minimum 5 MiB).
	PartSize int64 `yaml:"part_size"`
	// SkipETagCheck disables the check that the ETag the backend returns for
	// a PUT or part equals the MD5 the gateway computed (needed for backends
	// whose ETags are not MD5s, e.g. AWS SSE-KMS). The gateway then does not
	// compute the MD5 of PutObject bodies without Content-MD5 (PutNeedsMD5),
	// which saves most of its CPU on large PUTs but leaves bytes corrupted
	// between gateway and backend undetected with payload_signing unsigned.
	// Default: false.
	SkipETagCheck bool `yaml:"skip_etag_check"`
}

// Flavors, see Config.Flavor.
const (
	FlavorAuto    = "auto"
	FlavorCeph    = "ceph"
	FlavorMinIO   = "minio"
	FlavorAWS     = "aws"
	FlavorGeneric = "generic"
)

const (
	defaultRegion        = "us-east-1"
	defaultPartSize      = 16 << 20
	defaultMaxRetries    = 4
	defaultIdlePerHost   = 64
	defaultDialTimeout   = 5 * time.Second
	defaultHeaderTimeout = 5 * time.Minute
	// bucketCacheTTL is how long a confirmed bucket existence is trusted to
	// tell a missing key from a missing bucket on HEAD (which has no error
	// body).
	bucketCacheTTL = 10 * time.Second
)

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Endpoint == "" {
		return c, errors.New("s3: endpoint is required")
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("s3: endpoint %q: want http://host[:port] or https://host[:port]", c.Endpoint)
	}
	if u.Path != "" && u.Path != "/" {
		return c, fmt.Errorf("s3: endpoint %q: a path is not supported", c.Endpoint)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return c, errors.New("s3: access_key and secret_key are required")
	}
	if c.StateDir == "" {
		return c, errors.New("s3: state_dir is required")
	}
	if c.Region == "" {
		c.Region = defaultRegion
	}
	switch c.BucketLookup {
	case "":
		c.BucketLookup = "path"
	case "path", "dns", "auto":
	default:
		return c, fmt.Errorf("s3: bucket_lookup %q: want path, dns or auto", c.BucketLookup)
	}
	switch c.PayloadSigning {
	case "":
		c.PayloadSigning = "unsigned"
	case "unsigned", "streaming":
	default:
		return c, fmt.Errorf("s3: payload_signing %q: want unsigned or streaming", c.PayloadSigning)
	}
	switch c.Flavor {
	case "":
		c.Flavor = FlavorAuto
	case FlavorAuto, FlavorCeph, FlavorMinIO, FlavorAWS, FlavorGeneric:
	default:
		return c, fmt.Errorf("s3: flavor %q: want auto, ceph, minio, aws or generic", c.Flavor)
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = defaultMaxRetries
	}
	if c.MaxIdleConnsPerHost <= 0 {
		c.MaxIdleConnsPerHost = defaultIdlePerHost
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	if c.ResponseHeaderTimeout <= 0 {
		c.ResponseHeaderTimeout = defaultHeaderTimeout
	}
	if c.PartSize == 0 {
		c.PartSize = defaultPartSize
	}
	if c.PartSize < backends.MinPartSize {
		return c, fmt.Errorf("s3: part_size %d: below the S3 minimum of %d bytes", c.PartSize, backends.MinPartSize)
	}
	return c, nil
}

// Backend is a backends.Backend over one S3-compatible endpoint. It also
// implements backends.Buckets, Multipart, Copier, Tagger and Closer. It is
// safe for concurrent use; one Backend keeps serving after the endpoint was
// unreachable for a while (nothing needs re-creating).
type Backend struct {
	cfg       Config
	log       *slog.Logger
	core      *minio.Core
	transport *http.Transport
	probe     *http.Client // unsigned requests for flavor detection
	secure    bool
	unsigned  bool // PayloadSigning == "unsigned"
	store     *stateStore
	m         *metrics

	flavorMu sync.Mutex
	flavor   atomic.Value // string once known

	bucketsMu sync.Mutex
	buckets   map[string]time.Time // backend bucket -> last confirmed existence
}

// New returns a Backend for cfg. It checks the configuration and creates
// state_dir, but does not contact the endpoint: an unreachable backend makes
// requests fail with backends.ErrUnavailable until it answers again. logger
// receives warnings (e.g. an ETag mismatch); reg (nil: none) receives the
// metrics lakegate_s3backend_operations_total and lakegate_s3backend_operation_duration_seconds;
// the caller labels it (prometheus.WrapRegistererWith backend=<name>) to tell
// several s3 backends apart.
func New(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, _ := url.Parse(cfg.Endpoint)
	secure := u.Scheme == "https"

	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          4 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// Objects stored with Content-Encoding gzip must come back as
		// stored: never let net/http decompress transparently.
		DisableCompression: true,
		// Large bodies: bigger buffers than the 4 KiB default cut syscalls.
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
	b := &Backend{
		cfg:       cfg,
		log:       logger,
		transport: tr,
		probe:     &http.Client{Transport: tr, Timeout: 10 * time.Second},
		secure:    secure,
		unsigned:  cfg.PayloadSigning == "unsigned",
		buckets:   map[string]time.Time{},
	}
	if cfg.Flavor != FlavorAuto {
		b.flavor.Store(cfg.Flavor)
	}
	lookup := minio.BucketLookupPath
	switch cfg.BucketLookup {
	case "dns":
		lookup = minio.BucketLookupDNS
	case "auto":
		lookup = minio.BucketLookupAuto
	}
	core, err := minio.NewCore(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Transport:    &rgwTransport{b: b, next: tr},
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", cfg.Endpoint, err)
	}
	b.core = core
	store, err := openStateStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	b.store = store
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	b.m = m
	return b, nil
}

// Close releases pooled connections. The Backend must not be used afterwards.
func (b *Backend) Close() error {
	b.transport.CloseIdleConnections()
	return nil
}

// getFlavor returns the backend flavor, detecting it from the endpoint's
// response to an anonymous GET / on first use. While the endpoint cannot be
// reached it answers FlavorGeneric without caching.
func (b *Backend) getFlavor(ctx context.Context) string {
	if f, ok := b.flavor.Load().(string); ok {
		return f
	}
	b.flavorMu.Lock()
	defer b.flavorMu.Unlock()
	if f, ok := b.flavor.Load().(string); ok {
		return f
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(b.cfg.Endpoint, "/")+"/", nil)
	if err != nil {
		return FlavorGeneric
	}
	resp, err := b.probe.Do(req)
	if err != nil {
		return FlavorGeneric
	}
	resp.Body.Close()
	f := flavorFromHeaders(resp.Header)
	b.flavor.Store(f)
	b.log.Debug("s3 backend flavor detected", "flavor", f)
	return f
}

// flavorFromHeaders recognises a backend from the headers of any response.
func flavorFromHeaders(h http.Header) string {
	server := strings.ToLower(h.Get("Server"))
	switch {
	case strings.HasPrefix(server, "minio"):
		return FlavorMinIO
	case strings.HasPrefix(server, "amazons3"):
		return FlavorAWS
	case strings.HasPrefix(server, "ceph"), isRGWRequestID(h.Get("X-Amz-Request-Id")):
		return FlavorCeph
	}
	return FlavorGeneric
}

// isRGWRequestID reports whether id has Ceph RGW's request ID shape,
// "tx" + 21 hex digits + "-" + hex + "-" + hex + "-" + zone group.
func isRGWRequestID(id string) bool {
	if !strings.HasPrefix(id, "tx") {
		return false
	}
	parts := strings.SplitN(id[2:], "-", 4)
	if len(parts) != 4 || len(parts[0]) != 21 {
		return false
	}
	for _, p := range parts[:3] {
		if p == "" || strings.Trim(p, "0123456789abcdef") != "" {
			return false
		}
	}
	return true
}

// backendBucket maps a lakegate bucket to the backend bucket name, or fails
// with ErrInvalidBucketName.
func (b *Backend) backendBucket(bucket string) (string, error) {
	name := b.cfg.BucketPrefix + bucket
	if !backends.ValidBucketName(bucket) || !backends.ValidBucketName(name) {
		return "", fmt.Errorf("s3 bucket %q: %w", bucket, backends.ErrInvalidBucketName)
	}
	return name, nil
}

// dataBucket is backendBucket for object operations, where a name that
// cannot exist is reported as ErrBucketNotFound.
func (b *Backend) dataBucket(bucket string) (string, error) {
	name, err := b.backendBucket(bucket)
	if err != nil {
		return "", fmt.Errorf("s3 bucket %q: %w", bucket, backends.ErrBucketNotFound)
	}
	return name, nil
}

// validKey checks what S3 backends accept as a key: 1 to 1024 bytes of
// valid UTF-8 without NUL (Ceph RGW answers NUL with a bare 400).
func validKey(key string) error {
	if key == "" || len(key) > 1024 || !utf8Valid(key) || strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("s3 key %q: %w", key, backends.ErrInvalidObjectName)
	}
	return nil
}

// bucketSeen records that bucket (backend name) exists.
func (b *Backend) bucketSeen(bucket string) {
	b.bucketsMu.Lock()
	b.buckets[bucket] = time.Now()
	b.bucketsMu.Unlock()
}

// bucketForget drops bucket from the existence cache.
func (b *Backend) bucketForget(bucket string) {
	b.bucketsMu.Lock()
	delete(b.buckets, bucket)
	b.bucketsMu.Unlock()
}

// bucketExists tells whether the backend bucket exists, from the cache when
// it was confirmed within bucketCacheTTL.
func (b *Backend) bucketExists(ctx context.Context, bucket string) (bool, error) {
	b.bucketsMu.Lock()
	t, ok := b.buckets[bucket]
	b.bucketsMu.Unlock()
	if ok && time.Since(t) < bucketCacheTTL {
		return true, nil
	}
	found, err := b.core.BucketExists(ctx, bucket)
	if err != nil {
		return false, err
	}
	if found {
		b.bucketSeen(bucket)
	} else {
		b.bucketForget(bucket)
	}
	return found, nil
}

var (
	_ backends.Backend   = (*Backend)(nil)
	_ backends.Buckets   = (*Backend)(nil)
	_ backends.Multipart = (*Backend)(nil)
	_ backends.Copier    = (*Backend)(nil)
	_ backends.Tagger    = (*Backend)(nil)
	_ backends.Closer    = (*Backend)(nil)
)
