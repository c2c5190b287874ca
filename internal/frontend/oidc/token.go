package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/store"
)

// Grant types.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

// tokenResponse is the successful token response (RFC 6749 5.1, OpenID
// Connect Core 3.1.3.3).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
}

// tokenRequest is a parsed token request.
type tokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scope        []string
	HasScope     bool
	Client       *clientCredentials
}

// parseTokenRequest reads a token request form (already size-limited):
// single-valued parameters, a known grant and well-formed client
// authentication.
func parseTokenRequest(authorization string, form url.Values) (*tokenRequest, *oauthError) {
	for name, vs := range form {
		if len(vs) > 1 {
			return nil, newErr(errInvalidRequest, "parameter "+clip(name)+" is repeated")
		}
	}
	c, e := parseClientCredentials(authorization, form)
	if e != nil {
		return nil, e
	}
	t := &tokenRequest{GrantType: form.Get("grant_type"), Client: c}
	switch t.GrantType {
	case grantAuthorizationCode:
		t.Code = form.Get("code")
		t.RedirectURI = form.Get("redirect_uri")
		t.CodeVerifier = form.Get("code_verifier")
		if t.Code == "" || len(t.Code) > maxCodeLen {
			return nil, newErr(errInvalidRequest, "code is missing or too long")
		}
		if t.RedirectURI == "" {
			return nil, newErr(errInvalidRequest, "redirect_uri is missing")
		}
		if t.CodeVerifier != "" && !validVerifier(t.CodeVerifier) {
			return nil, newErr(errInvalidGrant, "code_verifier is malformed")
		}
	case grantRefreshToken:
		t.RefreshToken = form.Get("refresh_token")
		if t.RefreshToken == "" || len(t.RefreshToken) > 256 {
			return nil, newErr(errInvalidRequest, "refresh_token is missing or too long")
		}
		t.HasScope = form.Has("scope")
		t.Scope = strings.Fields(form.Get("scope"))
	case "":
		return nil, newErr(errInvalidRequest, "grant_type is missing")
	default:
		return nil, newErr(errUnsupportedGrantType, "only authorization_code and refresh_token are supported")
	}
	return t, nil
}

// validVerifier checks RFC 7636 4.1: 43-128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isB64URL(c) && c != '.' && c != '~' {
			return false
		}
	}
	return true
}

// handleToken is the token endpoint.
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	allowCORS(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		p.tokenError(w, r, "", false, newErr(errInvalidRequest, "the body must be application/x-www-form-urlencoded"))
		return
	}
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, r, "", false, newErr(errInvalidRequest, "the body cannot be read"))
		return
	}
	if r.URL.RawQuery != "" {
		p.tokenError(w, r, "", false, newErr(errInvalidRequest, "parameters belong in the body"))
		return
	}
	authz := r.Header.Get("Authorization")
	basic := authz != ""
	t, e := parseTokenRequest(authz, r.PostForm)
	if e != nil {
		p.tokenError(w, r, "", basic, e)
		return
	}
	ctx := r.Context()
	svc, e := p.authenticateClient(ctx, t.Client)
	if e != nil {
		p.tokenError(w, r, t.Client.ClientID, basic, e)
		return
	}
	var resp *tokenResponse
	switch t.GrantType {
	case grantAuthorizationCode:
		resp, e = p.exchangeCode(ctx, svc, t)
	case grantRefreshToken:
		resp, e = p.refresh(ctx, svc, t)
	}
	if e != nil {
		p.tokenError(w, r, t.Client.ClientID, basic, e)
		return
	}
	writeRawJSON(w, http.StatusOK, resp.appendJSON(make([]byte, 0, 512+len(resp.AccessToken)+len(resp.IDToken)+len(resp.RefreshToken))))
}

// appendJSON appends the response as encoding/json would write it. The
// tokens are kilobytes of base64url that encoding/json would inspect byte
// by byte for escapes on every login; appendJSONString passes such text on
// as it is.
func (t *tokenResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, t.AccessToken)
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, t.TokenType)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, t.ExpiresIn, 10)
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = appendJSONString(b, t.RefreshToken)
	}
	b = append(b, `,"id_token":`...)
	b = appendJSONString(b, t.IDToken)
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, t.Scope)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it: quoted as it is when it has nothing encoding/json escapes
// (it writes valid UTF-8 as it is, as in Finnish and Swedish names, but
// for U+2028 and U+2029), otherwise by encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				return appendMarshalledString(b, s)
			}
			i += size
			continue
		}
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendMarshalledString(b, s)
		}
		i++
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendStringObject appends a JSON object of string members, given as
// name, value, name, value..., as encoding/json writes a struct of string
// fields in that order. The names are the caller's plain ASCII.
func appendStringObject(b []byte, nameValues ...string) []byte {
	b = append(b, '{')
	for i := 0; i+1 < len(nameValues); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, nameValues[i]...)
		b = append(b, '"', ':')
		b = appendJSONString(b, nameValues[i+1])
	}
	return append(b, '}')
}

func appendMarshalledString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// exchangeCode redeems an authorization code once.
func (p *Provider) exchangeCode(ctx context.Context, svc *broker.Service, t *tokenRequest) (*tokenResponse, *oauthError) {
	reg := svc.Integration.SP.OIDC
	if !grantAllowed(reg, grantAuthorizationCode) {
		return nil, newErr(errUnauthorizedClient, "the client may not use the authorization_code grant")
	}
	c, err := p.openCode(t.Code)
	if err != nil {
		return nil, newErr(errInvalidGrant, "the code is unknown or expired")
	}
	g := c.Grant
	switch {
	case g.ClientID != reg.ClientID:
		return nil, newErr(errInvalidGrant, "the code was issued to another client")
	case p.now().Unix() >= g.Expires:
		return nil, newErr(errInvalidGrant, "the code is unknown or expired")
	}
	// Single use: the one write of redeeming a code.
	fresh, err := p.rt.MarkUsed(ctx, codeReplayNS, hashToken(t.Code), time.Unix(g.Expires, 0).Add(time.Minute))
	if err != nil {
		broker.LogFailure(ctx, p.log, "record code use", err)
		return nil, newErr(errServerError, "internal error")
	}
	if !fresh {
		// RFC 6749 4.1.2: a code used twice revokes what it issued.
		n, rerr := p.revokeGrant(ctx, c.GrantID)
		if rerr != nil {
			broker.LogFailure(ctx, p.log, "revoke grant of a reused code", rerr, slog.String("client_id", g.ClientID))
		}
		p.log.WarnContext(ctx, "authorization code reused: grant revoked", slog.String("client_id", g.ClientID),
			slog.Int("tokens_revoked", n))
		return nil, newErr(errInvalidGrant, "the code was already used")
	}
	if t.RedirectURI != g.RedirectURI {
		return nil, newErr(errInvalidGrant, "redirect_uri does not match the authorization request")
	}
	if g.CodeChallenge != "" {
		if t.CodeVerifier == "" {
			return nil, newErr(errInvalidGrant, "code_verifier is required")
		}
		sum := sha256.Sum256([]byte(t.CodeVerifier))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(want), []byte(g.CodeChallenge)) != 1 {
			return nil, newErr(errInvalidGrant, "code_verifier does not match the code_challenge")
		}
	} else if t.CodeVerifier != "" {
		// RFC 9700 2.1.1: a verifier without a challenge is a downgrade.
		return nil, newErr(errInvalidGrant, "code_verifier sent but no code_challenge was")
	}
	g.RedirectURI, g.CodeChallenge = "", ""
	resp, e := p.issue(ctx, svc, c.GrantID, g)
	if e != nil {
		return nil, e
	}
	p.log.DebugContext(ctx, "tokens issued", slog.String("client_id", reg.ClientID), slog.String("grant", grantAuthorizationCode))
	return resp, nil
}

// refresh redeems a refresh token once, rotating it.
func (p *Provider) refresh(ctx context.Context, svc *broker.Service, t *tokenRequest) (*tokenResponse, *oauthError) {
	reg := svc.Integration.SP.OIDC
	if !grantAllowed(reg, grantRefreshToken) {
		return nil, newErr(errUnauthorizedClient, "the client may not use the refresh_token grant")
	}
	hash := hashToken(t.RefreshToken)
	// Check kind, client and scope before consuming, so that a request
	// refused for those reasons does not burn the token.
	if cur, err := p.rt.GetToken(ctx, hash); err == nil {
		if cur.Kind != store.RefreshToken || cur.ClientID != reg.ClientID {
			return nil, newErr(errInvalidGrant, "the refresh token is unknown, expired or for another client")
		}
		var g grantData
		if json.Unmarshal(cur.Data, &g) == nil {
			if e := narrowScopes(&g, t); e != nil {
				return nil, e
			}
		}
	}
	tok, err := p.rt.ConsumeToken(ctx, hash)
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		// A rotated-out refresh token came back: it leaked, or the
		// client lost track. Revoke the whole grant.
		if grantID, _, ok := strings.Cut(t.RefreshToken, "."); ok && grantID != "" {
			n, rerr := p.revokeGrant(ctx, grantID)
			if rerr != nil {
				broker.LogFailure(ctx, p.log, "revoke grant of a reused refresh token", rerr, slog.String("client_id", reg.ClientID))
			}
			p.log.WarnContext(ctx, "refresh token reused: grant revoked", slog.String("client_id", reg.ClientID),
				slog.Int("tokens_revoked", n))
		}
		return nil, newErr(errInvalidGrant, "the refresh token was already used")
	case errors.Is(err, store.ErrNotFound):
		return nil, newErr(errInvalidGrant, "the refresh token is unknown, expired or for another client")
	case err != nil:
		broker.LogFailure(ctx, p.log, "consume refresh token", err)
		return nil, newErr(errServerError, "internal error")
	}
	var g grantData
	if err := json.Unmarshal(tok.Data, &g); err != nil {
		p.log.ErrorContext(ctx, "decode refresh token", errAttr(err))
		return nil, newErr(errServerError, "internal error")
	}
	if tok.Kind != store.RefreshToken || tok.ClientID != reg.ClientID || g.ClientID != reg.ClientID || p.now().Unix() >= g.Expires {
		return nil, newErr(errInvalidGrant, "the refresh token is unknown, expired or for another client")
	}
	if e := narrowScopes(&g, t); e != nil {
		return nil, e
	}
	g.Nonce = ""
	resp, e := p.issue(ctx, svc, tok.GrantID, &g)
	if e != nil {
		return nil, e
	}
	p.log.InfoContext(ctx, "tokens issued", slog.String("client_id", reg.ClientID), slog.String("grant", grantRefreshToken))
	return resp, nil
}

// narrowScopes applies a refresh request's scope parameter to g: it may
// only narrow the granted scopes, and must keep openid.
func narrowScopes(g *grantData, t *tokenRequest) *oauthError {
	if !t.HasScope {
		return nil
	}
	for _, s := range t.Scope {
		if !slices.Contains(g.Scopes, s) {
			return newErr(errInvalidScope, "a refresh may not widen the scope")
		}
	}
	if !slices.Contains(t.Scope, "openid") {
		return newErr(errInvalidScope, "the openid scope is required")
	}
	if !slices.Contains(t.Scope, "profile") {
		g.Claims = noClaims
	}
	g.Scopes = slices.DeleteFunc(slices.Clone(g.Scopes), func(s string) bool { return !slices.Contains(t.Scope, s) })
	return nil
}

// issue creates an access token, a refresh token when the client may
// refresh, and an ID token, for grant g.
func (p *Provider) issue(ctx context.Context, svc *broker.Service, grantID string, g *grantData) (*tokenResponse, *oauthError) {
	reg := svc.Integration.SP.OIDC
	now := p.now()
	// The access token is the grant, sealed: issuing it writes nothing, any
	// instance can serve userinfo, and a revoked grant is refused through
	// the denylist (see revokeGrant).
	ag := *g
	ag.Expires = now.Add(p.cfg.AccessTokenLifetime).Unix()
	access, err := p.sealAccessToken(sealedAccess{GrantID: grantID, Grant: &ag})
	if err != nil {
		p.log.ErrorContext(ctx, "seal access token", errAttr(err))
		return nil, newErr(errServerError, "internal error")
	}
	resp := &tokenResponse{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.cfg.AccessTokenLifetime.Seconds()),
		Scope:       strings.Join(g.Scopes, " "),
	}
	if grantAllowed(reg, grantRefreshToken) {
		// The grant id prefix lets a reused (consumed) refresh token name
		// the grant to revoke; the hash covers it, so it cannot be forged.
		refresh := grantID + "." + randomToken()
		rg := *g
		rg.Expires = now.Add(p.cfg.RefreshTokenLifetime).Unix()
		data, err := json.Marshal(&rg)
		if err != nil {
			p.log.ErrorContext(ctx, "encode refresh token", errAttr(err))
			return nil, newErr(errServerError, "internal error")
		}
		if err := p.rt.PutToken(ctx, store.Token{
			Hash: hashToken(refresh), Kind: store.RefreshToken, ClientID: reg.ClientID, GrantID: grantID,
			Data: data, ExpiresAt: now.Add(p.cfg.RefreshTokenLifetime),
		}); err != nil {
			broker.LogFailure(ctx, p.log, "store refresh token", err)
			return nil, newErr(errServerError, "internal error")
		}
		resp.RefreshToken = refresh
	}
	idt, err := p.signIDToken(svc, g, access, now)
	if err != nil {
		p.log.ErrorContext(ctx, "sign ID token", slog.String("client_id", reg.ClientID), errAttr(err))
		return nil, newErr(errServerError, "internal error")
	}
	resp.IDToken = idt
	return resp, nil
}

// revokeGrant revokes everything issued for a grant: its stored refresh
// tokens are deleted, and the grant goes on the denylist that userinfo
// checks, for as long as its access tokens could live.
func (p *Provider) revokeGrant(ctx context.Context, grantID string) (int, error) {
	if _, err := p.rt.MarkUsed(ctx, revokedGrantNS, grantID, p.now().Add(p.cfg.AccessTokenLifetime+time.Minute)); err != nil {
		return 0, fmt.Errorf("deny grant: %w", err)
	}
	return p.rt.RevokeGrant(ctx, grantID)
}
