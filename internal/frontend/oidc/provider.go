package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/store"
)

// Endpoint paths, as the national MPASSid has them.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/idp/profile/oidc/authorize"
	PathToken      = "/idp/profile/oidc/token"
	PathUserinfo   = "/idp/profile/oidc/userinfo"
	PathJWKS       = "/idp/profile/oidc/keyset"
	PathEndSession = "/idp/profile/oidc/logout"
	// PathLoggedOut shows that the logout is done, where a logout chain
	// through other services ends when the client gave no return address.
	PathLoggedOut     = "/idp/profile/oidc/logout/done"
	assertionReplayNS = "oidc-client-assertion"
)

// Defaults of Config.
const (
	DefaultCodeLifetime         = 60 * time.Second
	DefaultAccessTokenLifetime  = 10 * time.Minute
	DefaultRefreshTokenLifetime = 8 * time.Hour
	DefaultIDTokenLifetime      = time.Hour
	// MinPairwiseSaltLen is the least salt length New accepts.
	MinPairwiseSaltLen = 16
)

// Config configures a Provider.
type Config struct {
	// Issuer is the provider's issuer identifier: an absolute http(s) URL
	// without a trailing slash, query or fragment. Endpoints are below it.
	Issuer string
	// Lifetimes; zero means the Default... constant.
	CodeLifetime         time.Duration
	AccessTokenLifetime  time.Duration
	RefreshTokenLifetime time.Duration
	IDTokenLifetime      time.Duration
	// PairwiseSalt is the secret mixed into pairwise subject identifiers;
	// at least MinPairwiseSaltLen bytes. Changing it changes every pairwise
	// sub.
	PairwiseSalt []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Deps are the provider's collaborators.
type Deps struct {
	// Flow runs logins and sessions.
	Flow broker.Flow
	// Keys returns the current signing-key snapshot.
	Keys func() *keys.KeySet
	// Runtime stores codes, tokens and the client-assertion replay cache.
	Runtime store.Runtime
	// OpenSecret unseals a client secret; the associated data is the
	// client_id.
	OpenSecret func(sealed, clientID string) (string, error)
	// Sealer seals authorization codes: a code carries its grant, sealed,
	// so that issuing one writes nothing (see exchangeCode).
	Sealer *keys.Sealer
	// HTTPClient fetches client jwks_uri documents and sends back-channel
	// logout tokens; nil means a client with a 5-second timeout.
	HTTPClient *http.Client
	// Logger; nil discards.
	Logger *slog.Logger
}

// Provider is the OpenID provider. It is safe for concurrent use.
type Provider struct {
	cfg        Config
	flow       broker.Flow
	keys       func() *keys.KeySet
	rt         store.Runtime
	openSecret func(sealed, clientID string) (string, error)
	sealer     *keys.Sealer
	http       *http.Client
	log        *slog.Logger
	now        func() time.Time

	tokenURL   string
	discovery  []byte
	jwks       *jwksCache
	inlineJWKS *inlineJWKSCache
}

var _ broker.Responder = (*Provider)(nil)

// New checks cfg and deps and returns a Provider.
func New(cfg Config, deps Deps) (*Provider, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("oidc: New: %w", err)
	}
	switch {
	case deps.Flow == nil:
		return nil, errors.New("oidc: New: nil Flow")
	case deps.Keys == nil:
		return nil, errors.New("oidc: New: nil Keys")
	case deps.Runtime == nil:
		return nil, errors.New("oidc: New: nil Runtime")
	case deps.OpenSecret == nil:
		return nil, errors.New("oidc: New: nil OpenSecret")
	case deps.Sealer == nil:
		return nil, errors.New("oidc: New: nil Sealer")
	case len(cfg.PairwiseSalt) < MinPairwiseSaltLen:
		return nil, fmt.Errorf("oidc: New: PairwiseSalt must have at least %d bytes", MinPairwiseSaltLen)
	}
	for _, d := range []*time.Duration{&cfg.CodeLifetime, &cfg.AccessTokenLifetime, &cfg.RefreshTokenLifetime, &cfg.IDTokenLifetime} {
		if *d < 0 {
			return nil, fmt.Errorf("oidc: New: negative lifetime %s", *d)
		}
	}
	if cfg.CodeLifetime == 0 {
		cfg.CodeLifetime = DefaultCodeLifetime
	}
	if cfg.AccessTokenLifetime == 0 {
		cfg.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if cfg.RefreshTokenLifetime == 0 {
		cfg.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if cfg.IDTokenLifetime == 0 {
		cfg.IDTokenLifetime = DefaultIDTokenLifetime
	}
	cfg.PairwiseSalt = append([]byte(nil), cfg.PairwiseSalt...)
	p := &Provider{
		cfg:        cfg,
		flow:       deps.Flow,
		keys:       deps.Keys,
		rt:         deps.Runtime,
		openSecret: deps.OpenSecret,
		sealer:     deps.Sealer,
		http:       deps.HTTPClient,
		log:        deps.Logger,
		now:        cfg.Now,
		tokenURL:   cfg.Issuer + PathToken,
	}
	if p.http == nil {
		p.http = &http.Client{Timeout: 5 * time.Second}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With(slog.String("frontend", "oidc"))
	if p.now == nil {
		p.now = time.Now
	}
	var err error
	if p.discovery, err = discoveryDocument(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("oidc: New: %w", err)
	}
	p.jwks = &jwksCache{client: p.http, now: p.now, entries: map[string]*jwksEntry{}}
	p.inlineJWKS = &inlineJWKSCache{byClient: map[string]inlineJWKS{}}
	return p, nil
}

func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", iss, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(iss, "/") || u.Opaque != "" {
		return fmt.Errorf("issuer %q: want an absolute http(s) URL without query, fragment or trailing slash", iss)
	}
	return nil
}

// Routes mounts the provider's endpoints on mux.
func (p *Provider) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathDiscovery, p.handleDiscovery)
	mux.HandleFunc("GET "+PathJWKS, p.handleJWKS)
	mux.HandleFunc("GET "+PathAuthorize, p.handleAuthorize)
	mux.HandleFunc("POST "+PathAuthorize, p.handleAuthorize)
	mux.HandleFunc("POST "+PathToken, p.handleToken)
	mux.HandleFunc("OPTIONS "+PathToken, p.handlePreflight)
	mux.HandleFunc("GET "+PathUserinfo, p.handleUserinfo)
	mux.HandleFunc("POST "+PathUserinfo, p.handleUserinfo)
	mux.HandleFunc("OPTIONS "+PathUserinfo, p.handlePreflight)
	mux.HandleFunc("GET "+PathEndSession, p.handleEndSession)
	mux.HandleFunc("POST "+PathEndSession, p.handleEndSession)
	mux.HandleFunc("GET "+PathLoggedOut, p.serveLoggedOut)
}

// catalog returns the current configuration snapshot, or nil.
func (p *Provider) catalog() *broker.Catalog { return p.flow.Catalog() }

// randomToken returns 256 random bits, base64url without padding.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is how codes and tokens are stored: base64url(SHA-256(v)).
func hashToken(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// jwksCache caches clients' jwks_uri documents.
type jwksCache struct {
	client  *http.Client
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]*jwksEntry
}
