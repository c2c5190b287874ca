package loadtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// oidcOP is the minimal upstream OpenID provider: discovery, JWKS, an
// authorization endpoint that logs a new test pupil in at once, a token
// endpoint (client secret, PKCE) issuing ES256 ID tokens (RS256 with
// Options.RSAKeys), and userinfo. The broker reaches it over loopback
// HTTP; virtual users reach its authorization endpoint in-process.
type oidcOP struct {
	issuer       string
	flowName     string
	clientID     string
	clientSecret string
	kid          string
	alg          jose.SignatureAlgorithm // ES256, or RS256 with --rsa-keys
	key          crypto.Signer
	ops          *sigOps // counts the ID tokens the broker checks
	jwtHeader    string  // the ID tokens' protected header, encoded
	jwks         []byte
	srv          *http.Server
	users        atomic.Uint64

	mu     sync.Mutex
	codes  map[string]*opGrant
	tokens map[string]*opGrant
}

// opGrant is one login at the OP, by code and then by access token.
type opGrant struct {
	created       time.Time
	redirectURI   string
	nonce         string
	codeChallenge string
	n             uint64
}

// opEntryTTL is how long an unused code or access token is kept.
const opEntryTTL = 5 * time.Minute

func startOIDCOP(runID string, rsaKeys bool, ops *sigOps) (*oidcOP, error) {
	kp, err := newKeyPair("mpassid loadtest upstream OP", rsaKeys)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("upstream OP: listen: %w", err)
	}
	op := &oidcOP{
		issuer: "http://" + ln.Addr().String(), flowName: "LoadtestOIDC" + runID,
		clientID: "mpassid-loadtest-" + runID, clientSecret: randomToken(),
		kid: "lt-" + runID, codes: map[string]*opGrant{}, tokens: map[string]*opGrant{}, ops: ops,
	}
	op.alg, op.key = jose.ES256, kp.key
	if rsaKeys {
		op.alg = jose.RS256
	} else if _, ok := kp.key.(*ecdsa.PrivateKey); !ok {
		_ = ln.Close()
		return nil, errors.New("upstream OP: the signing key is not ECDSA")
	}
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{string(op.alg), op.kid, "JWT"})
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("upstream OP: JWT header: %w", err)
	}
	op.jwtHeader = base64.RawURLEncoding.EncodeToString(header)
	op.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: kp.key.Public(), KeyID: op.kid, Algorithm: string(op.alg), Use: "sig"}}})
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("upstream OP: JWKS: %w", err)
	}
	op.srv = &http.Server{Handler: op, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = op.srv.Serve(ln) }()
	return op, nil
}

func (op *oidcOP) close() { _ = op.srv.Close() }

func (op *oidcOP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSONAnswer(w, http.StatusOK, map[string]any{
			"issuer":                                op.issuer,
			"authorization_endpoint":                op.issuer + "/authorize",
			"token_endpoint":                        op.issuer + "/token",
			"userinfo_endpoint":                     op.issuer + "/userinfo",
			"jwks_uri":                              op.issuer + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{string(op.alg)},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			"code_challenge_methods_supported":      []string{"S256"},
			"scopes_supported":                      []string{"openid", "profile", "email"},
		})
	case "/jwks":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(op.jwks)
	case "/authorize":
		op.authorize(w, r)
	case "/token":
		op.token(w, r)
	case "/userinfo":
		op.userinfo(w, r)
	default:
		http.NotFound(w, r)
	}
}

func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *oidcOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != op.clientID || redirect == "" || q.Get("response_type") != "code" {
		http.Error(w, "upstream OP: bad authorization request", http.StatusBadRequest)
		return
	}
	if m := q.Get("code_challenge_method"); m != "" && m != "S256" {
		http.Error(w, "upstream OP: code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	code := randomToken()
	g := &opGrant{created: time.Now(), redirectURI: redirect, nonce: q.Get("nonce"), codeChallenge: q.Get("code_challenge"), n: op.users.Add(1)}
	op.mu.Lock()
	op.sweepLocked(g.created)
	op.codes[code] = g
	op.mu.Unlock()
	u, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "upstream OP: bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// sweepLocked forgets codes and tokens nobody came for.
func (op *oidcOP) sweepLocked(now time.Time) {
	if len(op.codes)+len(op.tokens) < 10000 {
		return
	}
	for _, m := range []map[string]*opGrant{op.codes, op.tokens} {
		for k, g := range m {
			if now.Sub(g.created) > opEntryTTL {
				delete(m, k)
			}
		}
	}
}

func (op *oidcOP) tokenError(w http.ResponseWriter, code string) {
	writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": code})
}

func (op *oidcOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		op.tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != op.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(op.clientSecret)) != 1 {
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		op.tokenError(w, "unsupported_grant_type")
		return
	}
	op.mu.Lock()
	g := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	op.mu.Unlock()
	if g == nil || time.Since(g.created) > opEntryTTL || r.PostForm.Get("redirect_uri") != g.redirectURI {
		op.tokenError(w, "invalid_grant")
		return
	}
	if g.codeChallenge != "" {
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.codeChallenge {
			op.tokenError(w, "invalid_grant")
			return
		}
	}
	now := time.Now()
	idt, err := op.idToken(g, now)
	if err != nil {
		op.tokenError(w, "server_error")
		return
	}
	access := randomToken()
	op.mu.Lock()
	op.tokens[access] = &opGrant{created: now, n: g.n}
	op.mu.Unlock()
	writeJSONAnswer(w, http.StatusOK, opTokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: 300, IDToken: idt})
}

// opTokenResponse is the token endpoint's answer.
type opTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	IDToken     string `json:"id_token"`
}

// opIDTokenClaims are an ID token's claims: the pupil's and the token's.
type opIDTokenClaims struct {
	pupilClaims
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	Nonce    string `json:"nonce,omitempty"`
}

// idToken signs the ID token of grant g (ES256 or RS256). It signs the JWS
// itself: go-jose's signer and claims in a map cost the tool a third more
// per token, and the broker's check of the token is what is measured.
func (op *oidcOP) idToken(g *opGrant, now time.Time) (string, error) {
	payload, err := json.Marshal(opIDTokenClaims{pupilClaims: newPupilClaims(g.n), Issuer: op.issuer, Audience: op.clientID,
		IssuedAt: now.Unix(), Expiry: now.Add(5 * time.Minute).Unix(), Nonce: g.nonce})
	if err != nil {
		return "", fmt.Errorf("ID token claims: %w", err)
	}
	input := op.jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	if op.alg == jose.RS256 {
		sig, err = op.key.Sign(rand.Reader, digest[:], crypto.SHA256) // PKCS #1 v1.5
	} else {
		sig, err = signES256(op.key.(*ecdsa.PrivateKey), digest[:])
	}
	if err != nil {
		return "", fmt.Errorf("sign the ID token: %w", err)
	}
	op.ops.checks(op.key.Public())
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// signES256 signs a digest as JWS wants it: r and s as two 32-byte
// big-endian numbers, not ASN.1.
func signES256(key *ecdsa.PrivateKey, digest []byte) ([]byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

func (op *oidcOP) userinfo(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	op.mu.Lock()
	g := op.tokens[tok]
	delete(op.tokens, tok)
	op.mu.Unlock()
	if g == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeJSONAnswer(w, http.StatusOK, newPupilClaims(g.n))
}

// pupilClaims are the n-th test pupil's claims: pupilAttributes under the
// same names (the default user-attribute mapping), roles, schools and
// groups as arrays. A struct, not a map: encoding/json writes it without
// sorting keys or looking into interfaces. A test keeps it in step with
// pupilAttributes.
type pupilClaims struct {
	Sub         string   `json:"sub"`
	Username    string   `json:"username"`
	FirstName   string   `json:"firstName"`
	Surname     string   `json:"surname"`
	LearnerID   string   `json:"learnerId"`
	Roles       []string `json:"roles"`
	SchoolIDs   []string `json:"schoolIds"`
	Groups      []string `json:"groups"`
	GroupLevels string   `json:"groupLevels"`
}

func newPupilClaims(n uint64) pupilClaims {
	c := pupilClaims{Sub: "loadtest-" + strconv.FormatUint(n, 10)}
	for _, a := range pupilAttributes(n) {
		switch a.name {
		case "username":
			c.Username = a.values[0]
		case "firstName":
			c.FirstName = a.values[0]
		case "surname":
			c.Surname = a.values[0]
		case "learnerId":
			c.LearnerID = a.values[0]
		case "roles":
			c.Roles = a.values
		case "schoolIds":
			c.SchoolIDs = a.values
		case "groups":
			c.Groups = a.values
		case "groupLevels":
			c.GroupLevels = a.values[0]
		}
	}
	return c
}

// randomToken returns 32 random bytes in base64url.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}
