// Package oidc connects the broker, as an OpenID Connect relying party, to
// an upstream OpenID Provider: Microsoft Entra ID (the modern alternative to
// its SAML federation), Google, or any standards-compliant OP. The broker is
// a confidential client using the authorization code flow.
//
// Why each check:
//   - PKCE (S256) binds the code to this login's verifier, so that a code
//     stolen from the redirect is useless;
//   - state binds the answer to the transaction. It is sent upstream as
//     "<transaction id>.<random>", so that TransactionID can find the
//     transaction before anything is verified, while the random part, kept
//     in the connector state and compared in constant time, makes it
//     unguessable. A state is consumed on its first Callback (ReplayCache,
//     namespace "oidc-state"); the code itself is single use upstream;
//   - the nonce, also kept in the connector state, must come back in the ID
//     token, binding the token to this login;
//   - the ID token's signature is checked against the OP's JWKS
//     (discovered; keys refetched when none verifies), with an algorithm
//     the OP announced, and its issuer, audience (client id), authorized
//     party, expiry and not-before (idtoken.go); at_hash is checked when
//     present, and a userinfo answer must name the same subject.
//
// Discovery is lazy: the first Start or Callback fetches the OP's
// configuration (with that request's context); a success is cached for the
// connector's lifetime, a failure is retried on the next login.
//
// Attributes. Claims of the ID token, then those of userinfo that the ID
// token lacks (when Config.UserInfo is set and the OP has a userinfo
// endpoint), become raw attributes named as the claims: strings as such,
// numbers as written, booleans "true"/"false", arrays of those as several
// values; nested objects and null are skipped,
// and so are the protocol claims that say nothing about the user (aud, azp,
// exp, iat, nbf, nonce, at_hash, c_hash, auth_time). Identity.NameID is
// sub, SessionIndex the sid claim, AuthnInstant auth_time when sent.
//
// Presets: PresetEntraID derives the issuer
// https://login.microsoftonline.com/<tenant id>/v2.0 from a tenant GUID (the
// "common" and "organizations" endpoints issue tokens with each tenant's own
// issuer and are not supported); PresetGoogle uses
// https://accounts.google.com; PresetGeneric takes Config.Issuer.
//
// The login options: ForceAuthn sends prompt=login, Passive prompt=none
// (an OP answering login_required, interaction_required and the like yields
// connector.ErrCancelled); the user's language is sent as ui_locales.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mpassid/mpassid/internal/connector"
)

// Preset names an upstream OP family.
type Preset string

// Presets.
const (
	PresetGeneric Preset = "generic"
	PresetEntraID Preset = "entra"
	PresetGoogle  Preset = "google"
)

// Issuers of the presets.
const (
	GoogleIssuer      = "https://accounts.google.com"
	entraIssuerPrefix = "https://login.microsoftonline.com/"
)

// ReplayNamespace is the ReplayCache namespace of consumed states.
const ReplayNamespace = "oidc-state"

// DefaultStateTTL is how long a consumed state is remembered by default; it
// must outlive the broker's login transactions.
const DefaultStateTTL = 2 * time.Hour

// Config configures one upstream OP.
type Config struct {
	// Preset is the OP family; "" means PresetGeneric.
	Preset Preset
	// Issuer is the OP's issuer URL (PresetGeneric only; model.IdP.Issuer).
	Issuer string
	// TenantID is the Entra ID tenant GUID (PresetEntraID only).
	TenantID string
	// ClientID and ClientSecret are the broker's client registration at the
	// OP; ClientSecret in clear. Without a secret the broker is a public
	// client (PKCE only).
	ClientID     string
	ClientSecret string
	// Scopes to ask for; nil means openid, profile and email. "openid" is
	// always included.
	Scopes []string
	// UserInfo makes Callback fetch the userinfo endpoint as well, when
	// the OP's discovery names one.
	UserInfo bool
	// AuthParams are extra authorization request parameters, e.g. Google's
	// hd or Entra's domain_hint. They cannot override the protocol's own.
	AuthParams map[string]string
	// HTTPClient is used for discovery, JWKS, token and userinfo requests;
	// nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// StateTTL is how long a consumed state is remembered; 0 means
	// DefaultStateTTL.
	StateTTL time.Duration
	// Logger receives diagnostics (never secrets, tokens or claims); nil
	// means slog.Default().
	Logger *slog.Logger
}

// Connector is a connector.Connector for one upstream OP.
type Connector struct {
	issuer     string
	clientID   string
	secret     string
	scopes     []string
	userInfo   bool
	authParams map[string]string
	client     *http.Client
	ttl        time.Duration
	log        *slog.Logger
	replay     connector.ReplayCache
	now        func() time.Time

	mu sync.Mutex
	op *discovered
}

// discovered is what the cached discovery yields.
type discovered struct {
	oauth       *oauth2.Config // builds the authorization request
	tokenURL    string
	userInfoURL string
	auth        clientAuth
	verifier    *IDTokenVerifier
}

var _ connector.Connector = (*Connector)(nil)

var entraTenant = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// reservedParams are authorization parameters the connector sets itself.
var reservedParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "response_mode", "request", "request_uri"}

// New builds an OIDC connector; nothing is fetched until the first login.
// replay records consumed states; now is the clock (nil means time.Now),
// also used for ID token expiry.
func New(cfg Config, replay connector.ReplayCache, now func() time.Time) (*Connector, error) {
	c := &Connector{
		clientID: cfg.ClientID, secret: cfg.ClientSecret, userInfo: cfg.UserInfo,
		client: cfg.HTTPClient, ttl: cfg.StateTTL, log: cfg.Logger, replay: replay, now: now,
		authParams: map[string]string{},
	}
	switch cfg.Preset {
	case PresetGeneric, "":
		c.issuer = strings.TrimSpace(cfg.Issuer)
		u, err := url.Parse(c.issuer)
		if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("oidc: issuer %q is not an http(s) URL without query", cfg.Issuer)
		}
	case PresetEntraID:
		if !entraTenant.MatchString(cfg.TenantID) {
			return nil, fmt.Errorf("oidc: Entra ID tenant id %q is not a GUID", cfg.TenantID)
		}
		c.issuer = entraIssuerPrefix + strings.ToLower(cfg.TenantID) + "/v2.0"
	case PresetGoogle:
		c.issuer = GoogleIssuer
	default:
		return nil, fmt.Errorf("oidc: unknown preset %q", cfg.Preset)
	}
	if c.clientID == "" {
		return nil, errors.New("oidc: client id is required")
	}
	if replay == nil {
		return nil, errors.New("oidc: a replay cache is required")
	}
	c.scopes = []string{gooidc.ScopeOpenID}
	scopes := cfg.Scopes
	if scopes == nil {
		scopes = []string{"profile", "email"}
	}
	for _, s := range scopes {
		if s != "" && !slices.Contains(c.scopes, s) {
			c.scopes = append(c.scopes, s)
		}
	}
	for k, v := range cfg.AuthParams {
		if slices.Contains(reservedParams, k) {
			return nil, fmt.Errorf("oidc: authorization parameter %q is set by the connector", k)
		}
		c.authParams[k] = v
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.ttl <= 0 {
		c.ttl = DefaultStateTTL
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("connector", "oidc", "issuer", c.issuer)
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Issuer returns the OP's issuer URL.
func (c *Connector) Issuer() string { return c.issuer }

// discover returns the cached discovery, fetching it on first use.
func (c *Connector) discover(ctx context.Context) (*discovered, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.op != nil {
		return c.op, nil
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, c.client), c.issuer)
	if err != nil {
		c.log.WarnContext(ctx, "OIDC discovery failed", "err", err)
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		JWKSURL     string   `json:"jwks_uri"`
		UserInfoURL string   `json:"userinfo_endpoint"`
		Algorithms  []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}
	ep := p.Endpoint()
	if ep.TokenURL == "" || meta.JWKSURL == "" {
		return nil, errors.New("oidc: discovery: the provider names no token_endpoint or no jwks_uri")
	}
	d := &discovered{tokenURL: ep.TokenURL, userInfoURL: meta.UserInfoURL}
	switch {
	case c.secret == "":
		d.auth = authNone
	case len(meta.AuthMethods) == 0 || slices.Contains(meta.AuthMethods, "client_secret_basic"):
		d.auth = authBasic
	case slices.Contains(meta.AuthMethods, "client_secret_post"):
		d.auth = authPost
	default:
		return nil, fmt.Errorf("oidc: the OP supports neither client_secret_basic nor client_secret_post (%v)", meta.AuthMethods)
	}
	var algs []string
	for _, a := range meta.Algorithms {
		if slices.Contains(supportedAlgs, a) && !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{"RS256"} // OpenID Connect Discovery 1.0, section 3
	}
	d.verifier = NewIDTokenVerifier(c.issuer, c.clientID, meta.JWKSURL, algs, c.client, c.now)
	d.oauth = &oauth2.Config{ClientID: c.clientID, Endpoint: ep, Scopes: c.scopes}
	c.op = d
	c.log.InfoContext(ctx, "OIDC provider discovered")
	if c.userInfo && d.userInfoURL == "" {
		c.log.InfoContext(ctx, "OIDC provider names no userinfo endpoint: attributes come from the ID token alone")
	}
	return c.op, nil
}

// state is the connector state kept with the transaction.
type state struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// Capabilities: prompt=login and prompt=none.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{ForceAuthn: true, Passive: true}
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start sends the user to the OP's authorization endpoint.
func (c *Connector) Start(ctx context.Context, req connector.LoginRequest) (*connector.Started, error) {
	if req.TransactionID == "" {
		return nil, fmt.Errorf("oidc: %w", connector.ErrNoTransaction)
	}
	cb, err := url.Parse(req.CallbackURL)
	if err != nil || !cb.IsAbs() || cb.Host == "" || cb.Fragment != "" {
		return nil, fmt.Errorf("oidc: callback URL %q is not an absolute URL without fragment", req.CallbackURL)
	}
	op, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	st := state{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("redirect_uri", req.CallbackURL),
		gooidc.Nonce(st.Nonce),
		oauth2.S256ChallengeOption(st.Verifier),
	}
	for k, v := range c.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	switch {
	case req.Passive:
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "none"))
	case req.ForceAuthn:
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if req.Language != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", req.Language))
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("oidc: state: %w", err)
	}
	return &connector.Started{
		Redirect: connector.Redirect{URL: op.oauth.AuthCodeURL(req.TransactionID+"."+st.State, opts...)},
		State:    raw,
	}, nil
}

// CallbackParams are the parameters of an authorization response.
type CallbackParams struct {
	// Transaction and Random are the two parts of state.
	Transaction, Random string
	// Code is the authorization code; empty when Error is set.
	Code string
	// Error is the OP's error code, if it refused.
	Error string
}

// ParseCallback parses the query of an authorization response: state once,
// "<transaction>.<random>"; then either error or code, once. Errors wrap
// connector.ErrNoTransaction when state is unusable, otherwise
// connector.ErrInvalidResponse.
func ParseCallback(rawQuery string) (*CallbackParams, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("oidc: malformed callback query: %w", connector.ErrInvalidResponse)
	}
	s := q["state"]
	if len(s) != 1 {
		return nil, fmt.Errorf("oidc: callback needs exactly one state: %w", connector.ErrNoTransaction)
	}
	i := strings.LastIndexByte(s[0], '.')
	if i <= 0 || i == len(s[0])-1 {
		return nil, fmt.Errorf("oidc: malformed state: %w", connector.ErrNoTransaction)
	}
	p := &CallbackParams{Transaction: s[0][:i], Random: s[0][i+1:]}
	if e := q["error"]; len(e) > 0 {
		if len(e) != 1 || e[0] == "" {
			return nil, fmt.Errorf("oidc: malformed error: %w", connector.ErrInvalidResponse)
		}
		p.Error = e[0]
		return p, nil
	}
	if code := q["code"]; len(code) != 1 || code[0] == "" {
		return nil, fmt.Errorf("oidc: callback needs exactly one code: %w", connector.ErrInvalidResponse)
	} else {
		p.Code = code[0]
	}
	return p, nil
}

// TransactionID returns the transaction part of state.
func (c *Connector) TransactionID(r *http.Request) (string, error) {
	p, err := ParseCallback(r.URL.RawQuery)
	if err != nil {
		if errors.Is(err, connector.ErrNoTransaction) {
			return "", err
		}
		// Still try: a malformed answer should reach Callback's error page
		// for its transaction.
		s := r.URL.Query().Get("state")
		if i := strings.LastIndexByte(s, '.'); i > 0 {
			return s[:i], nil
		}
		return "", fmt.Errorf("oidc: %w", connector.ErrNoTransaction)
	}
	return p.Transaction, nil
}

// cancelCodes are OP errors that mean the user or the OP did not complete
// the login rather than a fault.
var cancelCodes = []string{"access_denied", "login_required", "interaction_required", "consent_required",
	"account_selection_required", "temporarily_unavailable"}

// Callback verifies the authorization response, redeems the code and
// verifies the ID token.
func (c *Connector) Callback(ctx context.Context, r *http.Request, req connector.LoginRequest, rawState []byte) (*connector.Identity, error) {
	var st state
	if err := json.Unmarshal(rawState, &st); err != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return nil, fmt.Errorf("oidc: unusable transaction state: %w", connector.ErrInvalidResponse)
	}
	p, err := ParseCallback(r.URL.RawQuery)
	if err != nil {
		if errors.Is(err, connector.ErrNoTransaction) {
			err = fmt.Errorf("oidc: callback without usable state: %w", connector.ErrInvalidResponse)
		}
		return nil, err
	}
	if p.Transaction != req.TransactionID || subtle.ConstantTimeCompare([]byte(p.Random), []byte(st.State)) != 1 {
		c.log.WarnContext(ctx, "OIDC callback rejected", "reason", "state mismatch")
		return nil, fmt.Errorf("oidc: state is not this transaction's: %w", connector.ErrInvalidResponse)
	}
	fresh, err := c.replay.MarkUsed(ctx, ReplayNamespace, p.Transaction+"."+p.Random, c.now().Add(c.ttl))
	if err != nil {
		return nil, fmt.Errorf("oidc: record state: %w", err)
	}
	if !fresh {
		c.log.WarnContext(ctx, "OIDC callback rejected", "reason", "state used before")
		return nil, fmt.Errorf("oidc: state used before: %w", connector.ErrReplay)
	}
	if p.Error != "" {
		code := p.Error
		if len(code) > 40 {
			code = code[:40]
		}
		c.log.InfoContext(ctx, "OIDC provider refused the login", "error", code)
		if slices.Contains(cancelCodes, p.Error) {
			return nil, fmt.Errorf("oidc: provider answered %q: %w", code, connector.ErrCancelled)
		}
		return nil, fmt.Errorf("oidc: provider answered %q: %w", code, connector.ErrInvalidResponse)
	}
	op, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := c.exchange(ctx, op, p.Code, req.CallbackURL, st.Verifier)
	if err != nil {
		var refused *refusedError
		if errors.As(err, &refused) {
			code := refused.code
			if len(code) > 40 {
				code = code[:40]
			}
			c.log.WarnContext(ctx, "OIDC code exchange refused", "error", code)
			return nil, fmt.Errorf("oidc: token endpoint refused the code (%s): %w", code, connector.ErrInvalidResponse)
		}
		c.upstreamFailed(ctx, "OIDC code exchange failed", err)
		return nil, fmt.Errorf("oidc: token request: %w", err)
	}
	idt, err := op.verifier.Verify(ctx, tok.IDToken)
	if err != nil {
		c.log.WarnContext(ctx, "OIDC ID token rejected", "err", err)
		if errors.Is(err, errTokenExpired) {
			return nil, fmt.Errorf("oidc: ID token expired: %w", connector.ErrExpired)
		}
		return nil, fmt.Errorf("oidc: ID token: %v: %w", err, connector.ErrInvalidResponse)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Claim("nonce")), []byte(st.Nonce)) != 1 {
		c.log.WarnContext(ctx, "OIDC ID token rejected", "reason", "nonce mismatch")
		return nil, fmt.Errorf("oidc: ID token nonce is not this login's: %w", connector.ErrInvalidResponse)
	}
	sub := idt.Claim("sub")
	if sub == "" {
		return nil, fmt.Errorf("oidc: ID token without sub: %w", connector.ErrInvalidResponse)
	}
	if atHash, present := idt.Claims["at_hash"]; present {
		s, _ := atHash.(string)
		if !accessTokenHashMatches(idt.Alg, s, tok.AccessToken) {
			return nil, fmt.Errorf("oidc: at_hash does not match: %w", connector.ErrInvalidResponse)
		}
	}
	id := &connector.Identity{NameID: sub, SessionIndex: idt.Claim("sid")}
	if n, ok := idt.Claims["auth_time"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v > 0 {
			id.AuthnInstant = time.Unix(v, 0)
		}
	}
	id.Attributes = Attributes(idt.Claims)
	if c.userInfo && op.userInfoURL != "" {
		uclaims, err := c.fetchUserInfo(ctx, op, tok.AccessToken)
		if err != nil {
			c.upstreamFailed(ctx, "OIDC userinfo failed", err)
			return nil, fmt.Errorf("oidc: userinfo: %w", err)
		}
		if uclaims["sub"] != sub {
			return nil, fmt.Errorf("oidc: userinfo is about another subject: %w", connector.ErrInvalidResponse)
		}
		for k, v := range Attributes(uclaims) {
			if _, ok := id.Attributes[k]; !ok {
				id.Attributes[k] = v
			}
		}
	}
	c.log.DebugContext(ctx, "OIDC login verified", "attributes", len(id.Attributes))
	return id, nil
}

// protocolClaims say nothing about the user and are not attributes.
var protocolClaims = []string{"aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "auth_time"}

// Attributes turns claims (numbers as json.Number) into raw attributes as
// the package documentation describes.
func Attributes(claims map[string]any) map[string][]string {
	out := map[string][]string{}
	for k, v := range claims {
		if slices.Contains(protocolClaims, k) {
			continue
		}
		var vals []string
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if s, ok := scalar(e); ok && s != "" {
					vals = append(vals, s)
				}
			}
		} else if s, ok := scalar(v); ok && s != "" {
			vals = []string{s}
		}
		if len(vals) > 0 {
			out[k] = vals
		}
	}
	return out
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// upstreamFailed logs a call to the provider that failed: a warning, unless
// the login's request ended first (its browser went away) and that is what
// cut the call short, which is routine.
func (c *Connector) upstreamFailed(ctx context.Context, msg string, err error) {
	level := slog.LevelWarn
	if connector.ClientGone(ctx, err) {
		level = slog.LevelInfo
	}
	c.log.Log(ctx, level, msg, "err", err)
}
