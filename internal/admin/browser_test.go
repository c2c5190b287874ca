package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/admin"
)

// Pages outside /api/v2 use the same session with a site-wide cookie, and
// check the CSRF token of a form field as the API checks its header.
func TestBrowserSessionAndFormCSRF(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	csrf, err := e.api.StartBrowserSession(rec, "user-2", "Ulla", []string{"APP_MPASSID_KATSELIJA_" + ownOrg})
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Result().Cookies()
	if len(c) != 1 || c[0].Path != "/" || !c[0].HttpOnly || c[0].Name != admin.SessionCookie {
		t.Fatalf("cookie %+v", c)
	}
	cookie := c[0].Name + "=" + c[0].Value
	req := httptest.NewRequest("GET", "/admin/", nil)
	req.Header.Set("Cookie", cookie)
	p, tok, err := e.api.BrowserSession(req)
	if err != nil || p.Subject != "user-2" || tok != csrf || len(p.Roles) != 1 {
		t.Fatalf("session %+v %q %v", p, tok, err)
	}
	// The API accepts the site-wide cookie too.
	e.want(e.do("", "GET", base+"/auth/me", nil, "Cookie", cookie), 200)

	post := func(token, origin string) error {
		r := httptest.NewRequest("POST", "/admin/x", strings.NewReader(url.Values{admin.CSRFField: {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Cookie", cookie)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return e.api.CheckFormCSRF(r)
	}
	if err := post(csrf, "https://mpass.example.fi"); err != nil {
		t.Errorf("good form refused: %v", err)
	}
	for _, bad := range [][2]string{{"", ""}, {"wrong", ""}, {csrf, "https://evil.example"}} {
		if err := post(bad[0], bad[1]); admin.ErrorStatus(err) != http.StatusForbidden {
			t.Errorf("form %q from %q: %v", bad[0], bad[1], err)
		}
	}
	req = httptest.NewRequest("GET", "/admin/", nil)
	if _, _, err := e.api.BrowserSession(req); admin.ErrorStatus(err) != http.StatusUnauthorized {
		t.Errorf("no cookie: %v", err)
	}
	rec = httptest.NewRecorder()
	e.api.EndBrowserSession(rec)
	if n := len(rec.Result().Cookies()); n != 2 {
		t.Errorf("end clears %d cookies", n)
	}
	if e.api.SignInURL("/admin/") != "" {
		t.Error("a sign-in URL without an issuer")
	}
}
