package oidc

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/model"
)

// Limits on authorization request parameters.
const (
	maxParamLen     = 2048 // state, nonce, login_hint, redirect_uri, scope...
	maxFormBytes    = 64 << 10
	maxPromptValues = 8
)

// authParams is a syntactically valid authorization request, before it is
// checked against the client's registration.
type authParams struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	ResponseMode        string
	Scopes              []string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              time.Duration
	HasMaxAge           bool
	Language            string
	LoginHint           string
	Sources             []string
	HasRequest          bool
	HasRequestURI       bool
}

// authState is the frontend's data kept with the broker transaction
// (broker.Request.State).
type authState struct {
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	CodeChallenge string   `json:"code_challenge,omitempty"`
	Scopes        []string `json:"scope"`
}

// parseError is a parse failure; Trusted tells whether client_id and
// redirect_uri were read unambiguously, so that the error may be
// redirected (once they are also checked against the registration).
type parseError struct {
	*oauthError
	Trusted bool
}

// parseAuthParams reads an authorization request's parameters. It checks
// only what needs no registration: single values, lengths, formats.
func parseAuthParams(q url.Values) (*authParams, *parseError) {
	a := &authParams{}
	single := func(name string) (string, bool) {
		vs := q[name]
		if len(vs) > 1 {
			return "", false
		}
		if len(vs) == 0 {
			return "", true
		}
		return vs[0], true
	}
	var ok bool
	if a.ClientID, ok = single("client_id"); !ok || a.ClientID == "" || len(a.ClientID) > 255 {
		return nil, &parseError{newErr(errInvalidRequest, "client_id is missing, repeated or too long"), false}
	}
	if a.RedirectURI, ok = single("redirect_uri"); !ok || a.RedirectURI == "" || len(a.RedirectURI) > maxParamLen {
		return nil, &parseError{newErr(errInvalidRequest, "redirect_uri is missing, repeated or too long"), false}
	}
	if a.State, ok = single("state"); !ok || len(a.State) > maxParamLen {
		// state that cannot be echoed as given: do not redirect.
		return nil, &parseError{newErr(errInvalidRequest, "state is repeated or too long"), false}
	}
	bad := func(code, desc string) (*authParams, *parseError) {
		return a, &parseError{newErr(code, desc), true}
	}
	for name, vs := range q {
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 {
			return bad(errInvalidRequest, "parameter "+strconv.Quote(clip(name))+" is repeated")
		}
		if len(vs[0]) > maxParamLen {
			return bad(errInvalidRequest, "parameter "+strconv.Quote(clip(name))+" is too long")
		}
	}
	a.HasRequest = q.Get("request") != ""
	a.HasRequestURI = q.Get("request_uri") != ""
	if a.HasRequest {
		return bad(errRequestNotSupported, "request objects are not supported")
	}
	if a.HasRequestURI {
		return bad(errRequestURINotSupported, "request_uri is not supported")
	}
	a.ResponseType = q.Get("response_type")
	switch a.ResponseType {
	case "code":
	case "":
		return bad(errInvalidRequest, "response_type is missing")
	default:
		return bad(errUnsupportedResponseType, "only response_type=code is supported")
	}
	a.ResponseMode = q.Get("response_mode")
	if a.ResponseMode != "" && a.ResponseMode != "query" {
		return bad(errInvalidRequest, "only response_mode=query is supported")
	}
	a.Scopes = strings.Fields(q.Get("scope"))
	if !slices.Contains(a.Scopes, "openid") {
		return bad(errInvalidScope, "the openid scope is required")
	}
	a.Nonce = q.Get("nonce")
	a.CodeChallenge = q.Get("code_challenge")
	a.CodeChallengeMethod = q.Get("code_challenge_method")
	if a.CodeChallenge != "" || a.CodeChallengeMethod != "" {
		if a.CodeChallengeMethod != "S256" {
			return bad(errInvalidRequest, "code_challenge_method must be S256")
		}
		if !validChallenge(a.CodeChallenge) {
			return bad(errInvalidRequest, "code_challenge must be 43 base64url characters")
		}
	}
	a.Prompt = strings.Fields(q.Get("prompt"))
	if len(a.Prompt) > maxPromptValues {
		return bad(errInvalidRequest, "too many prompt values")
	}
	if slices.Contains(a.Prompt, "none") && len(a.Prompt) > 1 {
		return bad(errInvalidRequest, "prompt=none cannot be combined with other values")
	}
	if s := q.Get("max_age"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 100*365*24*3600 {
			return bad(errInvalidRequest, "max_age must be a non-negative integer")
		}
		a.MaxAge, a.HasMaxAge = time.Duration(n)*time.Second, true
	}
	for _, tag := range strings.Fields(q.Get("ui_locales")) {
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if base == "fi" || base == "sv" || base == "en" {
			a.Language = base
			break
		}
	}
	a.LoginHint = q.Get("login_hint")
	for _, acr := range strings.Fields(q.Get("acr_values")) {
		if flow, ok := strings.CutPrefix(acr, broker.AuthnSourcePrefix); ok && flow != "" && !slices.Contains(a.Sources, flow) {
			a.Sources = append(a.Sources, flow)
		}
	}
	return a, nil
}

// clip shortens a parameter name for an error description.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// validChallenge reports whether s is an S256 challenge: base64url of 32
// bytes.
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
	}
	return true
}

func isB64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// handleAuthorize is the authorization endpoint (GET and POST).
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q, ok := p.requestParams(w, r)
	if !ok {
		return
	}
	a, perr := parseAuthParams(q)
	if perr != nil && !perr.Trusted {
		p.showError(w, r, http.StatusBadRequest, perr.oauthError)
		return
	}
	cat := p.catalog()
	if cat == nil {
		p.showError(w, r, http.StatusServiceUnavailable, newErr(errServerError, "the service configuration is not loaded"))
		return
	}
	svc, ok := cat.ServiceByClientID(a.ClientID)
	if !ok || svc.Integration.SP.OIDC == nil {
		p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "unknown client_id"))
		return
	}
	reg := svc.Integration.SP.OIDC
	if !slices.Contains(reg.RedirectURIs, a.RedirectURI) {
		p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "redirect_uri is not registered for this client"))
		return
	}
	// From here on, errors go back to the client.
	fail := func(e *oauthError) { p.redirectError(w, r, a.ClientID, a.RedirectURI, a.State, e) }
	if perr != nil {
		fail(perr.oauthError)
		return
	}
	if e := checkAgainstRegistration(a, reg); e != nil {
		fail(e)
		return
	}
	st := encodeAuthState(&authState{
		ClientID:      a.ClientID,
		RedirectURI:   a.RedirectURI,
		State:         a.State,
		Nonce:         a.Nonce,
		CodeChallenge: a.CodeChallenge,
		Scopes:        grantedScopes(a.Scopes, reg.Scope),
	})
	req := broker.Request{
		Protocol:  broker.ProtocolOIDC,
		ServiceID: svc.ID(),
		MaxAge:    a.MaxAge,
		HasMaxAge: a.HasMaxAge,
		Language:  a.Language,
		Sources:   a.Sources,
		LoginHint: a.LoginHint,
		State:     st,
	}
	for _, v := range a.Prompt {
		switch v {
		case "none":
			req.Passive = true
		case "login", "select_account":
			req.ForceAuthn = true
		}
	}
	p.log.DebugContext(r.Context(), "authorization request accepted", slog.String("client_id", a.ClientID),
		slog.Bool("passive", req.Passive), slog.Bool("force_authn", req.ForceAuthn))
	p.flow.Begin(w, r, req)
}

// checkAgainstRegistration checks what depends on the client's
// registration.
func checkAgainstRegistration(a *authParams, reg *model.OIDCMetadata) *oauthError {
	if len(reg.ResponseTypes) > 0 && !slices.Contains(reg.ResponseTypes, "code") {
		return newErr(errUnauthorizedClient, "the client is not registered for response_type=code")
	}
	if !grantAllowed(reg, grantAuthorizationCode) {
		return newErr(errUnauthorizedClient, "the client is not registered for the authorization_code grant")
	}
	if authMethod(reg) == authNone && a.CodeChallenge == "" {
		return newErr(errInvalidRequest, "PKCE (code_challenge with S256) is required for public clients")
	}
	return nil
}

// grantedScopes are the requested scopes the provider supports and the
// client registered (all supported ones when it registered none), in the
// provider's order.
func grantedScopes(requested []string, registered string) []string {
	reg := strings.Fields(registered)
	out := []string{}
	for _, s := range supportedScopes {
		if slices.Contains(requested, s) && (s == "openid" || len(reg) == 0 || slices.Contains(reg, s)) {
			out = append(out, s)
		}
	}
	return out
}

// grantAllowed reports whether the client may use grant; an empty
// registration allows authorization_code only.
func grantAllowed(reg *model.OIDCMetadata, grant string) bool {
	if len(reg.GrantTypes) == 0 {
		return grant == grantAuthorizationCode
	}
	return slices.Contains(reg.GrantTypes, grant)
}

// requestParams reads the parameters of a request that may come as a query
// (GET) or a form (POST), bounded in size; on bad input it shows an error
// page and reports false.
func (p *Provider) requestParams(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "the request body cannot be read"))
			return nil, false
		}
		return r.PostForm, true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "the query cannot be read"))
		return nil, false
	}
	return q, true
}
