package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/lakegate/lakegate/backends"
)

// pool is a bounded pool of hdfs.Client. An hdfs.Client is not safe for
// concurrent use (one NameNode connection, unsynchronised fields), so every
// request takes a client for its whole duration (a streaming GET or PUT
// included) and gives it back. At most size clients exist; callers beyond
// that wait. A client that failed with a connection-level error (NameNode
// restarted, network failure) is closed instead of being returned, and the
// next request dials a new one, so the backend recovers without a restart.
type pool struct {
	size    int
	maxAge  time.Duration
	idleTTL time.Duration
	dial    func() (*hdfs.Client, error)
	m       *metrics

	sem chan struct{} // one token per client in use or being dialled

	mu     sync.Mutex
	idle   []*client // LIFO
	closed bool
}

// errPoolClosed is returned by get after Close.
var errPoolClosed = errors.New("hdfs backend closed")

// newPool returns an empty pool of at most size clients made by dial.
func newPool(size int, maxAge, idleTTL time.Duration, dial func() (*hdfs.Client, error), m *metrics) *pool {
	m.poolMax.Set(float64(size))
	return &pool{size: size, maxAge: maxAge, idleTTL: idleTTL, dial: dial, m: m, sem: make(chan struct{}, size)}
}

// get returns a client, waiting while all size clients are in use. Errors:
// ctx's error, errPoolClosed, or ErrUnavailable when no NameNode can be
// reached.
func (p *pool) get(ctx context.Context) (*client, error) {
	start := time.Now()
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.m.poolWait.Observe(time.Since(start).Seconds())
	return p.take()
}

// tryGet returns a client only if one is free right now.
func (p *pool) tryGet() (*client, bool) {
	select {
	case p.sem <- struct{}{}:
	default:
		return nil, false
	}
	c, err := p.take()
	return c, err == nil
}

// take returns an idle client or dials a new one; the caller holds a token.
func (p *pool) take() (*client, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, errPoolClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		p.m.poolClients.WithLabelValues("idle").Dec()
		p.m.poolClients.WithLabelValues("in_use").Inc()
		return c, nil
	}
	p.mu.Unlock()
	start := time.Now()
	hc, err := p.dial()
	p.m.opSeconds.WithLabelValues(opConnect, result(err)).Observe(time.Since(start).Seconds())
	if err != nil {
		p.m.poolCreated.WithLabelValues("error").Inc()
		<-p.sem
		return nil, fmt.Errorf("hdfs connect: %w: %w", backends.ErrUnavailable, err)
	}
	p.m.poolCreated.WithLabelValues("ok").Inc()
	p.m.poolClients.WithLabelValues("in_use").Inc()
	return &client{c: hc, m: p.m, created: time.Now()}, nil
}

// put gives c back: broken or expired clients are closed, others idle.
func (p *pool) put(c *client) {
	defer func() { <-p.sem }()
	p.m.poolClients.WithLabelValues("in_use").Dec()
	reason := ""
	switch {
	case c.broken:
		reason = "broken"
	case time.Since(c.created) > p.maxAge:
		reason = "expired"
	}
	p.mu.Lock()
	if reason == "" && p.closed {
		reason = "shutdown"
	}
	if reason == "" {
		c.lastUsed = time.Now()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		p.m.poolClients.WithLabelValues("idle").Inc()
		return
	}
	p.mu.Unlock()
	p.m.poolDiscarded.WithLabelValues(reason).Inc()
	c.close()
}

// evictIdle closes idle clients unused for longer than idleTTL. Every idle
// colinmarc client renews its (empty) lease set once a second, so idle
// clients cost the NameNode RPCs.
func (p *pool) evictIdle() {
	p.mu.Lock()
	var keep, drop []*client
	for _, c := range p.idle {
		if time.Since(c.lastUsed) > p.idleTTL {
			drop = append(drop, c)
		} else {
			keep = append(keep, c)
		}
	}
	p.idle = keep
	p.mu.Unlock()
	for _, c := range drop {
		p.m.poolClients.WithLabelValues("idle").Dec()
		p.m.poolDiscarded.WithLabelValues("idle").Inc()
		c.close()
	}
}

// drainIdle closes every idle client (clients in use are closed when they
// come back); used by Close and by tests that need new connections.
func (p *pool) drainIdle(reason string) {
	p.mu.Lock()
	drop := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range drop {
		p.m.poolClients.WithLabelValues("idle").Dec()
		p.m.poolDiscarded.WithLabelValues(reason).Inc()
		c.close()
	}
}

// close stops the pool: get fails from now on, idle clients are closed.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.drainIdle("shutdown")
}

// client is one pooled hdfs.Client with instrumented operations. Methods
// mark the client broken when an error shows that its NameNode connection
// can no longer be trusted.
type client struct {
	c        *hdfs.Client
	m        *metrics
	created  time.Time
	lastUsed time.Time
	broken   bool
	closed   sync.Once
}

// close closes the underlying client once (a second hdfs.Client.Close
// panics).
func (c *client) close() {
	c.closed.Do(func() { c.c.Close() })
}

// observe records one operation's latency and inspects its error.
func (c *client) observe(op string, start time.Time, err error) {
	c.m.opSeconds.WithLabelValues(op, result(err)).Observe(time.Since(start).Seconds())
	if isConnError(err) {
		c.broken = true
	}
}

// result is the label value of err.
func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// stat returns the status of p.
func (c *client) stat(p string) (*hdfs.FileInfo, error) {
	start := time.Now()
	fi, err := c.c.Stat(p)
	c.observe(opStat, start, err)
	if err != nil {
		return nil, err
	}
	return fi.(*hdfs.FileInfo), nil
}

// open opens p for reading (one getFileInfo; block locations are fetched on
// the first read).
func (c *client) open(p string) (*hdfs.FileReader, error) {
	start := time.Now()
	f, err := c.c.Open(p)
	c.observe(opOpen, start, err)
	return f, err
}

// readdir returns all entries of the open directory f.
func (c *client) readdir(f *hdfs.FileReader) ([]os.FileInfo, error) {
	start := time.Now()
	fis, err := f.Readdir(0)
	c.observe(opListing, start, err)
	return fis, err
}

// readDir returns all entries of the directory p.
func (c *client) readDir(p string) ([]os.FileInfo, error) {
	f, err := c.open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c.readdir(f)
}

// mkdirAll creates p and its missing parents.
func (c *client) mkdirAll(p string, perm os.FileMode) error {
	start := time.Now()
	err := c.c.MkdirAll(p, perm)
	c.observe(opMkdirs, start, err)
	return err
}

// mkdir creates p; its parent must exist. os.ErrExist if p exists.
func (c *client) mkdir(p string, perm os.FileMode) error {
	start := time.Now()
	err := c.c.Mkdir(p, perm)
	c.observe(opMkdirs, start, err)
	return err
}

// rename moves src to dst, replacing a file at dst (rename2 with
// OverwriteDest).
func (c *client) rename(src, dst string) error {
	start := time.Now()
	err := c.c.Rename(src, dst)
	c.observe(opRename, start, err)
	return err
}

// remove deletes the file or empty directory p.
func (c *client) remove(p string) error {
	start := time.Now()
	err := c.c.Remove(p)
	c.observe(opDelete, start, err)
	return err
}

// removeAll deletes p recursively; a missing p is not an error.
func (c *client) removeAll(p string) error {
	start := time.Now()
	err := c.c.RemoveAll(p)
	c.observe(opDelete, start, err)
	return err
}

// getXAttrs returns the named attributes of p; it fails with an error for
// which isXAttrMissing is true when any of them is absent.
func (c *client) getXAttrs(p string, keys ...string) (map[string]string, error) {
	start := time.Now()
	m, err := c.c.GetXAttrs(p, keys...)
	c.observe(opGetXAttrs, start, err)
	return m, err
}

// listXAttrs returns the names of p's attributes (values are empty).
func (c *client) listXAttrs(p string) (map[string]string, error) {
	start := time.Now()
	m, err := c.c.ListXAttrs(p)
	c.observe(opListXAttrs, start, err)
	return m, err
}

// setXAttr creates or replaces one attribute of p.
func (c *client) setXAttr(p, key, value string) error {
	start := time.Now()
	err := c.c.SetXAttr(p, key, value)
	c.observe(opSetXAttr, start, err)
	return err
}

// removeXAttr removes one attribute of p; a missing attribute is not an
// error.
func (c *client) removeXAttr(p, key string) error {
	start := time.Now()
	err := c.c.RemoveXAttr(p, key)
	c.observe(opRemoveXAttr, start, err)
	if isXAttrMissing(err) {
		return nil
	}
	return err
}

// readAttrs returns those of keys that p has. It costs one RPC when p has
// all of them, three when it lacks some (colinmarc's GetXAttrs fails as a
// whole when one key is missing, so the names are listed first).
func (c *client) readAttrs(p string, keys ...string) (map[string]string, error) {
	m, err := c.getXAttrs(p, keys...)
	if err == nil || !isXAttrMissing(err) {
		return m, err
	}
	names, err := c.listXAttrs(p)
	if err != nil {
		return nil, err
	}
	var have []string
	for _, k := range keys {
		if _, ok := names[k]; ok {
			have = append(have, k)
		}
	}
	if len(have) == 0 {
		return map[string]string{}, nil
	}
	return c.getXAttrs(p, have...)
}

// create creates the new file p (it must not exist) with the cluster's
// default replication and block size.
func (c *client) create(p string) (*hdfs.FileWriter, error) {
	start := time.Now()
	d, err := c.c.ServerDefaults()
	var w *hdfs.FileWriter
	if err == nil {
		w, err = c.c.CreateFile(p, d.Replication, d.BlockSize, 0o644)
	}
	c.observe(opCreate, start, err)
	return w, err
}

// closeWriter closes w, waiting while the NameNode reports the last block
// as still replicating (hdfs.ErrReplicating), as the Java client does.
func (c *client) closeWriter(ctx context.Context, w *hdfs.FileWriter) error {
	start := time.Now()
	delay := 10 * time.Millisecond
	var err error
	for range 12 {
		err = w.Close()
		if !hdfs.IsErrReplicating(err) {
			break
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			c.observe(opComplete, start, ctx.Err())
			return ctx.Err()
		}
		delay *= 2
	}
	c.observe(opComplete, start, err)
	return err
}

// remoteException returns the Java exception class of a NameNode error, or
// "".
func remoteException(err error) string {
	var re hdfs.Error
	if errors.As(err, &re) {
		return re.Exception()
	}
	return ""
}

// isXAttrMissing reports colinmarc's error for GetXAttrs/RemoveXAttr on an
// absent attribute (its sentinel is unexported).
func isXAttrMissing(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "one or more keys not found"
}

// isConnError reports whether err leaves the client's NameNode connection
// in doubt: anything that is not an answer from the NameNode (a Java
// exception, or one colinmarc translated to an os error) and not a local
// context error.
func isConnError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if remoteException(err) != "" || isXAttrMissing(err) {
		return false
	}
	for _, e := range []error{os.ErrNotExist, os.ErrExist, os.ErrPermission, os.ErrInvalid, syscall.ENOTEMPTY, hdfs.ErrReplicating} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// isUnavailable reports whether err means HDFS cannot serve the request
// right now: a connection error, no reachable NameNode, or a NameNode in
// safe mode, standby or asking to retry.
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	switch ex := remoteException(err); {
	case strings.HasSuffix(ex, "SafeModeException"), strings.HasSuffix(ex, "RetriableException"),
		strings.HasSuffix(ex, "StandbyException"), strings.HasSuffix(ex, "ObserverRetryOnActiveException"):
		return true
	case ex != "":
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	return isConnError(err)
}
