package s3

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
)

// metrics are the backend's Prometheus collectors. Labels come from closed
// sets: operation (the contract method), result (ok or an error class).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the collectors with reg (nil: not registered).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_s3backend_operations_total",
			Help: "Storage operations on an S3-compatible backend, by operation and result.",
		}, []string{"operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lakegate_s3backend_operation_duration_seconds",
			Help:    "Duration of storage operations on an S3-compatible backend (until the call returns; GET bodies stream afterwards).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"operation"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// done records one operation that started at start; *errp is its result.
// Use as defer m.done("Op", time.Now(), &err).
func (m *metrics) done(op string, start time.Time, errp *error) {
	m.observe(op, start, *errp)
}

// observe records one operation that started at start and ended with err.
func (m *metrics) observe(op string, start time.Time, err error) {
	m.requests.WithLabelValues(op, resultClass(err)).Inc()
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// resultClass names the outcome of an operation for the result label.
func resultClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, backends.ErrObjectNotFound), errors.Is(err, backends.ErrBucketNotFound),
		errors.Is(err, backends.ErrUploadNotFound):
		return "not_found"
	case errors.Is(err, backends.ErrPreconditionFailed), errors.Is(err, backends.ErrConditionalConflict):
		return "precondition_failed"
	case errors.Is(err, backends.ErrSlowDown):
		return "slow_down"
	case errors.Is(err, backends.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.Is(err, backends.ErrInvalidObjectName), errors.Is(err, backends.ErrInvalidBucketName),
		errors.Is(err, backends.ErrInvalidPart), errors.Is(err, backends.ErrInvalidPartOrder),
		errors.Is(err, backends.ErrEntityTooSmall), errors.Is(err, backends.ErrInvalidRange),
		errors.Is(err, backends.ErrBucketExists), errors.Is(err, backends.ErrBucketNotEmpty):
		return "client_error"
	}
	return "error"
}
