package inlinehttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingServer serves h and counts the connections it accepted.
func countingServer(t *testing.T, h http.HandlerFunc, tlsServer bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tlsServer {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

// trusting returns a TLS configuration that trusts srv's certificate only.
func trusting(srv *httptest.Server) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: roots}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return string(b)
}

// The answers read through the transport are the server's, whatever their
// framing, and a connection is kept for the next request exactly when the
// answer was read to its end and neither side asked to close it; over
// plain TCP and over TLS.
func TestTransport(t *testing.T) {
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/chunked":
			w.Write([]byte("chunk one, "))
			w.(http.Flusher).Flush()
		case "/big":
			w.Write([]byte(strings.Repeat("x", 40<<10)))
			return
		case "/hints":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body))
	}
	cases := []struct {
		name, method, path, body string
		readAll                  bool
		want                     string
		newConns                 int64 // connections the next request dials
	}{
		{"first request dials", "GET", "/a", "", true, "GET /a ", 0},
		{"kept alive", "POST", "/b", "x=1", true, "POST /b x=1", 0},
		{"chunked answer", "GET", "/chunked", "", true, "chunk one, GET /chunked ", 0},
		{"early hints before the answer", "GET", "/hints", "", true, "GET /hints ", 0},
		{"server closes", "GET", "/close", "", true, "GET /close ", 1},
		{"answer not read to its end", "GET", "/big", "", false, "", 1},
		{"after a new connection", "GET", "/c", "", true, "GET /c ", 0},
	}
	for _, tlsServer := range []bool{false, true} {
		srv, conns := countingServer(t, handler, tlsServer)
		tr := &Transport{}
		if tlsServer {
			tr.TLSConfig = trusting(srv)
		}
		c := &http.Client{Transport: tr}
		for _, tc := range cases {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("TLS %v, %s: %v", tlsServer, tc.name, err)
			}
			if tc.readAll {
				got, err := io.ReadAll(resp.Body)
				if err != nil || string(got) != tc.want {
					t.Errorf("TLS %v, %s: read %q, %v; want %q", tlsServer, tc.name, got, err, tc.want)
				}
			} else {
				resp.Body.Read(make([]byte, 100))
			}
			resp.Body.Close()
			before := conns.Load()
			get(t, c, srv.URL+"/probe")
			if got := conns.Load() - before; got != tc.newConns {
				t.Errorf("TLS %v, %s: the next request dialled %d connections, want %d", tlsServer, tc.name, got, tc.newConns)
			}
		}
		tr.CloseIdleConnections()
	}
}

// A certificate the configuration does not trust fails the request.
func TestTransportVerifiesCertificate(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {}, true)
	_, err := (&http.Client{Transport: &Transport{}}).Get(srv.URL)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("error %v, want an unknown authority", err)
	}
}

// A kept connection the server has closed meanwhile is found closed and
// replaced before the next request, a POST with a body included, is
// written on it.
func TestTransportReplacesClosedConnection(t *testing.T) {
	for _, tlsServer := range []bool{false, true} {
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, string(body))
		}, tlsServer)
		tr := &Transport{}
		if tlsServer {
			tr.TLSConfig = trusting(srv)
		}
		c := &http.Client{Transport: tr}
		for i, body := range []string{"one", "two", "three"} {
			resp, err := c.Post(srv.URL, "text/plain", strings.NewReader(body))
			if err != nil {
				t.Fatalf("TLS %v, request %d: %v", tlsServer, i, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != body {
				t.Errorf("TLS %v, request %d: %q, want %q", tlsServer, i, got, body)
			}
			srv.CloseClientConnections() // as an idle timeout would
		}
		if n := conns.Load(); n != 3 {
			t.Errorf("TLS %v: %d connections, want 3 (one dialled again for each request)", tlsServer, n)
		}
		// A live kept connection passes the check and is used again.
		before := conns.Load()
		for range 2 {
			get(t, c, srv.URL)
		}
		if n := conns.Load() - before; n != 1 {
			t.Errorf("TLS %v: two requests on a live connection dialled %d, want 1", tlsServer, n)
		}
	}
}

// lateCloser is a server that reads a request and then closes the
// connection without answering, on the connections listed in drop (by
// the order they were accepted, from 1), and answers "ok" on the others.
type lateCloser struct {
	ln       net.Listener
	mu       sync.Mutex
	requests []string // the request lines it read
}

func newLateCloser(t *testing.T, drop func(conn, request int) bool) *lateCloser {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lateCloser{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for n := 1; ; n++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc, n, drop)
		}
	}()
	return s
}

func (s *lateCloser) serve(nc net.Conn, n int, drop func(conn, request int) bool) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	for i := 1; ; i++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		s.mu.Lock()
		s.requests = append(s.requests, req.Method+" "+req.URL.Path)
		s.mu.Unlock()
		if drop(n, i) {
			return
		}
		io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}
}

func (s *lateCloser) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// A request that reached the server on a kept connection that then broke
// is sent again only if repeating it is safe: a GET, never a POST.
func TestTransportRepeatsOnlySafeRequests(t *testing.T) {
	// The first connection answers its first request and drops its second.
	srv := newLateCloser(t, func(conn, request int) bool { return conn == 1 && request == 2 })
	base := "http://" + srv.ln.Addr().String()
	c := &http.Client{Transport: &Transport{CheckAfter: 1 << 62}}
	get(t, c, base+"/first")
	if got := get(t, c, base+"/again"); got != "ok" {
		t.Fatalf("GET on a dropped kept connection: %q", got)
	}
	want := []string{"GET /first", "GET /again", "GET /again"}
	if got := srv.seen(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("server read %v, want %v", got, want)
	}

	srv = newLateCloser(t, func(conn, request int) bool { return conn == 1 && request == 2 })
	base = "http://" + srv.ln.Addr().String()
	get(t, c, base+"/first")
	resp, err := c.Post(base+"/token", "application/x-www-form-urlencoded", strings.NewReader("code=once"))
	if err == nil {
		resp.Body.Close()
		t.Fatal("a POST dropped after it was read succeeded")
	}
	want = []string{"GET /first", "POST /token"}
	if got := srv.seen(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("server read %v, want %v: the code must be sent once", got, want)
	}
}

// A request cancelled while the server is still answering ends at once,
// with the context's error, and its connection is not kept.
func TestTransportCancel(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, false)
	defer close(release)
	tr := &Transport{}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	done := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(req)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if len(tr.idle) != 0 {
		t.Error("the cancelled request's connection was kept")
	}
}

// Requests through a proxy, and schemes other than http and https, go to
// the fallback; without one they fail.
func TestTransportFallback(t *testing.T) {
	var fellBack atomic.Int64
	fallback := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		fellBack.Add(1)
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("fallback")), Request: r}, nil
	})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "direct") }, false)
	proxied := func(r *http.Request) (*url.URL, error) {
		if r.URL.Path == "/via-proxy" {
			return url.Parse("http://proxy.invalid:3128")
		}
		return nil, nil
	}
	c := &http.Client{Transport: &Transport{Proxy: proxied, Fallback: fallback}}
	if got := get(t, c, srv.URL+"/direct"); got != "direct" {
		t.Errorf("direct: %q", got)
	}
	if got := get(t, c, srv.URL+"/via-proxy"); got != "fallback" {
		t.Errorf("proxied: %q", got)
	}
	if got := get(t, c, "ftp://example.invalid/x"); got != "fallback" {
		t.Errorf("ftp: %q", got)
	}
	if n := fellBack.Load(); n != 2 {
		t.Errorf("%d requests fell back, want 2", n)
	}
	if _, err := (&http.Client{Transport: &Transport{}}).Get("ftp://example.invalid/x"); err == nil {
		t.Error("ftp without a fallback succeeded")
	}
}

// Concurrent callers each get a connection of their own, and at most
// MaxIdlePerHost are kept after them.
func TestTransportKeepsAtMostMaxIdle(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, false)
	tr := &Transport{MaxIdlePerHost: 4}
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := conns.Load(); n > 16*20/2 {
		t.Errorf("%d connections for 320 requests of 16 callers: they are not reused", n)
	}
	tr.mu.Lock()
	kept := len(tr.idle[srv.URL]) // the key is scheme://host:port, as the URL
	tr.mu.Unlock()
	if kept < 1 || kept > 4 {
		t.Errorf("%d connections kept, want 1 to 4", kept)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An answer followed by bytes the server was not asked for leaves its
// connection unused: they would be read as the next answer.
func TestTransportDropsConnectionWithExtraBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					// One answer, then the start of another nobody asked for.
					io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
				}
			}()
		}
	}()
	c := &http.Client{Transport: &Transport{CheckAfter: 1 << 62}}
	for i := range 2 {
		if got := get(t, c, "http://"+ln.Addr().String()+"/"); got != "ok" {
			t.Fatalf("request %d read %q", i, got)
		}
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections for two requests, want 2 (the first not reused)", n)
	}
}
