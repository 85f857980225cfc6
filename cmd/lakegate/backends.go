package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/hdfs"
	"github.com/lakegate/lakegate/backends/posix"
	"github.com/lakegate/lakegate/backends/s3"
	"github.com/lakegate/lakegate/internal/config"
)

// opener builds one backend from its configuration entry.
type opener func(ctx context.Context, bc config.Backend, logger *slog.Logger, reg prometheus.Registerer) (backends.Backend, error)

// backendTypes maps a configuration type name to its constructor.
var backendTypes = map[string]opener{
	"posix": func(ctx context.Context, bc config.Backend, logger *slog.Logger, reg prometheus.Registerer) (backends.Backend, error) {
		var c posix.Config
		if err := bc.Decode(&c); err != nil {
			return nil, err
		}
		return posix.New(ctx, c, logger, reg)
	},
	"s3": func(ctx context.Context, bc config.Backend, logger *slog.Logger, reg prometheus.Registerer) (backends.Backend, error) {
		var c s3.Config
		if err := bc.Decode(&c); err != nil {
			return nil, err
		}
		return s3.New(ctx, c, logger, reg)
	},
	"hdfs": func(ctx context.Context, bc config.Backend, logger *slog.Logger, reg prometheus.Registerer) (backends.Backend, error) {
		var c hdfs.Config
		if err := bc.Decode(&c); err != nil {
			return nil, err
		}
		return hdfs.New(ctx, c, logger, reg)
	},
}
