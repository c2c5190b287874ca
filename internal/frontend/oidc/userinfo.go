package oidc

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/mpassid/mpassid/internal/broker"
)

// bearerError answers userinfo with RFC 6750 3: a WWW-Authenticate header
// naming the error (none when no token was sent at all).
func (p *Provider) bearerError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	p.log.InfoContext(r.Context(), "userinfo refused", slog.String("error", code), slog.String("description", desc))
	v := `Bearer realm="mpassid"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + desc + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	if code == "" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, errorBody{Error: code, Description: desc})
}

// handleUserinfo is the userinfo endpoint: GET or POST with the access
// token in the Authorization header (Bearer), or POST with a form
// access_token (RFC 6750 2.2). Not both.
func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	allowCORS(w)
	var token string
	authz := r.Header.Get("Authorization")
	if authz != "" {
		scheme, rest, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			p.bearerError(w, r, http.StatusUnauthorized, errInvalidRequest, "use the Bearer scheme")
			return
		}
		token = strings.TrimSpace(rest)
	}
	if r.Method == http.MethodPost {
		ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
		if strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				p.bearerError(w, r, http.StatusBadRequest, errInvalidRequest, "the body cannot be read")
				return
			}
			if vs := r.PostForm["access_token"]; len(vs) > 0 {
				if token != "" || len(vs) > 1 {
					p.bearerError(w, r, http.StatusBadRequest, errInvalidRequest, "send the access token once")
					return
				}
				token = vs[0]
			}
		}
	}
	if token == "" {
		p.bearerError(w, r, http.StatusUnauthorized, "", "")
		return
	}
	ctx := r.Context()
	sa, err := p.openAccessToken(token)
	if err != nil || p.now().Unix() >= sa.Grant.Expires {
		p.bearerError(w, r, http.StatusUnauthorized, errInvalidToken, "the access token is not valid")
		return
	}
	revoked, err := p.rt.Marked(ctx, revokedGrantNS, sa.GrantID)
	if err != nil {
		broker.LogFailure(ctx, p.log, "userinfo: check revocation", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: errServerError})
		return
	}
	if revoked {
		p.bearerError(w, r, http.StatusUnauthorized, errInvalidToken, "the access token was revoked")
		return
	}
	g := sa.Grant
	if cat := p.catalog(); cat != nil {
		if _, ok := cat.ServiceByClientID(g.ClientID); !ok {
			p.bearerError(w, r, http.StatusUnauthorized, errInvalidToken, "the client is no longer active")
			return
		}
	}
	body, err := withClaims(appendStringObject(nil, "sub", g.Sub), g.Claims)
	if err != nil {
		p.log.ErrorContext(r.Context(), "userinfo: encode claims", errAttr(err))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: errServerError})
		return
	}
	writeRawJSON(w, http.StatusOK, body)
}
