package gateway

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsLintAndLabels drives a few operations and checks that the
// gateway's metrics pass promlint, count requests by operation and status
// code, count payload bytes, and never carry bucket or key names as labels.
func TestMetricsLintAndLabels(t *testing.T) {
	g := newTestGateway(t)
	ctx := context.Background()
	if _, err := g.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("metrics-bucket")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 12345)
	if _, err := g.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("metrics-bucket"), Key: aws.String("secret-key-name"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("metrics-bucket"), Key: aws.String("missing")}); err == nil {
		t.Fatal("HEAD of a missing key succeeded")
	}

	problems, err := testutil.GatherAndLint(g.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "lakegate_s3_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	if n := testutil.ToFloat64(g.Server.metrics.requests.WithLabelValues("PutObject", "200", "posix")); n != 1 {
		t.Errorf("PutObject 200 count = %v, want 1", n)
	}
	if n := testutil.ToFloat64(g.Server.metrics.requests.WithLabelValues("HeadObject", "404", "posix")); n != 1 {
		t.Errorf("HeadObject 404 count = %v, want 1", n)
	}
	if n := testutil.ToFloat64(g.Server.metrics.bytesIn.WithLabelValues("PutObject", "posix")); n != float64(len(body)) {
		t.Errorf("received bytes = %v, want %d", n, len(body))
	}
	mfs, err := g.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "metrics-bucket") || strings.Contains(l.GetValue(), "secret-key-name") {
					t.Errorf("metric %s carries a bucket or key label %s=%s", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}
