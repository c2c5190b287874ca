package testidp_test

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/connector/testidp"
)

var key = []byte("0123456789abcdef0123456789abcdef")

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
	id  *connector.Identity
	err error
}

// harness is a minimal broker: the test IdP's page mounted at /testidp/
// and a callback receiver running Callback.
type harness struct {
	conn     *testidp.Connector
	srv      *httptest.Server
	client   *http.Client
	callback string
	mu       sync.Mutex
	req      connector.LoginRequest
	state    []byte
	results  chan result
}

func newHarness(tb testing.TB, now func() time.Time) *harness {
	tb.Helper()
	conn, err := testidp.New(testidp.Config{Key: key, Logger: quiet}, &memReplay{}, now)
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{conn: conn, results: make(chan result, 4)}
	mux := http.NewServeMux()
	mux.Handle("/testidp/", conn.Handler())
	mux.HandleFunc("POST /login/callback/testidp", func(w http.ResponseWriter, r *http.Request) {
		if _, err := conn.TransactionID(r); err != nil {
			h.results <- result{err: err}
			return
		}
		h.mu.Lock()
		req, st := h.req, h.state
		h.mu.Unlock()
		id, err := conn.Callback(r.Context(), r, req, st)
		h.results <- result{id, err}
	})
	h.srv = httptest.NewServer(mux)
	tb.Cleanup(h.srv.Close)
	h.callback = h.srv.URL + "/login/callback/testidp"
	h.client = h.srv.Client()
	h.client.Jar, _ = cookiejar.New(nil)
	return h
}

func (h *harness) start(tb testing.TB, req connector.LoginRequest) (string, connector.LoginRequest) {
	tb.Helper()
	req.CallbackURL = h.callback
	st, err := h.conn.Start(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	h.mu.Lock()
	h.req, h.state = req, st.State
	h.mu.Unlock()
	return st.Redirect.URL, req
}

type form struct {
	action, tx string
	users      map[string]string // username -> radio value
	body       string
}

var (
	formRe   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	txRe     = regexp.MustCompile(`<input type="hidden" name="tx" value="([^"]*)">`)
	radioRe  = regexp.MustCompile(`<input type="radio" name="user" id="([^"]*)" value="([^"]*)"`)
	labelRe  = regexp.MustCompile(`<label for="([^"]*)">`)
	langRe   = regexp.MustCompile(`<html lang="(fi|sv|en)">`)
	submitRe = regexp.MustCompile(`<button type="submit">[^<]+</button>`)
)

func (h *harness) page(tb testing.TB, pageURL string) form {
	tb.Helper()
	resp, err := h.client.Get(pageURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("page: %s: %s", resp.Status, b)
	}
	body := string(b)
	f := form{body: body, users: map[string]string{}}
	m := formRe.FindStringSubmatch(body)
	t := txRe.FindStringSubmatch(body)
	if m == nil || t == nil {
		tb.Fatalf("no form in page:\n%s", body)
	}
	f.action, f.tx = html.UnescapeString(m[1]), html.UnescapeString(t[1])
	for _, r := range radioRe.FindAllStringSubmatch(body, -1) {
		v := html.UnescapeString(r[2])
		f.users[v[:strings.LastIndexByte(v, '.')]] = v
	}
	return f
}

func (h *harness) post(tb testing.TB, action string, fields url.Values) result {
	tb.Helper()
	resp, err := h.client.PostForm(action, fields)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return <-h.results
}

func TestLoginEndToEnd(t *testing.T) {
	h := newHarness(t, nil)
	pageURL, _ := h.start(t, connector.LoginRequest{TransactionID: "tx-1", Language: "sv"})
	if !strings.HasPrefix(pageURL, h.srv.URL+"/testidp/?") {
		t.Fatalf("start redirects to %s", pageURL)
	}
	f := h.page(t, pageURL)
	if f.action != h.callback || f.tx != "tx-1" || len(f.users) != len(testidp.DefaultUsers()) {
		t.Fatalf("form %+v", f)
	}
	got := h.post(t, f.action, url.Values{"tx": {f.tx}, "user": {f.users["opettaja.monikoulu"]}})
	if got.err != nil {
		t.Fatal(got.err)
	}
	a := got.id.Attributes
	if !slices.Equal(a["username"], []string{"opettaja.monikoulu"}) || !slices.Equal(a["schoolIds"], []string{"99001", "99002", "99003"}) ||
		!slices.Equal(a["roles"], []string{"Opettaja"}) || !slices.Equal(a["firstName"], []string{"Mikko"}) {
		t.Errorf("attributes %v", a)
	}
	// The page's MAC is bound to the transaction: a second login with
	// the same post is a replay.
	if got := h.post(t, f.action, url.Values{"tx": {f.tx}, "user": {f.users["opettaja.monikoulu"]}}); !errors.Is(got.err, connector.ErrReplay) || got.id != nil {
		t.Fatalf("replay: %v %v", got.id, got.err)
	}
}

func TestDefaultUsers(t *testing.T) {
	users := testidp.DefaultUsers()
	var schools []string
	var testLearner, multi bool
	for _, u := range users {
		schools = append(schools, u.SchoolIDs...)
		testLearner = testLearner || strings.HasPrefix(u.LearnerID, "1.2.246.562.98.")
		multi = multi || (len(u.SchoolIDs) > 1 && slices.Contains(u.Roles, "Opettaja"))
		if u.LearnerID != "" && !regexp.MustCompile(`^1\.2\.246\.562\.(24|98)\.\d{11}$`).MatchString(u.LearnerID) {
			t.Errorf("malformed learner id %s", u.LearnerID)
		}
	}
	for _, s := range []string{"99001", "99002", "99003", "99005", "99006"} {
		if !slices.Contains(schools, s) {
			t.Errorf("no user at %s", s)
		}
	}
	if !testLearner || !multi {
		t.Errorf("test learner %v, teacher in several schools %v", testLearner, multi)
	}
}

func TestPage(t *testing.T) {
	h := newHarness(t, nil)
	for lang, word := range map[string]string{"fi": "Kirjaudu", "sv": "Logga in", "en": "Log in", "de": "Kirjaudu", "": "Kirjaudu"} {
		pageURL, _ := h.start(t, connector.LoginRequest{TransactionID: "tx-" + lang, Language: lang})
		resp, err := h.client.Get(pageURL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		want := lang
		if lang != "sv" && lang != "en" {
			want = "fi"
		}
		if m := langRe.FindStringSubmatch(body); m == nil || m[1] != want {
			t.Errorf("%s: lang attribute %v", lang, m)
		}
		if !submitRe.MatchString(body) || !strings.Contains(body, word) {
			t.Errorf("%s: no submit button %q", lang, word)
		}
		radios := radioRe.FindAllStringSubmatch(body, -1)
		labels := labelRe.FindAllStringSubmatch(body, -1)
		if len(radios) != len(testidp.DefaultUsers()) || len(labels) != len(radios) {
			t.Errorf("%s: %d radios, %d labels", lang, len(radios), len(labels))
		}
		for i := range radios {
			if i < len(labels) && radios[i][1] != labels[i][1] {
				t.Errorf("radio %s labelled for %s", radios[i][1], labels[i][1])
			}
		}
		for _, bad := range []string{"<script", "style=", "<style", "onclick", "javascript:"} {
			if strings.Contains(strings.ToLower(body), bad) {
				t.Errorf("%s: page contains %s", lang, bad)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action "+h.srv.URL) {
			t.Errorf("CSP %q", csp)
		}
	}
}

func TestPageRefusesUnsignedLinks(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	clock := &now
	h := newHarness(t, func() time.Time { return *clock })
	pageURL, _ := h.start(t, connector.LoginRequest{TransactionID: "tx-1"})
	u, _ := url.Parse(pageURL)
	for name, mod := range map[string]func(q url.Values){
		"other tx":       func(q url.Values) { q.Set("tx", "tx-2") },
		"other callback": func(q url.Values) { q.Set("cb", "https://evil.example/cb") },
		"no signature":   func(q url.Values) { q.Del("sig") },
		"later expiry":   func(q url.Values) { q.Set("exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)) },
	} {
		q := u.Query()
		mod(q)
		v := *u
		v.RawQuery = q.Encode()
		resp, err := h.client.Get(v.String())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), "<form") {
			t.Errorf("%s: %s %s", name, resp.Status, b)
		}
	}
	later := now.Add(testidp.DefaultLinkTTL + time.Second)
	clock = &later
	resp, err := h.client.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("expired link: %s", resp.Status)
	}
}

func TestCallbackRejects(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	clock := now
	h := newHarness(t, func() time.Time { return clock })
	pageURL, _ := h.start(t, connector.LoginRequest{TransactionID: "tx-A"})
	fa := h.page(t, pageURL)
	pageURL, _ = h.start(t, connector.LoginRequest{TransactionID: "tx-B"})
	fb := h.page(t, pageURL)
	userB := fb.users["oppilas.revontuli"]
	mac := userB[strings.LastIndexByte(userB, '.')+1:]
	cases := []struct {
		name   string
		fields url.Values
		want   error
	}{
		{"MAC of another transaction", url.Values{"tx": {"tx-B"}, "user": {fa.users["oppilas.revontuli"]}}, connector.ErrInvalidResponse},
		{"user not configured, valid MAC", url.Values{"tx": {"tx-B"}, "user": {"ei.ketaan." + mac}}, connector.ErrInvalidResponse},
		{"forged MAC", url.Values{"tx": {"tx-B"}, "user": {"oppilas.revontuli." + strings.Repeat("A", 43)}}, connector.ErrInvalidResponse},
		{"no MAC", url.Values{"tx": {"tx-B"}, "user": {"oppilas.revontuli"}}, connector.ErrInvalidResponse},
		{"no user", url.Values{"tx": {"tx-B"}}, connector.ErrInvalidResponse},
		{"two users", url.Values{"tx": {"tx-B"}, "user": {userB, fb.users["rehtori.saunalahti"]}}, connector.ErrInvalidResponse},
		{"other transaction's post", url.Values{"tx": {"tx-A"}, "user": {fa.users["oppilas.revontuli"]}}, connector.ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := h.post(t, fb.action, tc.fields)
			if !errors.Is(got.err, tc.want) || got.id != nil {
				t.Fatalf("got %v, %v; want %v", got.id, got.err, tc.want)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		clock = now.Add(testidp.DefaultLinkTTL + time.Minute)
		defer func() { clock = now }()
		got := h.post(t, fb.action, url.Values{"tx": {"tx-B"}, "user": {userB}})
		if !errors.Is(got.err, connector.ErrExpired) || got.id != nil {
			t.Fatalf("got %v %v", got.id, got.err)
		}
	})
	t.Run("valid control", func(t *testing.T) {
		got := h.post(t, fb.action, url.Values{"tx": {"tx-B"}, "user": {userB}})
		if got.err != nil || got.id.Attributes["learnerId"][0] != "1.2.246.562.24.10000000001" {
			t.Fatalf("got %v %v", got.id, got.err)
		}
	})
	t.Run("GET", func(t *testing.T) {
		_, req := h.start(t, connector.LoginRequest{TransactionID: "tx-C"})
		r := httptest.NewRequest(http.MethodGet, "/login/callback/testidp?tx=tx-C&user="+url.QueryEscape(userB), nil)
		if _, err := h.conn.TransactionID(r); !errors.Is(err, connector.ErrNoTransaction) {
			t.Errorf("TransactionID: %v", err)
		}
		if id, err := h.conn.Callback(context.Background(), r, req, []byte(`{"exp":1}`)); !errors.Is(err, connector.ErrInvalidResponse) || id != nil {
			t.Errorf("Callback: %v %v", id, err)
		}
	})
}

func TestNew(t *testing.T) {
	_, err := testidp.New(testidp.Config{Production: true, Key: key}, &memReplay{}, nil)
	if !errors.Is(err, testidp.ErrProduction) || err.Error() != "the test identity source is not allowed in production" {
		t.Errorf("production: %v", err)
	}
	for name, cfg := range map[string]testidp.Config{
		"short key":      {Key: []byte("short")},
		"no username":    {Key: key, Users: []testidp.User{{FirstName: "X"}}},
		"duplicate user": {Key: key, Users: []testidp.User{{Username: "a"}, {Username: "a"}}},
		"bad page path":  {Key: key, PagePath: "testidp"},
	} {
		if _, err := testidp.New(cfg, &memReplay{}, nil); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	c, err := testidp.New(testidp.Config{Logger: quiet, Users: []testidp.User{{Username: "only"}}}, &memReplay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "t", CallbackURL: "https://b/cb", Passive: true}); !errors.Is(err, connector.ErrCancelled) {
		t.Errorf("passive: %v", err)
	}
}

func FuzzParseLogin(f *testing.F) {
	f.Add("tx=a&user=u." + strings.Repeat("A", 43))
	f.Add("tx=&user=.")
	f.Add("user=a.b.c&tx=1&tx=2")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		l, err := testidp.ParseLogin(form)
		if err != nil {
			if !errors.Is(err, connector.ErrInvalidResponse) {
				t.Fatalf("error %v does not wrap ErrInvalidResponse", err)
			}
			return
		}
		if l.Transaction == "" || l.Username == "" || len(l.MAC) != 32 {
			t.Fatalf("accepted %+v", l)
		}
	})
}

func BenchmarkStartCallback(b *testing.B) {
	h := newHarness(b, nil)
	b.ResetTimer()
	for i := range b.N {
		pageURL, _ := h.start(b, connector.LoginRequest{TransactionID: "tx-" + strconv.Itoa(i)})
		f := h.page(b, pageURL)
		if got := h.post(b, f.action, url.Values{"tx": {f.tx}, "user": {f.users["oppilas.revontuli"]}}); got.err != nil {
			b.Fatal(got.err)
		}
	}
}

// The page is pre-rendered and the per-request values are escaped as they
// are written in: markup in a transaction id must come back as text.
func TestPageEscapesRequestValues(t *testing.T) {
	h := newHarness(t, nil)
	tx := `tx"><script>alert(1)</script>&'`
	pageURL, _ := h.start(t, connector.LoginRequest{TransactionID: tx, Language: "en"})
	f := h.page(t, pageURL)
	if f.tx != tx || f.action != h.callback {
		t.Fatalf("tx %q action %q", f.tx, f.action)
	}
	if strings.Contains(f.body, "<script") {
		t.Fatalf("markup of the transaction id reached the page:\n%s", f.body)
	}
	if got := h.post(t, f.action, url.Values{"tx": {f.tx}, "user": {f.users["opettaja.monikoulu"]}}); got.err != nil {
		t.Fatalf("login with the escaped values: %v", got.err)
	}
}
