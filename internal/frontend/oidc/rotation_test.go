package oidc

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/keys"
)

// oidcc-server-rotate-keys: the next key is published before it signs, and
// the previous one stays published after, so tokens verify across a
// rotation (and an older ID token still works as id_token_hint).
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m, err := keys.NewManager(e.st, e.sealer, keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	load := func() {
		ks, err := m.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.keysNow.Store(ks)
		e.ks = ks
	}
	published := func() map[string]bool {
		d, _ := getJSON(t, e.srv.URL+PathJWKS)
		b, _ := json.Marshal(d)
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(b, &set); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, k := range set.Keys {
			out[k.KeyID] = true
		}
		return out
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Rotate(ctx, keys.RS256); err != nil { // creates the next key
		t.Fatal(err)
	}
	load()
	cur, _ := e.ks.Signer(keys.RS256)
	old, _ := e.login(authReq(clientBasic))
	hdr, _ := e.idToken(old["id_token"].(string))
	if hdr.KeyID != cur.ID {
		t.Fatalf("signed with %s, current is %s", hdr.KeyID, cur.ID)
	}
	before := published()
	if len(before) != 3 { // RS256 current + next, ES256 current
		t.Fatalf("published %v", before)
	}
	if err := m.Rotate(ctx, keys.RS256); err != nil {
		t.Fatal(err)
	}
	load()
	after := published()
	next, _ := e.ks.Signer(keys.RS256)
	if !before[next.ID] || !after[cur.ID] {
		t.Fatalf("new signing key %s published before: %v; old key %s still published: %v", next.ID, before[next.ID], cur.ID, after[cur.ID])
	}
	_, body := e.exchange(clientBasic, e.code(authReq(clientBasic)))
	if hdr, _ := e.idToken(body["id_token"].(string)); hdr.KeyID != next.ID {
		t.Fatalf("after rotation signed with %s", hdr.KeyID)
	}
	e.idToken(old["id_token"].(string)) // still verifies
	resp := e.endSession(url.Values{"id_token_hint": {old["id_token"].(string)}, "post_logout_redirect_uri": {logoutURI}})
	if resp.StatusCode != 302 {
		t.Fatalf("old hint after rotation: %d", resp.StatusCode)
	}
}
