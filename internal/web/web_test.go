package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSecurityHeaders(t *testing.T) {
	srv := httptest.NewServer(SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for header, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, part := range []string{"frame-ancestors 'none'", "script-src 'self'", "object-src 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

func TestHSTSBehindTLSProxy(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	SecurityHeaders(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS for a request that came over TLS")
	}
}

func TestReadyz(t *testing.T) {
	ok := Check{Name: "ok", Fn: func(context.Context) error { return nil }}
	bad := Check{Name: "database", Fn: func(context.Context) error { return errors.New("connection refused") }}
	tests := []struct {
		name   string
		checks []Check
		code   int
		status string
	}{
		{"all pass", []Check{ok}, http.StatusOK, "ok"},
		{"one fails", []Check{ok, bad}, http.StatusServiceUnavailable, "unavailable"},
		{"none", nil, http.StatusOK, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Readyz(time.Second, tt.checks...).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.code {
				t.Fatalf("code %d, want %d", rec.Code, tt.code)
			}
			var body struct {
				Status string
				Checks []struct {
					Name  string
					OK    bool
					Error string
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Status != tt.status || len(body.Checks) != len(tt.checks) {
				t.Fatalf("body %+v", body)
			}
			for i, c := range body.Checks {
				if c.Name != tt.checks[i].Name {
					t.Errorf("check %d named %q", i, c.Name)
				}
				if (c.Error == "") != c.OK {
					t.Errorf("check %q: ok=%v error=%q", c.Name, c.OK, c.Error)
				}
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	rec := httptest.NewRecorder()
	Healthz().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestRecoverAndLogging(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := Recover(log, Logging(log, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.WriteHeader(http.StatusTeapot)
	})))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic?code=secret", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("panic gave %d, want 500", rec.Code)
	}
	if !strings.Contains(logs.String(), "handler panic") {
		t.Errorf("panic not logged: %s", logs.String())
	}

	logs.Reset()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/teapot?code=secret-code", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("got %d", rec.Code)
	}
	line := logs.String()
	if !strings.Contains(line, `"status":418`) || !strings.Contains(line, `"path":"/teapot"`) {
		t.Errorf("request log lacks status or path: %s", line)
	}
	if strings.Contains(line, "secret-code") {
		t.Errorf("request log leaks the query: %s", line)
	}
}

func TestLoggingMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewHTTPMetrics(reg); err == nil {
		t.Error("registering the metrics twice did not fail")
	}
	h := Logging(slog.New(slog.DiscardHandler), m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	for _, method := range []string{"GET", "GET", "POST", "BREW", "PROPFIND"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/", nil))
	}
	cases := []struct {
		method, code string
		want         float64
	}{
		{"get", "200", 2},
		{"post", "418", 1},
		{"other", "200", 2},
	}
	series := gatherHTTPMetrics(t, reg)
	for _, tc := range cases {
		if got := series["requests "+tc.method+" "+tc.code]; got != tc.want {
			t.Errorf("requests{method=%q,code=%q} = %v, want %v", tc.method, tc.code, got, tc.want)
		}
	}
	durations := 0
	for k := range series {
		if strings.HasPrefix(k, "duration ") {
			durations++
		}
	}
	if len(series) != len(cases)+3 || durations != 3 {
		t.Errorf("series %v; want %d of requests and 3 of durations (get, post, other)", series, len(cases))
	}
}

// The access log: one record per request, with its fields, at info, and
// at debug for the probes, so that an info log leaves them out.
func TestAccessLog(t *testing.T) {
	for _, tc := range []struct {
		name      string
		level     slog.Level
		method    string
		path      string
		wantLevel string // "": no record
	}{
		{"page", slog.LevelInfo, "POST", "/idp/profile/oidc/token", "INFO"},
		{"probe at info", slog.LevelInfo, "GET", "/healthz", ""},
		{"probe at debug", slog.LevelDebug, "GET", "/readyz", "DEBUG"},
		{"page at warn", slog.LevelWarn, "GET", "/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: tc.level}))
			h := Logging(log, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("hello"))
			}))
			before := time.Now()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
			if tc.wantLevel == "" {
				if logs.Len() != 0 {
					t.Fatalf("logged %s", logs.String())
				}
				return
			}
			var got struct {
				Time     time.Time
				Level    string
				Msg      string
				Method   string
				Path     string
				Status   int
				Bytes    int
				Duration *int64
				Source   any
			}
			if err := json.Unmarshal(logs.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, logs.String())
			}
			if got.Level != tc.wantLevel || got.Msg != "http request" || got.Method != tc.method || got.Path != tc.path ||
				got.Status != http.StatusOK || got.Bytes != 5 || got.Duration == nil || *got.Duration < 0 || got.Source != nil {
				t.Errorf("record %s", logs.String())
			}
			if got.Time.Before(before.Truncate(time.Millisecond)) || got.Time.After(time.Now()) {
				t.Errorf("record's time %v is not the request's end", got.Time)
			}
		})
	}
}

// Requests counted from many goroutines at once all count, and a status
// outside HTTP's range is counted too, without a kept series of its own.
func TestLoggingMetricsConcurrent(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := Logging(slog.New(slog.DiscardHandler), m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/odd" {
			w.WriteHeader(799)
		}
	}))
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("DELETE", "/odd", nil))
			}
		})
	}
	wg.Wait()
	got := gatherHTTPMetrics(t, reg)
	want := map[string]float64{
		"requests get 200": workers * each, "requests delete 799": workers * each,
		"duration get": workers * each, "duration delete": workers * each,
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func BenchmarkHTTPMetricsObserve(b *testing.B) {
	m, err := NewHTTPMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.observe(http.MethodPost, http.StatusFound, 3*time.Millisecond)
	}
}

// gatherHTTPMetrics reads the request metrics from reg: "requests METHOD
// CODE" is a counter's value, "duration METHOD" a histogram's count.
func gatherHTTPMetrics(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "mpassid_http_requests_total":
				series["requests "+labels["method"]+" "+labels["code"]] = s.GetCounter().GetValue()
			case "mpassid_http_request_duration_seconds":
				series["duration "+labels["method"]] = float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return series
}
