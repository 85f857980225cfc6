package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus collectors. Labels come from closed
// sets only: operation names from the route table, HTTP status codes, and
// configured backend names; never bucket, key or user.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	inflight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_s3_requests_total",
			Help: "S3 requests served, by operation, HTTP status code and backend.",
		}, []string{"operation", "code", "backend"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lakegate_s3_request_duration_seconds",
			Help:    "Time from request start to the end of the response, by operation and backend.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"operation", "backend"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_s3_received_bytes_total",
			Help: "Decoded request payload bytes received, by operation and backend.",
		}, []string{"operation", "backend"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_s3_sent_bytes_total",
			Help: "Response body bytes sent, by operation and backend.",
		}, []string{"operation", "backend"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lakegate_s3_requests_in_flight",
			Help: "S3 requests being served.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.inflight)
	}
	return m
}

func (m *metrics) observe(op, backend string, status int, d time.Duration, in, out int64) {
	m.requests.WithLabelValues(op, strconv.Itoa(status), backend).Inc()
	m.duration.WithLabelValues(op, backend).Observe(d.Seconds())
	if in > 0 {
		m.bytesIn.WithLabelValues(op, backend).Add(float64(in))
	}
	if out > 0 {
		m.bytesOut.WithLabelValues(op, backend).Add(float64(out))
	}
}
