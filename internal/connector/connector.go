// Package connector defines how the broker talks to the schools' own login
// systems (upstream identity sources). One package below this one per
// upstream protocol (saml, oidc, wilma, opinsys, testidp) implements
// Connector; the broker knows only this interface.
//
// A login through a connector has two steps over the browser: Start sends
// the user upstream and returns the state the broker keeps in the login
// transaction; Callback verifies the upstream answer against that state and
// yields the raw upstream attributes. Everything a connector must remember
// between the two steps goes into that state, so that any broker instance
// can serve the callback.
package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Errors a connector returns, wrapped with detail; the broker maps them to
// error pages and audit events.
var (
	// ErrInvalidResponse: the upstream answer failed verification (bad
	// signature or MAC, wrong audience, issuer, destination, malformed).
	ErrInvalidResponse = errors.New("invalid upstream response")
	// ErrReplay: a single-use value (nonce, assertion ID, JWT) was used before.
	ErrReplay = errors.New("replayed upstream response")
	// ErrExpired: the upstream answer is outside its validity window.
	ErrExpired = errors.New("expired upstream response")
	// ErrCancelled: the user cancelled, or the upstream refused the login
	// (for example NoPassive when passive login was asked).
	ErrCancelled = errors.New("upstream login not completed")
	// ErrNoTransaction: the callback carries no transaction reference.
	ErrNoTransaction = errors.New("callback without transaction reference")
)

// ClientGone reports whether err is only the end of the request ctx
// belongs to: its browser or service went away, the context ended, and
// that cut a store or upstream call short. Such a failure is routine (a
// pupil closing the page, a service giving up on its token request) and
// is logged at info, marked client_gone, by the broker, its frontends and
// the connectors alike; any other failure, also of a request that ended
// meanwhile (a forged answer, a store failing for itself), is not.
func ClientGone(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// LoginRequest is what the broker asks of a connector when a user chose its
// source.
type LoginRequest struct {
	// TransactionID identifies the login transaction; the connector sends it
	// upstream in a form that comes back to Callback (RelayState, state, a
	// parameter of the return URL) and returns it from TransactionID.
	TransactionID string
	// CallbackURL is the absolute URL of the broker's callback endpoint for
	// this source.
	CallbackURL string
	// ForceAuthn asks upstream for a fresh login even if it has a session.
	ForceAuthn bool
	// Passive asks upstream not to interact with the user.
	Passive bool
	// Language is the user's language, fi, sv or en.
	Language string
}

// Redirect is how the browser is sent upstream: a GET to URL, or, when
// Form is set, an auto-submitted POST of Form to URL.
type Redirect struct {
	URL  string
	Form url.Values
}

// Started is the result of Start.
type Started struct {
	Redirect Redirect
	// State is kept by the broker with the transaction and handed back to
	// Callback. It may hold secrets (nonce, PKCE verifier): the broker
	// stores it server-side or sealed.
	State []byte
}

// Identity is what a verified upstream answer says about the user.
type Identity struct {
	// Attributes are the raw upstream attributes, by upstream name.
	Attributes map[string][]string
	// AuthnInstant is when the user authenticated upstream, if known.
	AuthnInstant time.Time
	// SessionIndex is the upstream session, for upstream logout (SAML).
	SessionIndex string
	// NameID is the upstream subject (SAML NameID, OIDC sub), for logout.
	NameID string
}

// Capabilities say which login options a connector honours.
type Capabilities struct {
	ForceAuthn bool
	Passive    bool
}

// Connector is one configured upstream identity source.
type Connector interface {
	// Start begins a login upstream.
	Start(ctx context.Context, req LoginRequest) (*Started, error)
	// TransactionID extracts the transaction reference from a callback
	// request, before anything is verified; ErrNoTransaction if absent.
	TransactionID(r *http.Request) (string, error)
	// Callback verifies the upstream answer carried by r against state
	// (from Start) and returns the identity. The answer is consumed: a
	// second Callback with the same answer fails with ErrReplay.
	Callback(ctx context.Context, r *http.Request, req LoginRequest, state []byte) (*Identity, error)
	// Capabilities says which login options the connector honours.
	Capabilities() Capabilities
}

// ReplayCache records single-use values; store.Runtime's MarkUsed is one.
type ReplayCache interface {
	// MarkUsed records value in namespace ns until expiresAt and reports
	// false when it was recorded before: a replay.
	MarkUsed(ctx context.Context, ns, value string, expiresAt time.Time) (bool, error)
}

// BareHost checks a configured upstream host name (Wilma's host, Opinsys's
// tenant host): a host and optional port only, nothing that would change
// where the https URL built from it leads (user info, path, query,
// fragment). It returns the trimmed host.
func BareHost(host string) (string, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return "", errors.New("host name is required")
	}
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a bare host name", host)
	}
	return host, nil
}
