package saml

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// Routes of the identity provider, the national Shibboleth paths.
const (
	PathMetadata    = "/idp/metadata"
	PathShibboleth  = "/idp/shibboleth"
	PathSSORedirect = "/idp/profile/SAML2/Redirect/SSO"
	PathSSOPOST     = "/idp/profile/SAML2/POST/SSO"
	PathSLORedirect = "/idp/profile/SAML2/Redirect/SLO"
	PathSLOPOST     = "/idp/profile/SAML2/POST/SLO"
	// PathAutoSubmit serves the script that submits the HTTP-POST forms;
	// the Content-Security-Policy forbids inline script.
	PathAutoSubmit = "/idp/static/autosubmit.js"
)

// SAML bindings, name id formats and status codes.
const (
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

	nameIDTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	nameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	nameIDEntity      = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	cmBearer          = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	StatusSuccess             = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester           = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder           = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusNoPassive           = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusAuthnFailed         = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusNoAuthnContext      = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	StatusRequestDenied       = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusInvalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusPartialLogout       = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
	StatusUnknownPrincipal    = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"
)

// Defaults of Config.
const (
	DefaultAssertionLifetime = 5 * time.Minute
	DefaultRequestMaxAge     = 5 * time.Minute
	DefaultClockSkew         = 90 * time.Second
	// DefaultMetadataValidity is how long signed metadata stays valid
	// (validUntil).
	DefaultMetadataValidity = 7 * 24 * time.Hour
)

// ReplayNamespace is the store.Runtime.MarkUsed namespace of AuthnRequest
// IDs; LogoutRequest IDs use ReplayNamespaceLogout.
const (
	ReplayNamespace       = "saml-authnrequest"
	ReplayNamespaceLogout = "saml-logoutrequest"
)

// Config configures the identity provider.
type Config struct {
	// EntityID is the IdP's entityID, e.g. the public URL + "/idp".
	EntityID string
	// BaseURL is the public URL the routes are mounted under (scheme, host
	// and an optional path prefix), without a trailing slash.
	BaseURL string
	// AssertionLifetime bounds the assertion (Conditions and
	// SubjectConfirmationData); default 5 minutes.
	AssertionLifetime time.Duration
	// RequestMaxAge is how old an AuthnRequest or LogoutRequest may be
	// (IssueInstant); default 5 minutes. ClockSkew (default 90 s) is
	// tolerated on both sides of it.
	RequestMaxAge time.Duration
	ClockSkew     time.Duration
	// SignMetadata signs the metadata document (with validUntil
	// MetadataValidity ahead, default 7 days).
	SignMetadata     bool
	MetadataValidity time.Duration
	// AllowSHA1 accepts rsa-sha1 signatures on requests from services.
	// Off by default: SHA-1 signatures are forgeable with chosen-prefix
	// collisions. Turn it on only for a legacy client library that cannot
	// be configured for rsa-sha256 (old ruby-saml defaults to rsa-sha1).
	AllowSHA1 bool
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Deps are the identity provider's collaborators.
type Deps struct {
	Flow broker.Flow
	// Keys returns the current key snapshot; it is called on every request
	// that signs or publishes, so a reloaded snapshot takes effect at once.
	Keys    func() *keys.KeySet
	Runtime store.Runtime
	Logger  *slog.Logger
	// Sealer seals the session reference into transient NameIDs.
	Sealer *keys.Sealer
}

// IdP is the SAML 2.0 identity provider frontend. It is safe for
// concurrent use.
type IdP struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	// endpoint URLs
	ssoRedirect, ssoPOST, sloRedirect, sloPOST, script string
	// bufs pools the scratch buffers Responses are written in (*xmlBuf).
	bufs sync.Pool
	// certs caches the services' registered certificates, parsed.
	certs certCache
	// inflater decompresses the HTTP-Redirect binding's messages.
	inflater inflater
}

// New checks the configuration and returns an IdP.
func New(cfg Config, deps Deps) (*IdP, error) {
	if cfg.EntityID == "" {
		return nil, errors.New("saml idp: EntityID is required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("saml idp: BaseURL %q must be an absolute http(s) URL without query or fragment", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if deps.Flow == nil || deps.Keys == nil || deps.Runtime == nil || deps.Sealer == nil {
		return nil, errors.New("saml idp: Flow, Keys, Runtime and Sealer are required")
	}
	if cfg.AssertionLifetime <= 0 {
		cfg.AssertionLifetime = DefaultAssertionLifetime
	}
	if cfg.RequestMaxAge <= 0 {
		cfg.RequestMaxAge = DefaultRequestMaxAge
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.MetadataValidity <= 0 {
		cfg.MetadataValidity = DefaultMetadataValidity
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idp := &IdP{cfg: cfg, deps: deps, log: log.With("component", "saml-idp")}
	idp.ssoRedirect = cfg.BaseURL + PathSSORedirect
	idp.ssoPOST = cfg.BaseURL + PathSSOPOST
	idp.sloRedirect = cfg.BaseURL + PathSLORedirect
	idp.sloPOST = cfg.BaseURL + PathSLOPOST
	idp.script = base.Path + PathAutoSubmit
	if base.Path == "/" {
		idp.script = PathAutoSubmit
	}
	return idp, nil
}

// EntityID returns the IdP's entityID.
func (idp *IdP) EntityID() string { return idp.cfg.EntityID }

// Routes mounts the metadata, SSO and SLO endpoints and the form script.
func (idp *IdP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathMetadata, idp.serveMetadata)
	mux.HandleFunc("GET "+PathShibboleth, idp.serveMetadata)
	mux.HandleFunc("GET "+PathSSORedirect, idp.serveSSORedirect)
	mux.HandleFunc("POST "+PathSSOPOST, idp.serveSSOPOST)
	mux.HandleFunc("GET "+PathSLORedirect, idp.serveSLORedirect)
	mux.HandleFunc("POST "+PathSLOPOST, idp.serveSLOPOST)
	mux.HandleFunc("GET "+PathAutoSubmit, serveAutoSubmit)
}

func (idp *IdP) now() time.Time { return idp.cfg.Now().UTC() }

// signingKey returns the current SAML signing key.
func (idp *IdP) signingKey() (*keys.SigningKey, *keys.KeySet, error) {
	ks := idp.deps.Keys()
	if ks == nil {
		return nil, nil, errors.New("saml idp: no key set loaded")
	}
	k, err := ks.SAMLSigningKey()
	if err != nil {
		return nil, nil, fmt.Errorf("saml idp: %w", err)
	}
	return k, ks, nil
}

// newID returns a fresh SAML ID: "_" and 40 hex digits (160 random bits).
func newID() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("saml idp: crypto/rand: %v", err)) // never happens: crypto/rand does not fail
	}
	return "_" + hex.EncodeToString(b[:])
}

// samlTimeLayout is xs:dateTime as SAML writes it: UTC, milliseconds.
const samlTimeLayout = "2006-01-02T15:04:05.000Z"

// samlTime formats t as SAML does (xs:dateTime, UTC, milliseconds).
func samlTime(t time.Time) string { return t.UTC().Format(samlTimeLayout) }

// parseSAMLTime reads an xs:dateTime; SAML requires UTC but some senders
// add an offset, which is honoured.
func parseSAMLTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("bad xs:dateTime %q", truncate(s, 40))
	}
	return t.UTC(), nil
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// logCtx returns the request's context (never nil).
func logCtx(r *http.Request) context.Context {
	if r == nil {
		return context.Background()
	}
	return r.Context()
}
