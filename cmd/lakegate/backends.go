package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakegate/lakegate/backends"
	"github.com/lakegate/lakegate/backends/posix"
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
}
