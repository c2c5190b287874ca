package admin_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store/sqlite"
)

// fakeCAS is a CAS 3.0 server: /login sends the browser back with a ticket,
// /p3/serviceValidate answers once per ticket for the service it was issued
// for.
type fakeCAS struct {
	mu      sync.Mutex
	tickets map[string]string // ticket -> service
	user    string
	groups  []string
}

func (f *fakeCAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/cas/login":
		svc := r.URL.Query().Get("service")
		t := fmt.Sprintf("ST-%d", len(f.tickets)+1)
		f.tickets[t] = svc
		http.Redirect(w, r, svc+"?ticket="+t, http.StatusFound)
	case "/cas/p3/serviceValidate":
		t, svc := r.URL.Query().Get("ticket"), r.URL.Query().Get("service")
		issued, ok := f.tickets[t]
		delete(f.tickets, t)
		if !ok || issued != svc {
			io.WriteString(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">Ticket not recognized</cas:authenticationFailure></cas:serviceResponse>`)
			return
		}
		var attrs strings.Builder
		for _, g := range f.groups {
			attrs.WriteString("<cas:roles>" + g + "</cas:roles>")
		}
		fmt.Fprintf(w, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>%s</cas:user><cas:attributes><cas:displayName>Virkailija Testi</cas:displayName>%s</cas:attributes></cas:authenticationSuccess></cas:serviceResponse>`, f.user, attrs.String())
	default:
		http.NotFound(w, r)
	}
}

func TestCASSignIn(t *testing.T) {
	cas := &fakeCAS{tickets: map[string]string{}, user: "virkailija1", groups: []string{"APP_MPASSID_KATSELIJA_1.2.246.562.10.00000000010"}}
	casSrv := httptest.NewServer(cas)
	defer casSrv.Close()

	st := openSQLite(t)
	sealer, _ := keys.NewSealer(make([]byte, keys.MasterKeySize))
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api, err := admin.New(admin.Config{PublicURL: srv.URL, CASURL: casSrv.URL + "/cas", HTTPClient: casSrv.Client()},
		admin.Deps{Store: st, Registry: registry.NewRegistry(nil), Sealer: sealer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	api.Routes(mux)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(srv.URL + admin.BasePath + "/auth/cas/login?return=/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The redirect to /admin/ is not served here; the session cookie is set.
	resp, err = c.Get(srv.URL + admin.BasePath + "/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "virkailija1") || !strings.Contains(string(body), "1.2.246.562.10.00000000010") {
		t.Fatalf("/auth/me after CAS sign-in: %d %s", resp.StatusCode, body)
	}

	// A ticket is good once, and only with a sign-in in progress.
	u, _ := url.Parse(srv.URL + admin.BasePath + "/auth/cas/callback?ticket=ST-1")
	resp, err = (&http.Client{}).Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without sign-in in progress: %d", resp.StatusCode)
	}
}

func TestCASNotConfigured(t *testing.T) {
	st := openSQLite(t)
	sealer, _ := keys.NewSealer(make([]byte, keys.MasterKeySize))
	api, err := admin.New(admin.Config{PublicURL: "https://a.example.fi"}, admin.Deps{Store: st, Sealer: sealer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", admin.BasePath+"/auth/cas/login", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("got %d", rec.Code)
	}
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	return sqlite.OpenTemp(t)
}

// A form posted from a no-referrer page carries "Origin: null"; it is
// accepted only when the browser vouches that it came from the same site.
func TestCSRFOriginNull(t *testing.T) {
	st := openSQLite(t)
	sealer, _ := keys.NewSealer(make([]byte, keys.MasterKeySize))
	api, err := admin.New(admin.Config{PublicURL: "https://a.example.fi"}, admin.Deps{Store: st, Sealer: sealer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	csrf, err := api.StartSession(rec, "u", "U", []string{"APP_MPASSID_TALLENTAJA_1.2.246.562.10.00000000001"})
	if err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	for _, tt := range []struct {
		site string
		want int
	}{
		{"same-origin", http.StatusCreated},
		{"cross-site", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		req := httptest.NewRequest("POST", admin.BasePath+"/tokens", strings.NewReader(`{"name":"t","groups":["APP_MPASSID_KATSELIJA_1.2.246.562.10.00000000001"]}`))
		req.AddCookie(cookie)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(admin.CSRFHeader, csrf)
		req.Header.Set("Origin", "null")
		if tt.site != "" {
			req.Header.Set("Sec-Fetch-Site", tt.site)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("Origin null, Sec-Fetch-Site %q: %d, want %d: %s", tt.site, rec.Code, tt.want, rec.Body.String())
		}
	}
}
