package oidc

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// rpLogin runs a whole login as a coreos/go-oidc + x/oauth2 relying party
// would: discovery, authorization with state, nonce and (when pkce)
// PKCE S256, code exchange, ID token verification with at_hash, userinfo.
func rpLogin(t *testing.T, e *env, client string, secret string, style oauth2.AuthStyle, usePKCE bool,
	exchangeOpts func() []oauth2.AuthCodeOption, algs ...string) (*gooidc.IDToken, map[string]any, *oauth2.Token) {
	t.Helper()
	ctx := gooidc.ClientContext(context.Background(), e.srv.Client())
	prov, err := gooidc.NewProvider(ctx, e.srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = style
	conf := oauth2.Config{ClientID: client, ClientSecret: secret, Endpoint: ep, RedirectURL: redirectURI,
		Scopes: []string{gooidc.ScopeOpenID, "profile"}}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(nonce)}
	if usePKCE {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	resp, err := noRedirect().Get(conf.AuthCodeURL(state, opts...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	q := e.redirectParams(resp)
	if q.Get("error") != "" {
		t.Fatalf("authorization error: %s %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state || q.Get("iss") != e.srv.URL {
		t.Fatalf("state %q iss %q", q.Get("state"), q.Get("iss"))
	}
	var xopts []oauth2.AuthCodeOption
	if usePKCE {
		xopts = append(xopts, oauth2.VerifierOption(verifier))
	}
	if exchangeOpts != nil {
		xopts = append(xopts, exchangeOpts()...)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), xopts...)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token")
	}
	idt, err := prov.Verifier(&gooidc.Config{ClientID: client, SupportedSigningAlgs: algs}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != idt.Subject {
		t.Fatalf("userinfo sub %q, ID token sub %q", ui.Subject, idt.Subject)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return idt, claims, tok
}

func checkDataModel(t *testing.T, claims map[string]any) {
	t.Helper()
	u := testUser()
	for k, want := range map[string]string{
		"given_name":                       u.GivenName,
		"family_name":                      u.Surname,
		"urn:mpass.id:uid":                 u.UID,
		"urn:oid:1.3.6.1.4.1.16161.1.1.27": u.LearnerID,
		"urn:mpass.id:classLevel":          "7",
		"urn:mpass.id:originalIssuer":      u.OriginalIssuer,
	} {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %q", k, claims[k], want)
		}
	}
	roles, _ := claims["urn:mpass.id:role"].([]any)
	if len(roles) != 1 || roles[0] != "1.2.246.562.99.00000000001;30076;7A;Oppilas;1;1.2.246.562.99.00000000002;" {
		t.Errorf("roles %v", claims["urn:mpass.id:role"])
	}
}

func TestGoOIDCPublicClientWithPKCE(t *testing.T) {
	e := newEnv(t)
	idt, claims, tok := rpLogin(t, e, clientPublic, "", oauth2.AuthStyleInParams, true, nil)
	if idt.Subject != testUser().UID {
		t.Errorf("public sub %q, want the uid", idt.Subject)
	}
	checkDataModel(t, claims)
	if tok.RefreshToken != "" {
		t.Error("refresh token issued to a client without the refresh_token grant")
	}
	var c struct {
		ACR      string `json:"acr"`
		AuthTime int64  `json:"auth_time"`
		SID      string `json:"sid"`
		Given    string `json:"given_name"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != "urn:mpass.id:authnsource:testsource" || c.AuthTime == 0 || c.SID == "" || c.Given != "Testi" {
		t.Errorf("ID token claims %+v", c)
	}
}

func TestGoOIDCClientSecretBasic(t *testing.T) {
	e := newEnv(t)
	_, claims, _ := rpLogin(t, e, clientBasic, testSecret, oauth2.AuthStyleInHeader, false, nil)
	checkDataModel(t, claims)
	// with PKCE too
	rpLogin(t, e, clientBasic, testSecret, oauth2.AuthStyleInHeader, true, nil)
}

func TestGoOIDCClientSecretPost(t *testing.T) {
	e := newEnv(t)
	rpLogin(t, e, clientPost, testSecret, oauth2.AuthStyleInParams, true, nil)
}

func TestGoOIDCPrivateKeyJWT(t *testing.T) {
	for _, client := range []string{clientPKJWT, clientPKURI} {
		t.Run(client, func(t *testing.T) {
			e := newEnv(t)
			assert := func() []oauth2.AuthCodeOption {
				return []oauth2.AuthCodeOption{
					oauth2.SetAuthURLParam("client_assertion_type", assertionTypeJWT),
					oauth2.SetAuthURLParam("client_assertion", e.assertion(client, nil, nil)),
				}
			}
			rpLogin(t, e, client, "", oauth2.AuthStyleInParams, true, assert)
		})
	}
}

func TestGoOIDCClientSecretJWT(t *testing.T) {
	e := newEnv(t)
	assert := func() []oauth2.AuthCodeOption {
		return []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("client_assertion_type", assertionTypeJWT),
			oauth2.SetAuthURLParam("client_assertion", e.assertion(clientSJWT, []byte(testSecret), func(c map[string]any) {
				c["aud"] = e.srv.URL // the issuer is accepted as audience too
			})),
		}
	}
	rpLogin(t, e, clientSJWT, "", oauth2.AuthStyleInParams, false, assert)
}

func TestGoOIDCES256(t *testing.T) {
	e := newEnv(t)
	rpLogin(t, e, clientES256, testSecret, oauth2.AuthStyleInHeader, true, nil, "ES256")
}

func TestPairwiseSubjects(t *testing.T) {
	e := newEnv(t)
	a, _, _ := rpLogin(t, e, clientPair, testSecret, oauth2.AuthStyleInHeader, true, nil)
	b, _, _ := rpLogin(t, e, clientPair2, testSecret, oauth2.AuthStyleInHeader, true, nil)
	c, _, _ := rpLogin(t, e, clientOther, testSecret, oauth2.AuthStyleInHeader, true, nil)
	if a.Subject != b.Subject {
		t.Errorf("same set, different pairwise subs %q %q", a.Subject, b.Subject)
	}
	if a.Subject == c.Subject || a.Subject == testUser().UID {
		t.Errorf("pairwise sub %q not separated from other set %q / uid", a.Subject, c.Subject)
	}
	if len(a.Subject) != 43 {
		t.Errorf("pairwise sub %q", a.Subject)
	}
}

func TestScopeWithoutProfileReleasesNoClaims(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic, "scope", "openid"))
	st, body := e.exchange(clientBasic, code)
	if st != 200 || body["scope"] != "openid" {
		t.Fatalf("%d %v", st, body)
	}
	_, ui, _ := e.userinfo(body["access_token"].(string))
	if len(ui) != 1 || ui["sub"] == nil {
		t.Errorf("userinfo without profile: %v", ui)
	}
}

func TestLegacyAttributes(t *testing.T) {
	e := newEnv(t)
	_, claims, _ := rpLogin(t, e, clientLegacy, testSecret, oauth2.AuthStyleInHeader, true, nil)
	roles, _ := claims["urn:mpass.id:role"].([]any)
	if len(roles) != 1 || roles[0] != "1.2.246.562.99.00000000001;30076;7A;Oppilas" {
		t.Errorf("legacy role %v", roles)
	}
	if codes, _ := claims["urn:mpass.id:schoolCode"].([]any); !slices.Contains(codes, any("30076")) {
		t.Errorf("legacy schoolCode %v", claims["urn:mpass.id:schoolCode"])
	}
}

func TestLogsNoPersonalData(t *testing.T) {
	e := newEnv(t)
	rpLogin(t, e, clientBasic, testSecret, oauth2.AuthStyleInHeader, true, nil)
	logs := e.logText()
	u := testUser()
	for _, secret := range []string{u.UID, u.GivenName, u.LearnerID, testSecret, url.QueryEscape(testSecret)} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}
