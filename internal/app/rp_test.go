package app

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/testenv"
)

// rpClients registers three OIDC services in the running dev instance: a
// public client (PKCE only), one with client_secret_basic and one with
// private_key_jwt, and returns the private key of the last.
func rpClients(t *testing.T, a *App, redirect string) (secret string, key *ecdsa.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "rp-1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	secret = "rp-secret-that-is-long-enough-for-hs256-0123456789"
	sealed, err := a.sealer.SealString(secret, "rp-basic")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		id, auth, secret, jwks string
	}{
		{"rp-public", "none", "", ""},
		{"rp-basic", "client_secret_basic", sealed, ""},
		{"rp-pkjwt", "private_key_jwt", "", string(pub)},
	} {
		in := &model.Integration{
			ID: int64(5000100 + i), OrganisationOID: model.RootOID, Role: model.RoleSP,
			DeploymentPhase: model.PhaseTest, Status: model.StatusActive,
			SP: &model.SP{Type: model.SPTypeOIDC, Name: c.id, SetID: DemoSetID, OIDC: &model.OIDCMetadata{
				ClientID: c.id, ClientSecret: c.secret, JWKS: c.jwks, RedirectURIs: []string{redirect},
				GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				Scope: "openid profile", TokenEndpointAuthMethod: c.auth,
			}},
		}
		if _, err := a.Store().CreateIntegration(ctx, in, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.broker.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return secret, key
}

// browseToCallback follows an authorization URL through the broker and the
// test source (choosing a pupil) and returns the URL the browser was sent
// back to.
func browseToCallback(t *testing.T, authURL, redirect string) *url.URL {
	t.Helper()
	br := newBrowser(t)
	br.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, body := br.get(authURL)
	if strings.Contains(body, `name="user"`) {
		resp, body = br.chooseTestUser(body, "oppilas.revontuli")
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("not redirected to the client (%d): %s", resp.StatusCode, body)
	}
	return loc
}

// go-oidc, as a relying party with private_key_jwt client authentication
// (ES256 client assertion) and PKCE, logs in through the running broker
// and the test source.
func TestPrivateKeyJWTThroughTestSource(t *testing.T) {
	a, base := startDev(t)
	redirect := base + "/rp/callback"
	_, key := rpClients(t, a, redirect)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	oc := &oauth2.Config{ClientID: "rp-pkjwt", Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid", "profile"}}
	verifier := oauth2.GenerateVerifier()
	loc := browseToCallback(t, oc.AuthCodeURL("s1", oidc.Nonce("n1"), oauth2.S256ChallengeOption(verifier)), redirect)

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "rp-1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: "rp-pkjwt", Subject: "rp-pkjwt", Audience: jwt.Audience{provider.Endpoint().TokenURL},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: rand.Text(),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "client_id": {"rp-pkjwt"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
	}
	resp, err := http.PostForm(provider.Endpoint().TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("token endpoint %d: %s", resp.StatusCode, body)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "rp-pkjwt"}).Verify(ctx, tok.IDToken)
	if err != nil || idt.Nonce != "n1" {
		t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"}))
	if err != nil || ui.Subject != idt.Subject {
		t.Fatalf("userinfo: %v", err)
	}
	var claims map[string]any
	_ = ui.Claims(&claims)
	if claims["urn:mpass.id:classLevel"] != "7" {
		t.Errorf("userinfo claims: %v", claims)
	}
}

// The npm package openid-client, an independent relying party, logs in
// through the running broker and the test source: as a public client with
// PKCE, with client_secret_basic and with private_key_jwt.
func TestOpenIDClientThroughTestSource(t *testing.T) {
	testenv.Interop(t, "openid-client")
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	dir := filepath.Join("..", "frontend", "oidc", "testdata", "openid-client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		t.Fatal("openid-client is not installed: run .ci/install-openid-client.sh")
	}
	a, base := startDev(t)
	redirect := base + "/rp/callback"
	secret, key := rpClients(t, a, redirect)
	priv, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "rp-1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ auth, client string }{
		{"none", "rp-public"}, {"client_secret_basic", "rp-basic"}, {"private_key_jwt", "rp-pkjwt"},
	} {
		t.Run(c.auth, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "rp.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "BROWSER=external", "ISSUER="+base, "CLIENT_ID="+c.client,
				"REDIRECT_URI="+redirect, "AUTH="+c.auth, "CLIENT_SECRET="+secret, "CLIENT_JWK="+string(priv))
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			lines.Buffer(make([]byte, 1<<20), 1<<20)
			var step struct {
				Authorize string `json:"authorize"`
			}
			if !lines.Scan() || json.Unmarshal(lines.Bytes(), &step) != nil || step.Authorize == "" {
				t.Fatalf("no authorization URL from openid-client: %s", stderr.String())
			}
			loc := browseToCallback(t, step.Authorize, redirect)
			io.WriteString(stdin, loc.String()+"\n")
			stdin.Close()
			var got struct {
				IDToken  map[string]any `json:"idToken"`
				Userinfo map[string]any `json:"userinfo"`
			}
			if !lines.Scan() || json.Unmarshal(lines.Bytes(), &got) != nil {
				t.Fatalf("openid-client did not finish: %s", stderr.String())
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("openid-client: %v: %s", err, stderr.String())
			}
			if got.IDToken["acr"] != "urn:mpass.id:authnsource:Testi" || got.Userinfo["sub"] != got.IDToken["sub"] {
				t.Errorf("openid-client received %v / %v", got.IDToken, got.Userinfo)
			}
			if roles, _ := got.Userinfo["urn:mpass.id:role"].([]any); len(roles) != 1 {
				t.Errorf("userinfo roles: %v", got.Userinfo["urn:mpass.id:role"])
			}
		})
	}
}
