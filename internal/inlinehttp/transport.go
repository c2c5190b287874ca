// Package inlinehttp is an HTTP/1.1 client transport that writes each
// request and reads its answer on the caller's goroutine, over plain TCP
// or TLS, keeping connections for reuse.
//
// net/http's Transport serves many callers on each connection's own
// reading and writing goroutines: every request crosses to them and back,
// some 0.03-0.04 ms of CPU a call under load. The broker makes two calls
// to an upstream OpenID provider in each login through it and the load
// tool a dozen a login; both send one request at a time on a connection
// and need none of that. What net/http does that this does not: HTTP/2,
// proxies and other schemes (give those to Fallback), compression (no
// Accept-Encoding is sent, so none comes back), 100-continue.
//
// Reuse and retries. A kept connection is checked before it is used
// again: the server may have closed it meanwhile (its idle timeout), and a
// request written to such a connection may or may not have been read. A
// request that fails before it is written whole is sent again on a new
// connection (the server acted on nothing); so is a request without a
// body whose answer does not come on a kept connection (GET and HEAD are
// safe to repeat). Any other failure is the caller's: an authorization
// code, for one, must never be sent twice.
package inlinehttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// Transport is an http.RoundTripper; its zero value is usable (direct
// connections, default TLS, one kept connection a host).
type Transport struct {
	// Dial opens a TCP connection; nil means a net.Dialer with a 5 s
	// timeout and 30 s keep-alive.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig configures https connections; nil means the defaults (the
	// system's roots). ServerName is set from the request's host when
	// empty, and only HTTP/1.1 is offered.
	TLSConfig *tls.Config
	// Timeout bounds each exchange, request and answer header; 0 means
	// only the request's context bounds it.
	Timeout time.Duration
	// MaxIdlePerHost is how many connections are kept a host; 0 means 1.
	MaxIdlePerHost int
	// IdleTimeout is how long a kept connection may wait before it is
	// closed instead of used; 0 means 90 s.
	IdleTimeout time.Duration
	// CheckAfter is how long a kept connection may wait before it is
	// checked for the server having closed it; 0 means always.
	CheckAfter time.Duration
	// Proxy, when set and returning a proxy for a request, sends the
	// request through Fallback instead; so does a scheme other than http
	// and https. A nil Fallback fails such requests.
	Proxy    func(*http.Request) (*url.URL, error)
	Fallback http.RoundTripper

	mu   sync.Mutex
	idle map[string][]*conn // by scheme://host:port, the last kept last
}

type conn struct {
	net.Conn
	raw       net.Conn // the TCP connection under TLS, for the liveness check
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	idleSince time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return t.fallback(req)
	}
	if t.Proxy != nil {
		proxy, err := t.Proxy(req)
		if err != nil {
			closeBody(req)
			return nil, fmt.Errorf("proxy for %s: %w", req.URL.Host, err)
		}
		if proxy != nil {
			return t.fallback(req)
		}
	}
	addr := req.URL.Host
	if req.URL.Port() == "" {
		port := "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(req.URL.Hostname(), port)
	}
	key := req.URL.Scheme + "://" + addr
	resp, c, sent, err := t.exchange(req, key, addr)
	if err != nil && c != nil && c.reused && (!sent || repeatable(req)) && req.Context().Err() == nil {
		again := req
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, err // its body is spent
			}
			// A copy with the body made anew: a RoundTripper leaves the
			// caller's request as it was.
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, fmt.Errorf("request body for another try: %w", gerr)
			}
			copied := *req
			copied.Body = body
			again = &copied
		}
		resp, _, _, err = t.exchange(again, key, addr)
	}
	return resp, err
}

func (t *Transport) fallback(req *http.Request) (*http.Response, error) {
	if t.Fallback == nil {
		closeBody(req)
		return nil, fmt.Errorf("inlinehttp: no transport for %s", req.URL.Redacted())
	}
	return t.Fallback.RoundTrip(req)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// repeatable reports whether req may be sent again after it may have been
// received: GET or HEAD without a body.
func repeatable(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == "") &&
		(req.Body == nil || req.Body == http.NoBody)
}

// exchange sends req on a connection and reads the answer's header. On
// error the connection is closed and returned, so that the caller knows
// whether it was a kept one, and sent tells whether the request was
// written whole.
func (t *Transport) exchange(req *http.Request, key, addr string) (resp *http.Response, c *conn, sent bool, err error) {
	c, err = t.conn(req.Context(), req.URL, key, addr)
	if err != nil {
		closeBody(req)
		return nil, nil, false, err
	}
	// A cancelled request (the client's timeout) unblocks the read by
	// moving the deadline into the past.
	stop := context.AfterFunc(req.Context(), func() { c.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, *conn, bool, error) {
		stop()
		c.Close()
		if cerr := req.Context().Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		return nil, c, sent, err
	}
	var deadline time.Time // none, and none left from the last request
	if t.Timeout > 0 {
		deadline = time.Now().Add(t.Timeout)
	}
	if err := c.SetDeadline(deadline); err != nil {
		closeBody(req)
		return fail(err)
	}
	if err := req.Write(c.bw); err != nil {
		return fail(fmt.Errorf("writing the request: %w", err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("writing the request: %w", err))
	}
	sent = true
	for {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			return fail(fmt.Errorf("reading the answer: %w", err))
		}
		// An informational answer (103 Early Hints) precedes the real one.
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	resp.Body = &body{body: resp.Body, t: t, c: c, key: key, keep: !resp.Close && !req.Close, stop: stop}
	return resp, c, sent, nil
}

// conn returns a kept connection for key that is still open, or dials one.
func (t *Transport) conn(ctx context.Context, u *url.URL, key, addr string) (*conn, error) {
	now := time.Now()
	for {
		t.mu.Lock()
		list := t.idle[key]
		var c *conn
		if n := len(list); n > 0 {
			c = list[n-1]
			list[n-1] = nil
			t.idle[key] = list[:n-1]
		}
		t.mu.Unlock()
		if c == nil {
			break
		}
		idleFor := now.Sub(c.idleSince)
		if idleFor < t.idleTimeout() && (idleFor < t.CheckAfter || alive(c.raw)) {
			c.reused = true
			return c, nil
		}
		c.Close()
	}
	dial := t.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	nc := raw
	if u.Scheme == "https" {
		cfg := &tls.Config{}
		if t.TLSConfig != nil {
			cfg = t.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	return &conn{Conn: nc, raw: raw, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, nil
}

func (t *Transport) idleTimeout() time.Duration {
	if t.IdleTimeout > 0 {
		return t.IdleTimeout
	}
	return 90 * time.Second
}

// put keeps c for the next request to key, or closes it if enough are
// kept.
func (t *Transport) put(key string, c *conn) {
	c.idleSince = time.Now()
	limit := max(t.MaxIdlePerHost, 1)
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*conn{}
	}
	if list := t.idle[key]; len(list) < limit {
		t.idle[key] = append(list, c)
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// CloseIdleConnections closes the kept connections, and the fallback's.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.Close()
		}
	}
	if f, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}

// alive reports whether the server has not closed c: nothing to read and
// no end of stream, by a peek that does not wait. Anything the server sent
// unasked (on TLS, perhaps its close_notify) counts as closed.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	live := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		live = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && live
}

// body hands its connection back for the next request once read to its
// end; closed before that, the connection is closed with it (what remains
// of the answer would be read as the next one's).
type body struct {
	body io.ReadCloser
	t    *Transport
	c    *conn
	key  string
	keep bool
	stop func() bool
	done bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err != nil {
		b.finish(errors.Is(err, io.EOF) && b.keep)
	}
	return n, err
}

func (b *body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *body) finish(reuse bool) {
	b.done = true
	// A cancellation that has begun to move the deadline leaves the
	// connection unusable; bytes read past the answer (the server sent
	// more than it said) would be taken for the next one's.
	if b.stop() && reuse && b.c.br.Buffered() == 0 {
		b.body.Close() // read to its end: closing reads nothing more
		b.t.put(b.key, b.c)
		return
	}
	// The connection first: closing the body of an answer not read to its
	// end would read the rest.
	b.c.Close()
	b.body.Close()
}
