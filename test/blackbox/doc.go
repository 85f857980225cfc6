// Package blackbox is lakegate's black-box client suite: it drives a running
// gateway over HTTP with real S3 clients (AWS SDK for Go v2 and its transfer
// manager, minio-go v7, Debian's aws CLI v2 and python3-boto3, and raw signed
// HTTP requests for bad input), once per configured backend.
//
// The suite lives entirely in this package's tests. Environment:
//
//	LAKEGATE_ENDPOINT            gateway URL, e.g. http://127.0.0.1:9080. Unset: the
//	                             suite builds ./cmd/lakegate and serves it itself on
//	                             a free loopback port with the posix backend.
//	LAKEGATE_ACCESS_KEY          credentials for LAKEGATE_ENDPOINT
//	LAKEGATE_SECRET_KEY
//	LAKEGATE_REGION              SigV4 signing region. Default: us-east-1.
//	LAKEGATE_BLACKBOX_BACKENDS   space-separated backend names; one bucket is
//	                             created on each with LocationConstraint=<name>.
//	                             Default: "posix".
//	LAKEGATE_REQUIRE_DEV=1       fail instead of starting a private gateway when
//	                             LAKEGATE_ENDPOINT is unset.
//	LAKEGATE_BLACKBOX_BIG_SIZE   bytes of the aws CLI large-object copy, per
//	                             backend. Default: 1 GiB (64 MiB with -short).
//	LAKEGATE_BLACKBOX_KEEP=1     keep the private gateway's directory (binary,
//	                             data, gateway.log) for inspection.
//
// Every scenario is a test TestX with one subtest per backend, TestX/<backend>.
// No response may be a 5xx other than 501 NotImplemented: the Go clients'
// transport fails the test on one, and the gateway's
// lakegate_s3_requests_total counter is checked around every subtest so that
// 5xx answers to the aws CLI and boto3 (which retry silently) fail it too.
package blackbox
