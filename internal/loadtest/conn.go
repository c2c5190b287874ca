package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// userTransport is a virtual user's HTTP/1.1 transport to the broker over
// plain HTTP: one kept-alive connection per address, written and read on
// the caller's goroutine. net/http's Transport serves many callers at
// once: every request crosses to a writing and a reading goroutine of its
// connection and back, a sixth of the tool's CPU in a login
// (docs/performance.md), which the broker it measures then shares the
// cores with. A virtual user sends one
// request at a time and needs none of that. HTTPS targets go through
// fallback.
type userTransport struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	timeout  time.Duration // for a whole exchange, as http.Transport's ResponseHeaderTimeout bounds its header
	fallback http.RoundTripper
	// idleCheck is how long a kept connection may wait before it is
	// checked for the server having closed it; in a run every connection
	// is used again within milliseconds.
	idleCheck time.Duration

	mu   sync.Mutex
	idle map[string]*userConn // by host:port
}

type userConn struct {
	net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	idleSince time.Time
}

// alive reports whether the server has not closed c: nothing to read and
// no end of stream, by a peek that does not wait. A request written to a
// connection the server has just closed may or may not have been read;
// one that finds it closed before writing is sent on a new one.
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
		// Nothing to read yet is the one answer of a live idle
		// connection; bytes the server sent unasked, the end of the
		// stream (no error) or a reset are not.
		live = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && live
}

func newUserTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), timeout time.Duration, fallback http.RoundTripper) *userTransport {
	return &userTransport{dial: dial, timeout: timeout, fallback: fallback, idleCheck: time.Second, idle: map[string]*userConn{}}
}

// RoundTrip implements http.RoundTripper.
func (t *userTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return t.fallback.RoundTrip(req)
	}
	addr := req.URL.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "80")
	}
	resp, c, err := t.exchange(req, addr)
	if err != nil && c != nil && c.reused && errors.Is(err, errNotSent) && replayable(req) {
		// The kept connection was gone (the server's idle timeout) and
		// nothing of the request reached the server: once more on a new
		// one, as net/http's Transport does.
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		resp, _, err = t.exchange(req, addr)
	}
	return resp, err
}

// errNotSent marks a request whose writing failed: the server did not
// receive it whole, so it acted on nothing.
var errNotSent = errors.New("request not sent")

// replayable reports whether req may be sent again: without a body, or
// with one it can make again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// exchange sends req on a connection to addr and reads the answer's
// header. On error the connection is closed and returned, so that the
// caller knows whether it was a reused one.
func (t *userTransport) exchange(req *http.Request, addr string) (*http.Response, *userConn, error) {
	c, err := t.conn(req.Context(), addr)
	if err != nil {
		return nil, nil, err
	}
	// A cancelled request (the client's timeout, the end of the run)
	// unblocks the read by moving the deadline into the past.
	stop := context.AfterFunc(req.Context(), func() { c.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, *userConn, error) {
		stop()
		c.Close()
		if cerr := req.Context().Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		return nil, c, err
	}
	var deadline time.Time // none, and none left from the last request
	if t.timeout > 0 {
		deadline = time.Now().Add(t.timeout)
	}
	if err := c.SetDeadline(deadline); err != nil {
		return fail(err)
	}
	if err := req.Write(c.bw); err != nil {
		return fail(fmt.Errorf("%w: %w", errNotSent, err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("%w: %w", errNotSent, err))
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &userBody{body: resp.Body, t: t, c: c, addr: addr, keep: !resp.Close && !req.Close, stop: stop}
	return resp, c, nil
}

// conn returns the idle connection to addr, or dials one.
func (t *userTransport) conn(ctx context.Context, addr string) (*userConn, error) {
	t.mu.Lock()
	c := t.idle[addr]
	delete(t.idle, addr)
	t.mu.Unlock()
	if c != nil && (time.Since(c.idleSince) < t.idleCheck || alive(c.Conn)) {
		c.reused = true
		return c, nil
	}
	if c != nil {
		c.Close()
	}
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// The answers the tool reads are mostly under 10 KB; a SAML
	// Response form is some 30.
	return &userConn{Conn: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, nil
}

// put keeps c for the next request to addr, or closes it if one is kept.
func (t *userTransport) put(addr string, c *userConn) {
	c.idleSince = time.Now()
	t.mu.Lock()
	if t.idle[addr] == nil {
		t.idle[addr] = c
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// CloseIdleConnections closes the kept connections.
func (t *userTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string]*userConn{}
	t.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
	if f, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}

// userBody hands its connection back for the next request once read to
// its end; closed before that, the connection is closed with it (what
// remains of the answer would be read as the next one's).
type userBody struct {
	body io.ReadCloser
	t    *userTransport
	c    *userConn
	addr string
	keep bool
	stop func() bool
	done bool
}

func (b *userBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err != nil {
		b.finish(errors.Is(err, io.EOF) && b.keep)
	}
	return n, err
}

func (b *userBody) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *userBody) finish(reuse bool) {
	b.done = true
	// A cancellation that has begun to move the deadline leaves the
	// connection unusable.
	if b.stop() && reuse {
		b.body.Close() // read to its end: closing reads nothing more
		b.t.put(b.addr, b.c)
		return
	}
	// The connection first: closing the body of an answer not read to its
	// end would read the rest.
	b.c.Close()
	b.body.Close()
}
