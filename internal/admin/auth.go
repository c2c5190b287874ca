package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

const (
	// SessionCookie holds the sealed browser session.
	SessionCookie = "mpassid_admin"
	// loginCookie holds the sealed state of a sign-in in progress.
	loginCookie = "mpassid_admin_login"
	// CSRFHeader must carry the session's CSRF token on every
	// state-changing browser request.
	CSRFHeader = "X-CSRF-Token"
	// tokenPrefix starts every API token, so that leaked tokens are easy
	// to recognise and scan for.
	tokenPrefix = "mpa_"

	sessionAD = "mpassid admin session"
	loginAD   = "mpassid admin login"
)

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// session is the content of the sealed session cookie.
type session struct {
	Subject string    `json:"sub"`
	Name    string    `json:"name,omitempty"`
	Groups  []string  `json:"groups"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"exp"`
}

// authenticate finds the principal of a request: a Bearer API token, or a
// session cookie (with the CSRF check for state-changing methods).
func (a *API) authenticate(r *http.Request) (*Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(tok, tokenPrefix) {
			return nil, &httpError{http.StatusUnauthorized, "unsupported authorization"}
		}
		t, err := a.st.APITokenByHash(r.Context(), hashToken(tok), a.now())
		if errors.Is(err, store.ErrNotFound) {
			return nil, &httpError{http.StatusUnauthorized, "unknown or expired token"}
		}
		if err != nil {
			return nil, fmt.Errorf("api token: %w", err)
		}
		return &Principal{Subject: "token:" + t.ID, Name: t.Name, Roles: RolesFromGroups(t.Groups), Via: "token"}, nil
	}
	s, err := a.readSession(r)
	if err != nil {
		return nil, err
	}
	if !safeMethod(r.Method) {
		if err := a.checkCSRF(r, s); err != nil {
			return nil, err
		}
	}
	return &Principal{Subject: s.Subject, Name: s.Name, Roles: RolesFromGroups(s.Groups), Via: "session"}, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (a *API) readSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, &httpError{http.StatusUnauthorized, "authentication required"}
	}
	var s session
	if err := a.openJSON(c.Value, sessionAD, &s); err != nil || a.now().After(s.Expires) {
		return nil, &httpError{http.StatusUnauthorized, "session expired"}
	}
	return &s, nil
}

// checkCSRF requires the session's CSRF token in the CSRF header, and an
// Origin (when the browser sends one) equal to the service's own.
func (a *API) checkCSRF(r *http.Request, s *session) error {
	o := r.Header.Get("Origin")
	// A browser sends "Origin: null" for a form posted from a page whose
	// referrer policy hides the origin; its Sec-Fetch-Site, which no page
	// can set, still tells whether the post came from this site.
	if o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		o = ""
	}
	if o != "" && a.cfg.PublicURL != "" && !sameOrigin(o, a.cfg.PublicURL) {
		return &httpError{http.StatusForbidden, "cross-origin request refused"}
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
		return &httpError{http.StatusForbidden, "missing or wrong CSRF token"}
	}
	return nil
}

func sameOrigin(origin, base string) bool {
	o, err1 := url.Parse(origin)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && o.Scheme == b.Scheme && o.Host == b.Host
}

func (a *API) sealJSON(v any, ad string) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return a.seal.SealString(string(data), ad)
}

func (a *API) openJSON(sealed, ad string, v any) error {
	s, err := a.seal.OpenString(sealed, ad)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), v)
}

func (a *API) secureCookies() bool { return strings.HasPrefix(a.cfg.PublicURL, "https://") }

func (a *API) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: BasePath, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: a.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

// StartSession sets a session cookie for a signed-in user and returns its
// CSRF token. The OIDC callback uses it; so can a development sign-in.
func (a *API) StartSession(w http.ResponseWriter, subject, name string, groups []string) (string, error) {
	// The session cookie is site-wide, so that the management UI under
	// /admin/ and the API under /api/v2 share it.
	return a.StartBrowserSession(w, subject, name, groups)
}

// handleMe returns the principal and, for a browser session, the CSRF
// token the client sends back in X-CSRF-Token.
func (a *API) handleMe(w http.ResponseWriter, r *http.Request, p *Principal) {
	out := struct {
		Principal *Principal `json:"principal"`
		CSRFToken string     `json:"csrfToken,omitempty"`
	}{Principal: p}
	if p.Via == "session" {
		if s, err := a.readSession(r); err == nil {
			out.CSRFToken = s.CSRF
		}
	}
	if out.Principal.Roles == nil {
		out.Principal.Roles = []Role{}
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) handleLogout(w http.ResponseWriter, r *http.Request, _ *Principal) {
	s, err := a.readSession(r)
	if err == nil {
		if err := a.checkCSRF(r, s); err != nil {
			a.failErr(w, r, err)
			return
		}
	}
	a.setCookie(w, SessionCookie, "", -time.Second)
	w.WriteHeader(http.StatusNoContent)
}

// --- OpenID Connect sign-in ---

type oidcClient struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	provider *oidc.Provider
}

func (a *API) oidcClient(ctx context.Context) (*oidcClient, error) {
	a.oidcMu.Lock()
	defer a.oidcMu.Unlock()
	if a.oidc != nil {
		return a.oidc, nil
	}
	if a.cfg.Issuer == "" {
		return nil, &httpError{http.StatusNotFound, "sign-in is not configured"}
	}
	ctx = oidc.ClientContext(ctx, a.cfg.HTTPClient)
	p, err := oidc.NewProvider(ctx, a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("admin: discover %s: %w", a.cfg.Issuer, err)
	}
	a.oidc = &oidcClient{
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}),
		oauth: oauth2.Config{
			ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret,
			Endpoint:    p.Endpoint(),
			RedirectURL: a.cfg.PublicURL + BasePath + "/auth/callback",
			Scopes:      []string{oidc.ScopeOpenID, "profile"},
		},
	}
	return a.oidc, nil
}

type loginState struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Return   string    `json:"return"`
	Expires  time.Time `json:"exp"`
}

// localReturn accepts only a local path as where to go after sign-in.
func localReturn(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
}

func (a *API) handleLogin(w http.ResponseWriter, r *http.Request, _ *Principal) {
	c, err := a.oidcClient(r.Context())
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	st := loginState{State: randomString(16), Nonce: randomString(16), Verifier: oauth2.GenerateVerifier(),
		Return: localReturn(r.URL.Query().Get("return")), Expires: a.now().Add(10 * time.Minute)}
	v, err := a.sealJSON(st, loginAD)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.setCookie(w, loginCookie, v, 10*time.Minute)
	http.Redirect(w, r, c.oauth.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

func (a *API) handleCallback(w http.ResponseWriter, r *http.Request, _ *Principal) {
	c, err := a.oidcClient(r.Context())
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	ck, err := r.Cookie(loginCookie)
	var st loginState
	if err != nil || a.openJSON(ck.Value, loginAD, &st) != nil || a.now().After(st.Expires) {
		a.fail(w, r, http.StatusBadRequest, "no sign-in in progress")
		return
	}
	a.setCookie(w, loginCookie, "", -time.Second)
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		a.fail(w, r, http.StatusUnauthorized, "sign-in failed: "+e)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		a.fail(w, r, http.StatusBadRequest, "state mismatch")
		return
	}
	ctx := oidc.ClientContext(r.Context(), a.cfg.HTTPClient)
	tok, err := c.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		a.log.WarnContext(ctx, "admin sign-in: code exchange failed", "error", err)
		a.fail(w, r, http.StatusUnauthorized, "sign-in failed")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != st.Nonce {
		a.log.WarnContext(ctx, "admin sign-in: bad ID token", "error", err)
		a.fail(w, r, http.StatusUnauthorized, "sign-in failed")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		a.failErr(w, r, err)
		return
	}
	groups := stringList(claims[a.cfg.GroupsClaim])
	if _, ok := claims[a.cfg.GroupsClaim]; !ok {
		// Some providers put groups in userinfo only.
		if ui, err := c.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			var uc map[string]any
			if ui.Claims(&uc) == nil {
				groups = stringList(uc[a.cfg.GroupsClaim])
			}
		}
	}
	name, _ := claims["name"].(string)
	if _, err := a.StartSession(w, idt.Subject, name, groups); err != nil {
		a.failErr(w, r, err)
		return
	}
	a.log.InfoContext(ctx, "admin sign-in", "subject", idt.Subject, "roles", len(RolesFromGroups(groups)))
	http.Redirect(w, r, st.Return, http.StatusFound)
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return strings.Fields(strings.ReplaceAll(x, ",", " "))
	}
	return nil
}

// --- API tokens ---

// TokenInfo describes an API token (never the token itself).
type TokenInfo struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Groups    []string   `json:"groups"`
	CreatedBy string     `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Token is set only in the answer that creates it.
	Token string `json:"token,omitempty"`
}

// CreateToken creates an API token acting with the role groups and returns
// it; only its hash is stored. `mpassid dev` and the tokens endpoint use it.
func (a *API) CreateToken(ctx context.Context, name string, groups []string, createdBy string, expiresAt *time.Time) (*TokenInfo, error) {
	if len(RolesFromGroups(groups)) != len(groups) || len(groups) == 0 {
		return nil, &model.FieldError{Field: "groups", Message: "must be one or more APP_MPASSID_<kind>_<organisation OID> groups"}
	}
	if strings.TrimSpace(name) == "" {
		return nil, &model.FieldError{Field: "name", Message: "required"}
	}
	tok := tokenPrefix + randomString(24)
	t := store.APIToken{ID: randomString(8), Name: name, Hash: hashToken(tok), Groups: groups, CreatedBy: createdBy,
		CreatedAt: a.now().UTC(), ExpiresAt: expiresAt}
	if err := a.st.InsertAPIToken(ctx, t); err != nil {
		return nil, fmt.Errorf("admin: create token: %w", err)
	}
	return &TokenInfo{ID: t.ID, Name: t.Name, Groups: t.Groups, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Token: tok}, nil
}

func (a *API) canManageTokens(p *Principal) bool {
	return a.cfg.Dev || Allowed(p, OpManageTokens, "", "")
}

// TokenRequest creates an API token.
type TokenRequest struct {
	Name      string     `json:"name"`
	Groups    []string   `json:"groups"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

func (a *API) handleCreateToken(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !a.canManageTokens(p) {
		a.failErr(w, r, forbidden())
		return
	}
	var req TokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		a.failErr(w, r, err)
		return
	}
	info, err := a.CreateToken(r.Context(), req.Name, req.Groups, actor(p), req.ExpiresAt)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "admin: API token created", "id", info.ID, "by", p.Subject)
	a.writeJSON(w, http.StatusCreated, info)
}

func (a *API) handleListTokens(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !a.canManageTokens(p) {
		a.failErr(w, r, forbidden())
		return
	}
	list, err := a.st.ListAPITokens(r.Context())
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	out := []TokenInfo{}
	for _, t := range list {
		out = append(out, TokenInfo{ID: t.ID, Name: t.Name, Groups: t.Groups, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) handleDeleteToken(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !a.canManageTokens(p) {
		a.failErr(w, r, forbidden())
		return
	}
	if err := a.st.DeleteAPIToken(r.Context(), r.PathValue("id")); err != nil {
		a.failErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- provisioning (HTTP Basic) ---

func (a *API) provisioningAuth(r *http.Request) bool {
	if a.cfg.ProvisioningPassword == "" {
		return false
	}
	u, pw, ok := r.BasicAuth()
	if !ok {
		return false
	}
	uh, ph := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(pw))
	wu, wp := sha256.Sum256([]byte(a.cfg.ProvisioningUser)), sha256.Sum256([]byte(a.cfg.ProvisioningPassword))
	return subtle.ConstantTimeCompare(uh[:], wu[:])&subtle.ConstantTimeCompare(ph[:], wp[:]) == 1
}
