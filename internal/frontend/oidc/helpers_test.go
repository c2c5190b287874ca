package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/sqlite"
	"github.com/mpassid/mpassid/internal/testenv"
)

// Test clients.
const (
	setID        = 6000001
	otherSetID   = 6000002
	clientPublic = "public-app"
	clientBasic  = "basic-app"
	clientPost   = "post-app"
	clientSJWT   = "secret-jwt-app"
	clientPKJWT  = "private-key-app"
	clientPKURI  = "private-key-uri-app"
	clientES256  = "es256-app"
	clientPair   = "pairwise-app"
	clientPair2  = "pairwise-app-2"
	clientOther  = "pairwise-other-set"
	clientRefr   = "refresh-app"
	clientLegacy = "legacy-app"
	clientBCL    = "backchannel-app"
	testSecret   = "s3cr3t+with/odd=chars:%-and-long-enough-for-HS256"
	redirectURI  = "https://rp.example/cb"
	logoutURI    = "https://rp.example/logged-out"
)

// testUser is the pupil every fake login returns.
func testUser() *model.User {
	cl := 7
	charge := 0
	return &model.User{
		UID:       "MPASSOID.0123456789abcdef0123456789abcdef01234567",
		GivenName: "Testi",
		Surname:   "Oppilas",
		Nickname:  "Tessa",
		LearnerID: "1.2.246.562.24.20000000018",
		Roles: []model.UserRole{{
			ProviderOID: "1.2.246.562.99.00000000001", ProviderName: "Testikunta",
			SchoolCode: "30076", SchoolOID: "1.2.246.562.99.00000000002", SchoolName: "Testikoulu",
			Group: "7A", RoleName: model.RoleNamePupil, RoleCode: 1, LearningMaterialsCharge: &charge,
		}},
		ClassLevel:     &cl,
		OriginalIssuer: "1.2.246.562.99.00000000001",
		Source:         "testsource",
	}
}

// fakeFlow is a broker that logs the user in at once: Begin answers
// through the Responder with testUser, or with no_passive when the
// request is passive and no session exists.
type fakeFlow struct {
	mu           sync.Mutex
	catalog      *broker.Catalog
	resp         broker.Responder
	user         *model.User
	session      *broker.Session
	participants []broker.Participant
	lastReq      broker.Request
	ended        []string
	errCode      broker.ErrorCode // when set, every login fails with it
	logins       int
}

func (f *fakeFlow) Catalog() *broker.Catalog { return f.catalog }

// last returns the last request Begin saw.
func (f *fakeFlow) last() broker.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastReq
}

// endedSessions returns the sessions EndSession ended, and whether a
// session is live.
func (f *fakeFlow) endedSessions() ([]string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ended...), f.session != nil
}

func (f *fakeFlow) Begin(w http.ResponseWriter, r *http.Request, req broker.Request) {
	f.mu.Lock()
	f.lastReq = req
	svc, _ := f.catalog.Service(req.ServiceID)
	res := &broker.Result{Request: req, Service: svc}
	switch {
	case f.errCode != "":
		res.Err = &broker.LoginError{Code: f.errCode, Description: "the login failed"}
	case req.Passive && f.session == nil:
		res.Err = &broker.LoginError{Code: broker.ErrCodeNoPassive, Description: "no session"}
	default:
		if f.session == nil || req.ForceAuthn {
			// Each upstream login gets a later auth_time, a few minutes ago.
			f.logins++
			f.session = &broker.Session{
				ID:           "sess-" + randomToken()[:8],
				AuthnInstant: time.Now().Add(-5 * time.Minute).Truncate(time.Second).Add(time.Duration(f.logins) * time.Second),
				SourceID:     4000001, Source: "testsource", ExpiresAt: time.Now().Add(8 * time.Hour),
			}
		}
		res.User, res.Session = f.user, *f.session
	}
	f.mu.Unlock()
	f.resp.Respond(w, r, res)
}

func (f *fakeFlow) AddParticipant(ctx context.Context, sessionID string, p broker.Participant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.participants = append(f.participants, p)
	return nil
}

func (f *fakeFlow) CurrentSession(r *http.Request) (*broker.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.session == nil {
		return nil, nil
	}
	s := *f.session
	return &s, nil
}

func (f *fakeFlow) EndSession(w http.ResponseWriter, r *http.Request, sessionID string, except int64) ([]broker.Participant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, sessionID)
	f.session = nil
	var out []broker.Participant
	for _, p := range f.participants {
		if p.ServiceID != except {
			out = append(out, p)
		}
	}
	f.participants = nil
	return out, nil
}

// clock is a settable clock that otherwise follows the wall clock.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time           { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration)  { c.offset.Add(int64(d)) }
func (c *clock) Set(offset time.Duration) { c.offset.Store(int64(offset)) }

// env is a running provider with its fakes.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	p       *Provider
	flow    *fakeFlow
	st      *sqlite.Store
	ks      *keys.KeySet
	keysNow atomic.Pointer[keys.KeySet]
	sealer  *keys.Sealer
	clock   *clock
	clients map[string]*model.OIDCMetadata
	// rpKey is the private key of the private_key_jwt clients.
	rpKey  *ecdsa.PrivateKey
	rpJWKS *httptest.Server
	bcl    *httptest.Server
	bclGot chan string
	logs   *testenv.Buffer
}

// sharedKeys: key generation is slow; one key store serves every test.
var (
	sharedOnce   sync.Once
	sharedSealer *keys.Sealer
	sharedKS     *keys.KeySet
	sharedErr    error
)

func loadSharedKeys(t testing.TB) (*keys.Sealer, *keys.KeySet) {
	sharedOnce.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "mpassid-oidc-keys")
		if err != nil {
			sharedErr = err
			return
		}
		st, err := sqlite.Open(ctx, filepath.Join(dir, "keys.db"))
		if err != nil {
			sharedErr = err
			return
		}
		if err = st.Migrate(ctx); err != nil {
			sharedErr = err
			return
		}
		mk := make([]byte, 32)
		_, _ = rand.Read(mk)
		sharedSealer, err = keys.NewSealer(mk)
		if err != nil {
			sharedErr = err
			return
		}
		m, err := keys.NewManager(st, sharedSealer, keys.Options{})
		if err != nil {
			sharedErr = err
			return
		}
		if err = m.Ensure(ctx); err != nil {
			sharedErr = err
			return
		}
		sharedKS, sharedErr = m.Load(ctx)
		st.Close()
		os.RemoveAll(dir)
	})
	if sharedErr != nil {
		t.Fatalf("keys: %v", sharedErr)
	}
	return sharedSealer, sharedKS
}

// newEnv starts a provider with the test clients on the SQLite store.
func newEnv(t testing.TB) *env {
	t.Helper()
	sealer, ks := loadSharedKeys(t)
	st := sqlite.OpenTemp(t)
	var err error
	e := &env{t: t, st: st, ks: ks, sealer: sealer, clock: &clock{}, flow: &fakeFlow{user: testUser()},
		logs: &testenv.Buffer{}, bclGot: make(chan string, 10)}
	e.rpKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rpPub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: e.rpKey.Public(), KeyID: "rp-1", Algorithm: "ES256", Use: "sig"}}}
	rpPubJSON, _ := json.Marshal(rpPub)
	e.rpJWKS = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(rpPubJSON)
	}))
	t.Cleanup(e.rpJWKS.Close)
	e.bcl = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		e.bclGot <- r.PostForm.Get("logout_token")
	}))
	t.Cleanup(e.bcl.Close)

	e.clients = map[string]*model.OIDCMetadata{
		clientPublic: {TokenEndpointAuthMethod: authNone},
		clientBasic:  {},
		clientPost:   {TokenEndpointAuthMethod: authSecretPost},
		clientSJWT:   {TokenEndpointAuthMethod: authSecretJWT},
		clientPKJWT:  {TokenEndpointAuthMethod: authPrivateKeyJWT, JWKS: string(rpPubJSON)},
		clientPKURI:  {TokenEndpointAuthMethod: authPrivateKeyJWT, JWKSURI: e.rpJWKS.URL},
		clientES256:  {IDTokenSignedResponseAlg: "ES256"},
		clientPair:   {SubjectType: "pairwise"},
		clientPair2:  {SubjectType: "pairwise"},
		clientOther:  {SubjectType: "pairwise"},
		clientRefr:   {GrantTypes: []string{grantAuthorizationCode, grantRefreshToken}},
		clientLegacy: {},
		clientBCL:    {BackchannelLogoutURI: e.bcl.URL},
	}
	var all []*model.Integration
	all = append(all,
		&model.Integration{ID: setID, Role: model.RoleSet, Status: model.StatusActive, Set: &model.Set{Name: "Set"}},
		&model.Integration{ID: otherSetID, Role: model.RoleSet, Status: model.StatusActive, Set: &model.Set{Name: "Other", AllowTestLearnerID: true}},
	)
	id := int64(5000001)
	for cid, reg := range e.clients {
		reg.ClientID = cid
		reg.RedirectURIs = []string{redirectURI, "http://127.0.0.1:9/cb", redirectURI + "?foo=bar"}
		reg.PostLogoutRedirectURIs = []string{logoutURI}
		if reg.TokenEndpointAuthMethod != authNone && reg.TokenEndpointAuthMethod != authPrivateKeyJWT {
			sealed, err := sealer.SealString(testSecret, cid)
			if err != nil {
				t.Fatal(err)
			}
			reg.ClientSecret = sealed
		}
		set := int64(setID)
		if cid == clientOther {
			set = otherSetID
		}
		all = append(all, &model.Integration{ID: id, Role: model.RoleSP, Status: model.StatusActive,
			SP: &model.SP{Type: model.SPTypeOIDC, Name: cid, SetID: set, OIDC: reg, LegacyAttributes: cid == clientLegacy}})
		id++
	}
	e.flow.catalog = broker.NewCatalog(1, all)

	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.p, err = New(Config{
		Issuer:       e.srv.URL,
		PairwiseSalt: []byte("0123456789abcdef-test-salt"),
		Now:          e.clock.Now,
	}, Deps{
		Flow:    e.flow,
		Keys:    e.keysNow.Load,
		Runtime: st,
		OpenSecret: func(sealed, clientID string) (string, error) {
			return sealer.OpenString(sealed, clientID)
		},
		Sealer:     sealer,
		HTTPClient: e.srv.Client(),
		Logger:     logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.keysNow.Store(ks)
	e.flow.resp = e.p
	e.p.Routes(mux)
	return e
}

// noRedirect is an HTTP client that returns redirects instead of
// following them.
func noRedirect() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// pkce returns a fresh verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = randomToken()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize sends an authorization request and returns the response
// (not following redirects).
func (e *env) authorize(params url.Values) *http.Response {
	e.t.Helper()
	resp, err := noRedirect().Get(e.srv.URL + PathAuthorize + "?" + params.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// authParams returns a valid authorization request of client.
func authReq(client string, extra ...string) url.Values {
	q := url.Values{
		"client_id":     {client},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {"openid profile"},
		"state":         {"st-" + randomToken()[:10]},
		"nonce":         {"n-" + randomToken()[:10]},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return q
}

// redirectParams checks that resp redirects to redirectURI and returns its
// query.
func (e *env) redirectParams(resp *http.Response) url.Values {
	e.t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("status %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		e.t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	return loc.Query()
}

// code runs a login and returns the code.
func (e *env) code(q url.Values) string {
	e.t.Helper()
	got := e.redirectParams(e.authorize(q))
	if got.Get("error") != "" {
		e.t.Fatalf("authorization error %s: %s", got.Get("error"), got.Get("error_description"))
	}
	if got.Get("state") != q.Get("state") || got.Get("iss") != e.srv.URL {
		e.t.Fatalf("state %q iss %q", got.Get("state"), got.Get("iss"))
	}
	return got.Get("code")
}

// tokenCall posts a token request; basicClient, when set, authenticates
// with HTTP Basic.
func (e *env) tokenCall(form url.Values, basicClient, basicSecret string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicClient != "" {
		req.SetBasicAuth(url.QueryEscape(basicClient), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		e.t.Fatalf("token response %d is not JSON: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, out, resp.Header
}

// exchange redeems code for basic-app style clients.
func (e *env) exchange(client, code string, extra ...string) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	st, body, _ := e.tokenCall(form, client, testSecret)
	return st, body
}

// userinfo calls userinfo with a bearer token.
func (e *env) userinfo(token string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// assertion builds a client assertion for client signed with key (ES256
// with the RP key when key is nil, HS256 when key is []byte).
func (e *env) assertion(client string, key any, mutate func(map[string]any)) string {
	e.t.Helper()
	now := e.clock.Now()
	claims := map[string]any{
		"iss": client, "sub": client, "aud": e.srv.URL + PathToken,
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": randomToken(),
	}
	if mutate != nil {
		mutate(claims)
	}
	var sk jose.SigningKey
	switch k := key.(type) {
	case nil:
		sk = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: e.rpKey, KeyID: "rp-1"}}
	case []byte:
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: k}
	default:
		sk = jose.SigningKey{Algorithm: jose.ES256, Key: k}
	}
	signer, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		e.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		e.t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// logText returns what the provider logged.
func (e *env) logText() string { return e.logs.String() }

var _ store.Runtime = (*sqlite.Store)(nil)

// LogoutElsewhere: the fake flow has no other protocol's frontend.
func (f *fakeFlow) LogoutElsewhere(http.ResponseWriter, *http.Request, []broker.Participant, string) bool {
	return false
}
