package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
)

// backchannelTimeout bounds each back-channel logout call.
const backchannelTimeout = 3 * time.Second

// backchannelEvent is the event of a logout token (OpenID Connect
// Back-Channel Logout 1.0, 2.4).
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// handleEndSession is the end-session endpoint (OpenID Connect RP-Initiated
// Logout 1.0), GET or POST.
func (p *Provider) handleEndSession(w http.ResponseWriter, r *http.Request) {
	q, ok := p.requestParams(w, r)
	if !ok {
		return
	}
	for name, vs := range q {
		if len(vs) > 1 || (len(vs) == 1 && len(vs[0]) > 16<<10) {
			p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "parameter "+clip(name)+" is repeated or too long"))
			return
		}
	}
	ctx := r.Context()
	cat := p.catalog()
	if cat == nil {
		p.showError(w, r, http.StatusServiceUnavailable, newErr(errServerError, "the service configuration is not loaded"))
		return
	}
	clientID := q.Get("client_id")
	var hint *hintClaims
	if h := q.Get("id_token_hint"); h != "" {
		c, err := p.verifyOwnToken(h)
		if err != nil {
			p.log.InfoContext(ctx, "end session: id_token_hint refused", errAttr(err))
			p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "id_token_hint is not a valid ID token of this provider"))
			return
		}
		if len(c.Audience) != 1 || (clientID != "" && c.Audience[0] != clientID) {
			p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "id_token_hint does not match client_id"))
			return
		}
		hint, clientID = c, c.Audience[0]
	}
	var svc *broker.Service
	if clientID != "" {
		s, ok := cat.ServiceByClientID(clientID)
		if !ok || s.Integration.SP.OIDC == nil {
			p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "unknown client_id"))
			return
		}
		svc = s
	}
	redirect := q.Get("post_logout_redirect_uri")
	if redirect != "" && (svc == nil || !slices.Contains(svc.Integration.SP.OIDC.PostLogoutRedirectURIs, redirect)) {
		p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "post_logout_redirect_uri is not registered for this client"))
		return
	}

	// End the browser's session, unless the hint names another one (the
	// user has logged in again since; the service's session is gone
	// already).
	sess, err := p.flow.CurrentSession(r)
	if err != nil {
		p.log.WarnContext(ctx, "end session: read session", errAttr(err))
	}
	if sess != nil && (hint == nil || hint.SID == "" || hint.SID == sessionSID(sess.ID, clientID)) {
		var except int64
		if svc != nil {
			except = svc.ID()
		}
		parts, err := p.flow.EndSession(w, r, sess.ID, except)
		if err != nil {
			broker.LogFailure(ctx, p.log, "end session", err)
		}
		p.backchannelLogout(ctx, cat, parts)
		p.log.InfoContext(ctx, "session ended", slog.String("client_id", clientID), slog.Int("participants", len(parts)))
		// Services of another protocol that log out through the browser
		// (SAML) are visited first; the chain ends where this answer would.
		ret := p.cfg.Issuer + PathLoggedOut
		if redirect != "" {
			if u, err := withQuery(redirect, url.Values{"state": {q.Get("state")}}); err == nil {
				ret = u
			}
		}
		if p.flow.LogoutElsewhere(w, r, parts, ret) {
			return
		}
	}
	if redirect != "" {
		redirectWith(w, r, redirect, url.Values{"state": {q.Get("state")}})
		return
	}
	p.serveLoggedOut(w, r)
}

// serveLoggedOut shows the plain "you have logged out" page.
func (p *Provider) serveLoggedOut(w http.ResponseWriter, _ *http.Request) {
	pageHeaders(w)
	_ = loggedOutPage.Execute(w, nil)
}

// BackChannelLogout implements broker.BackChannelLogout: when a logout
// starts at a service of another protocol (SAML single logout), the OIDC
// participants still hear of it.
func (p *Provider) BackChannelLogout(ctx context.Context, parts []broker.Participant) {
	if cat := p.catalog(); cat != nil {
		p.backchannelLogout(ctx, cat, parts)
	}
}

// backchannelLogout sends logout tokens to the OIDC participants that
// registered a backchannel_logout_uri, in parallel, and waits (each call
// bounded by backchannelTimeout). Failures are logged only.
func (p *Provider) backchannelLogout(ctx context.Context, cat *broker.Catalog, parts []broker.Participant) {
	ctx = context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for _, part := range parts {
		if part.Protocol != broker.ProtocolOIDC {
			continue
		}
		var pd participantData
		if json.Unmarshal(part.Data, &pd) != nil {
			continue
		}
		svc, ok := cat.Service(part.ServiceID)
		if !ok || svc.Integration.SP == nil || svc.Integration.SP.OIDC == nil || svc.Integration.ClientID() != pd.ClientID {
			continue
		}
		uri := svc.Integration.SP.OIDC.BackchannelLogoutURI
		if uri == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.sendLogoutToken(ctx, svc, uri, &pd); err != nil {
				p.log.WarnContext(ctx, "back-channel logout failed", slog.String("client_id", pd.ClientID), errAttr(err))
				return
			}
			p.log.InfoContext(ctx, "back-channel logout sent", slog.String("client_id", pd.ClientID))
		}()
	}
	wg.Wait()
}

// sendLogoutToken posts one logout token (Back-Channel Logout 1.0, 2.4).
func (p *Provider) sendLogoutToken(ctx context.Context, svc *broker.Service, uri string, pd *participantData) error {
	now := p.now()
	claims := map[string]any{
		"iss":    p.cfg.Issuer,
		"aud":    pd.ClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    randomToken(),
		"events": map[string]any{backchannelEvent: map[string]any{}},
	}
	if pd.SID != "" {
		claims["sid"] = pd.SID
	}
	if pd.Sub != "" {
		claims["sub"] = pd.Sub
	}
	tok, err := p.signJWT(idTokenAlg(svc), "logout+jwt", claims)
	if err != nil {
		return fmt.Errorf("sign logout token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, backchannelTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return fmt.Errorf("logout request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("post logout token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("post logout token: status %d", resp.StatusCode)
	}
	return nil
}
