package hdfs

import (
	"bytes"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// kerberosLogin logs in from the keytab and returns a gokrb5 client shared
// by every pooled hdfs.Client (gokrb5 clients are safe for concurrent use).
//
// Renewal: Login starts gokrb5's automatic session renewal, which renews the
// TGT at 5/6 of its remaining lifetime while it is renewable and logs in
// again from the keytab afterwards; an expired TGT is also refreshed lazily
// when a new NameNode connection asks for a service ticket. An established
// NameNode connection stays authenticated after its ticket expires (Hadoop
// RPC authenticates once per connection), so tickets matter for new
// connections, which the pool makes after failures and every ClientMaxAge.
// gokrb5 reports refreshes only through its logger; krbEvents turns those
// lines into the ticket-renewal metrics and logs failures.
func kerberosLogin(k KerberosConfig, logger *slog.Logger, m *metrics) (*krbclient.Client, error) {
	conf, err := krbconfig.Load(k.Krb5Conf)
	if err != nil {
		return nil, fmt.Errorf("%w: krb5_conf %s: %w", errConfig, k.Krb5Conf, err)
	}
	if k.ticketLifetime > 0 {
		conf.LibDefaults.TicketLifetime = k.ticketLifetime
	}
	kt, err := keytab.Load(k.Keytab)
	if err != nil {
		return nil, fmt.Errorf("%w: keytab %s: %w", errConfig, k.Keytab, err)
	}
	user, realm := k.Principal, conf.LibDefaults.DefaultRealm
	if i := strings.LastIndexByte(k.Principal, '@'); i >= 0 {
		user, realm = k.Principal[:i], k.Principal[i+1:]
	}
	ev := &krbEvents{logger: logger, m: m}
	cl := krbclient.NewWithKeytab(user, realm, kt, conf,
		krbclient.DisablePAFXFAST(true),
		krbclient.Logger(log.New(ev, "", 0)))
	if err := cl.Login(); err != nil {
		return nil, fmt.Errorf("kerberos login as %s@%s: %w", user, realm, err)
	}
	return cl, nil
}

// krbEvents receives gokrb5's log lines (v8.4.4 wording) and counts TGT
// refreshes.
type krbEvents struct {
	logger *slog.Logger
	m      *metrics

	mu     sync.Mutex
	logins int
}

// Write implements io.Writer for log.Logger; each call is one line.
func (e *krbEvents) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	switch {
	case strings.HasPrefix(line, "TGT session renewed for"):
		e.m.renewals.WithLabelValues("renewed").Inc()
		e.expiry(line)
		e.logger.Debug("kerberos tgt renewed", "detail", line)
	case strings.HasPrefix(line, "TGT session added for"):
		e.mu.Lock()
		e.logins++
		first := e.logins == 1
		e.mu.Unlock()
		if !first {
			e.m.renewals.WithLabelValues("relogin").Inc()
			e.logger.Debug("kerberos tgt obtained again from keytab", "detail", line)
		}
		e.expiry(line)
	case strings.HasPrefix(line, "error refreshing session"):
		e.m.renewals.WithLabelValues("error").Inc()
		e.logger.Warn("kerberos tgt refresh failed", "error", strings.TrimPrefix(line, "error refreshing session: "))
	}
	return len(p), nil
}

// expiry sets the TGT expiry gauge from "... (EndTime: <time>)".
func (e *krbEvents) expiry(line string) {
	i := strings.LastIndex(line, "EndTime: ")
	if i < 0 {
		return
	}
	s := strings.TrimSuffix(line[i+len("EndTime: "):], ")")
	t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", s)
	if err == nil {
		e.m.tgtExpiry.Set(float64(t.Unix()))
	}
}
