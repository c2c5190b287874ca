package broker

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/sqlite"
	"github.com/mpassid/mpassid/internal/testenv"
)

// fakeConnector "logs in" whoever the test says: Start sends the browser
// straight to the callback with the user in the query.
type fakeConnector struct {
	user  string
	fail  error
	mu    sync.Mutex
	start int
}

func (f *fakeConnector) Start(_ context.Context, req connector.LoginRequest) (*connector.Started, error) {
	f.mu.Lock()
	f.start++
	f.mu.Unlock()
	u := req.CallbackURL + "?tx=" + url.QueryEscape(req.TransactionID) + "&user=" + url.QueryEscape(f.user)
	return &connector.Started{Redirect: connector.Redirect{URL: u}, State: []byte("state")}, nil
}

func (f *fakeConnector) TransactionID(r *http.Request) (string, error) {
	if tx := r.URL.Query().Get("tx"); tx != "" {
		return tx, nil
	}
	return "", connector.ErrNoTransaction
}

func (f *fakeConnector) Callback(_ context.Context, r *http.Request, _ connector.LoginRequest, state []byte) (*connector.Identity, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if string(state) != "state" {
		return nil, connector.ErrInvalidResponse
	}
	return &connector.Identity{Attributes: map[string][]string{
		"username": {r.URL.Query().Get("user")}, "schoolIds": {"00001"}, "roles": {"Oppilas"}, "firstName": {"Pekka"},
	}}, nil
}

func (f *fakeConnector) Capabilities() connector.Capabilities {
	return connector.Capabilities{ForceAuthn: true}
}

func (f *fakeConnector) starts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.start
}

// recorder is a Responder that writes a small text answer the test reads.
type recorder struct {
	mu      sync.Mutex
	results []*Result
}

func (rc *recorder) Respond(w http.ResponseWriter, r *http.Request, res *Result) {
	rc.mu.Lock()
	rc.results = append(rc.results, res)
	rc.mu.Unlock()
	if res.Err != nil {
		io.WriteString(w, "error:"+string(res.Err.Code))
		return
	}
	io.WriteString(w, "user:"+res.User.UID+" source:"+res.Session.Source)
}

type env struct {
	b       *Broker
	srv     *httptest.Server
	conns   map[int64]*fakeConnector
	st      store.Store
	rec     *recorder
	flowReq func(svc int64, mod func(*Request)) http.HandlerFunc
	logs    *testenv.Buffer // what the broker logged
}

func integ(id int64, role model.Role) *model.Integration {
	return &model.Integration{ID: id, Role: role, DeploymentPhase: model.PhaseTest, Status: model.StatusActive, OrganisationOID: "1.2.246.562.10.00000000010"}
}

func newEnv(t *testing.T, sources int) *env {
	t.Helper()
	ctx := context.Background()
	st := sqlite.OpenTemp(t)
	var err error
	set := integ(6000001, model.RoleSet)
	set.Set = &model.Set{Name: "set"}
	svc := integ(5000001, model.RoleSP)
	svc.SP = &model.SP{Type: model.SPTypeOIDC, Name: "svc", SetID: 6000001, OIDC: &model.OIDCMetadata{ClientID: "c"}}
	all := []*model.Integration{set, svc}
	e := &env{conns: map[int64]*fakeConnector{}, st: st, rec: &recorder{}, logs: &testenv.Buffer{}}
	for i := 0; i < sources; i++ {
		src := integ(int64(4000001+i), model.RoleIdP)
		src.IdP = &model.IdP{Type: model.IdPTest, IdPID: "test" + string(rune('a'+i)), FlowName: "Flow" + string(rune('A'+i)),
			Discovery: model.DiscoveryInformation{CustomDisplayName: "Lähde " + string(rune('A'+i))}}
		all = append(all, src)
		e.conns[src.ID] = &fakeConnector{user: "pupil"}
	}
	for _, in := range all {
		if _, err := st.CreateIntegration(ctx, in, "test"); err != nil {
			t.Fatal(err)
		}
	}
	orgs := []model.Organisation{
		{OID: "1.2.246.562.10.00000000010", Types: []string{model.OrgTypeEducationProvider}, Name: model.LocalizedName{Fi: "Kunta"}, Status: model.OrgActive},
		{OID: "1.2.246.562.10.00000000011", ParentOID: "1.2.246.562.10.00000000010", Types: []string{model.OrgTypeSchool}, SchoolCode: "00001", InstitutionType: 11, Name: model.LocalizedName{Fi: "Koulu"}, Status: model.OrgActive},
	}
	var mu sync.Mutex
	e.b, err = New(Config{
		TransactionLifetime: 10 * time.Minute, SessionLifetime: 8 * time.Hour, SessionIdleTimeout: time.Hour,
	}, Deps{
		Store: st, Registry: registry.NewRegistry(registry.NewLookup(orgs)), Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		Sealer: testSealer(t),
		Connectors: func(_ context.Context, src *model.Integration) (connector.Connector, error) {
			mu.Lock()
			defer mu.Unlock()
			return e.conns[src.ID], nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.b.SetResponder(ProtocolOIDC, e.rec)
	mux := http.NewServeMux()
	e.b.Routes(mux)
	mux.HandleFunc("GET /begin", func(w http.ResponseWriter, r *http.Request) {
		req := Request{Protocol: ProtocolOIDC, ServiceID: 5000001}
		q := r.URL.Query()
		req.ForceAuthn = q.Get("force") == "1"
		req.Passive = q.Get("passive") == "1"
		if s := q.Get("source"); s != "" {
			req.Sources = []string{s}
		}
		e.b.Begin(w, r, req)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.b.cfg.BaseURL = e.srv.URL
	if _, err := e.b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestOneSourceLoginAndSSO(t *testing.T) {
	e := newEnv(t, 1)
	c := browser(t)
	_, body := get(t, c, e.srv.URL+"/begin")
	if !strings.HasPrefix(body, "user:MPASSOID.") || !strings.Contains(body, "source:FlowA") {
		t.Fatalf("first login: %q", body)
	}
	res := e.rec.results[0]
	if len(res.User.Roles) != 1 || res.User.Roles[0].SchoolName != "Koulu" {
		t.Errorf("user not built through the registry: %+v", res.User)
	}
	// A second service request in the same browser reuses the session.
	_, body2 := get(t, c, e.srv.URL+"/begin")
	if body2 != body || e.conns[4000001].starts() != 1 {
		t.Fatalf("SSO not reused: %q, upstream starts %d", body2, e.conns[4000001].starts())
	}
	// ForceAuthn goes upstream again.
	get(t, c, e.srv.URL+"/begin?force=1")
	if e.conns[4000001].starts() != 2 {
		t.Errorf("ForceAuthn did not go upstream")
	}
	// Passive with a session succeeds; without fails with NoPassive.
	if _, b := get(t, c, e.srv.URL+"/begin?passive=1"); !strings.HasPrefix(b, "user:") {
		t.Errorf("passive with session: %q", b)
	}
	if _, b := get(t, browser(t), e.srv.URL+"/begin?passive=1"); b != "error:no_passive" {
		t.Errorf("passive without session: %q", b)
	}
}

func TestSelectionPageAndChoice(t *testing.T) {
	e := newEnv(t, 2)
	c := browser(t)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == SelectPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(e.srv.URL + "/begin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != SelectPath {
		t.Fatalf("two sources should show the selection page, got %d %s", resp.StatusCode, loc)
	}
	tx := loc.Query().Get("tx")
	code, page := get(t, c, e.srv.URL+loc.String())
	if code != 200 || !strings.Contains(page, "Lähde A") || !strings.Contains(page, "Lähde B") || !strings.Contains(page, `lang="fi"`) {
		t.Fatalf("selection page %d: %s", code, page)
	}
	// Search without JavaScript: accents and case ignored.
	_, filtered := get(t, c, e.srv.URL+SelectPath+"?tx="+tx+"&q=LAHDE+b")
	if strings.Contains(filtered, "Lähde A") || !strings.Contains(filtered, "Lähde B") {
		t.Errorf("search did not filter: %s", filtered)
	}
	// Another browser cannot continue this transaction.
	if code, _ := get(t, browser(t), e.srv.URL+loc.String()); code != http.StatusBadRequest {
		t.Errorf("foreign browser got %d", code)
	}
	c.CheckRedirect = nil
	resp, err = c.PostForm(e.srv.URL+SelectPath, url.Values{"tx": {tx}, "source": {"4000002"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "source:FlowB") {
		t.Fatalf("choice not honoured: %s", body)
	}
	// A source named by the service skips the page.
	_, b := get(t, browser(t), e.srv.URL+"/begin?source=FlowA")
	if !strings.Contains(b, "source:FlowA") {
		t.Errorf("named source: %q", b)
	}
	if _, b := get(t, browser(t), e.srv.URL+"/begin?source=Nope"); b != "error:no_source" {
		t.Errorf("unknown source: %q", b)
	}
}

func TestCallbackIsSingleUse(t *testing.T) {
	e := newEnv(t, 1)
	c := browser(t)
	var callback string
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.Path, CallbackPath) {
			callback = req.URL.String()
		}
		return nil
	}
	get(t, c, e.srv.URL+"/begin")
	if callback == "" {
		t.Fatal("no callback seen")
	}
	code, body := get(t, c, callback)
	if code != http.StatusBadRequest || strings.HasPrefix(body, "user:") {
		t.Fatalf("replayed callback: %d %q", code, body)
	}
	if len(e.rec.results) != 1 {
		t.Errorf("replay produced another answer")
	}
}

func TestUpstreamFailureAnswersTheService(t *testing.T) {
	e := newEnv(t, 1)
	e.conns[4000001].fail = connector.ErrCancelled
	_, body := get(t, browser(t), e.srv.URL+"/begin")
	if body != "error:cancelled" {
		t.Fatalf("got %q", body)
	}
	if e.rec.results[0].Err.Reference == "" {
		t.Error("no reference code")
	}
	e.conns[4000001].fail = connector.ErrInvalidResponse
	if _, body := get(t, browser(t), e.srv.URL+"/begin"); body != "error:failed" {
		t.Fatalf("got %q", body)
	}
}

func TestParticipantsAndLogout(t *testing.T) {
	e := newEnv(t, 1)
	c := browser(t)
	get(t, c, e.srv.URL+"/begin")
	sid := e.rec.results[0].Session.ID
	ctx := context.Background()
	for _, id := range []int64{5000001, 5000009} {
		if err := e.b.AddParticipant(ctx, sid, Participant{ServiceID: id, Protocol: ProtocolOIDC, Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	// End it as a back-channel request (no cookie) by session id.
	req := httptest.NewRequest("GET", "/logout", nil)
	parts, err := e.b.EndSession(nil, req, sid, 5000001)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].ServiceID != 5000009 {
		t.Fatalf("participants %+v", parts)
	}
	if _, b := get(t, c, e.srv.URL+"/begin?passive=1"); b != "error:no_passive" {
		t.Errorf("session still usable after logout: %q", b)
	}
}

func testSealer(t *testing.T) *keys.Sealer { return testSealerF(t) }

func testSealerF(t testing.TB) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type recordingBackChannel struct {
	mu    sync.Mutex
	parts []Participant
}

func (r *recordingBackChannel) BackChannelLogout(_ context.Context, parts []Participant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.parts = append(r.parts, parts...)
}

// A logout that starts at a SAML service reaches the OIDC participants by
// back channel; one that starts at an OIDC service leaves them to the OIDC
// frontend, which logs out its own.
func TestLogoutReachesOtherProtocols(t *testing.T) {
	e := newEnv(t, 1)
	bc := &recordingBackChannel{}
	e.b.SetBackChannel(ProtocolOIDC, bc)
	ctx := context.Background()
	login := func() string {
		get(t, browser(t), e.srv.URL+"/begin")
		sid := e.rec.results[len(e.rec.results)-1].Session.ID
		for _, p := range []Participant{
			{ServiceID: 5000001, Protocol: ProtocolOIDC},
			{ServiceID: 5000077, Protocol: ProtocolSAML},
		} {
			if err := e.b.AddParticipant(ctx, sid, p); err != nil {
				t.Fatal(err)
			}
		}
		return sid
	}

	// Asked by a service the catalog does not know as OIDC (a SAML one):
	// the OIDC participant is reached by back channel.
	sid := login()
	parts, err := e.b.EndSession(nil, httptest.NewRequest("GET", "/", nil), sid, 5000077)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].ServiceID != 5000001 || len(bc.parts) != 1 || bc.parts[0].ServiceID != 5000001 {
		t.Fatalf("SAML-initiated logout: returned %+v, back channel %+v", parts, bc.parts)
	}

	// Asked by the OIDC service itself: nothing for the back channel.
	bc.parts = nil
	sid = login()
	parts, err = e.b.EndSession(nil, httptest.NewRequest("GET", "/", nil), sid, 5000001)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].ServiceID != 5000077 || len(bc.parts) != 0 {
		t.Fatalf("OIDC-initiated logout: returned %+v, back channel %+v", parts, bc.parts)
	}
}

// A browser keeps at most maxOpenTransactions transaction cookies: starting
// many logins (tabs) drops the oldest, and the newest still completes.
func TestOpenTransactionsBounded(t *testing.T) {
	e := newEnv(t, 2) // two sources: each Begin stops at the selection page
	c := browser(t)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }
	var last string
	for i := 0; i < 8; i++ {
		resp, err := c.Get(e.srv.URL + "/begin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.Header.Get("Location")
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	u, _ := url.Parse(e.srv.URL)
	n := 0
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, txCookie) {
			n++
		}
	}
	if n > maxOpenTransactions {
		t.Errorf("%d transaction cookies kept, want at most %d", n, maxOpenTransactions)
	}
	if code, page := get(t, c, e.srv.URL+last); code != http.StatusOK || !strings.Contains(page, "Lähde A") {
		t.Errorf("the newest transaction no longer works: %d", code)
	}
}
