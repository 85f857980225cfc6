package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends/posix"
	"github.com/lakegate/lakegate/gateway/sigv4"
	"github.com/lakegate/lakegate/internal/identity"
)

const (
	testAccessKey = "LAKEGATETESTKEY"
	testSecretKey = "lakegate-test-secret-key-0123456789"
)

// testGateway is a gateway over a real posix backend in a temporary
// directory, served by httptest, with an AWS SDK for Go v2 client.
type testGateway struct {
	URL      string
	Server   *Server
	Registry *prometheus.Registry
	Client   *s3.Client
	Root     string
}

func newTestGateway(t *testing.T) *testGateway {
	t.Helper()
	root := t.TempDir()
	logger := testLogger()
	reg := prometheus.NewRegistry()
	pb, err := posix.New(context.Background(), posix.Config{Root: root}, logger, reg)
	if err != nil {
		t.Fatal(err)
	}
	g := serveGateway(t, []NamedBackend{{Name: "posix", Backend: pb}}, logger, reg)
	g.Root = root
	return g
}

// testLogger discards the gateway's log unless LAKEGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("LAKEGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// serveGateway serves a gateway over nbs (the first is the default backend)
// through httptest, with the test root key, metrics in reg, and an AWS SDK
// client (path-style, us-east-1). The server is closed when t ends.
func serveGateway(t *testing.T, nbs []NamedBackend, logger *slog.Logger, reg *prometheus.Registry) *testGateway {
	t.Helper()
	ids, err := identity.Load("", func(k string) string {
		switch k {
		case "LAKEGATE_ROOT_ACCESS_KEY":
			return testAccessKey
		case "LAKEGATE_ROOT_SECRET_KEY":
			return testSecretKey
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{
		Backends:   nbs,
		Verifier:   &sigv4.Verifier{Credentials: ids},
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(hs.URL),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
	})
	return &testGateway{URL: hs.URL, Server: srv, Registry: reg, Client: client}
}
