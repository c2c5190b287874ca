package oidc_test

import (
	"context"
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
	"github.com/mpassid/mpassid/internal/connector/oidc"
)

type memReplay struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memReplay) MarkUsed(_ context.Context, ns, v string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	if m.seen[ns+"\x00"+v] {
		return false, nil
	}
	m.seen[ns+"\x00"+v] = true
	return true, nil
}

var quiet = slog.New(slog.DiscardHandler)

type result struct {
	tx  string
	url string
	id  *connector.Identity
	err error
}

// harness is a browser, a callback receiver running Callback, and a
// connector towards some OP.
type harness struct {
	conn     *oidc.Connector
	client   *http.Client
	callback string
	mu       sync.Mutex
	req      connector.LoginRequest
	state    []byte
	results  chan result
}

func newHarness(tb testing.TB, cfg oidc.Config) *harness {
	tb.Helper()
	h := &harness{results: make(chan result, 4)}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tx, err := h.conn.TransactionID(r)
		if err != nil {
			h.results <- result{err: err, url: r.URL.String()}
			return
		}
		h.mu.Lock()
		req, st := h.req, h.state
		h.mu.Unlock()
		id, err := h.conn.Callback(r.Context(), r, req, st)
		h.results <- result{tx: tx, url: "http://" + r.Host + r.URL.String(), id: id, err: err}
	}))
	tb.Cleanup(cb.Close)
	h.callback = cb.URL + "/login/callback/oidc"
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	conn, err := oidc.New(cfg, &memReplay{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	h.conn = conn
	h.client = &http.Client{Timeout: 30 * time.Second}
	h.client.Jar, _ = cookiejar.New(nil)
	return h
}

func (h *harness) start(tb testing.TB, req connector.LoginRequest) (*connector.Started, connector.LoginRequest) {
	tb.Helper()
	req.CallbackURL = h.callback
	st, err := h.conn.Start(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	h.mu.Lock()
	h.req, h.state = req, st.State
	h.mu.Unlock()
	return st, req
}

// get follows redirects from u until the callback receiver answers.
func (h *harness) get(tb testing.TB, u string) result {
	tb.Helper()
	resp, err := h.client.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Request.URL.String(), h.callback) {
		tb.Fatalf("browser ended at %s with %s", resp.Request.URL, resp.Status)
	}
	return <-h.results
}

func (h *harness) login(tb testing.TB, req connector.LoginRequest) result {
	tb.Helper()
	st, _ := h.start(tb, req)
	return h.get(tb, st.Redirect.URL)
}

func opConfig(op *testOP) oidc.Config {
	return oidc.Config{Issuer: op.issuer(), ClientID: op.clientID, ClientSecret: op.clientSecret, UserInfo: true}
}

func TestLoginEndToEnd(t *testing.T) {
	op := newTestOP(t)
	h := newHarness(t, opConfig(op))
	got := h.login(t, connector.LoginRequest{TransactionID: "tx-1", ForceAuthn: true, Language: "sv"})
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.tx != "tx-1" || got.id.NameID != "user-123" || got.id.SessionIndex != "session-1" || got.id.AuthnInstant.IsZero() {
		t.Errorf("tx %q, identity %+v", got.tx, got.id)
	}
	a := got.id.Attributes
	want := map[string][]string{
		"sub": {"user-123"}, "given_name": {"Maija"}, "family_name": {"Meikäläinen"}, "groups": {"7A", "kuoro"},
		"email_verified": {"true"}, "age": {"13"}, "iss": {op.issuer()}, "sid": {"session-1"},
		"email": {"maija@example.fi"}, // from userinfo; its given_name does not override the ID token's
	}
	if len(a) != len(want) {
		t.Errorf("attributes %v", a)
	}
	for k, v := range want {
		if !slices.Equal(a[k], v) {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	q := op.lastAuthorize()
	if q.Get("prompt") != "login" || q.Get("ui_locales") != "sv" || !strings.Contains(q.Get("scope"), "openid") || q.Get("nonce") == "" {
		t.Errorf("authorization request %v", q)
	}
	got = h.login(t, connector.LoginRequest{TransactionID: "tx-2", Passive: true})
	if got.err != nil || op.lastAuthorize().Get("prompt") != "none" {
		t.Fatalf("passive login: %v, %v", got.err, op.lastAuthorize())
	}
}

// An OP whose discovery names no userinfo endpoint (it is only
// RECOMMENDED) gives its attributes in the ID token alone, and the login
// goes through.
func TestLoginWithoutUserinfoEndpoint(t *testing.T) {
	op := newTestOP(t)
	op.set(func(op *testOP) { op.noUserinfo = true })
	h := newHarness(t, opConfig(op))
	got := h.login(t, connector.LoginRequest{TransactionID: "tx-u"})
	if got.err != nil {
		t.Fatal(got.err)
	}
	if a := got.id.Attributes; !slices.Equal(a["given_name"], []string{"Maija"}) || a["email"] != nil {
		t.Errorf("attributes %v: want the ID token's, no userinfo email", a)
	}
}

func TestCallbackRejects(t *testing.T) {
	op := newTestOP(t)
	cases := []struct {
		name  string
		setup func(op *testOP)
		want  error
	}{
		{"wrong issuer", func(op *testOP) { op.mutate = func(c map[string]any) { c["iss"] = "https://evil.example" } }, connector.ErrInvalidResponse},
		{"wrong audience", func(op *testOP) { op.mutate = func(c map[string]any) { c["aud"] = "another-client" } }, connector.ErrInvalidResponse},
		{"expired ID token", func(op *testOP) {
			op.mutate = func(c map[string]any) {
				c["iat"], c["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Minute).Unix()
			}
		}, connector.ErrExpired},
		{"nonce mismatch", func(op *testOP) { op.mutate = func(c map[string]any) { c["nonce"] = "another-nonce" } }, connector.ErrInvalidResponse},
		{"no nonce", func(op *testOP) { op.mutate = func(c map[string]any) { delete(c, "nonce") } }, connector.ErrInvalidResponse},
		{"bad signature", func(op *testOP) { op.signWithBadKey = true }, connector.ErrInvalidResponse},
		{"bad at_hash", func(op *testOP) { op.mutate = func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" } }, connector.ErrInvalidResponse},
		{"userinfo about another user", func(op *testOP) { op.userinfo = map[string]any{"sub": "user-999"} }, connector.ErrInvalidResponse},
		{"user cancelled", func(op *testOP) { op.refuse = "access_denied" }, connector.ErrCancelled},
		{"passive refused", func(op *testOP) { op.refuse = "login_required" }, connector.ErrCancelled},
		{"OP error", func(op *testOP) { op.refuse = "invalid_request" }, connector.ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer op.set(func(op *testOP) {
				op.mutate, op.signWithBadKey, op.refuse, op.userinfo = nil, false, "", defaultUserinfo()
			})
			op.set(tc.setup)
			h := newHarness(t, opConfig(op))
			got := h.login(t, connector.LoginRequest{TransactionID: "tx-9"})
			t.Log(got.err)
			if !errors.Is(got.err, tc.want) || got.id != nil {
				t.Fatalf("got %v, %v; want %v", got.id, got.err, tc.want)
			}
		})
	}
	t.Run("replayed state", func(t *testing.T) {
		h := newHarness(t, opConfig(op))
		got := h.login(t, connector.LoginRequest{TransactionID: "tx-r"})
		if got.err != nil {
			t.Fatal(got.err)
		}
		again := h.get(t, got.url)
		if !errors.Is(again.err, connector.ErrReplay) || again.id != nil {
			t.Fatalf("replay: %v %v", again.id, again.err)
		}
	})
	t.Run("state of another login", func(t *testing.T) {
		h := newHarness(t, opConfig(op))
		st, req := h.start(t, connector.LoginRequest{TransactionID: "tx-a"})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(st.Redirect.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		for name, state := range map[string]string{
			"other random":      "tx-a.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"other transaction": "tx-b." + q.Get("state")[len("tx-a."):],
		} {
			q2 := url.Values{"code": {q.Get("code")}, "state": {state}}
			r := httptest.NewRequest(http.MethodGet, "/login/callback/oidc?"+q2.Encode(), nil)
			h.mu.Lock()
			s := h.state
			h.mu.Unlock()
			if id, err := h.conn.Callback(context.Background(), r, req, s); !errors.Is(err, connector.ErrInvalidResponse) || id != nil {
				t.Errorf("%s: %v %v", name, id, err)
			}
		}
		for _, raw := range []string{"code=x", "code=x&state=nodot", "code=x&state=a.b&state=a.b"} {
			r := httptest.NewRequest(http.MethodGet, "/cb?"+raw, nil)
			if _, err := h.conn.TransactionID(r); !errors.Is(err, connector.ErrNoTransaction) {
				t.Errorf("TransactionID(%s): %v", raw, err)
			}
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		cfg := opConfig(op)
		cfg.ClientSecret = "wrong"
		h := newHarness(t, cfg)
		got := h.login(t, connector.LoginRequest{TransactionID: "tx-s"})
		if !errors.Is(got.err, connector.ErrInvalidResponse) || got.id != nil {
			t.Fatalf("got %v %v", got.id, got.err)
		}
	})
}

func TestDiscoveryIsLazyAndRetried(t *testing.T) {
	op := newTestOP(t)
	flaky := &flakyTransport{down: true}
	cfg := opConfig(op)
	cfg.HTTPClient = &http.Client{Transport: flaky}
	c, err := oidc.New(cfg, &memReplay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if flaky.calls() != 0 {
		t.Fatal("New fetched something")
	}
	req := connector.LoginRequest{TransactionID: "t", CallbackURL: "https://broker.example/cb"}
	if _, err := c.Start(context.Background(), req); err == nil {
		t.Fatal("Start succeeded with discovery down")
	}
	flaky.set(false)
	for range 3 {
		st, err := c.Start(context.Background(), req)
		if err != nil || !strings.HasPrefix(st.Redirect.URL, op.issuer()+"/authorize?") {
			t.Fatalf("after recovery: %v %v", st, err)
		}
	}
	if n := flaky.calls(); n != 2 {
		t.Errorf("%d discovery requests, want 2 (one failed, one cached)", n)
	}
}

// flakyTransport fails while down and counts requests.
type flakyTransport struct {
	mu   sync.Mutex
	down bool
	n    int
}

func (f *flakyTransport) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }
func (f *flakyTransport) calls() int    { f.mu.Lock(); defer f.mu.Unlock(); return f.n }

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.n++
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, errors.New("network down")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestNew(t *testing.T) {
	rc := &memReplay{}
	for name, cfg := range map[string]oidc.Config{
		"no issuer":       {ClientID: "c"},
		"relative issuer": {Issuer: "/op", ClientID: "c"},
		"no client":       {Issuer: "https://op.example"},
		"entra common":    {Preset: oidc.PresetEntraID, TenantID: "common", ClientID: "c"},
		"unknown preset":  {Preset: "okta", Issuer: "https://op.example", ClientID: "c"},
		"reserved param":  {Issuer: "https://op.example", ClientID: "c", AuthParams: map[string]string{"nonce": "x"}},
	} {
		if _, err := oidc.New(cfg, rc, nil); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	for _, tc := range []struct {
		cfg  oidc.Config
		want string
	}{
		{oidc.Config{Preset: oidc.PresetEntraID, TenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47", ClientID: "c"}, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
		{oidc.Config{Preset: oidc.PresetGoogle, ClientID: "c"}, "https://accounts.google.com"},
		{oidc.Config{Issuer: "https://op.example/realms/x", ClientID: "c"}, "https://op.example/realms/x"},
	} {
		c, err := oidc.New(tc.cfg, rc, nil)
		if err != nil || c.Issuer() != tc.want {
			t.Errorf("%+v: %v, %v", tc.cfg, c, err)
		}
	}
}

func FuzzParseCallback(f *testing.F) {
	f.Add("code=abc&state=tx-1.RANDOM")
	f.Add("error=access_denied&state=tx.r")
	f.Add("state=.&code=")
	f.Add("state=a.b.c&code=1&code=2")
	f.Fuzz(func(t *testing.T, q string) {
		p, err := oidc.ParseCallback(q)
		if err != nil {
			if !errors.Is(err, connector.ErrInvalidResponse) && !errors.Is(err, connector.ErrNoTransaction) {
				t.Fatalf("error %v wraps no connector error", err)
			}
			return
		}
		if p.Transaction == "" || p.Random == "" || strings.Contains(p.Random, ".") || (p.Code == "") == (p.Error == "") {
			t.Fatalf("accepted %+v", p)
		}
	})
}

func BenchmarkStartCallback(b *testing.B) {
	op := newTestOP(b)
	h := newHarness(b, opConfig(op))
	b.ResetTimer()
	for i := range b.N {
		if got := h.login(b, connector.LoginRequest{TransactionID: "tx-" + strconv.Itoa(i)}); got.err != nil {
			b.Fatal(got.err)
		}
	}
}
