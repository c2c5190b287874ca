// Package wilmafake is a stand-in Wilma for tests and local development: an
// http.Handler that implements Wilma's side of the redirect protocol (see
// package wilma). It checks the HMAC of the incoming /mpass request, "logs
// in" the configured user without asking anything and redirects back to the
// return URL with userid, nonce and a fresh HMAC appended. Serve it over TLS
// (httptest.NewTLSServer), since the connector always calls
// https://<hostname>/mpass.
package wilmafake

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/mpassid/mpassid/internal/connector/wilma"
)

// Server is the fake Wilma.
type Server struct {
	// Secret is the shared secret.
	Secret string
	// UserID is the Wilma user id the fake logs in.
	UserID string

	mu        sync.Mutex
	logins    int
	forceAuth bool
}

// Logins returns how many logins the fake has answered.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// LastForceAuth reports whether the last login asked for forceauth.
func (s *Server) LastForceAuth() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forceAuth
}

// ServeHTTP answers GET /mpass.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/mpass" {
		http.NotFound(w, r)
		return
	}
	raw := r.URL.RawQuery
	i := strings.LastIndex(raw, "&h=")
	if i < 0 {
		http.Error(w, "missing h", http.StatusBadRequest)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !wilma.Verify([]byte(s.Secret), scheme+"://"+r.Host+"/mpass?"+raw[:i], raw[i+3:]) {
		http.Error(w, "bad h", http.StatusForbidden)
		return
	}
	q, err := url.ParseQuery(raw[:i])
	if err != nil || len(q[wilma.ParamRedirectTo]) != 1 {
		http.Error(w, "bad redirectto", http.StatusBadRequest)
		return
	}
	ret := q.Get(wilma.ParamRedirectTo)
	ru, err := url.Parse(ret)
	if err != nil || !ru.IsAbs() {
		http.Error(w, "bad redirectto", http.StatusBadRequest)
		return
	}
	nonce := ru.Query().Get(wilma.ParamNonce)
	if len(nonce) != wilma.NonceLength {
		http.Error(w, "no nonce in redirectto", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.logins++
	s.forceAuth = q.Get(wilma.ParamForceAuth) == "true"
	s.mu.Unlock()

	sep := "&"
	if !strings.Contains(ret, "?") {
		sep = "?"
	}
	back := ret + sep + wilma.ParamUserID + "=" + url.QueryEscape(s.UserID) + "&" + wilma.ParamNonce + "=" + nonce
	back += "&" + wilma.ParamHash + "=" + wilma.Sign([]byte(s.Secret), back)
	http.Redirect(w, r, back, http.StatusFound)
}
