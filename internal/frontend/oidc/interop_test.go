package oidc

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/testenv"
)

// TestOpenIDClientInterop runs panva/openid-client (an independent relying
// party, testdata/openid-client) through whole logins against the
// provider: with PKCE as a public client, with client_secret_basic, and
// with private_key_jwt. Enabled by MPASSID_TEST_INTEROP=1 after
// .ci/install-openid-client.sh.
func TestOpenIDClientInterop(t *testing.T) {
	testenv.Interop(t, "openid-client")
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	dir := filepath.Join("testdata", "openid-client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		t.Fatal("openid-client is not installed: run .ci/install-openid-client.sh")
	}
	e := newEnv(t)
	priv, err := json.Marshal(jose.JSONWebKey{Key: e.rpKey, KeyID: "rp-1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ auth, client string }{
		{"none", clientPublic},
		{"client_secret_basic", clientBasic},
		{"private_key_jwt", clientPKJWT},
	} {
		t.Run(c.auth, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "rp.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"ISSUER="+e.srv.URL, "CLIENT_ID="+c.client, "REDIRECT_URI="+redirectURI, "AUTH="+c.auth,
				"CLIENT_SECRET="+testSecret, "CLIENT_JWK="+string(priv))
			out, err := cmd.Output()
			if err != nil {
				stderr := ""
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("openid-client: %v\n%s\n%s", err, out, stderr)
			}
			var got struct {
				IDToken  map[string]any `json:"idToken"`
				Userinfo map[string]any `json:"userinfo"`
				Scope    string         `json:"scope"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output %s: %v", out, err)
			}
			if got.IDToken["sub"] != testUser().UID || got.Userinfo["sub"] != got.IDToken["sub"] ||
				got.IDToken["acr"] != "urn:mpass.id:authnsource:testsource" || got.Scope != "openid profile" {
				t.Errorf("openid-client got %s", out)
			}
			checkDataModel(t, got.Userinfo)
			checkDataModel(t, got.IDToken)
		})
	}
}
