package opinsys_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/connector/opinsys"
	"github.com/mpassid/mpassid/internal/connector/opinsys/opinsysfake"
)

const secret = "short-opinsys-secret"

type memReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memReplay) MarkUsed(_ context.Context, ns, v string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	if _, ok := m.seen[ns+"\x00"+v]; ok {
		return false, nil
	}
	m.seen[ns+"\x00"+v] = exp
	return true, nil
}

var quiet = slog.New(slog.DiscardHandler)

type result struct {
	id  *connector.Identity
	err error
}

type harness struct {
	fake     *opinsysfake.Server
	conn     *opinsys.Connector
	client   *http.Client
	callback string
	mu       sync.Mutex
	req      connector.LoginRequest
	state    []byte
	results  chan result
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	h := &harness{fake: &opinsysfake.Server{Secret: secret, Claims: opinsysfake.DemoClaims()}, results: make(chan result, 4)}
	fs := httptest.NewTLSServer(h.fake)
	tb.Cleanup(fs.Close)
	conn, err := opinsys.New(opinsys.Config{TenantHost: strings.TrimPrefix(fs.URL, "https://"), SharedSecret: secret, Logger: quiet}, &memReplay{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	h.conn = conn
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := conn.TransactionID(r); err != nil {
			h.results <- result{err: err}
			return
		}
		h.mu.Lock()
		req, st := h.req, h.state
		h.mu.Unlock()
		id, err := conn.Callback(r.Context(), r, req, st)
		h.results <- result{id, err}
	}))
	tb.Cleanup(cb.Close)
	h.callback = cb.URL + "/login/callback/opinsys_ka?lang=fi"
	h.client = fs.Client()
	h.client.Jar, _ = cookiejar.New(nil)
	return h
}

func (h *harness) login(tb testing.TB, req connector.LoginRequest) result {
	tb.Helper()
	req.CallbackURL = h.callback
	st, err := h.conn.Start(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	h.mu.Lock()
	h.req, h.state = req, st.State
	h.mu.Unlock()
	resp, err := h.client.Get(st.Redirect.URL)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("browser ended at %s with %s", resp.Request.URL, resp.Status)
	}
	return <-h.results
}

func TestLoginEndToEnd(t *testing.T) {
	h := newHarness(t)
	got := h.login(t, connector.LoginRequest{TransactionID: "tx-1"})
	if got.err != nil {
		t.Fatal(got.err)
	}
	a := got.id.Attributes
	want := map[string][]string{
		"username":             {"27512"},
		"id":                   {"27512"},
		"first_name":           {"Matti"},
		"last_name":            {"Meikäläinen"},
		"user_type":            {"student"},
		"learner_id":           {"1.2.246.562.24.10000000001"},
		"year_class":           {"7"},
		"schools.school_code":  {"99001"},
		"schools.roles":        {"student"},
		"schools.groups.name":  {"7A"},
		"groups.abbreviation":  {"7a", "kuoro"},
		"groups.school_id":     {"9", "9"},
		"organisation_domain":  {"ka.opinsys.fi"},
		"schools.abbreviation": {"revontulet"},
	}
	for k, v := range want {
		if !slices.Equal(a[k], v) {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	for _, k := range []string{"iat", "exp", "jti", "email"} {
		if _, ok := a[k]; ok {
			t.Errorf("attribute %s should be left out", k)
		}
	}
	if got.id.AuthnInstant.IsZero() || time.Since(got.id.AuthnInstant) > time.Minute {
		t.Errorf("AuthnInstant %v", got.id.AuthnInstant)
	}
}

func TestStartURL(t *testing.T) {
	c, err := opinsys.New(opinsys.Config{TenantHost: "ka.opinsys.fi", SharedSecret: secret, Logger: quiet}, &memReplay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "t 1", CallbackURL: "https://mpass.example.fi/cb/opinsys_ka"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://ka.opinsys.fi/v3/sso?return_to=https%3A%2F%2Fmpass.example.fi%2Fcb%2Fopinsys_ka%3Ftx%3Dt%2B1"; st.Redirect.URL != want {
		t.Errorf("redirect\n %s, want\n %s", st.Redirect.URL, want)
	}
	c2, _ := opinsys.New(opinsys.Config{TenantHost: "ka.opinsys.fi", Path: "/v3/sso/jwt", SharedSecret: secret}, &memReplay{}, nil)
	st, _ = c2.Start(context.Background(), connector.LoginRequest{TransactionID: "t", CallbackURL: "https://m/cb"})
	if !strings.HasPrefix(st.Redirect.URL, "https://ka.opinsys.fi/v3/sso/jwt?return_to=") {
		t.Errorf("configured path not used: %s", st.Redirect.URL)
	}
	if _, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "t", CallbackURL: "https://m/cb", Passive: true}); !errors.Is(err, connector.ErrCancelled) {
		t.Errorf("passive: %v", err)
	}
	for _, cfg := range []opinsys.Config{{SharedSecret: secret}, {TenantHost: "ka.opinsys.fi"}, {TenantHost: "https://ka.opinsys.fi", SharedSecret: secret}, {TenantHost: "ka.opinsys.fi", Path: "v3", SharedSecret: secret}} {
		if _, err := opinsys.New(cfg, &memReplay{}, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestCallbackRejects(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)
	const cbURL = "https://mpass.example.fi/cb/opinsys_ka"
	setup := func() (*opinsys.Connector, connector.LoginRequest, []byte) {
		c, err := opinsys.New(opinsys.Config{TenantHost: "ka.opinsys.fi", SharedSecret: secret, Logger: quiet}, &memReplay{}, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		req := connector.LoginRequest{TransactionID: "tx-5", CallbackURL: cbURL}
		st, err := c.Start(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return c, req, st.State
	}
	claims := func(mod func(map[string]any)) map[string]any {
		m := map[string]any{"id": 42, "first_name": "Maija", "iat": now.Unix() - 5, "exp": now.Unix() + 55, "jti": "j-1"}
		if mod != nil {
			mod(m)
		}
		return m
	}
	tok := func(alg string, key string, c map[string]any) string {
		s, err := opinsysfake.Token([]byte(key), alg, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	call := func(c *opinsys.Connector, req connector.LoginRequest, st []byte, query string) (*connector.Identity, error) {
		r := httptest.NewRequest(http.MethodGet, "/cb/opinsys_ka?"+query, nil)
		return c.Callback(context.Background(), r, req, st)
	}
	q := func(tx, jwt string) string { return "tx=" + url.QueryEscape(tx) + "&jwt=" + url.QueryEscape(jwt) }
	good := tok("HS256", secret, claims(nil))
	cases := []struct {
		name  string
		query string
		want  error
	}{
		{"valid control", q("tx-5", good), nil},
		{"bad signature", q("tx-5", tok("HS256", "another secret", claims(nil))), connector.ErrInvalidResponse},
		{"alg none", q("tx-5", tok("none", "", claims(nil))), connector.ErrInvalidResponse},
		{"alg HS512 label", q("tx-5", tok("HS512", secret, claims(nil))), connector.ErrInvalidResponse},
		{"alg RS256 label", q("tx-5", tok("RS256", secret, claims(nil))), connector.ErrInvalidResponse},
		{"tampered payload", q("tx-5", tamper(good, claims(func(m map[string]any) { m["id"] = 43 }))), connector.ErrInvalidResponse},
		{"expired", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) {
			m["iat"], m["exp"] = now.Unix()-100, now.Unix()-40
		}))), connector.ErrExpired},
		{"iat in the future", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) {
			m["iat"], m["exp"] = now.Unix()+300, now.Unix()+360
		}))), connector.ErrExpired},
		{"too old though exp is far", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) {
			m["iat"], m["exp"] = now.Unix()-3600, now.Unix()+3600
		}))), connector.ErrExpired},
		{"not yet valid", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { m["nbf"] = now.Unix() + 120 }))), connector.ErrExpired},
		{"no exp", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { delete(m, "exp") }))), connector.ErrInvalidResponse},
		{"no iat", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { delete(m, "iat") }))), connector.ErrInvalidResponse},
		{"string exp", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { m["exp"] = "soon" }))), connector.ErrInvalidResponse},
		{"no id", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { delete(m, "id") }))), connector.ErrInvalidResponse},
		{"object id", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { m["id"] = map[string]any{} }))), connector.ErrInvalidResponse},
		{"wrong tx", q("tx-4", good), connector.ErrInvalidResponse},
		{"no tx", "jwt=" + good, connector.ErrInvalidResponse},
		{"two tx", q("tx-5", good) + "&tx=tx-5", connector.ErrInvalidResponse},
		{"no jwt", "tx=tx-5", connector.ErrInvalidResponse},
		{"two jwt", q("tx-5", good) + "&jwt=" + good, connector.ErrInvalidResponse},
		{"garbage jwt", q("tx-5", "a.b.c"), connector.ErrInvalidResponse},
		{"return_to for another transaction", q("tx-5", tok("HS256", secret, claims(func(m map[string]any) {
			m["return_to"] = cbURL + "?tx=tx-4"
		}))), connector.ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, req, st := setup()
			id, err := call(c, req, st, tc.query)
			if tc.want == nil {
				if err != nil || id.Attributes["username"][0] != "42" || id.Attributes["first_name"][0] != "Maija" {
					t.Fatalf("valid: %v %v", id, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || id != nil {
				t.Fatalf("got %v, %v; want %v", id, err, tc.want)
			}
		})
	}
	t.Run("matching return_to claim", func(t *testing.T) {
		c, req, st := setup()
		_, err := call(c, req, st, q("tx-5", tok("HS256", secret, claims(func(m map[string]any) { m["return_to"] = cbURL + "?tx=tx-5" }))))
		if err != nil {
			t.Fatal(err)
		}
	})
	for _, withJTI := range []bool{true, false} {
		t.Run("replayed JWT, jti "+strconv.FormatBool(withJTI), func(t *testing.T) {
			c, req, st := setup()
			jwt := tok("HS256", secret, claims(func(m map[string]any) {
				if !withJTI {
					delete(m, "jti")
				}
			}))
			if _, err := call(c, req, st, q("tx-5", jwt)); err != nil {
				t.Fatal(err)
			}
			// The same token, even in another transaction, is refused.
			req2 := connector.LoginRequest{TransactionID: "tx-6", CallbackURL: cbURL}
			st2, _ := c.Start(context.Background(), req2)
			id, err := call(c, req2, st2.State, q("tx-6", jwt))
			if !errors.Is(err, connector.ErrReplay) || id != nil {
				t.Fatalf("replay: %v %v", id, err)
			}
		})
	}
}

// tamper swaps the payload of a signed token.
func tamper(tok string, claims map[string]any) string {
	other, _ := opinsysfake.Token([]byte("x"), "HS256", claims)
	p := strings.Split(tok, ".")
	return p[0] + "." + strings.Split(other, ".")[1] + "." + p[2]
}

func TestFlatten(t *testing.T) {
	var claims map[string]any
	d := json.NewDecoder(strings.NewReader(`{"a":"x","n":1.50,"b":false,"nul":null,"arr":["p",2,["q"]],"o":{"k":{"z":"deep"},"e":""},"objs":[{"k":1},{"k":2,"j":"y"}],"skip":"me"}`))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	got := opinsys.Flatten(claims, "skip")
	want := map[string][]string{"a": {"x"}, "n": {"1.50"}, "b": {"false"}, "arr": {"p", "2", "q"}, "o.k.z": {"deep"}, "objs.k": {"1", "2"}, "objs.j": {"y"}}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func FuzzVerifyJWT(f *testing.F) {
	good, _ := opinsysfake.Token([]byte(secret), "HS256", map[string]any{"id": 1, "iat": 1, "exp": 2})
	none, _ := opinsysfake.Token(nil, "none", map[string]any{"id": 1})
	f.Add(good)
	f.Add(none)
	f.Add("eyJhbGciOiJIUzI1NiJ9..")
	f.Add("...")
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := opinsys.VerifyJWT(tok, []byte(secret))
		if err != nil {
			if !errors.Is(err, connector.ErrInvalidResponse) {
				t.Fatalf("error %v does not wrap ErrInvalidResponse", err)
			}
			return
		}
		if claims == nil {
			t.Fatal("nil claims without error")
		}
		_ = opinsys.Flatten(claims)
	})
}

func BenchmarkStartCallback(b *testing.B) {
	h := newHarness(b)
	b.ResetTimer()
	for i := range b.N {
		if got := h.login(b, connector.LoginRequest{TransactionID: "tx-" + strconv.Itoa(i)}); got.err != nil {
			b.Fatal(got.err)
		}
	}
}

// FuzzCallbackClaims runs Callback on correctly signed tokens with arbitrary
// payloads: the claim checks and flattening must hold for any JSON.
func FuzzCallbackClaims(f *testing.F) {
	now := time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)
	f.Add(`{"id":1,"iat":1772439295,"exp":1772439355}`)
	f.Add(`{"id":"x","iat":1772439295.5,"exp":1e10,"jti":"j","schools":[{"groups":[{"a":[[[1]]]}]}]}`)
	f.Add(`{"id":{},"iat":-1,"exp":"1"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := opinsys.New(opinsys.Config{TenantHost: "ka.opinsys.fi", SharedSecret: secret, Logger: quiet}, &memReplay{}, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		req := connector.LoginRequest{TransactionID: "tx", CallbackURL: "https://b/cb"}
		st, err := c.Start(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		tok := signRaw(payload)
		r := httptest.NewRequest(http.MethodGet, "/cb?tx=tx&jwt="+url.QueryEscape(tok), nil)
		id, err := c.Callback(context.Background(), r, req, st.State)
		if err != nil {
			if id != nil || !(errors.Is(err, connector.ErrInvalidResponse) || errors.Is(err, connector.ErrExpired)) {
				t.Fatalf("got %v, %v", id, err)
			}
			return
		}
		if len(id.Attributes["username"]) != 1 || id.Attributes["username"][0] == "" {
			t.Fatalf("no username in %v", id.Attributes)
		}
	})
}

// signRaw signs an arbitrary payload with HS256.
func signRaw(payload string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return s + "." + enc.EncodeToString(m.Sum(nil))
}
