package hdfs

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetrics: the collectors pass promlint, use closed label sets that are
// exported from the start, and a second backend on the same registry reuses
// them instead of failing.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.opSeconds.WithLabelValues(opStat, "ok").Observe(0.001)
	lintMetrics(t, reg)
	for _, name := range []string{
		"lakegate_hdfs_pool_clients", "lakegate_hdfs_pool_clients_created_total",
		"lakegate_hdfs_pool_clients_discarded_total", "lakegate_hdfs_kerberos_ticket_renewals_total",
		"lakegate_hdfs_pool_max_clients", "lakegate_hdfs_namenode_op_duration_seconds",
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
	m2, err := newMetrics(reg)
	if err != nil {
		t.Fatalf("second backend on the same registry: %v", err)
	}
	m2.renewals.WithLabelValues("renewed").Inc()
	if got := testutil.ToFloat64(m.renewals.WithLabelValues("renewed")); got != 1 {
		t.Errorf("shared counter = %v, want 1", got)
	}
}

// TestKrbEvents: gokrb5's log lines become renewal counts and the TGT
// expiry gauge; the first login is not a refresh.
func TestKrbEvents(t *testing.T) {
	m, _ := newMetrics(nil)
	ev := &krbEvents{logger: discardLogger(), m: m}
	for _, line := range []string{
		"TGT session added for EXAMPLE.TEST (EndTime: 2026-11-21 11:00:00 +0000 UTC)",
		"refreshing TGT session for EXAMPLE.TEST",
		"TGT session renewed for EXAMPLE.TEST (EndTime: 2026-11-21 11:02:00 +0000 UTC)",
		"TGT session added for EXAMPLE.TEST (EndTime: 2026-11-21 11:04:00 +0000 UTC)",
		"error refreshing session: KDC unreachable",
	} {
		ev.Write([]byte(line + "\n"))
	}
	for res, want := range map[string]float64{"renewed": 1, "relogin": 1, "error": 1} {
		if got := testutil.ToFloat64(m.renewals.WithLabelValues(res)); got != want {
			t.Errorf("renewals{result=%q} = %v, want %v", res, got, want)
		}
	}
	want, _ := time.Parse(time.RFC3339, "2026-11-21T11:04:00Z")
	if got := testutil.ToFloat64(m.tgtExpiry); got != float64(want.Unix()) {
		t.Errorf("tgt expiry = %v, want %v", got, want.Unix())
	}
}

// discardLogger returns a logger that drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
