// Command lakegate is the S3-compatible gateway in front of HDFS, S3-compatible
// object stores and the local filesystem.
//
//	lakegate serve [--config FILE] [--listen ADDR]
//	lakegate version
//
// With no configuration file it serves on 127.0.0.1:9080 with the posix
// backend under ./data. Credentials come from LAKEGATE_ROOT_ACCESS_KEY and
// LAKEGATE_ROOT_SECRET_KEY and from the identities file named in the
// configuration, which is reloaded on SIGHUP.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/gateway"
	"github.com/lakegate/lakegate/gateway/sigv4"
	"github.com/lakegate/lakegate/internal/atomicfile"
	"github.com/lakegate/lakegate/internal/config"
	"github.com/lakegate/lakegate/internal/identity"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "lakegate:", err)
			os.Exit(1)
		}
	case "version", "--version":
		fmt.Println("lakegate", version)
	case "help", "-h", "--help":
		usage()
	default:
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  lakegate serve [--config FILE] [--listen ADDR]   serve the S3 API
  lakegate version

Without --config: 127.0.0.1:9080, posix backend under ./data.
Credentials: LAKEGATE_ROOT_ACCESS_KEY / LAKEGATE_ROOT_SECRET_KEY, plus the
identities file of the configuration (reloaded on SIGHUP).`)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (YAML); default: built-in zero-setup configuration")
	listen := fs.String("listen", "", "override the listen address of the configuration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	logger := newLogger(cfg.LogLevel)

	ids, err := identity.Load(cfg.Identities, os.Getenv)
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	if _, _, ok := ids.Lookup(os.Getenv("LAKEGATE_ROOT_ACCESS_KEY")); !ok && cfg.Identities == "" {
		return errors.New("no credentials: set LAKEGATE_ROOT_ACCESS_KEY and LAKEGATE_ROOT_SECRET_KEY, or an identities file in the configuration")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	named, closeBackends, err := openBackends(ctx, cfg, logger, reg)
	if err != nil {
		return err
	}
	defer closeBackends()

	tokenKey, err := loadOrCreateKey(filepath.Join(cfg.StateDir, "list-token.key"))
	if err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	gw, err := gateway.New(gateway.Config{
		ListTokenKey:   tokenKey,
		Backends:       named,
		DefaultBackend: cfg.DefaultBackend,
		Domain:         cfg.Domain,
		Region:         cfg.Region,
		Verifier:       &sigv4.Verifier{Credentials: ids, Region: cfg.Region},
		Logger:         logger,
		Registerer:     reg,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", gw)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.TLS.Cert != "" {
		scheme = "https"
	}
	backendNames := make([]string, 0, len(named))
	for _, b := range named {
		backendNames = append(backendNames, b.Name)
	}
	logger.Info("serving", "address", ln.Addr().String(), "scheme", scheme, "backends", backendNames, "version", version)

	errc := make(chan error, 1)
	go func() {
		if cfg.TLS.Cert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLS.Cert, cfg.TLS.Key)
		} else {
			errc <- srv.Serve(ln)
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	for {
		select {
		case err := <-errc:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := ids.Reload(); err != nil {
					logger.Error("identities reload failed, keeping the previous set", "err", err)
				} else {
					logger.Info("identities reloaded")
				}
				continue
			}
			// Graceful shutdown: not ready, stop accepting, drain within the
			// grace period, then close backends (deferred).
			logger.Info("shutting down", "signal", sig.String(), "in_flight", gw.InFlight(), "grace", cfg.ShutdownGrace.String())
			gw.SetReady(false)
			sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
			err := srv.Shutdown(sctx)
			scancel()
			if err != nil {
				logger.Warn("grace period over, closing remaining connections", "err", err)
				_ = srv.Close()
			}
			logger.Info("stopped")
			return nil
		}
	}
}

// loadOrCreateKey returns the key (32 bytes or more) stored at path,
// creating a random 32-byte one with mode 0600 on first use; a shorter file
// is an error. Gateway processes sharing a state_dir share the key,
// so a continuation token issued by one is accepted by the others.
func loadOrCreateKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Of gateways starting together on one state_dir, one creates the
	// key and all of them read that one.
	if err := atomicfile.Create(path, key, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err == nil && len(b) < 32 {
		err = fmt.Errorf("list-token key %s: %d bytes, want 32 or more (remove it to make a new one)", path, len(b))
	}
	return b, err
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// openBackends builds every configured backend in order. If one fails, the
// ones already opened are closed before the error is returned.
func openBackends(ctx context.Context, cfg *config.Config, logger *slog.Logger, reg prometheus.Registerer) ([]gateway.NamedBackend, func(), error) {
	var out []gateway.NamedBackend
	closeAll := func() {
		for i := len(out) - 1; i >= 0; i-- {
			if c, ok := out[i].Backend.(backends.Closer); ok {
				if err := c.Close(); err != nil {
					logger.Warn("closing backend", "backend", out[i].Name, "err", err)
				}
			}
		}
	}
	for _, bc := range cfg.Backends {
		open, ok := backendTypes[bc.Type]
		if !ok {
			closeAll()
			return nil, nil, fmt.Errorf("backend %q: type %q is not built into this binary", bc.Name, bc.Type)
		}
		blog := logger.With("backend", bc.Name)
		breg := prometheus.WrapRegistererWith(prometheus.Labels{"backend": bc.Name}, reg)
		b, err := open(ctx, bc, blog, breg)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("backend %q (%s): %w", bc.Name, bc.Type, err)
		}
		out = append(out, gateway.NamedBackend{Name: bc.Name, Backend: b})
	}
	return out, closeAll, nil
}
