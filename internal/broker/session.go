package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mpassid/mpassid/internal/audit"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// startSession starts an SSO session for the user and sets its cookie; the
// store keeps the session under the hash of the cookie's value, so a copy of
// the database does not hand out live sessions. The session is held as
// pending until storeSession, so that the frontend's participant record is
// part of the same single write.
func (b *Broker) startSession(w http.ResponseWriter, r *http.Request, u *model.User, src *model.Integration, authnInstant time.Time) (*Session, error) {
	now := b.cfg.Now()
	if authnInstant.IsZero() || authnInstant.After(now) {
		authnInstant = now
	}
	// Ending the old session first means a browser never holds two.
	if c, err := r.Cookie(ssoCookie); err == nil {
		_ = b.st.DeleteSession(r.Context(), sessionKey(c.Value))
	}
	token := newSessionToken(now)
	p := &pendingSession{
		rec: store.Session{
			ID: sessionKey(token), SubjectHash: hashToken(u.UID), CreatedAt: now,
			ExpiresAt:     now.Add(b.cfg.SessionLifetime),
			IdleExpiresAt: now.Add(min(b.cfg.SessionIdleTimeout, b.cfg.SessionLifetime)),
		},
		data: sessionData{User: u, SourceID: src.ID, Source: src.IdP.FlowName, AuthnInstant: authnInstant},
	}
	b.pendingMu.Lock()
	b.pending[p.rec.ID] = p
	b.pendingMu.Unlock()
	b.setCookie(w, r, ssoCookie, token, b.cfg.SessionLifetime)
	return &Session{ID: p.rec.ID, AuthnInstant: authnInstant, SourceID: src.ID, Source: src.IdP.FlowName, ExpiresAt: p.rec.ExpiresAt}, nil
}

// A session cookie's value starts with the time it was made, as 12 hex
// digits of Unix milliseconds and a dot, before 256 random bits; the
// session's key in the store keeps that start before the hash of the whole
// value. Sessions are then written in the order of their keys, each next to
// the one before, where random keys made every login's write change a page
// of the index of its own: a quarter of the store's time per login
// (BenchmarkStore/LoginWrites). Cookies of earlier versions, random
// throughout, keep their plain hash as the key.
const sessionTimeDigits = 12

func newSessionToken(now time.Time) string {
	return fmt.Sprintf("%0*x.", sessionTimeDigits, now.UnixMilli()) + randomToken()
}

// sessionKey is the store's key of the session whose cookie holds token.
func sessionKey(token string) string {
	if len(token) > sessionTimeDigits && token[sessionTimeDigits] == '.' && isLowerHex(token[:sessionTimeDigits]) {
		return token[:sessionTimeDigits] + hashToken(token)
	}
	return hashToken(token)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// storeSession writes a pending session with its participants.
func (b *Broker) storeSession(ctx context.Context, id string) error {
	b.pendingMu.Lock()
	p := b.pending[id]
	delete(b.pending, id)
	b.pendingMu.Unlock()
	if p == nil {
		return fmt.Errorf("no pending session %s", id)
	}
	p.rec.Data = encodeSession(&p.data)
	if err := b.st.PutSession(ctx, p.rec); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	return nil
}

// addParticipant appends or replaces the participant of its service.
func (d *sessionData) addParticipant(p Participant) {
	for i := range d.Participants {
		if d.Participants[i].ServiceID == p.ServiceID {
			d.Participants[i] = p
			return
		}
	}
	d.Participants = append(d.Participants, p)
}

// loadSession returns the browser's live SSO session, or nil.
func (b *Broker) loadSession(r *http.Request) (*Session, *sessionData, error) {
	c, err := r.Cookie(ssoCookie)
	if err != nil || c.Value == "" {
		return nil, nil, nil
	}
	return b.sessionByID(r.Context(), sessionKey(c.Value))
}

func (b *Broker) sessionByID(ctx context.Context, id string) (*Session, *sessionData, error) {
	rec, err := b.st.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load session: %w", err)
	}
	now := b.cfg.Now()
	if !now.Before(rec.IdleExpiresAt) || !now.Before(rec.ExpiresAt) {
		return nil, nil, nil
	}
	data, _, err := decodeSession(rec.Data)
	if err != nil {
		return nil, nil, err
	}
	return &Session{ID: rec.ID, AuthnInstant: data.AuthnInstant, SourceID: data.SourceID, Source: data.Source, ExpiresAt: rec.ExpiresAt}, data, nil
}

// CurrentSession returns the browser's live SSO session, or nil.
func (b *Broker) CurrentSession(r *http.Request) (*Session, error) {
	s, _, err := b.loadSession(r)
	return s, err
}

// AddParticipant records a service logged in within the session and moves
// the session's idle expiry.
func (b *Broker) AddParticipant(ctx context.Context, sessionID string, p Participant) error {
	b.pendingMu.Lock()
	if pending := b.pending[sessionID]; pending != nil {
		pending.data.addParticipant(p)
		b.pendingMu.Unlock()
		return nil
	}
	b.pendingMu.Unlock()
	rec, err := b.st.GetSession(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	data, asJSON, err := decodeSession(rec.Data)
	if err != nil {
		return err
	}
	data.addParticipant(p)
	// A record an earlier version wrote stays in its form, which that
	// version, rolled back to, still reads.
	var raw []byte
	if asJSON {
		if raw, err = json.Marshal(data); err != nil {
			return fmt.Errorf("encode session: %w", err)
		}
	} else {
		raw = encodeSession(data)
	}
	idle := b.cfg.Now().Add(b.cfg.SessionIdleTimeout)
	if idle.After(rec.ExpiresAt) {
		idle = rec.ExpiresAt
	}
	if err := b.st.TouchSession(ctx, sessionID, raw, idle); err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	return nil
}

// EndSession ends the browser's SSO session, or the one named by sessionID
// when the browser has none, and returns its other participants.
func (b *Broker) EndSession(w http.ResponseWriter, r *http.Request, sessionID string, except int64) ([]Participant, error) {
	ctx := r.Context()
	id := sessionID
	if c, err := r.Cookie(ssoCookie); err == nil && c.Value != "" {
		id = sessionKey(c.Value)
	}
	if w != nil {
		b.clearCookie(w, r, ssoCookie)
	}
	if id == "" {
		return nil, nil
	}
	_, data, err := b.sessionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := b.st.DeleteSession(ctx, id); err != nil {
		return nil, fmt.Errorf("end session: %w", err)
	}
	if data == nil {
		return nil, nil
	}
	uid := ""
	if data.User != nil {
		uid = data.User.UID
	}
	b.audit.LoggedOut(ctx, audit.Logout{Source: data.Source, UID: uid, Participants: len(data.Participants), Result: "ended"})
	var out []Participant
	for _, p := range data.Participants {
		if p.ServiceID != except {
			out = append(out, p)
		}
	}
	b.notifyOtherProtocols(ctx, except, out)
	return out, nil
}

// notifyOtherProtocols reaches, by back channel, the participants whose
// protocol is not the one of the service that asked for the logout: a
// frontend logs out its own protocol's services itself (a SAML logout
// chain through the browser, OIDC logout tokens), but cannot reach another
// protocol's. Without it a SAML logout would leave OIDC services logged in.
func (b *Broker) notifyOtherProtocols(ctx context.Context, except int64, parts []Participant) {
	var asker Protocol
	if svc, ok := b.Catalog().Service(except); ok && svc.Integration.SP != nil {
		asker = Protocol(svc.Integration.SP.Type)
	}
	byProtocol := map[Protocol][]Participant{}
	for _, p := range parts {
		if p.Protocol != asker {
			byProtocol[p.Protocol] = append(byProtocol[p.Protocol], p)
		}
	}
	for proto, ps := range byProtocol {
		if bc, ok := b.backChannels[proto]; ok {
			bc.BackChannelLogout(context.WithoutCancel(ctx), ps)
		}
	}
}

// LogoutElsewhere hands the participants of protocols without a back
// channel to their frontend's front-channel logout, which returns the
// browser to returnURL at the end. Protocols with a back channel were
// reached by EndSession already.
func (b *Broker) LogoutElsewhere(w http.ResponseWriter, r *http.Request, parts []Participant, returnURL string) bool {
	byProtocol := map[Protocol][]Participant{}
	for _, p := range parts {
		if _, back := b.backChannels[p.Protocol]; back {
			continue
		}
		if _, ok := b.frontChannels[p.Protocol]; ok {
			byProtocol[p.Protocol] = append(byProtocol[p.Protocol], p)
		}
	}
	// One front-channel protocol exists (SAML); with several, each would
	// chain to the next through returnURL.
	for proto, ps := range byProtocol {
		b.frontChannels[proto].FrontChannelLogout(w, r, ps, returnURL)
		return true
	}
	return false
}
