package saml

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/model"
)

// expectRefused checks that p is an error page (no form) with status.
func expectRefused(t *testing.T, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Errorf("status %d, want %d: %s", p.status, status, truncate(p.body, 300))
	}
	if _, _, ok := form(p); ok {
		t.Errorf("error page has a form: %s", truncate(p.body, 300))
	}
	if strings.Contains(p.body, "<script") {
		t.Error("error page has a script")
	}
}

// expectStatus checks that p posts a SAML error Response with the codes
// and no assertion.
func expectStatus(t *testing.T, p page, top, second string) {
	t.Helper()
	x := samlResponseOf(t, p)
	gotTop, gotSecond := statusOfResponse(t, x)
	if gotTop != top || gotSecond != second {
		t.Errorf("status %s / %s, want %s / %s", gotTop, gotSecond, top, second)
	}
	if bytes.Contains(x, []byte("Assertion")) {
		t.Errorf("error response carries an assertion: %s", x)
	}
}

func TestSSONegative(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env)
	other := newSPKey(t)
	dest := env.srv.URL + PathSSORedirect
	destPOST := env.srv.URL + PathSSOPOST
	req := func(o requestOpts) string {
		if o.issuer == "" {
			o.issuer = sp.entityID
		}
		if o.destination == "" {
			o.destination = dest
		}
		return authnRequestXML(o)
	}
	bomb := func() string {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		fw.Write([]byte(`<samlp:AuthnRequest xmlns:samlp="` + nsProtocol + `">`))
		fw.Write(bytes.Repeat([]byte(" "), 8<<20))
		fw.Close()
		return url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	}
	big := make([]byte, 20<<10)
	rand.Read(big)
	replayed := req(requestOpts{id: "_replayed-1"})
	if p := env.ssoRedirect(t, replayed, "", sp.key); p.status != 200 {
		t.Fatalf("first use of the request: %d", p.status)
	}
	// The log takes the body after the handler returns, which can be
	// after the browser has the answer: wait for the first assertion.
	before := env.issued.assertions()
	for deadline := time.Now().Add(5 * time.Second); before == 0 && time.Now().Before(deadline); before = env.issued.assertions() {
		time.Sleep(5 * time.Millisecond)
	}
	if before == 0 {
		t.Fatal("the first use of the request issued no assertion")
	}
	beginsBefore := env.flow.begins()

	cases := []struct {
		name   string
		do     func() page
		status int    // error page status, or
		second string // SAML second-level status under Requester
	}{
		{"unknown issuer", func() page {
			return env.ssoRedirect(t, req(requestOpts{issuer: "https://evil.example/sp"}), "", other)
		}, http.StatusForbidden, ""},
		{"unregistered ACS URL", func() page {
			return env.ssoRedirect(t, req(requestOpts{acs: "https://evil.example/acs"}), "", sp.key)
		}, http.StatusForbidden, ""},
		{"ACS URL differing in case", func() page {
			return env.ssoRedirect(t, req(requestOpts{acs: strings.ToUpper(handACS)}), "", sp.key)
		}, http.StatusForbidden, ""},
		{"unknown ACS index", func() page {
			i := 7
			return env.ssoRedirect(t, req(requestOpts{acsIndex: &i}), "", sp.key)
		}, http.StatusForbidden, ""},
		{"unsigned redirect where required", func() page {
			return env.ssoRedirect(t, req(requestOpts{}), "", nil)
		}, http.StatusForbidden, ""},
		{"unsigned POST where required", func() page {
			return env.ssoPOST(t, req(requestOpts{destination: destPOST}), "")
		}, http.StatusForbidden, ""},
		{"redirect signed by another key", func() page {
			return env.ssoRedirect(t, req(requestOpts{}), "", other)
		}, http.StatusForbidden, ""},
		{"redirect signature over other RelayState", func() page {
			q := redirectQuery(t, "SAMLRequest", []byte(req(requestOpts{})), "a", sp.key)
			q = strings.Replace(q, "RelayState=a", "RelayState=b", 1)
			return newBrowser(t).get(dest + "?" + q)
		}, http.StatusForbidden, ""},
		{"POST signed by another key", func() page {
			return env.ssoPOST(t, signXML(t, req(requestOpts{destination: destPOST}), other), "")
		}, http.StatusForbidden, ""},
		{"POST signed, then ACS changed", func() page {
			s := signXML(t, req(requestOpts{destination: destPOST, acs: handACS}), sp.key)
			s = strings.Replace(s, handACS, handACS2, 1)
			return env.ssoPOST(t, s, "")
		}, http.StatusForbidden, ""},
		{"SHA-1 signature", func() page {
			q := redirectQuery(t, "SAMLRequest", []byte(req(requestOpts{})), "", sp.key)
			q = strings.Replace(q, url.QueryEscape(sigRSASHA256), url.QueryEscape(sigRSASHA1), 1)
			return newBrowser(t).get(dest + "?" + q)
		}, http.StatusForbidden, ""},
		{"wrong Destination", func() page {
			return env.ssoRedirect(t, req(requestOpts{destination: "https://other.example/sso"}), "", sp.key)
		}, http.StatusBadRequest, ""},
		{"DTD with external entity (redirect)", func() page {
			return env.ssoRedirect(t, req(requestOpts{prefix: `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>`}), "", sp.key)
		}, http.StatusBadRequest, ""},
		{"DTD with entity expansion (POST)", func() page {
			return env.ssoPOST(t, req(requestOpts{destination: destPOST, prefix: `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>`}), "")
		}, http.StatusBadRequest, ""},
		{"oversized redirect parameter", func() page {
			return newBrowser(t).get(dest + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(big)))
		}, http.StatusRequestEntityTooLarge, ""},
		{"over-inflating redirect payload", func() page {
			return newBrowser(t).get(dest + "?SAMLRequest=" + bomb())
		}, http.StatusRequestEntityTooLarge, ""},
		{"not deflated", func() page {
			return newBrowser(t).get(dest + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(req(requestOpts{})))))
		}, http.StatusBadRequest, ""},
		{"replayed request ID", func() page {
			return env.ssoRedirect(t, replayed, "", sp.key)
		}, 0, StatusRequestDenied},
		{"stale IssueInstant", func() page {
			return env.ssoRedirect(t, req(requestOpts{issueInstant: time.Now().Add(-10 * time.Minute)}), "", sp.key)
		}, 0, StatusRequestDenied},
		{"IssueInstant in the future", func() page {
			return env.ssoRedirect(t, req(requestOpts{issueInstant: time.Now().Add(10 * time.Minute)}), "", sp.key)
		}, 0, StatusRequestDenied},
		{"persistent NameID asked", func() page {
			return env.ssoRedirect(t, req(requestOpts{nameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"}), "", sp.key)
		}, 0, StatusInvalidNameIDPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.do()
			if tc.second != "" {
				expectStatus(t, p, StatusRequester, tc.second)
			} else {
				expectRefused(t, p, tc.status)
			}
		})
	}
	if got := env.issued.assertions(); got != before {
		t.Errorf("%d assertions issued by refused requests", got-before)
	}
	if got := env.flow.begins(); got != beginsBefore {
		t.Errorf("%d refused requests reached the broker", got-beginsBefore)
	}
}

func TestSSORequestOptions(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env)
	dest := env.srv.URL + PathSSORedirect

	// Passive without a session: NoPassive.
	p := env.ssoRedirect(t, authnRequestXML(requestOpts{issuer: sp.entityID, destination: dest, passive: true}), "rs", sp.key)
	expectStatus(t, p, StatusResponder, StatusNoPassive)
	if _, v, _ := form(p); v.Get("RelayState") != "rs" {
		t.Errorf("RelayState not echoed: %v", v)
	}

	// Sources, ForceAuthn, lang, ACS index.
	idx := 1
	msg := authnRequestXML(requestOpts{issuer: sp.entityID, destination: dest, force: true, acsIndex: &idx,
		classRefs: []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", broker.AuthnSourcePrefix + "wilma_espoo"}})
	q := redirectQuery(t, "SAMLRequest", []byte(msg), "", sp.key)
	p = newBrowser(t).get(dest + "?" + q + "&lang=sv")
	action, _, _ := form(p)
	if action != handACS2 {
		t.Errorf("ACS index 1 answered at %s", action)
	}
	last := env.flow.begun[len(env.flow.begun)-1]
	if !last.ForceAuthn || last.Passive || last.Language != "sv" || !slices.Equal(last.Sources, []string{"wilma_espoo"}) || last.ServiceID != sp.id || last.Protocol != broker.ProtocolSAML {
		t.Errorf("broker request %+v", last)
	}

	// HTTP-POST, signed.
	p = env.ssoPOST(t, signXML(t, authnRequestXML(requestOpts{issuer: sp.entityID, destination: env.srv.URL + PathSSOPOST}), sp.key), "post-rs")
	x := samlResponseOf(t, p)
	if top, _ := statusOfResponse(t, x); top != StatusSuccess {
		t.Errorf("POST binding: %s", x)
	}

	// Error codes.
	for code, want := range map[broker.ErrorCode][2]string{
		broker.ErrCodeCancelled: {StatusResponder, StatusAuthnFailed},
		broker.ErrCodeNoSource:  {StatusRequester, StatusNoAuthnContext},
		broker.ErrCodeFailed:    {StatusResponder, ""},
	} {
		env.flow.result = func(broker.Request) *broker.Result {
			return &broker.Result{Err: &broker.LoginError{Code: code, Description: "x"}}
		}
		p := env.ssoRedirect(t, authnRequestXML(requestOpts{issuer: sp.entityID, destination: dest}), "", sp.key)
		expectStatus(t, p, want[0], want[1])
	}
	env.flow.result = nil
}

func TestSSOUnsignedAllowed(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env, func(md *model.SAMLMetadata) { md.AuthnRequestsSigned = false })
	p := env.ssoRedirect(t, authnRequestXML(requestOpts{issuer: sp.entityID}), "", nil)
	if top, _ := statusOfResponse(t, samlResponseOf(t, p)); top != StatusSuccess {
		t.Fatal("unsigned request refused")
	}
	// A signature that is present is still verified.
	p = env.ssoRedirect(t, authnRequestXML(requestOpts{issuer: sp.entityID, destination: env.srv.URL + PathSSORedirect}), "", newSPKey(t))
	expectRefused(t, p, http.StatusForbidden)
}

// TestAssertionContent checks the Response against the issue's list.
func TestAssertionContent(t *testing.T) {
	env := newEnv(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	env.clock.t = now
	sp := newHandSP(t, env)
	msg := authnRequestXML(requestOpts{id: "_req-42", issuer: sp.entityID, destination: env.srv.URL + PathSSORedirect, issueInstant: now})
	p := env.ssoRedirect(t, msg, "", sp.key)
	x := samlResponseOf(t, p)
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		t.Fatal(err)
	}
	r := d.Root()
	a := r.FindElement("./Assertion")
	verifyOwn(t, a, env.ks)
	get := func(path, attr string) string {
		el := r.FindElement(path)
		if el == nil {
			t.Fatalf("no %s", path)
		}
		if attr == "" {
			return el.Text()
		}
		return el.SelectAttrValue(attr, "")
	}
	entity := env.idp.EntityID()
	five := samlTime(now.Add(5 * time.Minute))
	for _, c := range [][3]string{
		{"./Issuer", "", entity},
		{".", "Destination", handACS},
		{".", "InResponseTo", "_req-42"},
		{"./Assertion/Issuer", "", entity},
		{"./Assertion/Subject/NameID", "Format", nameIDTransient},
		{"./Assertion/Subject/NameID", "NameQualifier", entity},
		{"./Assertion/Subject/NameID", "SPNameQualifier", sp.entityID},
		{"./Assertion/Subject/SubjectConfirmation", "Method", cmBearer},
		{"./Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "InResponseTo", "_req-42"},
		{"./Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "Recipient", handACS},
		{"./Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "NotOnOrAfter", five},
		{"./Assertion/Conditions", "NotOnOrAfter", five},
		{"./Assertion/Conditions/AudienceRestriction/Audience", "", sp.entityID},
		{"./Assertion/AuthnStatement/AuthnContext/AuthnContextClassRef", "", "urn:mpass.id:authnsource:ShibLdap"},
		{"./Assertion/AuthnStatement", "AuthnInstant", samlTime(now.Add(-2 * time.Minute))},
	} {
		if got := get(c[0], c[1]); got != c[2] {
			t.Errorf("%s@%s = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	si := get("./Assertion/AuthnStatement", "SessionIndex")
	if si == "" || strings.Contains(si, env.flow.sessionID) || si != sessionIndex(env.flow.sessionID, sp.entityID) {
		t.Errorf("SessionIndex %q", si)
	}
	nid1 := get("./Assertion/Subject/NameID", "")
	x2 := env.login(t, sp)
	if bytes.Contains(x2, []byte(nid1)) {
		t.Error("transient NameID repeated")
	}
	// Signature right after the Issuer.
	if kids := a.ChildElements(); len(kids) < 2 || kids[1].Tag != "Signature" {
		t.Error("Assertion Signature is not after the Issuer")
	}
	// Participant recorded.
	ps := env.flow.participants[env.flow.sessionID]
	if len(ps) != 2 || ps[0].ServiceID != sp.id || ps[0].Protocol != broker.ProtocolSAML {
		t.Errorf("participants %+v", ps)
	}
}

// An AuthnRequest whose browser went away before its replay check is
// routine, not an error in the log; the same request then succeeds.
func TestSSOEndedByBrowser(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env)
	msg := authnRequestXML(requestOpts{issuer: sp.entityID, destination: env.srv.URL + PathSSORedirect})
	q := redirectQuery(t, "SAMLRequest", []byte(msg), "", sp.key)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, PathSSORedirect+"?"+q, nil).WithContext(ctx)
	env.srv.Config.Handler.ServeHTTP(httptest.NewRecorder(), req)
	if logs := env.logs.String(); !strings.Contains(logs, `level=INFO msg="authnrequest: replay check"`) || !strings.Contains(logs, "client_gone=true") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("a browser gone away logged as:\n%s", logs)
	}
	p := newBrowser(t).get(env.srv.URL + PathSSORedirect + "?" + q)
	if top, _ := statusOfResponse(t, samlResponseOf(t, p)); top != StatusSuccess {
		t.Errorf("the request after the abandoned one: %s", top)
	}
}
