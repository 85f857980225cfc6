package hdfs

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestConfigDataTransferProtection: New refuses integrity and privacy (the
// client library corrupts reads under them) with a configuration error that
// names the limitation, before connecting anywhere; "" and authentication
// pass validation; anything else is refused.
func TestConfigDataTransferProtection(t *testing.T) {
	base := Config{Namenodes: []string{"127.0.0.1:1"}, Root: "/lg"}
	for _, v := range []string{"integrity", "privacy"} {
		cfg := base
		cfg.DataTransferProtection = v
		b, err := New(context.Background(), cfg, nil, nil)
		if err == nil {
			b.Close()
			t.Fatalf("New accepted data_transfer_protection %q", v)
		}
		if !errors.Is(err, errConfig) || !strings.Contains(err.Error(), "colinmarc/hdfs") || !strings.Contains(err.Error(), v) {
			t.Errorf("New with %q: %v, want a configuration error naming the client limitation", v, err)
		}
	}
	for _, v := range []string{"", "authentication"} {
		cfg := base
		cfg.DataTransferProtection = v
		if _, err := cfg.withDefaults(); err != nil {
			t.Errorf("withDefaults with %q: %v", v, err)
		}
	}
	cfg := base
	cfg.DataTransferProtection = "Privacy!"
	if _, err := cfg.withDefaults(); !errors.Is(err, errConfig) {
		t.Errorf("withDefaults with an unknown value: %v, want errConfig", err)
	}
}
