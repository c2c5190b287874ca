package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/model"
)

// Client authentication methods (token_endpoint_auth_method).
const (
	authSecretBasic   = "client_secret_basic"
	authSecretPost    = "client_secret_post"
	authSecretJWT     = "client_secret_jwt"
	authPrivateKeyJWT = "private_key_jwt"
	authNone          = "none"

	assertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

	// assertionLeeway is the clock skew allowed on client assertions.
	assertionLeeway = 30 * time.Second
	// maxAssertionLifetime bounds how far in the future an assertion's exp
	// may lie, which bounds the replay cache.
	maxAssertionLifetime = time.Hour
	maxAssertionLen      = 8 << 10
	maxJWKSBytes         = 64 << 10
	jwksTTL              = 5 * time.Minute
	jwksMinRefresh       = 30 * time.Second
)

// authMethod is the client's registered method; client_secret_basic when
// none is registered.
func authMethod(reg *model.OIDCMetadata) string {
	if reg.TokenEndpointAuthMethod == "" {
		return authSecretBasic
	}
	return reg.TokenEndpointAuthMethod
}

// clientCredentials is what a token request presented to authenticate the
// client, before any check against the registration.
type clientCredentials struct {
	Method   string
	ClientID string
	// Secret is the client_secret (basic, post).
	Secret string
	// RawSecret is the Basic secret before form-decoding, for clients that
	// do not encode it as RFC 6749 2.3.1 asks.
	RawSecret string
	// Assertion is the client assertion (JWT methods); Claims its
	// unverified claims.
	Assertion string
	Claims    *jwt.Claims
	Alg       string
}

// parseClientCredentials reads the client authentication of a token
// request: exactly one method may be used.
func parseClientCredentials(authorization string, form url.Values) (*clientCredentials, *oauthError) {
	c := &clientCredentials{}
	formID := form.Get("client_id")
	used := 0
	if authorization != "" {
		scheme, rest, _ := strings.Cut(authorization, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return nil, newErr(errInvalidClient, "unsupported Authorization scheme")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return nil, newErr(errInvalidClient, "malformed Basic credentials")
		}
		id, secret, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, newErr(errInvalidClient, "malformed Basic credentials")
		}
		if c.ClientID, err = url.QueryUnescape(id); err != nil {
			return nil, newErr(errInvalidClient, "malformed Basic credentials")
		}
		c.RawSecret = secret
		if c.Secret, err = url.QueryUnescape(secret); err != nil {
			c.Secret = secret
		}
		c.Method = authSecretBasic
		used++
	}
	if form.Has("client_secret") {
		c.Method = authSecretPost
		c.ClientID = formID
		c.Secret = form.Get("client_secret")
		used++
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		if form.Get("client_assertion_type") != assertionTypeJWT {
			return nil, newErr(errInvalidClient, "unsupported client_assertion_type")
		}
		c.Assertion = form.Get("client_assertion")
		if c.Assertion == "" || len(c.Assertion) > maxAssertionLen {
			return nil, newErr(errInvalidClient, "client_assertion is missing or too long")
		}
		tok, err := jwt.ParseSigned(c.Assertion, joseAlgs(assertionAlgs))
		if err != nil || len(tok.Headers) != 1 {
			return nil, newErr(errInvalidClient, "client_assertion is not a signed JWT with a supported algorithm")
		}
		c.Claims = &jwt.Claims{}
		if err := tok.UnsafeClaimsWithoutVerification(c.Claims); err != nil {
			return nil, newErr(errInvalidClient, "client_assertion claims cannot be read")
		}
		c.Alg = tok.Headers[0].Algorithm
		c.Method = authPrivateKeyJWT
		if c.Alg == "HS256" {
			c.Method = authSecretJWT
		}
		c.ClientID = c.Claims.Subject
		used++
	}
	switch {
	case used > 1:
		return nil, newErr(errInvalidRequest, "more than one client authentication method used")
	case used == 0:
		c.Method = authNone
		c.ClientID = formID
	}
	if c.ClientID == "" {
		return nil, newErr(errInvalidClient, "no client_id")
	}
	if formID != "" && formID != c.ClientID {
		return nil, newErr(errInvalidClient, "client_id does not match the client authentication")
	}
	return c, nil
}

func joseAlgs(names []string) []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(names))
	for i, n := range names {
		out[i] = jose.SignatureAlgorithm(n)
	}
	return out
}

// authenticateClient checks the credentials against the registration and
// returns the client's service.
func (p *Provider) authenticateClient(ctx context.Context, c *clientCredentials) (*broker.Service, *oauthError) {
	cat := p.catalog()
	if cat == nil {
		return nil, newErr(errServerError, "the service configuration is not loaded")
	}
	svc, ok := cat.ServiceByClientID(c.ClientID)
	if !ok || svc.Integration.SP.OIDC == nil {
		return nil, newErr(errInvalidClient, "unknown client")
	}
	reg := svc.Integration.SP.OIDC
	if m := authMethod(reg); m != c.Method {
		return nil, newErr(errInvalidClient, "the client must authenticate with "+m)
	}
	switch c.Method {
	case authNone:
		return svc, nil
	case authSecretBasic, authSecretPost:
		secret, e := p.clientSecret(reg)
		if e != nil {
			return nil, e
		}
		ok := secretEqual(c.Secret, secret)
		if c.Method == authSecretBasic && c.RawSecret != c.Secret {
			ok = ok || secretEqual(c.RawSecret, secret)
		}
		if !ok {
			return nil, newErr(errInvalidClient, "wrong client secret")
		}
		return svc, nil
	case authSecretJWT, authPrivateKeyJWT:
		if e := p.checkAssertion(ctx, c, reg); e != nil {
			return nil, e
		}
		return svc, nil
	}
	return nil, newErr(errInvalidClient, "unsupported client authentication")
}

func (p *Provider) clientSecret(reg *model.OIDCMetadata) (string, *oauthError) {
	if reg.ClientSecret == "" {
		return "", newErr(errInvalidClient, "the client has no secret")
	}
	secret, err := p.openSecret(reg.ClientSecret, reg.ClientID)
	if err != nil || secret == "" {
		p.log.Error("client secret cannot be opened", "client_id", reg.ClientID, "error", fmt.Sprint(err))
		return "", newErr(errServerError, "the client's secret is not usable")
	}
	return secret, nil
}

// secretEqual compares in constant time (hashes first, so that the length
// does not show either).
func secretEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// checkAssertion verifies a client_secret_jwt or private_key_jwt assertion
// (RFC 7523 3, OpenID Connect Core 9) and records its jti.
func (p *Provider) checkAssertion(ctx context.Context, c *clientCredentials, reg *model.OIDCMetadata) *oauthError {
	tok, err := jwt.ParseSigned(c.Assertion, joseAlgs(assertionAlgs))
	if err != nil {
		return newErr(errInvalidClient, "client_assertion cannot be parsed")
	}
	var claims jwt.Claims
	switch c.Method {
	case authSecretJWT:
		secret, e := p.clientSecret(reg)
		if e != nil {
			return e
		}
		if err := tok.Claims([]byte(secret), &claims); err != nil {
			return newErr(errInvalidClient, "client_assertion signature is not valid")
		}
	default:
		if err := p.verifyWithClientKeys(ctx, tok, reg, &claims); err != nil {
			p.log.InfoContext(ctx, "client assertion not verified", "client_id", reg.ClientID, "error", err.Error())
			return newErr(errInvalidClient, "client_assertion signature is not valid")
		}
	}
	now := p.now()
	switch {
	case claims.Issuer != reg.ClientID || claims.Subject != reg.ClientID:
		return newErr(errInvalidClient, "client_assertion iss and sub must be the client_id")
	case !claims.Audience.Contains(p.tokenURL) && !claims.Audience.Contains(p.cfg.Issuer):
		return newErr(errInvalidClient, "client_assertion aud must be the token endpoint or the issuer")
	case claims.Expiry == nil:
		return newErr(errInvalidClient, "client_assertion has no exp")
	case !now.Before(claims.Expiry.Time().Add(assertionLeeway)):
		return newErr(errInvalidClient, "client_assertion has expired")
	case claims.Expiry.Time().After(now.Add(maxAssertionLifetime)):
		return newErr(errInvalidClient, "client_assertion exp is too far in the future")
	case claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(assertionLeeway)):
		return newErr(errInvalidClient, "client_assertion is not valid yet")
	case claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return newErr(errInvalidClient, "client_assertion iat is in the future")
	case claims.ID == "" || len(claims.ID) > 256:
		return newErr(errInvalidClient, "client_assertion needs a jti")
	}
	fresh, err := p.rt.MarkUsed(ctx, assertionReplayNS, reg.ClientID+"\x00"+claims.ID, claims.Expiry.Time().Add(assertionLeeway))
	if err != nil {
		broker.LogFailure(ctx, p.log, "client assertion replay check", err, "client_id", reg.ClientID)
		return newErr(errServerError, "internal error")
	}
	if !fresh {
		return newErr(errInvalidClient, "client_assertion jti was already used")
	}
	return nil
}

// verifyWithClientKeys verifies tok with the client's registered public
// keys (inline jwks, or jwks_uri through the cache), into dest.
func (p *Provider) verifyWithClientKeys(ctx context.Context, tok *jwt.JSONWebToken, reg *model.OIDCMetadata, dest *jwt.Claims) error {
	h := tok.Headers[0]
	try := func(set *jose.JSONWebKeySet) (bool, error) {
		for _, k := range set.Keys {
			if h.KeyID != "" && k.KeyID != h.KeyID {
				continue
			}
			if k.Use != "" && k.Use != "sig" {
				continue
			}
			if k.Algorithm != "" && k.Algorithm != h.Algorithm {
				continue
			}
			pub := k.Public()
			if !pub.Valid() {
				continue
			}
			if err := tok.Claims(pub.Key, dest); err == nil {
				return true, nil
			}
		}
		return false, nil
	}
	switch {
	case reg.JWKS != "":
		set, err := p.inlineJWKS.get(reg.ClientID, reg.JWKS)
		if err != nil {
			return err
		}
		if ok, _ := try(set); ok {
			return nil
		}
		return errors.New("no registered key verifies the assertion")
	case reg.JWKSURI != "":
		set, err := p.jwks.get(ctx, reg.JWKSURI, false)
		if err != nil {
			return err
		}
		if ok, _ := try(set); ok {
			return nil
		}
		// The client may have rotated its keys: fetch again (rate
		// limited) and retry once.
		set, err = p.jwks.get(ctx, reg.JWKSURI, true)
		if err != nil {
			return err
		}
		if ok, _ := try(set); ok {
			return nil
		}
		return errors.New("no key from jwks_uri verifies the assertion")
	}
	return errors.New("the client registered no keys")
}

// inlineJWKSCache keeps the parsed form of each client's registered
// (inline) jwks, so that a client assertion is not checked against keys
// parsed anew on every token request. An entry is parsed again when the
// registration's text changes; there is one entry a client.
type inlineJWKSCache struct {
	mu       sync.Mutex
	byClient map[string]inlineJWKS
}

type inlineJWKS struct {
	raw string
	set *jose.JSONWebKeySet
}

// get returns the key set that raw, client's registered jwks, parses to.
func (c *inlineJWKSCache) get(client, raw string) (*jose.JSONWebKeySet, error) {
	c.mu.Lock()
	e, ok := c.byClient[client]
	c.mu.Unlock()
	if ok && e.raw == raw {
		return e.set, nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return nil, fmt.Errorf("registered jwks: %w", err)
	}
	c.mu.Lock()
	c.byClient[client] = inlineJWKS{raw: raw, set: &set}
	c.mu.Unlock()
	return &set, nil
}

type jwksEntry struct {
	set     *jose.JSONWebKeySet
	fetched time.Time
}

// get returns the key set at uri, from the cache when fresh; refresh asks
// for a new fetch unless the last one is very recent.
func (c *jwksCache) get(ctx context.Context, uri string, refresh bool) (*jose.JSONWebKeySet, error) {
	now := c.now()
	c.mu.Lock()
	e := c.entries[uri]
	c.mu.Unlock()
	if e != nil {
		age := now.Sub(e.fetched)
		if age < jwksTTL && (!refresh || age < jwksMinRefresh) {
			return e.set, nil
		}
	}
	set, err := c.fetch(ctx, uri)
	if err != nil {
		if e != nil { // keep the last good set
			return e.set, nil
		}
		return nil, err
	}
	c.mu.Lock()
	c.entries[uri] = &jwksEntry{set: set, fetched: now}
	c.mu.Unlock()
	return set, nil
}

func (c *jwksCache) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks_uri: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("jwks_uri: document larger than %d bytes", maxJWKSBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	return &set, nil
}
