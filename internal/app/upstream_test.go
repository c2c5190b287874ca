package app

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Many logins at once through one upstream reuse the broker's connections
// to it: each caller's connection goes back to the pool and serves its
// next call, rather than one dial (and, over https, one TLS handshake) a
// call as with net/http's default of two idle connections a host.
func TestUpstreamClientReusesConnections(t *testing.T) {
	var dials atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"access_token":"x"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	client := newUpstreamClient()
	defer client.CloseIdleConnections()
	const callers, calls = 32, 20
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	// A caller that finds no kept connection dials one, so a few more
	// connections than callers are fine; one per call (640 here) or
	// anywhere near is not.
	if n := dials.Load(); n > 2*callers {
		t.Errorf("%d connections for %d callers making %d calls each; want at most two a caller", n, callers, calls)
	}
}
