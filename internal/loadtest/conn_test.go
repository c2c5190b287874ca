package loadtest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer serves h and counts the connections it accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func newTestUserTransport(fallback http.RoundTripper) *userTransport {
	return newUserTransport((&net.Dialer{}).DialContext, 5*time.Second, fallback)
}

// The answers read through the transport are the server's, whatever their
// framing, and a connection is kept for the next request exactly when the
// answer was read to its end and neither side asked to close it.
func TestUserTransport(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
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
		}
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body))
	})
	cases := []struct {
		name, method, path, body string
		readAll                  bool
		want                     string
		newConns                 int64 // connections the next request dials
	}{
		{"first request dials", "GET", "/a", "", true, "GET /a ", 0},
		{"kept alive", "POST", "/b", "x=1", true, "POST /b x=1", 0},
		{"chunked answer", "GET", "/chunked", "", true, "chunk one, GET /chunked ", 0},
		{"server closes", "GET", "/close", "", true, "GET /close ", 1},
		{"answer not read to its end", "GET", "/big", "", false, "", 1},
		{"after a new connection", "GET", "/c", "", true, "GET /c ", 0},
	}
	tr := newTestUserTransport(nil)
	c := &http.Client{Transport: tr}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.readAll {
			got, err := io.ReadAll(resp.Body)
			if err != nil || string(got) != tc.want {
				t.Errorf("%s: read %q, %v; want %q", tc.name, got, err, tc.want)
			}
		} else {
			resp.Body.Read(make([]byte, 100))
		}
		resp.Body.Close()
		before := conns.Load()
		probe, err := c.Get(srv.URL + "/probe")
		if err != nil {
			t.Fatalf("%s: probe: %v", tc.name, err)
		}
		io.ReadAll(probe.Body)
		probe.Body.Close()
		if got := conns.Load() - before; got != tc.newConns {
			t.Errorf("%s: the next request dialled %d connections, want %d", tc.name, got, tc.newConns)
		}
	}
	tr.CloseIdleConnections()
}

// A kept connection the server has closed meanwhile is found closed and
// replaced before the next request, a POST with a body included, is
// written on it.
func TestUserTransportReplacesClosedConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, string(body))
	})
	tr := newTestUserTransport(nil)
	tr.idleCheck = 0 // check every kept connection
	c := &http.Client{Transport: tr}
	for i, body := range []string{"one", "two", "three"} {
		resp, err := c.Post(srv.URL, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != body {
			t.Errorf("request %d: %q, want %q", i, got, body)
		}
		srv.CloseClientConnections() // as an idle timeout would
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (one dialled again for each request)", n)
	}

	// A live kept connection passes the check and is used again.
	before := conns.Load()
	for range 2 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if n := conns.Load() - before; n != 1 {
		t.Errorf("two requests on a live connection dialled %d, want 1", n)
	}
}

// A request cancelled while the server is still answering ends at once,
// with the context's error, and its connection is not kept.
func TestUserTransportCancel(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	tr := newTestUserTransport(nil)
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

// HTTPS goes through the fallback transport.
func TestUserTransportFallback(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls") }))
	defer srv.Close()
	c := &http.Client{Transport: newTestUserTransport(srv.Client().Transport)}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, _ := io.ReadAll(resp.Body); string(got) != "tls" {
		t.Errorf("read %q", got)
	}
}
