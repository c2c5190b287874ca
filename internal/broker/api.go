// Package broker runs the login transaction: a protocol-neutral request
// from a frontend (SAML IdP or OpenID provider), the school selection, the
// upstream connector, the identity pipeline, the SSO session, and the answer
// handed back to the frontend. It also holds the configuration snapshot
// (Catalog) every login reads from memory.
//
// Frontends and connectors know nothing of each other: frontends call Flow
// and implement Responder; connectors implement connector.Connector.
package broker

import (
	"context"
	"net/http"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// Protocol names a frontend.
type Protocol string

const (
	ProtocolOIDC Protocol = "oidc"
	ProtocolSAML Protocol = "saml"
)

// AuthnSourcePrefix prefixes a source's flowName in SAML
// AuthnContextClassRef and in OIDC acr / acr_values.
const AuthnSourcePrefix = "urn:mpass.id:authnsource:"

// Request is a validated login request from a frontend, in protocol-neutral
// terms. The frontend has already checked it against the service's
// registered configuration (redirect URI, ACS URL, signature).
type Request struct {
	Protocol Protocol
	// ServiceID is the SP integration that asks.
	ServiceID int64
	// ForceAuthn asks for a fresh upstream login even with an SSO session
	// (SAML ForceAuthn, OIDC prompt=login).
	ForceAuthn bool
	// Passive forbids any interaction (SAML IsPassive, OIDC prompt=none):
	// without a usable SSO session the login fails with ErrCodeNoPassive.
	Passive bool
	// MaxAge, when HasMaxAge, forces re-authentication if the SSO session's
	// authentication is older (OIDC max_age).
	MaxAge    time.Duration
	HasMaxAge bool
	// Language is fi, sv or en when the service asked for one (lang,
	// ui_locales); "" lets the browser decide.
	Language string
	// Sources are the flowNames the service asked for
	// (urn:mpass.id:authnsource:<flowName>); empty allows every source the
	// service may use. One allowed source skips the selection page.
	Sources []string
	// LoginHint is the OIDC login_hint, passed on to the selection page.
	LoginHint string
	// State is the frontend's own data for answering (OIDC redirect_uri,
	// state, nonce, PKCE challenge; SAML request ID, ACS URL, RelayState).
	// The broker keeps it with the transaction and returns it untouched.
	State []byte
}

// ErrorCode says why a login ended without a user, in terms both protocols
// can map to their own (SAML status codes, OIDC error codes).
type ErrorCode string

const (
	// ErrCodeNoPassive: passive login asked, no usable session (SAML
	// NoPassive, OIDC login_required).
	ErrCodeNoPassive ErrorCode = "no_passive"
	// ErrCodeCancelled: the user cancelled or upstream refused (SAML
	// AuthnFailed, OIDC access_denied).
	ErrCodeCancelled ErrorCode = "cancelled"
	// ErrCodeNoSource: no source the service may use matches the request
	// (SAML NoAuthnContext, OIDC access_denied with a description).
	ErrCodeNoSource ErrorCode = "no_source"
	// ErrCodeFailed: anything else (SAML Responder, OIDC server_error).
	ErrCodeFailed ErrorCode = "failed"
)

// LoginError is a login that ended without a user.
type LoginError struct {
	Code ErrorCode
	// Description is a short English text safe to send to the service.
	Description string
	// Reference finds the event in the logs.
	Reference string
}

func (e *LoginError) Error() string { return string(e.Code) + ": " + e.Description }

// Session describes the SSO session a login completed in.
type Session struct {
	// ID identifies the SSO session (the SAML SessionIndex base, the OIDC
	// sid base). Frontends derive per-service values from it; they never
	// send it to a service as it is.
	ID string
	// AuthnInstant is when the user last authenticated upstream.
	AuthnInstant time.Time
	// SourceID is the IdP integration used; Source its flowName (the
	// authentication context urn:mpass.id:authnsource:<Source>).
	SourceID int64
	Source   string
	// ExpiresAt is the session's absolute end.
	ExpiresAt time.Time
}

// Result is what the broker hands back to the frontend: either a User or
// an Err.
type Result struct {
	Request Request
	// Service is the requesting service as the catalog had it.
	Service *Service
	User    *model.User
	Session Session
	Err     *LoginError
}

// Responder answers a service; each frontend implements it for its
// protocol. The broker calls it exactly once per login, on the browser's
// request that finished the login.
type Responder interface {
	Respond(w http.ResponseWriter, r *http.Request, res *Result)
}

// Participant is a service logged in within an SSO session, with what its
// frontend needs to log it out (SAML NameID and SessionIndex, OIDC sid and
// back-channel URI), as the frontend's own opaque data.
type Participant struct {
	ServiceID int64
	Protocol  Protocol
	Data      []byte
}

// BackChannelLogout is implemented by a frontend that can log its services
// out without the browser (OIDC Back-Channel Logout). The broker uses it
// when a logout starts at a service of another protocol.
type BackChannelLogout interface {
	BackChannelLogout(ctx context.Context, parts []Participant)
}

// FrontChannelLogout is implemented by a frontend that logs its services
// out through the browser (SAML single logout): it takes over the response,
// visits each participant, and finally sends the browser to returnURL.
type FrontChannelLogout interface {
	FrontChannelLogout(w http.ResponseWriter, r *http.Request, parts []Participant, returnURL string)
}

// Flow is what frontends use of the broker.
type Flow interface {
	// Catalog returns the current configuration snapshot.
	Catalog() *Catalog
	// Begin starts (or, with a usable SSO session, at once completes) a
	// login. It writes the response: a redirect to the selection page or
	// upstream, or the frontend's answer through its Responder.
	Begin(w http.ResponseWriter, r *http.Request, req Request)
	// AddParticipant records that a service was logged in within the SSO
	// session, for single logout.
	AddParticipant(ctx context.Context, sessionID string, p Participant) error
	// CurrentSession returns the browser's live SSO session, or nil.
	CurrentSession(r *http.Request) (*Session, error)
	// EndSession ends the browser's SSO session (clearing its cookie) or the
	// session named by sessionID when the request carries none (back-channel
	// logout), and returns the participants other than except to log out.
	// Participants of another protocol than except's are also reached by
	// back channel where their frontend offers one.
	EndSession(w http.ResponseWriter, r *http.Request, sessionID string, except int64) ([]Participant, error)
	// LogoutElsewhere logs out, through the browser, the participants of
	// other protocols that need it, and then sends the browser to
	// returnURL. It reports false, having written nothing, when there is
	// nothing to do; the caller then answers itself.
	LogoutElsewhere(w http.ResponseWriter, r *http.Request, parts []Participant, returnURL string) bool
}
