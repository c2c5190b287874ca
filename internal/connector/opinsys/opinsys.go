// Package opinsys connects the broker to Opinsys (Puavo), the identity
// service of many Finnish municipal schools. Puavo's "JWT SSO" is a redirect
// protocol: the broker sends the browser to
//
//	https://<tenant host><path>?return_to=<url-encoded callback URL>
//
// (path configurable, default "/v3/sso", Puavo REST's SSO endpoint) and Puavo,
// after the user has logged in, redirects to the return_to URL with
// "jwt=<token>" appended: an HS256 JWT signed with the secret that Puavo
// shares with the broker.
//
// What Callback checks, and why:
//   - the JWT is compact JWS with alg exactly "HS256" (anything else,
//     including "none", is refused before the signature is looked at), the
//     HMAC over it matches in constant time. Verification is done here with
//     the standard library rather than go-jose, because go-jose refuses HMAC
//     keys shorter than 32 bytes and existing Opinsys shared secrets may be
//     shorter;
//   - exp and iat are present; iat is not in the future and not older than
//     MaxAge, exp has not passed (both with ClockSkew); nbf, if sent, has
//     passed. Puavo issues the token as the browser is redirected, so the
//     window is short (2 minutes by default);
//   - binding to the transaction: Puavo's JWT names no audience or return
//     URL that the broker could compare, so the binding is (1) the tx
//     parameter, which the broker put in return_to, must come back exactly
//     once and equal the transaction's id, and (2) the token is single use:
//     its jti (or, when Puavo sends none, the SHA-256 of the whole token) is
//     recorded in the ReplayCache until the token could no longer pass the
//     time checks. A token can thus complete at most one login, within
//     minutes of being issued. If the JWT does carry a return_to claim, it
//     must equal the return_to this transaction sent.
//
// Attributes. The username is claim "id" (Puavo's stable numeric user id).
// The other claims become raw attributes; this package assumes Puavo's JWT
// SSO claim set (puavo-rest "sso"): id, username, first_name, last_name,
// email, user_type (student, teacher, staff, ...), learner_id, year_class,
// organisation_name, organisation_domain, primary_school_id, schools (an
// array of objects: id, name, abbreviation, school_code, roles, groups) and
// groups (an array of objects: id, name, abbreviation, type, school_id).
// The Opinsys integrations in the management export carry no user-attribute
// mapping, so names are kept as Puavo sends them and flattened:
//   - a string, number or boolean claim becomes one value (numbers as sent);
//   - an array of scalars becomes several values;
//   - an object's members become attributes named "<claim>.<member>", an
//     array of objects contributes every element's members in order, so
//     "schools.school_code" lists the user's school codes and
//     "groups.abbreviation" their groups;
//   - null is skipped, as are the protocol claims iat, exp, nbf and jti.
//
// A mapping for the data model would then be, for example: username <- id,
// firstName <- first_name, surname <- last_name, learnerId <- learner_id,
// roles <- user_type, schoolIds <- schools.school_code, groups <-
// groups.abbreviation, groupLevels <- year_class.
package opinsys

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
)

// Parameter names of the protocol.
const (
	ParamReturnTo = "return_to"
	ParamJWT      = "jwt"
	// ParamTransaction carries the broker's transaction id in return_to.
	ParamTransaction = "tx"
)

// Defaults.
const (
	DefaultPath      = "/v3/sso"
	DefaultMaxAge    = 2 * time.Minute
	DefaultClockSkew = 30 * time.Second
)

// Replay namespaces: by jti, or by token hash when there is no jti.
const (
	ReplayNamespaceJTI   = "opinsys-jti"
	ReplayNamespaceToken = "opinsys-token"
)

// MaxTokenLength bounds the JWT accepted in a callback.
const MaxTokenLength = 64 << 10

// Config configures one Opinsys tenant.
type Config struct {
	// TenantHost is the tenant's host (model.IdP.TenantID), e.g.
	// "ka.opinsys.fi"; a port is allowed.
	TenantHost string
	// Path is the JWT SSO endpoint on the tenant host; "" means DefaultPath.
	Path string
	// SharedSecret is the HS256 key shared with Opinsys, in clear.
	SharedSecret string
	// MaxAge is how old (by iat) a token may be; 0 means DefaultMaxAge.
	MaxAge time.Duration
	// ClockSkew is the allowance for clock differences; 0 means
	// DefaultClockSkew.
	ClockSkew time.Duration
	// Logger receives diagnostics (never secrets or personal data); nil
	// means slog.Default().
	Logger *slog.Logger
}

// Connector is a connector.Connector for one Opinsys tenant.
type Connector struct {
	endpoint string
	secret   []byte
	maxAge   time.Duration
	skew     time.Duration
	log      *slog.Logger
	replay   connector.ReplayCache
	now      func() time.Time
}

var _ connector.Connector = (*Connector)(nil)

// New builds an Opinsys connector. replay records used tokens; now is the
// clock (nil means time.Now).
func New(cfg Config, replay connector.ReplayCache, now func() time.Time) (*Connector, error) {
	host, err := connector.BareHost(cfg.TenantHost)
	if err != nil {
		return nil, fmt.Errorf("opinsys: tenant host: %w", err)
	}
	path := cfg.Path
	if path == "" {
		path = DefaultPath
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("opinsys: path %q must start with / and have no query", path)
	}
	if cfg.SharedSecret == "" {
		return nil, errors.New("opinsys: shared secret is required")
	}
	if replay == nil {
		return nil, errors.New("opinsys: a replay cache is required")
	}
	c := &Connector{
		endpoint: "https://" + host + path,
		secret:   []byte(cfg.SharedSecret),
		maxAge:   cfg.MaxAge,
		skew:     cfg.ClockSkew,
		log:      cfg.Logger,
		replay:   replay,
		now:      now,
	}
	if c.maxAge <= 0 {
		c.maxAge = DefaultMaxAge
	}
	if c.skew <= 0 {
		c.skew = DefaultClockSkew
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("connector", "opinsys", "host", host)
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

type state struct {
	ReturnTo string `json:"returnTo"`
}

// Capabilities: Puavo's JWT SSO has neither forced nor passive login.
func (c *Connector) Capabilities() connector.Capabilities { return connector.Capabilities{} }

// Start sends the user to the tenant's JWT SSO endpoint. A passive request
// is refused with connector.ErrCancelled; ForceAuthn cannot be expressed
// and is ignored (Capabilities says so).
func (c *Connector) Start(ctx context.Context, req connector.LoginRequest) (*connector.Started, error) {
	if req.TransactionID == "" {
		return nil, fmt.Errorf("opinsys: %w", connector.ErrNoTransaction)
	}
	if req.Passive {
		return nil, fmt.Errorf("opinsys: passive login is not supported: %w", connector.ErrCancelled)
	}
	u, err := url.Parse(req.CallbackURL)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("opinsys: callback URL %q is not an absolute URL without fragment", req.CallbackURL)
	}
	q := u.Query()
	q.Set(ParamTransaction, req.TransactionID)
	u.RawQuery = q.Encode()
	ret := u.String()
	st, err := json.Marshal(state{ReturnTo: ret})
	if err != nil {
		return nil, fmt.Errorf("opinsys: state: %w", err)
	}
	c.log.DebugContext(ctx, "opinsys login started")
	return &connector.Started{
		Redirect: connector.Redirect{URL: c.endpoint + "?" + ParamReturnTo + "=" + url.QueryEscape(ret)},
		State:    st,
	}, nil
}

// TransactionID returns the tx parameter of the callback.
func (c *Connector) TransactionID(r *http.Request) (string, error) {
	tx := r.URL.Query().Get(ParamTransaction)
	if tx == "" {
		return "", fmt.Errorf("opinsys: %w", connector.ErrNoTransaction)
	}
	return tx, nil
}

// Callback verifies the JWT that Opinsys sent and returns the identity.
func (c *Connector) Callback(ctx context.Context, r *http.Request, req connector.LoginRequest, rawState []byte) (*connector.Identity, error) {
	var st state
	if err := json.Unmarshal(rawState, &st); err != nil || st.ReturnTo == "" {
		return nil, fmt.Errorf("opinsys: unusable transaction state: %w", connector.ErrInvalidResponse)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("opinsys: malformed callback query: %w", connector.ErrInvalidResponse)
	}
	if tx := q[ParamTransaction]; len(tx) != 1 || tx[0] != req.TransactionID {
		c.log.InfoContext(ctx, "opinsys callback rejected", "reason", "transaction mismatch")
		return nil, fmt.Errorf("opinsys: callback not for this transaction: %w", connector.ErrInvalidResponse)
	}
	tokens := q[ParamJWT]
	if len(tokens) != 1 {
		return nil, fmt.Errorf("opinsys: callback needs exactly one %s: %w", ParamJWT, connector.ErrInvalidResponse)
	}
	claims, err := VerifyJWT(tokens[0], c.secret)
	if err != nil {
		c.log.WarnContext(ctx, "opinsys callback rejected", "reason", err.Error())
		return nil, err
	}
	now := c.now()
	tok, err := c.checkClaims(claims, now, st.ReturnTo)
	if err != nil {
		c.log.WarnContext(ctx, "opinsys callback rejected", "reason", err.Error())
		return nil, err
	}
	ns, value := ReplayNamespaceJTI, tok.jti
	if value == "" {
		sum := sha256.Sum256([]byte(tokens[0]))
		ns, value = ReplayNamespaceToken, hex.EncodeToString(sum[:])
	}
	fresh, err := c.replay.MarkUsed(ctx, ns, value, tok.usableUntil)
	if err != nil {
		return nil, fmt.Errorf("opinsys: record token: %w", err)
	}
	if !fresh {
		c.log.WarnContext(ctx, "opinsys callback rejected", "reason", "token used before")
		return nil, fmt.Errorf("opinsys: token used before: %w", connector.ErrReplay)
	}
	attrs := Flatten(claims, "iat", "exp", "nbf", "jti")
	attrs["username"] = []string{tok.id}
	c.log.DebugContext(ctx, "opinsys login verified", "attributes", len(attrs))
	return &connector.Identity{Attributes: attrs, AuthnInstant: tok.iat}, nil
}

type checked struct {
	id, jti     string
	iat         time.Time
	usableUntil time.Time
}

func (c *Connector) checkClaims(claims map[string]any, now time.Time, returnTo string) (*checked, error) {
	exp, err := numericDate(claims, "exp", true)
	if err != nil {
		return nil, err
	}
	iat, err := numericDate(claims, "iat", true)
	if err != nil {
		return nil, err
	}
	nbf, err := numericDate(claims, "nbf", false)
	if err != nil {
		return nil, err
	}
	switch {
	case now.After(exp.Add(c.skew)):
		return nil, fmt.Errorf("opinsys: token expired: %w", connector.ErrExpired)
	case iat.After(now.Add(c.skew)):
		return nil, fmt.Errorf("opinsys: token issued in the future: %w", connector.ErrExpired)
	case now.After(iat.Add(c.maxAge + c.skew)):
		return nil, fmt.Errorf("opinsys: token too old: %w", connector.ErrExpired)
	case !nbf.IsZero() && nbf.After(now.Add(c.skew)):
		return nil, fmt.Errorf("opinsys: token not yet valid: %w", connector.ErrExpired)
	}
	out := &checked{iat: iat}
	out.usableUntil = iat.Add(c.maxAge)
	if exp.Before(out.usableUntil) {
		out.usableUntil = exp
	}
	out.usableUntil = out.usableUntil.Add(2 * c.skew)
	if out.id = scalar(claims["id"]); out.id == "" {
		return nil, fmt.Errorf("opinsys: token without id: %w", connector.ErrInvalidResponse)
	}
	if v, ok := claims["jti"]; ok {
		if out.jti = scalar(v); out.jti == "" {
			return nil, fmt.Errorf("opinsys: malformed jti: %w", connector.ErrInvalidResponse)
		}
	}
	if v, ok := claims[ParamReturnTo]; ok && scalar(v) != returnTo {
		return nil, fmt.Errorf("opinsys: token issued for another return_to: %w", connector.ErrInvalidResponse)
	}
	return out, nil
}

// numericDate reads a JWT NumericDate claim (seconds, possibly fractional).
func numericDate(claims map[string]any, name string, required bool) (time.Time, error) {
	v, ok := claims[name]
	if !ok {
		if required {
			return time.Time{}, fmt.Errorf("opinsys: token without %s: %w", name, connector.ErrInvalidResponse)
		}
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("opinsys: %s is not a number: %w", name, connector.ErrInvalidResponse)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("opinsys: %s out of range: %w", name, connector.ErrInvalidResponse)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// VerifyJWT checks that token is a compact JWS with alg HS256 whose HMAC
// under secret matches, and returns its claims (numbers as json.Number).
// It checks no claims. Errors wrap connector.ErrInvalidResponse.
func VerifyJWT(token string, secret []byte) (map[string]any, error) {
	bad := func(why string) error { return fmt.Errorf("opinsys: %s: %w", why, connector.ErrInvalidResponse) }
	if len(token) > MaxTokenLength {
		return nil, bad("token too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, bad("token is not a compact JWS")
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return nil, bad("malformed token header")
	}
	var header map[string]any
	if err := decodeObject(hb, &header); err != nil {
		return nil, bad("malformed token header")
	}
	if alg, _ := header["alg"].(string); alg != "HS256" {
		return nil, bad(fmt.Sprintf("token algorithm %.20q is not HS256", alg))
	}
	if _, ok := header["crit"]; ok {
		return nil, bad("token has critical header parameters")
	}
	if typ, ok := header["typ"]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") {
			return nil, bad("token type is not JWT")
		}
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil, bad("malformed token signature")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, bad("token signature does not match")
	}
	pb, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, bad("malformed token payload")
	}
	var claims map[string]any
	if err := decodeObject(pb, &claims); err != nil || claims == nil {
		return nil, bad("token payload is not a JSON object")
	}
	return claims, nil
}

// decodeObject decodes one JSON value, numbers as json.Number, and
// nothing after it.
func decodeObject(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

// scalar renders a string, number or boolean claim; "" for anything else.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

// Flatten turns JSON claims into attributes as the package documentation
// describes, leaving out the claims named in skip.
func Flatten(claims map[string]any, skip ...string) map[string][]string {
	out := map[string][]string{}
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
next:
	for _, k := range names {
		for _, s := range skip {
			if k == s {
				continue next
			}
		}
		flatten(out, k, claims[k], 0)
	}
	return out
}

// maxDepth bounds the nesting Flatten follows.
const maxDepth = 8

func flatten(out map[string][]string, name string, v any, depth int) {
	if depth > maxDepth {
		return
	}
	switch x := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			flatten(out, name+"."+k, x[k], depth+1)
		}
	case []any:
		for _, e := range x {
			flatten(out, name, e, depth+1)
		}
	default:
		if s := scalar(x); s != "" {
			out[name] = append(out[name], s)
		}
	}
}
