package wilma_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/connector/wilma"
	"github.com/mpassid/mpassid/internal/connector/wilma/wilmafake"
)

const secret = "wilma-test-secret"

// memReplay is an in-memory connector.ReplayCache.
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

// fakeFetcher stands in for Wilma's attribute interface.
type fakeFetcher struct {
	byUser map[string]map[string][]string
}

func (f fakeFetcher) Fetch(_ context.Context, userid string) (map[string][]string, error) {
	a, ok := f.byUser[userid]
	if !ok {
		return nil, errors.New("no such user")
	}
	return a, nil
}

type result struct {
	tx  string
	id  *connector.Identity
	err error
}

// harness is a fake Wilma over TLS and a broker callback receiver that runs
// the connector's Callback on the request it receives.
type harness struct {
	wilma    *wilmafake.Server
	conn     *wilma.Connector
	client   *http.Client
	callback string
	mu       sync.Mutex
	req      connector.LoginRequest
	state    []byte
	results  chan result
}

func newHarness(tb testing.TB, fetch wilma.AttributeFetcher) *harness {
	tb.Helper()
	h := &harness{wilma: &wilmafake.Server{Secret: secret, UserID: "oppilas.123"}, results: make(chan result, 4)}
	ws := httptest.NewTLSServer(h.wilma)
	tb.Cleanup(ws.Close)
	conn, err := wilma.New(wilma.Config{
		Hostname: strings.TrimPrefix(ws.URL, "https://"), SharedSecret: secret, Attributes: fetch,
		Logger: slog.New(slog.DiscardHandler),
	}, &memReplay{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	h.conn = conn
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tx, err := conn.TransactionID(r)
		if err != nil {
			h.results <- result{err: err}
			return
		}
		h.mu.Lock()
		req, st := h.req, h.state
		h.mu.Unlock()
		id, err := conn.Callback(r.Context(), r, req, st)
		h.results <- result{tx: tx, id: id, err: err}
	}))
	tb.Cleanup(cb.Close)
	h.callback = cb.URL + "/login/callback/wilma_en"
	h.client = ws.Client()
	h.client.Jar, _ = cookiejar.New(nil)
	h.client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) > 5 {
			return errors.New("too many redirects")
		}
		return nil
	}
	return h
}

// login runs Start, follows the browser redirects to the callback receiver
// and returns what Callback returned there.
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
	h := newHarness(t, fakeFetcher{byUser: map[string]map[string][]string{"oppilas.123": {
		"roles": {"Oppilas"}, "schoolIds": {"99001"}, "groups": {"7A"}, "username": {"spoof"},
	}}})
	got := h.login(t, connector.LoginRequest{TransactionID: "tx-1", ForceAuthn: true})
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.tx != "tx-1" {
		t.Errorf("TransactionID = %q", got.tx)
	}
	want := map[string][]string{"username": {"oppilas.123"}, "roles": {"Oppilas"}, "schoolIds": {"99001"}, "groups": {"7A"}}
	if !equalAttrs(got.id.Attributes, want) {
		t.Errorf("attributes = %v, want %v", got.id.Attributes, want)
	}
	if !h.wilma.LastForceAuth() {
		t.Error("forceauth was not sent")
	}
	got = h.login(t, connector.LoginRequest{TransactionID: "tx-2"})
	if got.err != nil || h.wilma.LastForceAuth() || h.wilma.Logins() != 2 {
		t.Fatalf("second login: %v, forceauth %v, logins %d", got.err, h.wilma.LastForceAuth(), h.wilma.Logins())
	}
}

func TestDefaultFetcher(t *testing.T) {
	h := newHarness(t, nil)
	got := h.login(t, connector.LoginRequest{TransactionID: "tx-1"})
	if got.err != nil {
		t.Fatal(got.err)
	}
	if !equalAttrs(got.id.Attributes, map[string][]string{"username": {"oppilas.123"}}) {
		t.Errorf("attributes = %v", got.id.Attributes)
	}
}

func equalAttrs(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") || len(b[k]) != len(v) {
			return false
		}
	}
	return true
}

func TestStartURL(t *testing.T) {
	c, err := wilma.New(wilma.Config{Hostname: "en.inschool.fi", SharedSecret: secret}, &memReplay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Start(context.Background(), connector.LoginRequest{
		TransactionID: "abc", CallbackURL: "https://mpass.example.fi/idp/callback?src=wilma_en", ForceAuthn: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	u := st.Redirect.URL
	prefix := "https://en.inschool.fi/mpass?redirectto=https%3A%2F%2Fmpass.example.fi%2Fidp%2Fcallback%3Fsrc%3Dwilma_en%26tx%3Dabc%26nonce%3D"
	if !strings.HasPrefix(u, prefix) {
		t.Fatalf("redirect %s", u)
	}
	i := strings.LastIndex(u, "&h=")
	if !strings.HasSuffix(u[:i], "&forceauth=true") || !wilma.Verify([]byte(secret), u[:i], u[i+3:]) {
		t.Errorf("bad signature or forceauth in %s", u)
	}
	var s struct{ Nonce string }
	if err := json.Unmarshal(st.State, &s); err != nil || len(s.Nonce) != 24 || !strings.Contains(u, s.Nonce) {
		t.Errorf("state %s does not hold the URL's nonce", st.State)
	}
	if _, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "abc", CallbackURL: "https://x/cb", Passive: true}); !errors.Is(err, connector.ErrCancelled) {
		t.Errorf("passive: %v", err)
	}
	if _, err := c.Start(context.Background(), connector.LoginRequest{CallbackURL: "https://x/cb"}); !errors.Is(err, connector.ErrNoTransaction) {
		t.Errorf("no tx: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []wilma.Config{
		{SharedSecret: secret},
		{Hostname: "https://en.inschool.fi", SharedSecret: secret},
		{Hostname: "en.inschool.fi/mpass", SharedSecret: secret},
		{Hostname: "en.inschool.fi"},
	} {
		if _, err := wilma.New(cfg, &memReplay{}, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// negative runs Callback on hand-made callback URLs against a real Start.
func TestCallbackRejects(t *testing.T) {
	const cbURL = "https://mpass.example.fi/idp/callback"
	newConn := func() (*wilma.Connector, connector.LoginRequest, []byte, string) {
		c, err := wilma.New(wilma.Config{Hostname: "en.inschool.fi", SharedSecret: secret}, &memReplay{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := connector.LoginRequest{TransactionID: "tx-9", CallbackURL: cbURL}
		st, err := c.Start(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ Nonce string }
		_ = json.Unmarshal(st.State, &s)
		return c, req, st.State, s.Nonce
	}
	signed := func(q string) string { return q + "&h=" + wilma.Sign([]byte(secret), cbURL+"?"+q) }
	call := func(c *wilma.Connector, req connector.LoginRequest, st []byte, rawQuery string) (*connector.Identity, error) {
		// The request arrives at an internal address behind a proxy: the
		// HMAC must still be computed over the public callback URL.
		r := httptest.NewRequest(http.MethodGet, "http://10.0.0.7:8080/idp/callback?"+rawQuery, nil)
		return c.Callback(context.Background(), r, req, st)
	}
	otherNonce := strings.Repeat("A", 24)
	cases := []struct {
		name  string
		query func(nonce string) string
		want  error
	}{
		{"valid control", func(n string) string {
			return signed("tx=tx-9&nonce=" + n + "&userid=u1&nonce=" + n)
		}, nil},
		{"bad HMAC", func(n string) string {
			return "tx=tx-9&nonce=" + n + "&userid=u1&nonce=" + n + "&h=" + wilma.Sign([]byte("other"), cbURL+"?tx=tx-9")
		}, connector.ErrInvalidResponse},
		{"tampered userid", func(n string) string {
			return strings.Replace(signed("tx=tx-9&nonce="+n+"&userid=u1&nonce="+n), "userid=u1", "userid=u2", 1)
		}, connector.ErrInvalidResponse},
		{"missing h", func(n string) string { return "tx=tx-9&nonce=" + n + "&userid=u1&nonce=" + n }, connector.ErrInvalidResponse},
		{"missing userid", func(n string) string { return signed("tx=tx-9&nonce=" + n + "&nonce=" + n) }, connector.ErrInvalidResponse},
		{"missing nonce", func(n string) string { return signed("tx=tx-9&userid=u1") }, connector.ErrInvalidResponse},
		{"empty userid", func(n string) string { return signed("tx=tx-9&nonce=" + n + "&userid=&nonce=" + n) }, connector.ErrInvalidResponse},
		{"two userids", func(n string) string {
			return signed("tx=tx-9&nonce=" + n + "&userid=u1&userid=u2&nonce=" + n)
		}, connector.ErrInvalidResponse},
		{"nonce mismatch", func(n string) string {
			return signed("tx=tx-9&nonce=" + otherNonce + "&userid=u1&nonce=" + otherNonce)
		}, connector.ErrInvalidResponse},
		{"conflicting nonces", func(n string) string {
			return signed("tx=tx-9&nonce=" + n + "&userid=u1&nonce=" + otherNonce)
		}, connector.ErrInvalidResponse},
		{"other transaction", func(n string) string {
			return signed("tx=tx-8&nonce=" + n + "&userid=u1&nonce=" + n)
		}, connector.ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, req, st, nonce := newConn()
			id, err := call(c, req, st, tc.query(nonce))
			if tc.want == nil {
				if err != nil || id.Attributes["username"][0] != "u1" {
					t.Fatalf("valid callback: %v %v", id, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || id != nil {
				t.Fatalf("got %v, %v; want %v", id, err, tc.want)
			}
		})
	}
	t.Run("reused nonce", func(t *testing.T) {
		c, req, st, n := newConn()
		q := signed("tx=tx-9&nonce=" + n + "&userid=u1&nonce=" + n)
		if _, err := call(c, req, st, q); err != nil {
			t.Fatal(err)
		}
		id, err := call(c, req, st, q)
		if !errors.Is(err, connector.ErrReplay) || id != nil {
			t.Fatalf("replay: %v %v", id, err)
		}
	})
	t.Run("unusable state", func(t *testing.T) {
		c, req, _, n := newConn()
		id, err := call(c, req, []byte("{}"), signed("tx=tx-9&nonce="+n+"&userid=u1"))
		if !errors.Is(err, connector.ErrInvalidResponse) || id != nil {
			t.Fatalf("got %v %v", id, err)
		}
	})
	t.Run("fetch failure", func(t *testing.T) {
		c, err := wilma.New(wilma.Config{Hostname: "en.inschool.fi", SharedSecret: secret, Attributes: fakeFetcher{}}, &memReplay{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := connector.LoginRequest{TransactionID: "tx-9", CallbackURL: cbURL}
		st, _ := c.Start(context.Background(), req)
		var s struct{ Nonce string }
		_ = json.Unmarshal(st.State, &s)
		id, err := call(c, req, st.State, signed("tx=tx-9&nonce="+s.Nonce+"&userid=u1"))
		if err == nil || id != nil {
			t.Fatalf("got %v %v", id, err)
		}
	})
}

func TestTransactionID(t *testing.T) {
	c, _ := wilma.New(wilma.Config{Hostname: "h", SharedSecret: secret}, &memReplay{}, nil)
	if _, err := c.TransactionID(httptest.NewRequest("GET", "/cb?userid=x", nil)); !errors.Is(err, connector.ErrNoTransaction) {
		t.Errorf("got %v", err)
	}
	if tx, err := c.TransactionID(httptest.NewRequest("GET", "/cb?tx=a%2Bb", nil)); err != nil || tx != "a+b" {
		t.Errorf("got %q %v", tx, err)
	}
}

func TestRandomAlphanumeric(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := wilma.RandomAlphanumeric(24)
		if err != nil || len(s) != 24 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" || seen[s] {
			t.Fatalf("%q %v", s, err)
		}
		seen[s] = true
	}
}

func FuzzParseCallback(f *testing.F) {
	f.Add("tx=a&nonce=AAAAAAAAAAAAAAAAAAAAAAAA&userid=u&nonce=AAAAAAAAAAAAAAAAAAAAAAAA&h=" + strings.Repeat("0", 64))
	f.Add("h=&h=&tx=%zz")
	f.Add("&h=" + strings.Repeat("f", 64))
	f.Fuzz(func(t *testing.T, q string) {
		cb, err := wilma.ParseCallback(q)
		if err != nil {
			if !errors.Is(err, connector.ErrInvalidResponse) {
				t.Fatalf("error %v does not wrap ErrInvalidResponse", err)
			}
			return
		}
		if cb.UserID == "" || cb.Nonce == "" || cb.Transaction == "" || len(cb.Hash) != 64 {
			t.Fatalf("accepted incomplete callback %+v", cb)
		}
		if !strings.HasPrefix(q, cb.Signed+"&h=") {
			t.Fatalf("signed part %q is not a prefix of %q", cb.Signed, q)
		}
		if _, err := url.ParseQuery(cb.Signed); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkStartCallback(b *testing.B) {
	h := newHarness(b, nil)
	b.ResetTimer()
	for i := range b.N {
		got := h.login(b, connector.LoginRequest{TransactionID: "tx-" + strconv.Itoa(i)})
		if got.err != nil {
			b.Fatal(got.err)
		}
	}
}
