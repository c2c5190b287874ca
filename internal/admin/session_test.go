package admin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSessionAndCSRF(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	csrf, err := e.api.StartSession(rec, "user-1", "Ulla", []string{"APP_MPASSID_PALVELU_TALLENTAJA_" + ownOrg, "OTHER_GROUP"})
	if err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || !cookies[0].Secure || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie %+v", cookies)
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value
	if strings.Contains(cookie, "Ulla") || strings.Contains(cookie, "PALVELU") {
		t.Error("session cookie is not sealed")
	}

	var me struct {
		Principal struct{ Subject, Name, Via string }
		CSRFToken string
	}
	e.want(e.do("", "GET", base+"/auth/me", nil, "Cookie", cookie), 200).json(t, &me)
	if me.Principal.Subject != "user-1" || me.Principal.Via != "session" || me.CSRFToken != csrf {
		t.Errorf("me %+v", me)
	}
	body := setRecord(ownOrg, "Istunnon joukko")
	e.want(e.do("", "POST", base+"/integration", body, "Cookie", cookie), 403)
	e.want(e.do("", "POST", base+"/integration", body, "Cookie", cookie, "X-CSRF-Token", "wrong"), 403)
	e.want(e.do("", "POST", base+"/integration", body, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example"), 403)
	r := e.want(e.do("", "POST", base+"/integration", body, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://mpass.example.fi"), 201)
	var created struct{ UpdatedBy string }
	json.Unmarshal(r.Body, &created)
	if !strings.Contains(created.UpdatedBy, "user-1") {
		t.Errorf("actor %q", created.UpdatedBy)
	}
	// A tampered cookie is no session.
	e.want(e.do("", "GET", base+"/auth/me", nil, "Cookie", cookie+"x"), 401)
	// Logout needs the CSRF token too, and clears the cookie.
	e.want(e.do("", "POST", base+"/auth/logout", nil, "Cookie", cookie), 403)
	r = e.want(e.do("", "POST", base+"/auth/logout", nil, "Cookie", cookie, "X-CSRF-Token", csrf), 204)
	if c := r.Header.Get("Set-Cookie"); !strings.Contains(c, "mpassid_admin=;") {
		t.Errorf("logout cookie %q", c)
	}
	// Without an issuer, sign-in is not configured.
	e.want(e.do("", "GET", base+"/auth/login", nil), 404)
}
