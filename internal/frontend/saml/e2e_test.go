package saml

import (
	"strings"
	"testing"
)

// TestRealSPLoginLogout: crewjam's samlsp logs in and out against the
// running IdP.
func TestRealSPLoginLogout(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    spOptions
	}{
		{"plain", spOptions{}},
		{"encrypted", spOptions{encrypt: true}},
		{"response signed", spOptions{wantResponseSigned: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			sp := newRealSP(t, env, 5000001, tc.o)
			b := newBrowser(t)
			p := b.get(sp.srv.URL + "/hello")
			x := samlResponseOf(t, p)
			if tc.o.encrypt != strings.Contains(string(x), "EncryptedAssertion") {
				t.Fatalf("encryption: %s", x)
			}
			p = b.submitAll(p)
			if p.status != 200 || !strings.Contains(p.body, "hello uid=MPASSOID.c81e733db4339edc21efd486c27af2d624b13975") {
				t.Fatalf("login: %d %s", p.status, p.body)
			}
			if !strings.Contains(p.body, "role=1.2.246.562.99.00000000001;30076;9F;Oppilas;1;1.2.246.562.99.00000000002;") {
				t.Errorf("role attribute: %s", p.body)
			}
			// logout
			p = b.get(sp.srv.URL + "/logout")
			p = b.submitAll(p)
			if p.status != 200 || p.body != "home" {
				t.Fatalf("logout ended at %s: %d %s", p.url, p.status, truncate(p.body, 400))
			}
			if len(env.flow.ended) != 1 || env.flow.ended[0] != env.flow.sessionID {
				t.Errorf("EndSession calls: %v", env.flow.ended)
			}
			// logged out: /hello asks the IdP again
			p = b.get(sp.srv.URL + "/hello")
			if _, _, ok := form(p); !ok || env.flow.begins() != 2 {
				t.Errorf("after logout: begins %d, %s", env.flow.begins(), truncate(p.body, 300))
			}
		})
	}
}
