package hdfs

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// NameNode operation names: the closed label set of
// lakegate_hdfs_namenode_op_duration_seconds. Each is one colinmarc/hdfs
// call (which may issue more than one RPC: most calls start with a
// getFileInfo).
const (
	opConnect     = "connect" // dial, SASL/Kerberos handshake
	opStat        = "getFileInfo"
	opOpen        = "open"
	opListing     = "getListing"
	opMkdirs      = "mkdirs"
	opRename      = "rename"
	opDelete      = "delete"
	opGetXAttrs   = "getXAttrs"
	opListXAttrs  = "listXAttrs"
	opSetXAttr    = "setXAttr"
	opRemoveXAttr = "removeXAttr"
	opCreate      = "create"
	opComplete    = "complete"
)

// metrics are the hdfs backend's Prometheus collectors.
type metrics struct {
	poolMax       prometheus.Gauge
	poolClients   *prometheus.GaugeVec
	poolWait      prometheus.Histogram
	poolCreated   *prometheus.CounterVec
	poolDiscarded *prometheus.CounterVec
	opSeconds     *prometheus.HistogramVec
	renewals      *prometheus.CounterVec
	tgtExpiry     prometheus.Gauge
}

// newMetrics creates the collectors and registers them with reg (nil: not
// registered). Collectors that are already registered (a second hdfs
// backend sharing reg) are reused; wrap reg with a backend label
// (prometheus.WrapRegistererWith) to tell several hdfs backends apart.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		poolMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lakegate_hdfs_pool_max_clients",
			Help: "Configured maximum number of HDFS clients (pool_size).",
		}),
		poolClients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lakegate_hdfs_pool_clients",
			Help: "HDFS clients in the pool by state (idle, in_use).",
		}, []string{"state"}),
		poolWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lakegate_hdfs_pool_wait_seconds",
			Help:    "Time a request waited for a free HDFS client.",
			Buckets: []float64{.0001, .001, .005, .01, .05, .1, .5, 1, 5, 30},
		}),
		poolCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_hdfs_pool_clients_created_total",
			Help: "HDFS client connections attempted, by result (ok, error).",
		}, []string{"result"}),
		poolDiscarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_hdfs_pool_clients_discarded_total",
			Help: "HDFS clients closed, by reason (broken, expired, idle, shutdown).",
		}, []string{"reason"}),
		opSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lakegate_hdfs_namenode_op_duration_seconds",
			Help:    "Latency of NameNode operations by operation and result (ok, error).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
		}, []string{"op", "result"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakegate_hdfs_kerberos_ticket_renewals_total",
			Help: "Kerberos TGT refreshes by result: renewed (TGS renewal), relogin (new AS exchange from the keytab), error.",
		}, []string{"result"}),
		tgtExpiry: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lakegate_hdfs_kerberos_tgt_expiry_timestamp_seconds",
			Help: "End time of the current Kerberos TGT (Unix seconds).",
		}),
	}
	// Pre-create the closed label values so they are exported at zero.
	for _, s := range []string{"idle", "in_use"} {
		m.poolClients.WithLabelValues(s)
	}
	for _, r := range []string{"ok", "error"} {
		m.poolCreated.WithLabelValues(r)
	}
	for _, r := range []string{"broken", "expired", "idle", "shutdown"} {
		m.poolDiscarded.WithLabelValues(r)
	}
	for _, r := range []string{"renewed", "relogin", "error"} {
		m.renewals.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.poolMax = register(reg, m.poolMax, &err)
	m.poolClients = register(reg, m.poolClients, &err)
	m.poolWait = register(reg, m.poolWait, &err)
	m.poolCreated = register(reg, m.poolCreated, &err)
	m.poolDiscarded = register(reg, m.poolDiscarded, &err)
	m.opSeconds = register(reg, m.opSeconds, &err)
	m.renewals = register(reg, m.renewals, &err)
	m.tgtExpiry = register(reg, m.tgtExpiry, &err)
	return m, err
}

// register registers c with reg and returns it, or the collector already
// registered under the same description. Other errors go to *errp.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		if *errp == nil {
			*errp = err
		}
	}
	return c
}
