package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/identity"
)

// grantData is what a code, and each token issued for it, carries: the
// login's outcome as the client receives it.
type grantData struct {
	ClientID    string `json:"client_id"`
	ServiceID   int64  `json:"service_id"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// CodeChallenge is the PKCE S256 challenge (codes only).
	CodeChallenge string   `json:"code_challenge,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	Scopes        []string `json:"scope"`
	Sub           string   `json:"sub"`
	// Claims are the released data-model claims (without sub), as the
	// JSON object they are sent as: encoded once at the end of the login
	// rather than decoded and re-encoded at the token and userinfo
	// endpoints. Never a registered claim name (see releasedClaims).
	Claims   json.RawMessage `json:"claims"`
	ACR      string          `json:"acr"`
	AuthTime int64           `json:"auth_time"`
	SID      string          `json:"sid"`
	// Expires is the record's end by the provider's clock (unix seconds);
	// the store's own expiry follows the wall clock.
	Expires int64 `json:"exp"`
}

// participantData is the frontend's data of a broker.Participant.
type participantData struct {
	ClientID string `json:"client_id"`
	SID      string `json:"sid"`
	Sub      string `json:"sub"`
}

// appendJSON appends d as encoding/json writes it (TestParticipantDataJSON).
func (d *participantData) appendJSON(b []byte) []byte {
	return appendStringObject(b, "client_id", d.ClientID, "sid", d.SID, "sub", d.Sub)
}

// Respond answers the service at the end of a login: a code, or an error,
// sent to the registered redirect_uri kept in the request state.
func (p *Provider) Respond(w http.ResponseWriter, r *http.Request, res *broker.Result) {
	ctx := r.Context()
	var st *authState
	if res != nil {
		st, _ = decodeAuthState(res.Request.State)
	}
	if st == nil || st.ClientID == "" {
		p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "the login state is missing or damaged"))
		return
	}
	// The registration may have changed during the login: the redirect
	// URI must still be registered for the client.
	svc := res.Service
	if svc == nil || svc.Integration == nil || svc.Integration.SP == nil || svc.Integration.SP.OIDC == nil ||
		svc.Integration.ClientID() != st.ClientID || !slices.Contains(svc.Integration.SP.OIDC.RedirectURIs, st.RedirectURI) {
		p.showError(w, r, http.StatusBadRequest, newErr(errInvalidRequest, "the client or its redirect_uri is no longer registered"))
		return
	}
	fail := func(e *oauthError) { p.redirectError(w, r, st.ClientID, st.RedirectURI, st.State, e) }
	if res.Err != nil {
		switch res.Err.Code {
		case broker.ErrCodeNoPassive:
			fail(newErr(errLoginRequired, "the user is not logged in"))
		case broker.ErrCodeCancelled, broker.ErrCodeNoSource:
			fail(newErr(errAccessDenied, res.Err.Description))
		default:
			fail(newErr(errServerError, res.Err.Description))
		}
		return
	}
	if res.User == nil || res.User.UID == "" {
		p.log.ErrorContext(ctx, "respond: result without a user", slog.String("client_id", st.ClientID))
		fail(newErr(errServerError, "the login produced no user"))
		return
	}
	now := p.now()
	source := res.Session.Source
	if source == "" {
		source = res.User.Source
	}
	authTime := res.Session.AuthnInstant
	if authTime.IsZero() {
		authTime = now
	}
	claims, err := releasedClaims(identity.OIDCClaims(res.User, identity.Release{
		AllowTestLearnerID: svc.AllowTestLearnerID(),
		Legacy:             svc.Integration.SP.LegacyAttributes,
		Scopes:             st.Scopes,
	}))
	if err != nil {
		p.log.ErrorContext(ctx, "respond: encode claims", slog.String("client_id", st.ClientID), errAttr(err))
		fail(newErr(errServerError, "internal error"))
		return
	}
	g := grantData{
		ClientID:      st.ClientID,
		ServiceID:     svc.ID(),
		RedirectURI:   st.RedirectURI,
		CodeChallenge: st.CodeChallenge,
		Nonce:         st.Nonce,
		Scopes:        st.Scopes,
		Sub:           p.subject(svc, res.User.UID),
		Claims:        claims,
		ACR:           broker.AuthnSourcePrefix + source,
		AuthTime:      authTime.Unix(),
		SID:           sessionSID(res.Session.ID, st.ClientID),
		Expires:       now.Add(p.cfg.CodeLifetime).Unix(),
	}
	code, err := p.sealCode(sealedCode{GrantID: randomToken(), Grant: &g})
	if err != nil {
		p.log.ErrorContext(ctx, "respond: seal code", slog.String("client_id", st.ClientID), errAttr(err))
		fail(newErr(errServerError, "internal error"))
		return
	}
	if res.Session.ID != "" {
		pd := (&participantData{ClientID: st.ClientID, SID: g.SID, Sub: g.Sub}).appendJSON(nil)
		if err := p.flow.AddParticipant(ctx, res.Session.ID, broker.Participant{
			ServiceID: svc.ID(), Protocol: broker.ProtocolOIDC, Data: pd,
		}); err != nil {
			// Logout reaches this service less reliably; the login itself
			// is sound.
			p.log.WarnContext(ctx, "respond: record logout participant", slog.String("client_id", st.ClientID), errAttr(err))
		}
	}
	p.log.DebugContext(ctx, "code issued", slog.String("client_id", st.ClientID), slog.String("acr", g.ACR))
	redirectWith(w, r, st.RedirectURI, url.Values{"code": {code}, "state": {st.State}, "iss": {p.cfg.Issuer}})
}

// subject is the sub the service receives: the uid (public) or a pairwise
// value per service set (see the package doc).
func (p *Provider) subject(svc *broker.Service, uid string) string {
	if svc.Integration.SP.OIDC.SubjectType != "pairwise" {
		return uid
	}
	sum := sha256.Sum256([]byte(strconv.FormatInt(svc.Integration.SP.SetID, 10) + "|" + uid + "|" + string(p.cfg.PairwiseSalt)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sessionSID derives the sid a client sees from the SSO session id: the
// session id itself is never sent to a service, and each client sees its
// own value.
func sessionSID(sessionID, clientID string) string {
	if sessionID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("mpassid-oidc-sid\x00" + sessionID + "\x00" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}
