// Package wilma connects the broker to Wilma, Visma's school administration
// system, which many education providers use as their pupils' and staff's
// login. Wilma speaks a small redirect protocol of its own rather than SAML
// or OpenID Connect: both directions are plain GET redirects authenticated
// with an HMAC-SHA256 over the URL, keyed with a secret shared between the
// education provider's Wilma and the broker.
//
// The protocol (../shared/reference/identity-sources.md):
//
//  1. Broker -> Wilma:
//     https://<hostname>/mpass?redirectto=<url-encoded return URL>[&forceauth=true]&h=<hex HMAC>
//     where the HMAC covers everything before "&h=". The return URL is the
//     broker's callback URL with the transaction id (tx) and a fresh
//     24-character alphanumeric nonce added.
//  2. Wilma -> broker: the return URL with "&userid=<id>&nonce=<nonce>&h=<hex
//     HMAC>" appended, the HMAC covering the whole callback URL up to (not
//     including) "&h=".
//
// The nonce thus usually appears twice in the callback, once in the return
// URL and once appended by Wilma; both must be the same.
//
// Callback checks that userid, nonce and h are present, that the nonce is the
// one this transaction sent (and was not used before: it is recorded in the
// ReplayCache), and the HMAC, compared in constant time. Wilma's callback URL
// carries no timestamp, so the nonce's single use and the transaction's own
// lifetime are what bound an answer in time.
//
// Recomputing the callback HMAC needs the URL exactly as Wilma built it. Behind
// a TLS-terminating proxy the request's own scheme and host are not that, so
// the URL is rebuilt from the configured callback URL (LoginRequest.CallbackURL:
// its scheme, host and path) and the request's raw query string, byte for
// byte as received (never re-encoded).
//
// Wilma's answer names only the user. Roles, schools and classes come from
// Wilma's attribute interface, whose exact JSON is not public; it is reached
// through the AttributeFetcher interface, which a deployment fills in.
package wilma

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
)

// Parameter names of the protocol.
const (
	ParamRedirectTo = "redirectto"
	ParamForceAuth  = "forceauth"
	ParamHash       = "h"
	ParamUserID     = "userid"
	ParamNonce      = "nonce"
	// ParamTransaction carries the broker's transaction id in the return URL.
	ParamTransaction = "tx"
)

// NonceLength is the length of the nonce in the return URL.
const NonceLength = 24

// ReplayNamespace is the ReplayCache namespace of used nonces.
const ReplayNamespace = "wilma-nonce"

// DefaultNonceTTL is how long a used nonce is remembered by default; it must
// outlive the broker's login transactions.
const DefaultNonceTTL = 2 * time.Hour

// AttributeFetcher looks up the user's role, school and class data in Wilma's
// attribute interface once the login has been verified. The returned map is
// merged into the identity's attributes under upstream names that the
// integration's user-attribute mapping refers to (username is always the
// Wilma userid and cannot be overridden). Implementations must not log the
// userid or the attributes.
type AttributeFetcher interface {
	Fetch(ctx context.Context, userid string) (map[string][]string, error)
}

// NoAttributes is the default AttributeFetcher: it fetches nothing.
type NoAttributes struct{}

// Fetch returns no attributes.
func (NoAttributes) Fetch(context.Context, string) (map[string][]string, error) { return nil, nil }

// Config configures one Wilma integration.
type Config struct {
	// Hostname is the Wilma server (model.IdP.Hostname), e.g.
	// "en.inschool.fi"; a port is allowed. The login endpoint is
	// https://<Hostname>/mpass.
	Hostname string
	// SharedSecret is the HMAC key shared with this Wilma, in clear.
	SharedSecret string
	// Attributes fetches role/school/class data; nil means NoAttributes.
	Attributes AttributeFetcher
	// NonceTTL is how long a used nonce is remembered; 0 means
	// DefaultNonceTTL.
	NonceTTL time.Duration
	// Logger receives diagnostics (never secrets or personal data); nil
	// means slog.Default().
	Logger *slog.Logger
}

// Connector is a connector.Connector for one Wilma.
type Connector struct {
	endpoint string // https://<host>/mpass
	secret   []byte
	attrs    AttributeFetcher
	ttl      time.Duration
	log      *slog.Logger
	replay   connector.ReplayCache
	now      func() time.Time
}

var _ connector.Connector = (*Connector)(nil)

// New builds a Wilma connector. replay records used nonces; now is the
// clock (nil means time.Now).
func New(cfg Config, replay connector.ReplayCache, now func() time.Time) (*Connector, error) {
	host, err := connector.BareHost(cfg.Hostname)
	if err != nil {
		return nil, fmt.Errorf("wilma: hostname: %w", err)
	}
	if cfg.SharedSecret == "" {
		return nil, errors.New("wilma: shared secret is required")
	}
	if replay == nil {
		return nil, errors.New("wilma: a replay cache is required")
	}
	c := &Connector{
		endpoint: "https://" + host + "/mpass",
		secret:   []byte(cfg.SharedSecret),
		attrs:    cfg.Attributes,
		ttl:      cfg.NonceTTL,
		log:      cfg.Logger,
		replay:   replay,
		now:      now,
	}
	if c.attrs == nil {
		c.attrs = NoAttributes{}
	}
	if c.ttl <= 0 {
		c.ttl = DefaultNonceTTL
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("connector", "wilma", "host", host)
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// state is what Start hands to the broker to keep with the transaction.
type state struct {
	Nonce string `json:"nonce"`
}

// Capabilities: Wilma can be asked for a fresh login (forceauth) but has
// no passive mode.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{ForceAuthn: true}
}

// Start sends the user to Wilma's login. A passive request is refused with
// connector.ErrCancelled, as Wilma cannot log in without interaction.
func (c *Connector) Start(ctx context.Context, req connector.LoginRequest) (*connector.Started, error) {
	if req.TransactionID == "" {
		return nil, fmt.Errorf("wilma: %w", connector.ErrNoTransaction)
	}
	if req.Passive {
		return nil, fmt.Errorf("wilma: passive login is not supported: %w", connector.ErrCancelled)
	}
	nonce, err := RandomAlphanumeric(NonceLength)
	if err != nil {
		return nil, fmt.Errorf("wilma: nonce: %w", err)
	}
	ret, err := returnURL(req.CallbackURL, req.TransactionID, nonce)
	if err != nil {
		return nil, err
	}
	unsigned := c.endpoint + "?" + ParamRedirectTo + "=" + url.QueryEscape(ret)
	if req.ForceAuthn {
		unsigned += "&" + ParamForceAuth + "=true"
	}
	st, err := json.Marshal(state{Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("wilma: state: %w", err)
	}
	c.log.DebugContext(ctx, "wilma login started", "forceauth", req.ForceAuthn)
	return &connector.Started{
		Redirect: connector.Redirect{URL: unsigned + "&" + ParamHash + "=" + Sign(c.secret, unsigned)},
		State:    st,
	}, nil
}

// returnURL adds tx and nonce to the callback URL.
func returnURL(callback, tx, nonce string) (string, error) {
	u, err := url.Parse(callback)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("wilma: callback URL %q is not absolute", callback)
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("wilma: callback URL %q has a fragment", callback)
	}
	extra := ParamTransaction + "=" + url.QueryEscape(tx) + "&" + ParamNonce + "=" + nonce
	if u.RawQuery != "" {
		u.RawQuery += "&" + extra
	} else {
		u.RawQuery = extra
	}
	return u.String(), nil
}

// TransactionID returns the tx parameter of the callback.
func (c *Connector) TransactionID(r *http.Request) (string, error) {
	tx := r.URL.Query().Get(ParamTransaction)
	if tx == "" {
		return "", fmt.Errorf("wilma: %w", connector.ErrNoTransaction)
	}
	return tx, nil
}

// Callback verifies Wilma's answer and returns the identity: attribute
// "username" is Wilma's userid, merged with what the AttributeFetcher finds.
func (c *Connector) Callback(ctx context.Context, r *http.Request, req connector.LoginRequest, rawState []byte) (*connector.Identity, error) {
	var st state
	if err := json.Unmarshal(rawState, &st); err != nil || len(st.Nonce) != NonceLength {
		return nil, fmt.Errorf("wilma: unusable transaction state: %w", connector.ErrInvalidResponse)
	}
	base, err := callbackBase(req.CallbackURL)
	if err != nil {
		return nil, err
	}
	cb, err := ParseCallback(r.URL.RawQuery)
	if err != nil {
		c.log.InfoContext(ctx, "wilma callback rejected", "reason", err.Error())
		return nil, err
	}
	if cb.Transaction != req.TransactionID {
		c.log.InfoContext(ctx, "wilma callback rejected", "reason", "transaction mismatch")
		return nil, fmt.Errorf("wilma: callback for another transaction: %w", connector.ErrInvalidResponse)
	}
	if !Verify(c.secret, base+"?"+cb.Signed, cb.Hash) {
		c.log.WarnContext(ctx, "wilma callback rejected", "reason", "bad HMAC")
		return nil, fmt.Errorf("wilma: callback HMAC does not match: %w", connector.ErrInvalidResponse)
	}
	if !hmac.Equal([]byte(cb.Nonce), []byte(st.Nonce)) {
		c.log.WarnContext(ctx, "wilma callback rejected", "reason", "nonce mismatch")
		return nil, fmt.Errorf("wilma: nonce is not this transaction's: %w", connector.ErrInvalidResponse)
	}
	fresh, err := c.replay.MarkUsed(ctx, ReplayNamespace, cb.Nonce, c.now().Add(c.ttl))
	if err != nil {
		return nil, fmt.Errorf("wilma: record nonce: %w", err)
	}
	if !fresh {
		c.log.WarnContext(ctx, "wilma callback rejected", "reason", "nonce used before")
		return nil, fmt.Errorf("wilma: nonce used before: %w", connector.ErrReplay)
	}
	attrs := map[string][]string{}
	extra, err := c.attrs.Fetch(ctx, cb.UserID)
	if err != nil {
		return nil, fmt.Errorf("wilma: fetch user attributes: %w", err)
	}
	for k, v := range extra {
		if k == "username" || len(v) == 0 {
			continue
		}
		attrs[k] = append([]string(nil), v...)
	}
	attrs["username"] = []string{cb.UserID}
	c.log.DebugContext(ctx, "wilma login verified", "attributes", len(attrs))
	return &connector.Identity{Attributes: attrs, AuthnInstant: c.now()}, nil
}

// callbackBase is the scheme, host and path of the configured callback URL,
// the part of the HMAC'd URL that the request itself cannot be trusted for
// behind a proxy.
func callbackBase(callback string) (string, error) {
	u, err := url.Parse(callback)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("wilma: callback URL %q is not absolute", callback)
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
	return u.String(), nil
}

// Callback is a parsed Wilma callback query.
type Callback struct {
	// Signed is the raw query up to (not including) "&h=": with the callback
	// URL's scheme, host and path before it, what the HMAC covers.
	Signed string
	// Hash is the hex HMAC, as sent.
	Hash                       string
	UserID, Nonce, Transaction string
}

// ParseCallback parses the raw query string of a Wilma callback. h must be
// the last parameter and occur once; userid, nonce and tx must be present,
// userid and tx once. The nonce may occur twice: in the return URL the
// broker sent and appended by Wilma; both must then be equal. Errors wrap
// connector.ErrInvalidResponse.
func ParseCallback(rawQuery string) (*Callback, error) {
	i := strings.LastIndex(rawQuery, "&"+ParamHash+"=")
	if i < 0 {
		return nil, fmt.Errorf("wilma: callback without %s: %w", ParamHash, connector.ErrInvalidResponse)
	}
	cb := &Callback{Signed: rawQuery[:i], Hash: rawQuery[i+len(ParamHash)+2:]}
	if len(cb.Hash) != 2*sha256.Size || strings.ContainsAny(cb.Hash, "&;") {
		return nil, fmt.Errorf("wilma: malformed %s: %w", ParamHash, connector.ErrInvalidResponse)
	}
	q, err := url.ParseQuery(cb.Signed)
	if err != nil {
		return nil, fmt.Errorf("wilma: malformed callback query: %w", connector.ErrInvalidResponse)
	}
	if _, dup := q[ParamHash]; dup {
		return nil, fmt.Errorf("wilma: repeated %s: %w", ParamHash, connector.ErrInvalidResponse)
	}
	one := func(name string, max int) (string, error) {
		v := q[name]
		switch {
		case len(v) == 0 || v[0] == "":
			return "", fmt.Errorf("wilma: callback without %s: %w", name, connector.ErrInvalidResponse)
		case len(v) > max:
			return "", fmt.Errorf("wilma: repeated %s: %w", name, connector.ErrInvalidResponse)
		}
		for _, x := range v[1:] {
			if x != v[0] {
				return "", fmt.Errorf("wilma: conflicting %s: %w", name, connector.ErrInvalidResponse)
			}
		}
		return v[0], nil
	}
	if cb.UserID, err = one(ParamUserID, 1); err != nil {
		return nil, err
	}
	if cb.Nonce, err = one(ParamNonce, 2); err != nil {
		return nil, err
	}
	if cb.Transaction, err = one(ParamTransaction, 1); err != nil {
		return nil, err
	}
	return cb, nil
}

// Sign returns the lowercase hex HMAC-SHA256 of msg under secret.
func Sign(secret []byte, msg string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports, in constant time, whether hexMAC (either case) is the
// HMAC-SHA256 of msg under secret.
func Verify(secret []byte, msg, hexMAC string) bool {
	got, err := hex.DecodeString(hexMAC)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return hmac.Equal(got, m.Sum(nil))
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// RandomAlphanumeric returns n uniformly random characters [A-Za-z0-9].
func RandomAlphanumeric(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			// 248 = 4*62: reject the top values to keep the choice uniform.
			if b < 248 && len(out) < n {
				out = append(out, alphanumeric[b%62])
			}
		}
	}
	return string(out), nil
}
