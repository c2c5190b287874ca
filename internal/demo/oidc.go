// Package demo is the demo service of `mpassid dev`: a small learning
// service that logs users in through the broker, by OpenID Connect and by
// SAML, and shows exactly what it received. It lets a newcomer click through
// a whole login, and a service developer see the claims and attributes
// their service will get. It is mounted in dev mode only.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures the demo OIDC client.
type OIDCConfig struct {
	// Issuer is the broker's OIDC issuer.
	Issuer string
	// BaseURL is where the demo is mounted, e.g. http://127.0.0.1:8080/demo/oidc
	BaseURL      string
	ClientID     string
	ClientSecret string
	// HTTPClient reaches the broker (the same process, over loopback).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// OIDCClient is a relying party that shows what the broker released.
type OIDCClient struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
	// pending logins by state, and finished ones by session cookie; in
	// memory, since the demo runs in the single dev process.
	pending  map[string]pendingLogin
	sessions map[string]*loggedIn
}

type pendingLogin struct {
	nonce, verifier string
	created         time.Time
}

type loggedIn struct {
	IDTokenClaims map[string]any
	UserInfo      map[string]any
	RawIDToken    string
}

// NewOIDCClient builds the demo client; it discovers the broker lazily, on
// the first login, because the broker is the same process.
func NewOIDCClient(cfg OIDCConfig) *OIDCClient {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &OIDCClient{cfg: cfg, pending: map[string]pendingLogin{}, sessions: map[string]*loggedIn{}}
}

const oidcCookie = "mpassid_demo_oidc"

// Routes mounts the demo client under its base path.
func (c *OIDCClient) Routes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/{$}", c.home)
	mux.HandleFunc("GET "+prefix+"/login", c.login)
	mux.HandleFunc("GET "+prefix+"/callback", c.callback)
	mux.HandleFunc("POST "+prefix+"/logout", c.logout)
}

func (c *OIDCClient) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.cfg.HTTPClient), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the broker at %s: %w", c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *OIDCClient) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: c.cfg.BaseURL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile"},
	}
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *OIDCClient) login(w http.ResponseWriter, r *http.Request) {
	p, err := c.discover(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	c.mu.Lock()
	for k, v := range c.pending { // forget abandoned logins
		if time.Since(v.created) > 15*time.Minute {
			delete(c.pending, k)
		}
	}
	c.pending[state] = pendingLogin{nonce: nonce, verifier: verifier, created: time.Now()}
	c.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if l := r.URL.Query().Get("lang"); l != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", l))
	}
	if src := r.URL.Query().Get("source"); src != "" {
		// Name the identity source, which skips the school selection.
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", "urn:mpass.id:authnsource:"+src))
	}
	if r.URL.Query().Get("force") == "1" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	http.Redirect(w, r, c.oauth(p).AuthCodeURL(state, opts...), http.StatusSeeOther)
}

func (c *OIDCClient) callback(w http.ResponseWriter, r *http.Request) {
	ctx := oidc.ClientContext(r.Context(), c.cfg.HTTPClient)
	q := r.URL.Query()
	c.mu.Lock()
	pl, ok := c.pending[q.Get("state")]
	delete(c.pending, q.Get("state"))
	c.mu.Unlock()
	if !ok {
		c.fail(w, r, fmt.Errorf("unknown or used state"))
		return
	}
	if e := q.Get("error"); e != "" {
		c.fail(w, r, fmt.Errorf("the broker answered %s: %s", e, q.Get("error_description")))
		return
	}
	p, err := c.discover(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	tok, err := c.oauth(p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pl.verifier))
	if err != nil {
		c.fail(w, r, fmt.Errorf("token request: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		c.fail(w, r, fmt.Errorf("ID token: %w", err))
		return
	}
	if idt.Nonce != pl.nonce {
		c.fail(w, r, fmt.Errorf("ID token nonce does not match"))
		return
	}
	li := &loggedIn{RawIDToken: raw}
	if err := idt.Claims(&li.IDTokenClaims); err != nil {
		c.fail(w, r, fmt.Errorf("ID token claims: %w", err))
		return
	}
	if ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		_ = ui.Claims(&li.UserInfo)
	} else {
		c.cfg.Logger.Warn("demo client: userinfo", slog.Any("error", err))
	}
	sid := random()
	c.mu.Lock()
	c.sessions[sid] = li
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: sid, Path: "/demo/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, c.cfg.BaseURL+"/", http.StatusSeeOther)
}

func (c *OIDCClient) current(r *http.Request) (string, *loggedIn) {
	ck, err := r.Cookie(oidcCookie)
	if err != nil {
		return "", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return ck.Value, c.sessions[ck.Value]
}

func (c *OIDCClient) logout(w http.ResponseWriter, r *http.Request) {
	sid, li := c.current(r)
	c.mu.Lock()
	delete(c.sessions, sid)
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/demo/", MaxAge: -1})
	p, err := c.discover(r.Context())
	var endSession struct {
		URL string `json:"end_session_endpoint"`
	}
	if li == nil || err != nil || p.Claims(&endSession) != nil || endSession.URL == "" {
		http.Redirect(w, r, c.cfg.BaseURL+"/", http.StatusSeeOther)
		return
	}
	v := url.Values{"id_token_hint": {li.RawIDToken}, "post_logout_redirect_uri": {c.cfg.BaseURL + "/"}, "state": {random()}}
	http.Redirect(w, r, endSession.URL+"?"+v.Encode(), http.StatusSeeOther)
}

func (c *OIDCClient) home(w http.ResponseWriter, r *http.Request) {
	_, li := c.current(r)
	data := map[string]any{"Title": "Demo OIDC service", "Protocol": "OpenID Connect", "Base": c.cfg.BaseURL}
	if li != nil {
		data["IDToken"] = rows(li.IDTokenClaims)
		data["UserInfo"] = rows(li.UserInfo)
	}
	render(w, r, c.cfg.Logger, data)
}

func (c *OIDCClient) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Logger.Warn("demo client", slog.Any("error", err))
	w.WriteHeader(http.StatusBadGateway)
	render(w, r, c.cfg.Logger, map[string]any{"Title": "Demo OIDC service", "Protocol": "OpenID Connect", "Base": c.cfg.BaseURL, "Error": err.Error()})
}

// row is one claim or attribute, values joined for display.
type row struct {
	Name   string
	Values []string
}

func rows(m map[string]any) []row {
	var out []row
	for k, v := range m {
		var vals []string
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				vals = append(vals, fmt.Sprint(e))
			}
		case string:
			vals = []string{x}
		default:
			b, _ := json.Marshal(x)
			vals = []string{string(b)}
		}
		out = append(out, row{Name: k, Values: vals})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var pageTemplate = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/login/static/broker.css"></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>A pretend learning service that logs in with MPASSid by {{.Protocol}} and shows what it received.</p>
{{with .Error}}<p role="alert"><strong>Login failed:</strong> {{.}}</p>{{end}}
{{if .IDToken}}
<form method="post" action="{{.Base}}/logout"><button type="submit">Log out</button></form>
<h2>ID token claims</h2>
<table><thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead><tbody>
{{range .IDToken}}<tr><th scope="row">{{.Name}}</th><td>{{range $i, $v := .Values}}{{if $i}}<br>{{end}}{{$v}}{{end}}</td></tr>
{{end}}</tbody></table>
{{with .UserInfo}}<h2>Userinfo</h2>
<table><thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead><tbody>
{{range .}}<tr><th scope="row">{{.Name}}</th><td>{{range $i, $v := .Values}}{{if $i}}<br>{{end}}{{$v}}{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{else if .Attributes}}
<form method="post" action="{{.Base}}/logout"><button type="submit">Log out</button></form>
<h2>SAML attributes</h2>
<table><thead><tr><th scope="col">Name</th><th scope="col">FriendlyName</th><th scope="col">Values</th></tr></thead><tbody>
{{range .Attributes}}<tr><th scope="row">{{.Name}}</th><td>{{.FriendlyName}}</td><td>{{range $i, $v := .Values}}{{if $i}}<br>{{end}}{{$v}}{{end}}</td></tr>
{{end}}</tbody></table>
{{else}}
<p><a href="{{.Base}}/login">Log in with MPASSid</a> · <a href="{{.Base}}/login?lang=sv">Logga in (svenska)</a> · <a href="{{.Base}}/login?lang=en">Log in (English)</a></p>
{{end}}
<p><a href="/">Back to the start page</a></p>
</main>
</body>
</html>
`))

func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, data); err != nil {
		log.Error("render demo page", slog.Any("error", err))
	}
}
