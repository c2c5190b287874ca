package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is one readiness check: it returns nil when its dependency is usable.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Healthz answers 200 while the process serves HTTP at all. Load balancers
// use it for liveness; it checks nothing else on purpose, so that a database
// outage does not get every instance restarted.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// Readyz runs every check with a short timeout and answers 200 only when all
// pass, with a JSON body naming each check's result.
func Readyz(timeout time.Duration, checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		type result struct {
			Name  string `json:"name"`
			OK    bool   `json:"ok"`
			Error string `json:"error,omitempty"`
		}
		body := struct {
			Status string   `json:"status"`
			Checks []result `json:"checks"`
		}{Status: "ok"}
		code := http.StatusOK
		for _, c := range checks {
			res := result{Name: c.Name, OK: true}
			if err := c.Fn(ctx); err != nil {
				res.OK = false
				res.Error = err.Error()
				body.Status = "unavailable"
				code = http.StatusServiceUnavailable
			}
			body.Checks = append(body.Checks, res)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
}
