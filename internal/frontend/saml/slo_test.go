package saml

import (
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// TestSingleLogoutChain: two samlsp services share the SSO session;
// logging out of one logs the browser out of the other through the
// front-channel chain and answers the first.
func TestSingleLogoutChain(t *testing.T) {
	env := newEnv(t)
	sp1 := newRealSP(t, env, 5000001, spOptions{})
	sp2 := newRealSP(t, env, 5000002, spOptions{encrypt: true, localhost: true})
	b := newBrowser(t)
	for _, sp := range []*realSP{sp1, sp2} {
		p := b.submitAll(b.get(sp.srv.URL + "/hello"))
		if !strings.Contains(p.body, "hello uid=MPASSOID.") {
			t.Fatalf("login to %s: %s", sp.srv.URL, p.body)
		}
	}
	if n := len(env.flow.participants[env.flow.sessionID]); n != 2 {
		t.Fatalf("%d participants", n)
	}
	p := b.submitAll(b.get(sp1.srv.URL + "/logout"))
	if p.status != 200 || p.body != "home" || !strings.HasPrefix(p.url, sp1.srv.URL) {
		t.Fatalf("logout ended at %s: %d %s", p.url, p.status, truncate(p.body, 300))
	}
	// sp2 dropped its session: /hello goes to the IdP again.
	p = b.get(sp2.srv.URL + "/hello")
	if _, _, ok := form(p); !ok {
		t.Fatalf("sp2 still logged in: %s", truncate(p.body, 200))
	}
}

func TestLogoutRequestNegative(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env)
	env.login(t, sp)
	dest := env.srv.URL + PathSLORedirect
	lr := func(id, issuer string, instant time.Time) string {
		return `<samlp:LogoutRequest xmlns:samlp="` + nsProtocol + `" xmlns:saml="` + nsAssertion + `" ID="` + id +
			`" Version="2.0" IssueInstant="` + samlTime(instant) + `" Destination="` + dest + `"><saml:Issuer>` + issuer +
			`</saml:Issuer><saml:NameID Format="` + nameIDTransient + `">x</saml:NameID></samlp:LogoutRequest>`
	}
	get := func(msg string, k *spKey) page {
		return newBrowser(t).get(dest + "?" + redirectQuery(t, "SAMLRequest", []byte(msg), "", k))
	}
	expectRefused(t, get(lr("_l1", "https://evil.example", time.Now()), sp.key), http.StatusForbidden)
	expectRefused(t, get(lr("_l2", sp.entityID, time.Now()), nil), http.StatusForbidden)
	expectRefused(t, get(lr("_l3", sp.entityID, time.Now()), newSPKey(t)), http.StatusForbidden)
	expectRefused(t, get(`<!DOCTYPE x []>`+lr("_l4", sp.entityID, time.Now()), sp.key), http.StatusBadRequest)
	// Stale: a LogoutResponse with RequestDenied, and no session ended.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(dest + "?" + redirectQuery(t, "SAMLRequest", []byte(lr("_l5", sp.entityID, time.Now().Add(-time.Hour))), "", sp.key))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, handSLO+"?") {
		t.Fatalf("stale logout request: %d %s", resp.StatusCode, loc)
	}
	in, err := decodeRedirect(strings.TrimPrefix(loc, handSLO+"?"), "SAMLResponse", new(inflater))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := env.ks.SAMLSigningKey()
	if err := verifyRedirectSignature(in, []*x509.Certificate{k.Certificate}, false); err != nil {
		t.Errorf("LogoutResponse redirect signature: %v", err)
	}
	if top, second := statusOfResponse(t, in.xml); top != StatusRequester || second != StatusRequestDenied {
		t.Errorf("stale: %s / %s", top, second)
	}
	if len(env.flow.ended) != 0 {
		t.Errorf("sessions ended: %v", env.flow.ended)
	}
}

// TestLogoutRequestEncryptedID: a service that encrypts the NameID to the
// metadata's encryption key (Shibboleth SP does by default) is logged out.
func TestLogoutRequestEncryptedID(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env)
	d := etree.NewDocument()
	if err := d.ReadFromBytes(env.login(t, sp)); err != nil {
		t.Fatal(err)
	}
	nameIDValue := d.Root().FindElement("./Assertion/Subject/NameID").Text()
	si := d.Root().FindElement("./Assertion/AuthnStatement").SelectAttrValue("SessionIndex", "")
	k, _ := env.ks.SAMLSigningKey()
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES128CBC
	ed, err := enc.Encrypt(k.Certificate, []byte(`<saml:NameID xmlns:saml="`+nsAssertion+`" Format="`+nameIDTransient+`">`+nameIDValue+`</saml:NameID>`), nil)
	if err != nil {
		t.Fatal(err)
	}
	encID := etree.NewElement("saml:EncryptedID")
	encID.AddChild(ed)
	edXML, _ := serialize(encID)
	dest := env.srv.URL + PathSLORedirect
	msg := `<samlp:LogoutRequest xmlns:samlp="` + nsProtocol + `" xmlns:saml="` + nsAssertion + `" ID="_enc1" Version="2.0" IssueInstant="` +
		samlTime(time.Now()) + `" Destination="` + dest + `"><saml:Issuer>` + sp.entityID + `</saml:Issuer>` + string(edXML) +
		`<samlp:SessionIndex>` + si + `</samlp:SessionIndex></samlp:LogoutRequest>`
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(dest + "?" + redirectQuery(t, "SAMLRequest", []byte(msg), "back", sp.key))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, handSLO+"?") {
		t.Fatalf("answer: %d %s", resp.StatusCode, loc)
	}
	in, err := decodeRedirect(strings.TrimPrefix(loc, handSLO+"?"), "SAMLResponse", new(inflater))
	if err != nil {
		t.Fatal(err)
	}
	if top, _ := statusOfResponse(t, in.xml); top != StatusSuccess || in.relayState != "back" {
		t.Errorf("status %s, RelayState %q", top, in.relayState)
	}
	if len(env.flow.ended) != 1 || env.flow.ended[0] != env.flow.sessionID {
		t.Errorf("EndSession calls %v", env.flow.ended)
	}
}
