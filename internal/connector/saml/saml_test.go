package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"

	"github.com/mpassid/mpassid/internal/connector"
)

// login runs a whole login over HTTP: Start, the browser to the IdP, the
// IdP's form posted to the broker's ACS, Callback.
func login(t *testing.T, b *testBroker, req connector.LoginRequest) result {
	t.Helper()
	_, _, started := b.start(req)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	var resp *http.Response
	var err error
	if started.Redirect.Form == nil {
		resp, err = client.Get(started.Redirect.URL)
	} else {
		resp, err = client.PostForm(started.Redirect.URL, started.Redirect.Form)
	}
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP answered %d: %s", resp.StatusCode, page)
	}
	action, form, err := parseHTMLForm(string(page))
	if err != nil {
		t.Fatal(err)
	}
	if action != b.acsURL() {
		t.Fatalf("IdP posts to %q, want %q", action, b.acsURL())
	}
	return b.post(form)
}

func TestLoginRedirectBinding(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, nil)
	res := login(t, b, connector.LoginRequest{ForceAuthn: true, Language: "fi"})
	if res.err != nil {
		t.Fatalf("login: %v", res.err)
	}
	id := res.id
	if id.NameID != "pseudonym-1234" || id.SessionIndex != "_session42" || id.AuthnInstant.IsZero() {
		t.Errorf("identity = %+v", id)
	}
	want := map[string][]string{
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": {"Maija"},
		"givenName":                        {"Maija"}, // azure alias
		"surname":                          {"Meikäläinen"},
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.1": {"student", "member"},
		"eduPersonAffiliation":             {"student", "member"}, // FriendlyName
		"opentunti.role":                   {"Oppilas"},
	}
	for k, v := range want {
		if got := id.Attributes[k]; strings.Join(got, "|") != strings.Join(v, "|") {
			t.Errorf("attribute %q = %q, want %q", k, got, v)
		}
	}
	idp.mu.Lock()
	ar, binding := idp.lastRequest, idp.lastBinding
	idp.mu.Unlock()
	if binding != BindingRedirect {
		t.Errorf("binding = %s", binding)
	}
	if attr(ar, "ForceAuthn") != "true" || attr(ar, "IsPassive") == "true" {
		t.Errorf("ForceAuthn/IsPassive wrong: %q %q", attr(ar, "ForceAuthn"), attr(ar, "IsPassive"))
	}
	if attr(ar, "Destination") != idp.srv.URL+"/sso" || attr(ar, "AssertionConsumerServiceURL") != b.acsURL() {
		t.Errorf("Destination/ACS wrong")
	}
	if iss := childElem(ar, nsAssertion, "Issuer"); iss == nil || iss.Text() != testSPEntityID {
		t.Errorf("Issuer wrong")
	}
	if p := childElem(ar, nsProtocol, "NameIDPolicy"); p == nil || attr(p, "Format") != "" {
		t.Errorf("azure NameIDPolicy should have no Format")
	}
}

func TestLoginPostBindingEncrypted(t *testing.T) {
	idp := newTestIdP(t)
	idp.postOnly = true
	idp.encrypt = true
	b := newTestBroker(t, idp, func(c *Config) { c.Preset = PresetADFS })
	res := login(t, b, connector.LoginRequest{})
	if res.err != nil {
		t.Fatalf("login: %v", res.err)
	}
	if res.id.NameID != "pseudonym-1234" || res.id.Attributes["givenName"][0] != "Maija" {
		t.Errorf("identity = %+v", res.id)
	}
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if idp.lastBinding != BindingPOST {
		t.Errorf("binding = %s", idp.lastBinding)
	}
}

func TestEncryptionAlgorithms(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, nil)
	for name, enc := range map[string]xmlenc.Encrypter{
		"oaep-aes128cbc": func() xmlenc.Encrypter { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.AES128CBC; return e }(),
		"oaep-aes256cbc": func() xmlenc.Encrypter { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.AES256CBC; return e }(),
		"oaep-aes128gcm": func() xmlenc.Encrypter { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.AES128GCM; return e }(),
		"oaep-aes256gcm": func() xmlenc.Encrypter { e := xmlenc.OAEP(); e.BlockCipher = xmlenc.AES256GCM; return e }(),
	} {
		t.Run(name, func(t *testing.T) {
			tx, rid, _ := b.start(connector.LoginRequest{})
			res := b.postResponse(tx, idp.response(respOpts{requestID: rid, acs: b.acsURL(), encrypt: true, encBlock: enc}))
			if res.err != nil {
				t.Fatal(res.err)
			}
		})
	}
	t.Run("rsa-1_5 refused", func(t *testing.T) {
		tx, rid, _ := b.start(connector.LoginRequest{})
		e := xmlenc.PKCS1v15()
		e.BlockCipher = xmlenc.AES128CBC
		res := b.postResponse(tx, idp.response(respOpts{requestID: rid, acs: b.acsURL(), encrypt: true, encBlock: e}))
		expectErr(t, res, connector.ErrInvalidResponse)
	})
	t.Run("wrong key", func(t *testing.T) {
		tx, rid, _ := b.start(connector.LoginRequest{})
		res := b.postResponse(tx, idp.response(respOpts{requestID: rid, acs: b.acsURL(), encrypt: true, encCert: idp.key.cert}))
		expectErr(t, res, connector.ErrInvalidResponse)
	})
}

func TestPassiveNoPassive(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, nil)
	res := login(t, b, connector.LoginRequest{Passive: true})
	expectErr(t, res, connector.ErrCancelled)
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if attr(idp.lastRequest, "IsPassive") != "true" {
		t.Error("IsPassive not sent")
	}
}

func expectErr(t *testing.T, res result, want error) {
	t.Helper()
	if res.err == nil {
		t.Fatalf("accepted, want %v; identity %+v", want, res.id)
	}
	if res.id != nil {
		t.Errorf("identity returned with error")
	}
	if !errors.Is(res.err, want) {
		t.Fatalf("error %v, want %v", res.err, want)
	}
	t.Logf("rejected: %v", res.err)
}

func TestResponseVerificationFailures(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, nil)
	now := time.Now()
	evil := newTestKey(t, 3, "evil", now.Add(-time.Hour), now.Add(time.Hour))
	acs := b.acsURL()

	// evilAssertion returns an assertion like the IdP's for another user,
	// unsigned.
	evilAssertion := func(rid string) *etree.Element {
		o := respOpts{requestID: rid, acs: acs, nameID: "admin", audience: testSPEntityID, assertionID: "_evil",
			assertionIssuer: idp.entityID, recipient: &acs, issueInstant: now, notBefore: now.Add(-time.Minute),
			notOnOrAfter: now.Add(time.Hour), scdNotOnOrAfter: now.Add(time.Hour)}
		return idp.assertionElement(&o, now)
	}

	cases := []struct {
		name string
		opts func(rid string) respOpts
		raw  func(rid string) []byte // instead of opts
		want error
	}{
		{"unsigned response and assertion", func(rid string) respOpts {
			return respOpts{requestID: rid, unsignedAssertion: true}
		}, nil, connector.ErrInvalidResponse},
		{"encrypted but unsigned", func(rid string) respOpts {
			return respOpts{requestID: rid, unsignedAssertion: true, encrypt: true}
		}, nil, connector.ErrInvalidResponse},
		{"signed by unknown key", func(rid string) respOpts {
			return respOpts{requestID: rid, signer: evil}
		}, nil, connector.ErrInvalidResponse},
		{"response signed by unknown key", func(rid string) respOpts {
			return respOpts{requestID: rid, unsignedAssertion: true, signResponse: true, signer: evil}
		}, nil, connector.ErrInvalidResponse},
		{"tampered signed assertion", func(rid string) respOpts {
			return respOpts{requestID: rid, mutateResponse: func(r, a *etree.Element) {
				a.FindElement("./Subject/NameID").SetText("admin")
			}}
		}, nil, connector.ErrInvalidResponse},
		{"extra unsigned assertion before the signed one", func(rid string) respOpts {
			return respOpts{requestID: rid, mutateResponse: func(r, a *etree.Element) {
				r.InsertChildAt(a.Index(), evilAssertion(rid))
			}}
		}, nil, connector.ErrInvalidResponse},
		{"extra unsigned assertion after the signed one", func(rid string) respOpts {
			return respOpts{requestID: rid, mutateResponse: func(r, a *etree.Element) {
				r.AddChild(evilAssertion(rid))
			}}
		}, nil, connector.ErrInvalidResponse},
		{"extra assertion after a signed response", func(rid string) respOpts {
			return respOpts{requestID: rid, signResponse: true, mutateResponse: func(r, a *etree.Element) {
				r.AddChild(evilAssertion(rid))
			}}
		}, nil, connector.ErrInvalidResponse},
		{"signed assertion moved into Extensions, evil in its place", func(rid string) respOpts {
			return respOpts{requestID: rid, mutateResponse: func(r, a *etree.Element) {
				idx := a.Index()
				r.RemoveChild(a)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(a)
				r.InsertChildAt(1, ext)
				ea := evilAssertion(rid)
				ea.CreateAttr("ID", attr(a, "ID")) // same ID as the signed one
				r.InsertChildAt(idx+1, ea)
			}}
		}, nil, connector.ErrInvalidResponse},
		{"signed assertion moved into the evil assertion's Signature Object", func(rid string) respOpts {
			return respOpts{requestID: rid, mutateResponse: func(r, a *etree.Element) {
				sig := childElem(a, nsDSig, "Signature").Copy()
				r.RemoveChild(a)
				ea := evilAssertion(rid)
				ea.CreateAttr("ID", attr(a, "ID"))
				obj := sig.CreateElement("ds:Object")
				obj.AddChild(a)
				ea.InsertChildAt(1, sig)
				r.AddChild(ea)
			}}
		}, nil, connector.ErrInvalidResponse},
		{"response signature referencing another ID", func(rid string) respOpts {
			return respOpts{requestID: rid, unsignedAssertion: true, signResponse: true, mutateResponse: func(r, a *etree.Element) {
				// The signature covers the Response as signed; then
				// the Response gets another ID and the original element
				// is kept in Extensions.
				orig := r.Copy()
				r.CreateAttr("ID", "_other")
				r.RemoveChild(a)
				r.AddChild(evilAssertion(rid))
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(orig)
				r.InsertChildAt(1, ext)
			}}
		}, nil, connector.ErrInvalidResponse},
		{"response signature over another ID, evil assertion", func(rid string) respOpts {
			return respOpts{requestID: rid, unsignedAssertion: true, signResponse: true, mutateResponse: func(r, a *etree.Element) {
				ref := r.FindElement("./Signature/SignedInfo/Reference")
				ref.CreateAttr("URI", "#"+attr(a, "ID"))
			}}
		}, nil, connector.ErrInvalidResponse},
		{"comment injection in NameID", func(rid string) respOpts {
			return respOpts{requestID: rid, nameID: "user@evil.com.attacker.com", mutateResponse: func(r, a *etree.Element) {
				n := a.FindElement("./Subject/NameID")
				n.SetText("user@evil.com")
				n.AddChild(etree.NewComment(""))
				n.AddChild(etree.NewText(".attacker.com"))
			}}
		}, nil, connector.ErrInvalidResponse},
		{"comment injection in attribute value", func(rid string) respOpts {
			return respOpts{requestID: rid, mutateResponse: func(r, a *etree.Element) {
				v := a.FindElement("./AttributeStatement/Attribute/AttributeValue")
				txt := v.Text()
				v.SetText(txt[:2])
				v.AddChild(etree.NewComment("x"))
				v.AddChild(etree.NewText(txt[2:]))
			}}
		}, nil, connector.ErrInvalidResponse},
		{"wrong audience", func(rid string) respOpts {
			return respOpts{requestID: rid, audience: "https://other.example/sp"}
		}, nil, connector.ErrInvalidResponse},
		{"wrong destination", func(rid string) respOpts {
			return respOpts{requestID: rid, signResponse: true, destination: strp("https://other.example/acs")}
		}, nil, connector.ErrInvalidResponse},
		{"wrong recipient", func(rid string) respOpts {
			return respOpts{requestID: rid, recipient: strp("https://other.example/acs")}
		}, nil, connector.ErrInvalidResponse},
		{"wrong InResponseTo", func(rid string) respOpts {
			return respOpts{requestID: "id-not-ours"}
		}, nil, connector.ErrInvalidResponse},
		{"unsolicited (no InResponseTo)", func(rid string) respOpts {
			return respOpts{requestID: ""}
		}, nil, connector.ErrInvalidResponse},
		{"wrong issuer", func(rid string) respOpts {
			return respOpts{requestID: rid, issuer: "https://evil.example/idp"}
		}, nil, connector.ErrInvalidResponse},
		{"wrong assertion issuer", func(rid string) respOpts {
			return respOpts{requestID: rid, assertionIssuer: "https://evil.example/idp"}
		}, nil, connector.ErrInvalidResponse},
		{"expired assertion", func(rid string) respOpts {
			return respOpts{requestID: rid, notBefore: now.Add(-time.Hour), notOnOrAfter: now.Add(-30 * time.Minute), scdNotOnOrAfter: now.Add(time.Hour)}
		}, nil, connector.ErrExpired},
		{"expired subject confirmation", func(rid string) respOpts {
			return respOpts{requestID: rid, scdNotOnOrAfter: now.Add(-10 * time.Minute)}
		}, nil, connector.ErrExpired},
		{"old issue instant", func(rid string) respOpts {
			return respOpts{requestID: rid, issueInstant: now.Add(-time.Hour)}
		}, nil, connector.ErrExpired},
		{"NotBefore in the future", func(rid string) respOpts {
			return respOpts{requestID: rid, notBefore: now.Add(time.Hour), notOnOrAfter: now.Add(2 * time.Hour)}
		}, nil, connector.ErrExpired},
		{"AuthnFailed status", func(rid string) respOpts {
			return respOpts{requestID: rid, status: []string{"urn:oasis:names:tc:SAML:2.0:status:Responder", "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"}}
		}, nil, connector.ErrCancelled},
		{"NoPassive status", func(rid string) respOpts {
			return respOpts{requestID: rid, signResponse: true, status: []string{"urn:oasis:names:tc:SAML:2.0:status:Responder", "urn:oasis:names:tc:SAML:2.0:status:NoPassive"}}
		}, nil, connector.ErrCancelled},
		{"DTD with external entity (XXE)", nil, func(rid string) []byte {
			resp := idp.response(respOpts{requestID: rid, acs: acs})
			resp = []byte(strings.Replace(string(resp), "<samlp:Response",
				`<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><samlp:Response`, 1))
			return []byte(strings.Replace(string(resp), "pseudonym-1234", "&xxe;", 1))
		}, connector.ErrInvalidResponse},
		{"internal entity expansion", nil, func(rid string) []byte {
			resp := idp.response(respOpts{requestID: rid, acs: acs})
			return []byte(strings.Replace(string(resp), "<samlp:Response",
				`<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><samlp:Response`, 1))
		}, connector.ErrInvalidResponse},
		{"not XML", nil, func(rid string) []byte { return []byte("hello") }, connector.ErrInvalidResponse},
		{"root is not a Response", nil, func(rid string) []byte {
			resp := idp.response(respOpts{requestID: rid, acs: acs})
			d := etree.NewDocument()
			_ = d.ReadFromBytes(resp)
			a := d.Root().FindElement("./Assertion")
			d.SetRoot(a)
			out, _ := d.WriteToBytes()
			return out
		}, connector.ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, rid, _ := b.start(connector.LoginRequest{})
			var resp []byte
			if tc.raw != nil {
				resp = tc.raw(rid)
			} else {
				o := tc.opts(rid)
				o.acs = acs
				resp = idp.response(o)
			}
			expectErr(t, b.postResponse(tx, resp), tc.want)
		})
	}
}

func TestReplayAndSizeAndForm(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, nil)
	tx, rid, _ := b.start(connector.LoginRequest{})
	resp := idp.response(respOpts{requestID: rid, acs: b.acsURL()})
	if res := b.postResponse(tx, resp); res.err != nil {
		t.Fatal(res.err)
	}
	t.Run("replayed assertion", func(t *testing.T) {
		expectErr(t, b.postResponse(tx, resp), connector.ErrReplay)
	})
	t.Run("oversized SAMLResponse", func(t *testing.T) {
		tx, rid, _ := b.start(connector.LoginRequest{})
		big := strings.Repeat("x", 300<<10)
		resp := idp.response(respOpts{requestID: rid, acs: b.acsURL(), attrs: []testAttr{{name: "big", values: []string{big}}}})
		expectErr(t, b.postResponse(tx, resp), connector.ErrInvalidResponse)
	})
	t.Run("no RelayState", func(t *testing.T) {
		res := b.post(url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(resp)}})
		expectErr(t, res, connector.ErrNoTransaction)
	})
	t.Run("RelayState of another transaction", func(t *testing.T) {
		tx2, _, _ := b.start(connector.LoginRequest{})
		_, rid, _ := b.start(connector.LoginRequest{})
		// a response for one request posted with another's RelayState
		res := b.postResponse(tx2, idp.response(respOpts{requestID: rid, acs: b.acsURL()}))
		expectErr(t, res, connector.ErrInvalidResponse)
	})
	t.Run("replay cache failure is not a bad response", func(t *testing.T) {
		tx, rid, _ := b.start(connector.LoginRequest{})
		b.replay.mu.Lock()
		b.replay.fail = errors.New("db down")
		b.replay.mu.Unlock()
		defer func() { b.replay.mu.Lock(); b.replay.fail = nil; b.replay.mu.Unlock() }()
		res := b.postResponse(tx, idp.response(respOpts{requestID: rid, acs: b.acsURL()}))
		if res.err == nil || errors.Is(res.err, connector.ErrInvalidResponse) || errors.Is(res.err, connector.ErrReplay) {
			t.Fatalf("err = %v", res.err)
		}
	})
	t.Run("GET to ACS", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, b.acsURL()+"?SAMLResponse=x&RelayState=y", nil)
		if _, err := b.c.TransactionID(r); !errors.Is(err, connector.ErrNoTransaction) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSignedResponseOnlyAndRollover(t *testing.T) {
	idp := newTestIdP(t)
	now := time.Now()
	// Metadata lists an old certificate first and the one in use last.
	old := idp.key
	idp.extraCerts = []*testKey{newTestKey(t, 4, "idp-new", now.Add(-time.Hour), now.Add(2*365*24*time.Hour))}
	b := newTestBroker(t, idp, nil)
	for _, signer := range []*testKey{old, idp.extraCerts[0]} {
		tx, rid, _ := b.start(connector.LoginRequest{})
		res := b.postResponse(tx, idp.response(respOpts{requestID: rid, acs: b.acsURL(), unsignedAssertion: true, signResponse: true, signer: signer}))
		if res.err != nil {
			t.Fatalf("signed by %s: %v", signer.cert.Subject.CommonName, res.err)
		}
	}
}

func TestRequireEncryption(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, func(c *Config) { c.Preset = PresetADFS })
	tx, rid, _ := b.start(connector.LoginRequest{})
	expectErr(t, b.postResponse(tx, idp.response(respOpts{requestID: rid, acs: b.acsURL()})), connector.ErrInvalidResponse)
}

func TestStartPostBindingAndState(t *testing.T) {
	idp := newTestIdP(t)
	idp.postOnly = true
	b := newTestBroker(t, idp, func(c *Config) { c.Preset = PresetGSuite })
	_, rid, s := b.start(connector.LoginRequest{TransactionID: "tx-1", Passive: true})
	if s.Redirect.URL != idp.srv.URL+"/sso" || s.Redirect.Form.Get("RelayState") != "tx-1" {
		t.Fatalf("redirect = %+v", s.Redirect)
	}
	raw, _ := base64.StdEncoding.DecodeString(s.Redirect.Form.Get("SAMLRequest"))
	d := etree.NewDocument()
	if err := d.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	ar := d.Root()
	if attr(ar, "ID") != rid || attr(ar, "IsPassive") != "true" {
		t.Errorf("request ID/IsPassive wrong")
	}
	if _, err := verifyEnveloped(ar, []*x509.Certificate{b.spKey.cert}, time.Now(), false); err != nil {
		t.Errorf("AuthnRequest signature: %v", err)
	}
	if p := childElem(ar, nsProtocol, "NameIDPolicy"); p == nil || attr(p, "Format") != NameIDFormatEmail {
		t.Errorf("gsuite NameIDPolicy Format wrong")
	}
	// wrong callback URL
	if _, err := b.c.Start(context.Background(), connector.LoginRequest{TransactionID: "x", CallbackURL: "https://elsewhere/acs"}); err == nil {
		t.Error("Start accepted a callback URL that is not the ACS")
	}
	// Callback with junk state
	r, _ := http.NewRequest(http.MethodPost, b.acsURL(), strings.NewReader("RelayState=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := b.c.Callback(context.Background(), r, connector.LoginRequest{}, []byte("junk")); err == nil {
		t.Error("junk state accepted")
	}
}

func TestSPMetadata(t *testing.T) {
	idp := newTestIdP(t)
	b := newTestBroker(t, idp, nil)
	md, err := b.c.SPMetadata()
	if err != nil {
		t.Fatal(err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	root := d.Root()
	if attr(root, "entityID") != testSPEntityID || attr(root, "validUntil") != "" {
		t.Errorf("entity attributes wrong: %s", md)
	}
	sp := childElem(root, nsMetadata, "SPSSODescriptor")
	if sp == nil || attr(sp, "AuthnRequestsSigned") != "true" || attr(sp, "WantAssertionsSigned") != "true" {
		t.Fatalf("SPSSODescriptor wrong: %s", md)
	}
	acs := childElem(sp, nsMetadata, "AssertionConsumerService")
	if acs == nil || attr(acs, "Location") != b.acsURL() || attr(acs, "Binding") != BindingPOST {
		t.Errorf("ACS wrong: %s", md)
	}
	uses := map[string]string{}
	for _, kd := range sp.SelectElements("KeyDescriptor") {
		uses[attr(kd, "use")] = strings.Join(strings.Fields(kd.FindElement(".//X509Certificate").Text()), "")
	}
	if uses["signing"] != b.spKey.b64() || uses["encryption"] != b.encKey.b64() {
		t.Errorf("certificates wrong: %v", uses)
	}
}

// TestWrappingDefenceInDepth runs the wrapping vectors past the verifier
// alone (verifyResponse on the parsed tree), without precheckResponse's
// structure checks: it too must either refuse them or yield only what the
// IdP signed.
func TestWrappingDefenceInDepth(t *testing.T) {
	idp := newTestIdP(t)
	c, _, _ := offlineConnector(t, idp, alwaysFresh{})
	m, err := c.metadata()
	if err != nil {
		t.Fatal(err)
	}
	evil := func(a *etree.Element) *etree.Element {
		e := a.Copy()
		if s := childElem(e, nsDSig, "Signature"); s != nil {
			e.RemoveChild(s)
		}
		e.FindElement("./Subject/NameID").SetText("admin")
		return e
	}
	vectors := map[string]func(r, a *etree.Element){
		"evil before": func(r, a *etree.Element) { r.InsertChildAt(a.Index(), evil(a)) },
		"evil after":  func(r, a *etree.Element) { r.AddChild(evil(a)) },
		"signed moved to Extensions": func(r, a *etree.Element) {
			e := evil(a)
			r.RemoveChild(a)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(a)
			r.InsertChildAt(1, ext)
			r.AddChild(e)
		},
	}
	for name, mutate := range vectors {
		for _, signResponse := range []bool{false, true} {
			doc := idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS, signResponse: signResponse, mutateResponse: mutate})
			tree, err := parseMessageTree(doc)
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.verifyResponse(context.Background(), tree.Root(), fuzzRequestID, m, time.Now())
			if err == nil && id.NameID != idp.nameID {
				t.Errorf("%s (signed response %v): the verifier returned the unsigned assertion", name, signResponse)
			}
		}
	}
}

// A response whose check the browser's leaving cut short is logged as
// routine; a forged one stays a warning though its sender has gone.
func TestRejectedResponseLogLevel(t *testing.T) {
	idp := newTestIdP(t)
	var logs bytes.Buffer
	b := newTestBroker(t, idp, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	callback := func(tx string, resp []byte) error {
		b.mu.Lock()
		st := b.states[tx]
		b.mu.Unlock()
		form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(resp)}, "RelayState": {tx}}
		r := httptest.NewRequest(http.MethodPost, b.acsURL(), strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := b.c.Callback(gone, r, connector.LoginRequest{TransactionID: tx, CallbackURL: b.acsURL()}, st)
		return err
	}
	cases := []struct {
		name      string
		replayErr error
		opts      func(rid string) respOpts
		want      string
	}{
		{"replay mark cut short", fmt.Errorf("store: mark used: %w", context.Canceled),
			func(rid string) respOpts { return respOpts{requestID: rid, acs: b.acsURL()} }, "level=INFO"},
		{"encrypted to the wrong key", nil,
			func(rid string) respOpts {
				return respOpts{requestID: rid, acs: b.acsURL(), encrypt: true, encCert: idp.key.cert}
			}, "level=WARN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			b.replay.mu.Lock()
			b.replay.fail = tc.replayErr
			b.replay.mu.Unlock()
			tx, rid, _ := b.start(connector.LoginRequest{})
			if err := callback(tx, idp.response(tc.opts(rid))); err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(logs.String(), "saml response rejected") || !strings.Contains(logs.String(), tc.want) {
				t.Errorf("logged %q, want %s", logs.String(), tc.want)
			}
		})
	}
}
