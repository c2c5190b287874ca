// Package web holds what every HTTP room of the program shares: middleware
// for security headers, request logging and panic recovery, and the health
// endpoints. Handlers of the broker and the management service build on it.
package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SecurityHeaders sets the headers every page of a national login service
// needs: no framing (clickjacking), a CSP without inline script, no MIME
// sniffing, no referrer leaking login parameters to other origins, and HSTS
// when the request came over TLS.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The keys are in canonical form already, so the map is written
		// directly rather than through Header.Set, which would
		// canonicalise each of them on every request.
		h := w.Header()
		h["Content-Security-Policy"] = []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self' https: http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"}
		h["X-Frame-Options"] = []string{"DENY"}
		h["X-Content-Type-Options"] = []string{"nosniff"}
		h["Referrer-Policy"] = []string{"no-referrer"}
		h["Cross-Origin-Opener-Policy"] = []string{"same-origin"}
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			h["Strict-Transport-Security"] = []string{"max-age=31536000; includeSubDomains"}
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code a handler wrote, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// HTTPMetrics counts and times the requests Logging sees, under the names
// and labels promhttp's instrumentation used, so that dashboards keep
// working. The series of each label set are looked up once and kept:
// WithLabelValues hashes the labels and locks on every call, and every
// request made two of them.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// durationBy holds the histogram of each method label met so far (a
	// prometheus.Observer), in the order of metricMethods.
	durationBy [len(metricMethods)]atomic.Value
	// requestsBy holds the counters met so far, by requestKey.
	requestsBy sync.Map
}

// metricMethods are the method labels metricMethod gives.
var metricMethods = [...]string{"get", "post", "head", "options", "put", "delete", "patch", "other"}

// NewHTTPMetrics registers the request metrics with reg.
func NewHTTPMetrics(reg prometheus.Registerer) (*HTTPMetrics, error) {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mpassid_http_requests_total",
			Help: "HTTP requests served, by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mpassid_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register HTTP metrics: %w", err)
		}
	}
	return m, nil
}

// requestKey names a counter of requestsBy: a method label's index and a
// status code.
type requestKey struct {
	method int
	status int
}

func (m *HTTPMetrics) observe(method string, status int, d time.Duration) {
	i := metricMethod(method)
	k := requestKey{i, status}
	c, ok := m.requestsBy.Load(k)
	if !ok {
		// A status outside HTTP's range is counted but not kept, so that
		// the map stays as small as the set of codes the program writes.
		c = m.requests.WithLabelValues(metricMethods[i], strconv.Itoa(status))
		if status >= 100 && status <= 599 {
			c, _ = m.requestsBy.LoadOrStore(k, c)
		}
	}
	c.(prometheus.Counter).Inc()
	h, ok := m.durationBy[i].Load().(prometheus.Observer)
	if !ok {
		// Filled on first use rather than in NewHTTPMetrics: a method's
		// histogram is exported once the method was seen, as before.
		h = m.duration.WithLabelValues(metricMethods[i])
		m.durationBy[i].Store(h)
	}
	h.Observe(d.Seconds())
}

// metricMethod is the index in metricMethods of the method label: lower
// case, as promhttp wrote it, and one label for every method the program
// does not serve, so that a client sending made-up methods cannot grow the
// label set without bound.
func metricMethod(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodPost:
		return 1
	case http.MethodHead:
		return 2
	case http.MethodOptions:
		return 3
	case http.MethodPut:
		return 4
	case http.MethodDelete:
		return 5
	case http.MethodPatch:
		return 6
	}
	return 7
}

// Logging logs one structured line per request and, with metrics, counts
// and times it: one wrapper of the response writer for both, as they are
// on every request. It logs the path only, never the query: login
// requests carry codes, tickets and tokens in the query.
func Logging(log *slog.Logger, metrics *HTTPMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if metrics != nil {
			metrics.observe(r.Method, status, took)
		}
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		// The record goes to the handler directly: Logger.LogAttrs would
		// walk the stack (runtime.Callers) for the caller's source line,
		// which the access log never shows, on each of a login's five or
		// more requests.
		ctx := r.Context()
		if !log.Enabled(ctx, level) {
			return
		}
		entry := slog.NewRecord(start.Add(took), level, "http request", 0)
		entry.AddAttrs(
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", took),
		)
		_ = log.Handler().Handle(ctx, entry) // as Logger does: a log that cannot be written is not the request's error
	})
}

// Recover turns a panic in a handler into a 500 and a logged stack, so that
// one bad request cannot take the process down.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "handler panic", slog.Any("panic", v), slog.String("path", r.URL.Path), slog.String("stack", string(debug.Stack())))
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
