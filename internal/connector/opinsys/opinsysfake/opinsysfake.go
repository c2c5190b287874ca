// Package opinsysfake is a stand-in Opinsys (Puavo) for tests and local
// development: an http.Handler serving the JWT SSO endpoint. It "logs in"
// the configured user without asking anything and redirects to return_to
// with jwt=<HS256 token> appended, as Puavo does. Serve it over TLS
// (httptest.NewTLSServer): the connector always calls https://<tenant host>.
package opinsysfake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/connector/opinsys"
)

// Server is the fake Opinsys.
type Server struct {
	// Secret is the shared secret.
	Secret string
	// Path is the SSO endpoint; "" means opinsys.DefaultPath.
	Path string
	// Claims are the user's claims; iat, exp and jti are added.
	Claims map[string]any
	// Lifetime is exp - iat; 0 means one minute.
	Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	logins int
}

// Logins returns how many logins the fake has answered.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// DemoClaims are a pupil's claims in the shape Puavo sends (see package
// opinsys for the assumptions).
func DemoClaims() map[string]any {
	return map[string]any{
		"id":                  json.Number("27512"),
		"puavo_id":            json.Number("27512"),
		"username":            "matti.meikalainen",
		"first_name":          "Matti",
		"last_name":           "Meikäläinen",
		"email":               nil,
		"user_type":           "student",
		"learner_id":          "1.2.246.562.24.10000000001",
		"year_class":          "7",
		"preferred_language":  "fi",
		"organisation_name":   "Esimerkkilän kaupunki",
		"organisation_domain": "ka.opinsys.fi",
		"primary_school_id":   json.Number("9"),
		"external_id":         "ext-27512",
		"schools": []any{map[string]any{
			"id": json.Number("9"), "name": "Revontulten koulu", "abbreviation": "revontulet",
			"school_code": "99001", "roles": []any{"student"},
			"groups": []any{map[string]any{"id": json.Number("41"), "name": "7A", "abbreviation": "7a", "type": "teaching group"}},
		}},
		"groups": []any{
			map[string]any{"id": json.Number("41"), "name": "7A", "abbreviation": "7a", "type": "teaching group", "school_id": json.Number("9")},
			map[string]any{"id": json.Number("42"), "name": "Kuoro", "abbreviation": "kuoro", "type": "course group", "school_id": json.Number("9")},
		},
	}
}

// ServeHTTP answers GET <Path>?return_to=<url>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := s.Path
	if path == "" {
		path = opinsys.DefaultPath
	}
	if r.Method != http.MethodGet || r.URL.Path != path {
		http.NotFound(w, r)
		return
	}
	ret := r.URL.Query().Get(opinsys.ParamReturnTo)
	u, err := url.Parse(ret)
	if err != nil || !u.IsAbs() {
		http.Error(w, "bad return_to", http.StatusBadRequest)
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	life := s.Lifetime
	if life == 0 {
		life = time.Minute
	}
	claims := maps.Clone(s.Claims)
	if claims == nil {
		claims = map[string]any{}
	}
	t := now().Unix()
	claims["iat"] = t
	claims["exp"] = t + int64(life/time.Second)
	claims["jti"] = rand.Text()
	tok, err := Token([]byte(s.Secret), "HS256", claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.logins++
	s.mu.Unlock()
	sep := "&"
	if !strings.Contains(ret, "?") {
		sep = "?"
	}
	http.Redirect(w, r, ret+sep+opinsys.ParamJWT+"="+url.QueryEscape(tok), http.StatusFound)
}

// Token builds a compact JWS with header {"alg": alg, "typ": "JWT"}. For
// "none" the signature is empty; for any other alg it is HMAC-SHA256 under
// secret whatever the header says, so that tests can present mislabelled
// tokens.
func Token(secret []byte, alg string, claims map[string]any) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	if alg == "none" {
		return signing + ".", nil
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil)), nil
}
