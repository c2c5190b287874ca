package registry

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newTestClient points a client at srv with fast retries.
func newTestClient(t testing.TB, srv *httptest.Server, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithRetries(3, time.Millisecond, 4*time.Millisecond),
		WithTimeout(5 * time.Second),
		WithLogger(quietLogger()),
		WithLocation(helsinki(t)),
	}
	c, err := NewClient(srv.URL+"/", "1.2.246.562.10.00000000001.mpassid", srv.Client(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFetchAllMatchesDataset(t *testing.T) {
	ds := fakeopas.Generate(3, fakeopas.SizeSmall)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	c := newTestClient(t, srv)
	got, err := c.FetchAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := ds.Orgs()
	if len(got) != len(want) {
		t.Fatalf("fetched %d, dataset has %d", len(got), len(want))
	}
	wantBy := map[string]*model.Organisation{}
	for i := range want {
		wantBy[want[i].OID] = &want[i]
	}
	var closed, planned int
	for i := range got {
		w, ok := wantBy[got[i].OID]
		if !ok || !SameOrganisation(&got[i], w) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", got[i], w)
		}
		switch got[i].Status {
		case model.OrgPassive:
			closed++
		case model.OrgPlanned:
			planned++
		}
	}
	if closed == 0 || planned == 0 {
		t.Errorf("FetchAll must ask for closed (%d) and planned (%d) organisations too", closed, planned)
	}
	if id, enc := ds.LastRequest(); id != "1.2.246.562.10.00000000001.mpassid" || enc != "gzip" {
		t.Errorf("Caller-Id %q, Accept-Encoding %q", id, enc)
	}
}

func TestGet(t *testing.T) {
	ds := fakeopas.Generate(1, fakeopas.SizeDemo)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	c := newTestClient(t, srv)
	ctx := context.Background()
	for _, o := range ds.Orgs() {
		got, err := c.Get(ctx, o.OID)
		if err != nil {
			t.Fatal(err)
		}
		if !SameOrganisation(got, &o) {
			t.Errorf("Get(%s):\n got %+v\nwant %+v", o.OID, *got, o)
		}
	}
	n := ds.Requests()
	if _, err := c.Get(ctx, "1.2.246.562.10.12345"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown oid: %v, want ErrNotFound", err)
	}
	if ds.Requests() != n+1 {
		t.Errorf("a 404 was retried: %d requests", ds.Requests()-n)
	}
	if _, err := c.Get(ctx, "../hierarkia/hae"); err == nil {
		t.Error("a path was accepted as an OID")
	}
}

func TestCallerIDRequired(t *testing.T) {
	if _, err := NewClient("http://x/", "", nil); err == nil {
		t.Error("NewClient without a Caller-Id")
	}
	// And the fake refuses a request without one (400, not retried).
	ds := fakeopas.Generate(1, fakeopas.SizeDemo)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	c := newTestClient(t, srv)
	c.callerID = ""
	_, err := c.FetchAll(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusBadRequest || ds.Requests() != 1 {
		t.Errorf("err %v after %d requests; want one 400", err, ds.Requests())
	}
}

// rawServer serves body as given, counting requests.
func rawServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestGzip(t *testing.T) {
	const body = `{"numHits":1,"organisaatiot":[{"oid":"1.2.246.562.10.1","nimi":{"fi":"Pakattu koulu"}}]}`
	srv, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, body)
		zw.Close()
	})
	orgs, err := newTestClient(t, srv).FetchAll(context.Background())
	if err != nil || len(orgs) != 1 || orgs[0].Name.Fi != "Pakattu koulu" {
		t.Fatalf("orgs %+v, err %v", orgs, err)
	}
}

func TestSizeLimit(t *testing.T) {
	ds := fakeopas.Generate(1, fakeopas.SizeSmall)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	for _, gz := range []bool{true, false} {
		c := newTestClient(t, srv, WithMaxBodySize(10_000))
		if !gz {
			c.hc = &http.Client{Transport: &http.Transport{DisableCompression: true}}
		}
		before := ds.Requests()
		_, err := c.FetchAll(context.Background())
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("gzip %v: err %v, want ErrTooLarge", gz, err)
		}
		if n := ds.Requests() - before; n != 1 {
			t.Errorf("gzip %v: a too large answer was retried (%d requests)", gz, n)
		}
	}
	// A gzip bomb: small on the wire, huge inflated.
	srv2, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, `{"organisaatiot":[`)
		zw.Write([]byte(strings.Repeat(" ", 50<<20)))
		zw.Close()
	})
	if _, err := newTestClient(t, srv2, WithMaxBodySize(1<<20)).FetchAll(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("gzip bomb: %v", err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		failures int // how many requests fail before success
		want     int64
		ok       bool
	}{
		{"500 then success", 500, 2, 3, true},
		{"503 always: stops at the limit", 503, 0, 3, false},
		{"429 retried", 429, 1, 2, true},
		{"404 not retried", 404, 0, 1, false},
		{"401 not retried", 401, 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := fakeopas.Generate(1, fakeopas.SizeDemo)
			ds.SetFaults(fakeopas.Faults{Status: tt.status, FailTimes: tt.failures})
			srv := fakeopas.NewServer(ds)
			defer srv.Close()
			c := newTestClient(t, srv)
			var waits []time.Duration
			c.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			_, err := c.FetchAll(context.Background())
			if (err == nil) != tt.ok || ds.Requests() != tt.want {
				t.Fatalf("err %v after %d requests; want ok=%v after %d", err, ds.Requests(), tt.ok, tt.want)
			}
			if int64(len(waits)) != tt.want-1 {
				t.Errorf("waited %d times", len(waits))
			}
			var se *StatusError
			if !tt.ok && (!errors.As(err, &se) || se.Code != tt.status) {
				t.Errorf("err %v, want status %d", err, tt.status)
			}
		})
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	c, _ := NewClient("http://x/", "test", nil, WithRetries(10, 100*time.Millisecond, time.Second))
	for n := 1; n <= 8; n++ {
		full := min(100*time.Millisecond<<(n-1), time.Second)
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.backoff(n)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) has no jitter", n)
		}
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	// A server that cuts the connection mid-body: a network error.
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `{"organisaatiot":[`)
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, `{"organisaatiot":[{"oid":"1.2.246.562.10.1"}]}`)
	}))
	defer srv.Close()
	orgs, err := newTestClient(t, srv).FetchAll(context.Background())
	if err != nil || len(orgs) != 1 || n.Load() != 2 {
		t.Fatalf("orgs %d, err %v, requests %d", len(orgs), err, n.Load())
	}
	// A refused connection is retried up to the limit.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c := newTestClient(t, dead)
	tries := 0
	c.sleep = func(ctx context.Context, d time.Duration) error { tries++; return nil }
	if _, err := c.FetchAll(context.Background()); err == nil || tries != 2 {
		t.Errorf("err %v after %d retries", err, tries)
	}
}

func TestTimeout(t *testing.T) {
	ds := fakeopas.Generate(1, fakeopas.SizeDemo)
	ds.SetFaults(fakeopas.Faults{Delay: 10 * time.Second})
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	c := newTestClient(t, srv, WithTimeout(50*time.Millisecond), WithRetries(2, time.Millisecond, time.Millisecond))
	start := time.Now()
	_, err := c.FetchAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v, want a timeout", err)
	}
	if el := time.Since(start); el > 3*time.Second || ds.Requests() != 2 {
		t.Errorf("took %v over %d requests", el, ds.Requests())
	}
	// The caller's own cancellation stops at once, without retries.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	c = newTestClient(t, srv, WithRetries(5, time.Second, time.Second))
	before := ds.Requests()
	if _, err := c.FetchAll(ctx); !errors.Is(err, context.DeadlineExceeded) || ds.Requests()-before != 1 {
		t.Errorf("err %v after %d requests", err, ds.Requests()-before)
	}
}

func TestInvalidAnswersNotRetried(t *testing.T) {
	for name, f := range map[string]fakeopas.Faults{
		"truncated":            {TruncateAfter: 500},
		"truncated no numHits": {TruncateAfter: 2000, OmitNumHits: true},
	} {
		t.Run(name, func(t *testing.T) {
			ds := fakeopas.Generate(1, fakeopas.SizeSmall)
			ds.SetFaults(f)
			srv := fakeopas.NewServer(ds)
			defer srv.Close()
			_, err := newTestClient(t, srv).FetchAll(context.Background())
			if !errors.Is(err, ErrInvalidAnswer) || ds.Requests() != 1 {
				t.Errorf("err %v after %d requests", err, ds.Requests())
			}
		})
	}
}
