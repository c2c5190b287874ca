package admin

// Browser sessions for server-rendered pages (package admin/ui). They use
// the API's sealed session cookie and its CSRF token; since an HTML form
// cannot set the X-CSRF-Token header, the pages send the token in a hidden
// form field and check it with CheckFormCSRF, which applies the same check
// (token and Origin) as the API.

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// CSRFField is the name of the hidden form field that carries the
// session's CSRF token in HTML forms.
const CSRFField = "csrf_token"

// BrowserSession returns the principal of the request's session cookie and
// the session's CSRF token; an error when there is no live session. API
// tokens do not count: pages are for people.
func (a *API) BrowserSession(r *http.Request) (*Principal, string, error) {
	s, err := a.readSession(r)
	if err != nil {
		return nil, "", err
	}
	return &Principal{Subject: s.Subject, Name: s.Name, Roles: RolesFromGroups(s.Groups), Via: "session"}, s.CSRF, nil
}

// CheckFormCSRF checks a state-changing form post: the session's CSRF
// token in the form field CSRFField (or the X-CSRF-Token header, for
// script-enhanced requests) and an Origin, when sent, equal to the
// service's own. The form must have been parsed.
func (a *API) CheckFormCSRF(r *http.Request) error {
	s, err := a.readSession(r)
	if err != nil {
		return err
	}
	if r.Header.Get(CSRFHeader) == "" {
		r2 := r.Clone(r.Context())
		r2.Header.Set(CSRFHeader, r.PostFormValue(CSRFField))
		r = r2
	}
	return a.checkCSRF(r, s)
}

// StartBrowserSession is StartSession for pages outside BasePath: the same
// sealed session, with a cookie for the whole site (Path "/"), so that
// both the pages and the API see it. It returns the CSRF token.
func (a *API) StartBrowserSession(w http.ResponseWriter, subject, name string, groups []string) (string, error) {
	s := session{Subject: subject, Name: name, Groups: groups, CSRF: randomString(16), Expires: a.now().Add(a.cfg.SessionLifetime)}
	v, err := a.sealJSON(s, sessionAD)
	if err != nil {
		return "", fmt.Errorf("admin: seal session: %w", err)
	}
	a.siteCookie(w, v, a.cfg.SessionLifetime)
	return s.CSRF, nil
}

// EndBrowserSession clears the session cookies of both paths.
func (a *API) EndBrowserSession(w http.ResponseWriter) {
	a.siteCookie(w, "", -time.Second)
	a.setCookie(w, SessionCookie, "", -time.Second)
}

func (a *API) siteCookie(w http.ResponseWriter, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: a.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

// SignInURL is where a browser starts the OpenID Connect sign-in, coming
// back to the local path ret; "" when sign-in is not configured.
func (a *API) SignInURL(ret string) string {
	if a.cfg.Issuer == "" {
		return ""
	}
	return BasePath + "/auth/login?return=" + url.QueryEscape(localReturn(ret))
}

// Dev reports whether the API runs in development mode.
func (a *API) Dev() bool { return a.cfg.Dev }
