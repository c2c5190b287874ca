package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	oidcconn "github.com/mpassid/mpassid/internal/connector/oidc"

	"github.com/klauspost/compress/flate"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	samlconn "github.com/mpassid/mpassid/internal/connector/saml"
	"github.com/mpassid/mpassid/internal/flatjson"
	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// source is where a login authenticates.
type source struct {
	name     string // SourceTest, ...
	flowName string // for acr_values / RequestedAuthnContext
	id       string // integration id, for the selection page
}

// vu is one virtual user: a browser, the service's back-channel client and
// reusable buffers.
type vu struct {
	b    *browser
	api  *http.Client // the service's own calls (token, userinfo): no cookies
	buf  bytes.Buffer // the deflated AuthnRequest
	body bytes.Buffer // back-channel answers
}

func newVU(r *runner, n int) *vu {
	b := newBrowser(r, n)
	v := &vu{b: b, api: &http.Client{Transport: b.rt, Timeout: r.opts.RequestTimeout}}
	return v
}

// walk plays the browser from page p until done says the login reached
// the service: it picks the test user, the source on the selection page,
// and submits the auto-posting forms of the broker and the upstream IdPs.
func (r *runner) walk(ctx context.Context, v *vu, p *page, src *source, done func(*page) bool) (*page, error) {
	for range 12 {
		if done(p) {
			return p, nil
		}
		step := stepOf(p.url)
		if p.status != http.StatusOK {
			return nil, httpStatusError(step, p)
		}
		f, ok := postForm(p)
		if !ok {
			return nil, newError(step, "unexpected page", errors.New(snippet(p.body)))
		}
		switch {
		case strings.Contains(f.body, `name="user"`):
			user, ok := testUserValue(f.body, r.opts.TestUser)
			if !ok {
				return nil, newError(step, "test user not offered", fmt.Errorf("user %q", r.opts.TestUser))
			}
			f.fields.Set("user", user)
		case strings.Contains(f.body, `name="source"`):
			choice, ok := sourceChoice(f.body, src.id)
			if !ok {
				return nil, newError(step, "source not offered", fmt.Errorf("source %s (%s)", src.id, src.name))
			}
			f.fields.Set("source", choice)
		}
		var err error
		if p, err = v.b.post(ctx, f.action, f.fields, stepOf(mustParse(f.action))); err != nil {
			return nil, err
		}
	}
	return nil, newError("browser", "too many pages", nil)
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{Path: "?"}
	}
	return u
}

// stepOf names the step a URL belongs to, for error kinds.
func stepOf(u *url.URL) string {
	p := u.Path
	switch {
	case strings.HasSuffix(p, "/authorize") && strings.HasPrefix(p, "/idp/"):
		return "oidc authorize"
	case strings.HasPrefix(p, "/idp/profile/SAML2/"):
		return "saml sso"
	case strings.HasPrefix(p, "/login/select"):
		return "selection page"
	case strings.HasPrefix(p, "/login/callback/"):
		return "broker callback"
	case strings.HasPrefix(p, "/testidp"):
		return "test source"
	case p == "/sso" || p == "/authorize":
		return "upstream idp"
	}
	return "page " + p
}

// random returns n random bytes in base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// oidcLogin runs one OpenID Connect login: authorize, the source, the
// code at the redirect URI, the token request, the ID token verified and
// userinfo.
func (r *runner) oidcLogin(ctx context.Context, v *vu, src *source) error {
	state, nonce, verifier := random(16), random(16), random(32)
	sum := sha256.Sum256([]byte(verifier))
	// State, nonce and challenge are base64url: nothing to escape.
	target := r.oidc.authorizeRequest + "&state=" + state + "&nonce=" + nonce + "&code_challenge=" + base64.RawURLEncoding.EncodeToString(sum[:])
	if !r.opts.NoHint {
		target += "&acr_values=" + url.QueryEscape(authnSource+src.flowName)
	}
	p, err := v.b.get(ctx, target, "oidc authorize")
	if err != nil {
		return err
	}
	p, err = r.walk(ctx, v, p, src, func(p *page) bool {
		return p.status/100 == 3 && strings.HasPrefix(p.location, r.redirectURI)
	})
	if err != nil {
		return err
	}
	loc, err := url.Parse(p.location)
	if err != nil {
		return newError("oidc redirect", "bad Location", err)
	}
	lq := loc.Query()
	if e := lq.Get("error"); e != "" {
		return newError("oidc redirect", "error="+e, errors.New(lq.Get("error_description")))
	}
	if lq.Get("state") != state {
		return newError("oidc redirect", "state mismatch", nil)
	}
	code := lq.Get("code")
	if code == "" {
		return newError("oidc redirect", "no code", nil)
	}

	// The service's back channel.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {r.redirectURI}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.oidc.token, strings.NewReader(form.Encode()))
	if err != nil {
		return newError("oidc token", "bad request", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.reg.clientID), url.QueryEscape(r.reg.clientSecret))
	var tok tokenResponse
	status, err := r.callJSON(v.api, &v.body, req, &tok, "oidc token")
	if err != nil {
		return err
	}
	if status != http.StatusOK || tok.AccessToken == "" || tok.IDToken == "" {
		return newError("oidc token", fmt.Sprintf("HTTP %d %s", status, tok.Error), nil)
	}
	idt, err := r.oidc.verifier.Verify(ctx, tok.IDToken)
	if err != nil {
		return newError("oidc id token", "does not verify", err)
	}
	r.ops.signed(idt.Key)
	if idt.Claim("nonce") != nonce {
		return newError("oidc id token", "nonce mismatch", nil)
	}
	sub := idt.Claim("sub")
	if !strings.HasPrefix(sub, "MPASSOID.") {
		return newError("oidc id token", "subject is not an MPASSid uid", fmt.Errorf("sub %q", sub))
	}

	req, err = http.NewRequestWithContext(ctx, http.MethodGet, r.oidc.userinfo, nil)
	if err != nil {
		return newError("oidc userinfo", "bad request", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	var ui userinfoResponse
	status, err = r.callJSON(v.api, &v.body, req, &ui, "oidc userinfo")
	if err != nil {
		return err
	}
	if status != http.StatusOK || ui.Sub != sub {
		return newError("oidc userinfo", fmt.Sprintf("HTTP %d or another subject", status), nil)
	}
	return nil
}

// tokenResponse is what the service reads of the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	Error       string `json:"error"`
}

// flatFields makes a token response an answer flatjson.ReadStrings can read.
func (t *tokenResponse) flatFields() ([]string, []*string) {
	return []string{"access_token", "id_token", "error"}, []*string{&t.AccessToken, &t.IDToken, &t.Error}
}

// userinfoResponse is what the service reads of the userinfo answer.
type userinfoResponse struct {
	Sub string `json:"sub"`
}

// flatFields makes a userinfo answer one flatjson.ReadStrings can read.
func (u *userinfoResponse) flatFields() ([]string, []*string) {
	return []string{"sub"}, []*string{&u.Sub}
}

// flatAnswer is an answer of string fields that flatjson.ReadStrings can try first.
type flatAnswer interface {
	flatFields() (names []string, vals []*string)
}

// callJSON does a back-channel request and decodes its JSON answer, read
// into buf: a virtual user's, reused for all its calls, or nil for a new
// one.
func (r *runner) callJSON(c *http.Client, buf *bytes.Buffer, req *http.Request, out any, step string) (int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, transportError(step, err)
	}
	defer resp.Body.Close()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody)); err != nil {
		return 0, transportError(step, err)
	}
	data := buf.Bytes()
	if fa, ok := out.(flatAnswer); ok {
		if names, vals := fa.flatFields(); flatjson.ReadStrings(data, names, vals) {
			return resp.StatusCode, nil
		}
	}
	if err := json.Unmarshal(data, out); err != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, newError(step, "answer is not JSON", err)
	}
	return resp.StatusCode, nil
}

// oidcEndpoints are the broker's OpenID provider as discovered.
type oidcEndpoints struct {
	issuer, authorize, token, userinfo, jwks string
	verifier                                 *oidcconn.IDTokenVerifier
	// authorizeRequest is the authorization endpoint with the request's
	// fixed parameters, encoded once rather than for every login.
	authorizeRequest string
}

// samlSP is the tool's SAML service provider.
type samlSP struct {
	kp       *keyPair
	entityID string
	acs      string
}

// samlIdPInfo is the broker's SAML IdP as its metadata describes it.
type samlIdPInfo struct {
	entityID string
	sso      string // HTTP-Redirect SSO endpoint
	certs    []*x509.Certificate
	certB64  []string // certs[i] in base64, as a KeyInfo carries it
}

func newSAMLIdPInfo(entityID, sso string, certs []*x509.Certificate) *samlIdPInfo {
	info := &samlIdPInfo{entityID: entityID, sso: sso, certs: certs}
	for _, c := range certs {
		info.certB64 = append(info.certB64, base64.StdEncoding.EncodeToString(c.Raw))
	}
	return info
}

// keyInfoCert returns the certificates to verify the assertion's
// signature with. When the KeyInfo is in the usual shape (one X509Data,
// its first child an X509Certificate), it compares the certificate's text
// with the metadata's certificates in base64, fails if it is none of them,
// and otherwise detaches the KeyInfo and returns that certificate alone,
// as goxmldsig would take it (without parsing it anew for every Response).
// The KeyInfo is outside what the signature covers (the
// enveloped-signature transform drops the whole Signature before the
// digest, and SignedInfo does not name it), so detaching it changes
// nothing else either verifier checks. In any other shape the assertion
// is left as it is and all the metadata's certificates are returned.
func (info *samlIdPInfo) keyInfoCert(assertion *etree.Element) ([]*x509.Certificate, error) {
	sig, ok := onlyDSigChild(assertion, "Signature")
	if !ok {
		return info.certs, nil
	}
	keyInfo, ok := onlyDSigChild(sig, "KeyInfo")
	if !ok {
		return info.certs, nil
	}
	data := keyInfo.ChildElements()
	if len(data) != 1 || data[0].Tag != "X509Data" || data[0].NamespaceURI() != nsDSig {
		return info.certs, nil
	}
	certs := data[0].ChildElements()
	if len(certs) == 0 || certs[0].Tag != "X509Certificate" || certs[0].NamespaceURI() != nsDSig {
		return info.certs, nil
	}
	text := stripXMLSpace(certs[0].Text())
	for i, c := range info.certB64 {
		if text == c {
			sig.RemoveChild(keyInfo)
			return info.certs[i : i+1], nil
		}
	}
	return nil, errors.New("the Signature's KeyInfo carries no certificate of the broker's metadata")
}

// onlyDSigChild returns el's child element of the XML-DSig namespace named
// tag if it has exactly one.
func onlyDSigChild(el *etree.Element, tag string) (*etree.Element, bool) {
	var found *etree.Element
	for _, ch := range el.ChildElements() {
		if ch.Tag == tag && ch.NamespaceURI() == nsDSig {
			if found != nil {
				return nil, false
			}
			found = ch
		}
	}
	return found, found != nil
}

// stripXMLSpace removes the white space goxmldsig removes from a
// certificate's text (regexp \s: tab, line feed, form feed, carriage
// return and space).
func stripXMLSpace(s string) string {
	if !strings.ContainsAny(s, "\t\n\f\r ") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\f', '\r', ' ':
			return -1
		}
		return r
	}, s)
}

// samlLogin runs one SAML login: a signed HTTP-Redirect AuthnRequest, the
// source, and the broker's signed Response verified.
func (r *runner) samlLogin(ctx context.Context, v *vu, src *source) error {
	id := randomID()
	now := time.Now().UTC()
	var rac string
	if !r.opts.NoHint {
		rac = `<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>` + authnSource + html.EscapeString(src.flowName) + `</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`
	}
	xml := `<samlp:AuthnRequest xmlns:samlp="` + nsProtocol + `" xmlns:saml="` + nsAssertion + `" ID="` + id +
		`" Version="2.0" IssueInstant="` + now.Format("2006-01-02T15:04:05Z") + `" Destination="` + html.EscapeString(r.idp.sso) +
		`" AssertionConsumerServiceURL="` + html.EscapeString(r.sp.acs) + `" ProtocolBinding="` + bindingPOST + `"><saml:Issuer>` +
		html.EscapeString(r.sp.entityID) + `</saml:Issuer>` + rac + `</samlp:AuthnRequest>`
	// klauspost's stateless DEFLATE, as the broker's SAML connector: some
	// 10 µs for an AuthnRequest against compress/flate's 25 µs for Huffman
	// codes alone, and 350 bytes rather than 500 for the broker to inflate.
	v.buf.Reset()
	if err := flate.StatelessDeflate(&v.buf, []byte(xml), true, nil); err != nil {
		return newError("saml request", "deflate", err)
	}
	relayState := random(12)
	signed := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(v.buf.Bytes())) +
		"&RelayState=" + url.QueryEscape(relayState) + "&SigAlg=" + url.QueryEscape(r.sp.kp.xmlSignatureMethod())
	digest := sha256.Sum256([]byte(signed))
	sig, err := r.sp.kp.signDigest(digest[:])
	if err != nil {
		return newError("saml request", "sign", err)
	}
	r.ops.checks(r.sp.kp.key.Public())
	target := r.idp.sso + "?" + signed + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	p, err := v.b.get(ctx, target, "saml sso")
	if err != nil {
		return err
	}
	var f *form
	_, err = r.walk(ctx, v, p, src, func(p *page) bool {
		if p.status != http.StatusOK {
			return false
		}
		var ok bool
		f, ok = postForm(p)
		return ok && f.action == r.sp.acs
	})
	if err != nil {
		return err
	}
	if f.fields.Get("RelayState") != relayState {
		return newError("saml response", "RelayState mismatch", nil)
	}
	return r.verifySAMLResponse(f.fields.Get("SAMLResponse"), id, now, r.samlVerified.Add(1)%crossCheckEvery == 1)
}

// crossCheckEvery is how often the tool verifies the broker's SAML
// signature with goxmldsig as well as with the broker's own verifier.
const crossCheckEvery = 16

// verifySAMLResponse checks the broker's answer as a careful SP would:
// success status, addressed to this SP for this request, the assertion
// signed by a certificate of the broker's metadata, the audience, the
// subject confirmation, and an MPASSid uid among the attributes.
//
// The signature is checked by the broker's own verifier of upstream
// assertions (connector/saml), which is not the code that signs: the
// broker writes its assertion's canonical bytes directly, the verifier
// canonicalises the parsed tree with goxmldsig's canonicaliser. It costs
// the tool a third of goxmldsig's Validate, which with crossCheck also
// verifies (every crossCheckEvery-th login), so that the whole run is
// still checked by an implementation that shares nothing with the broker.
func (r *runner) verifySAMLResponse(b64, requestID string, now time.Time, crossCheck bool) error {
	const step = "saml response"
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return newError(step, "not base64", err)
	}
	// xmlsafe's parse, as the broker's own, is the cheaper one for a
	// message in the common subset of XML and builds the same tree.
	doc, err := xmlsafe.ParseTree(raw, xmlsafe.Options{})
	if err != nil {
		return newError(step, "not XML", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return newError(step, "not a Response", nil)
	}
	if sc := root.FindElement("./Status/StatusCode"); sc == nil || sc.SelectAttrValue("Value", "") != statusSuccess {
		code := ""
		if sc != nil {
			code = sc.SelectAttrValue("Value", "")
			if sub := sc.SelectElement("StatusCode"); sub != nil {
				code += " / " + sub.SelectAttrValue("Value", "")
			}
		}
		return newError(step, "status "+strings.TrimPrefix(code, "urn:oasis:names:tc:SAML:2.0:status:"), nil)
	}
	if root.SelectAttrValue("Destination", "") != r.sp.acs || root.SelectAttrValue("InResponseTo", "") != requestID {
		return newError(step, "Destination or InResponseTo wrong", nil)
	}
	var assertion *etree.Element
	for _, ch := range root.ChildElements() {
		switch {
		case ch.Tag == "Assertion" && ch.NamespaceURI() == nsAssertion:
			if assertion != nil {
				return newError(step, "several assertions", nil)
			}
			assertion = ch
		case ch.Tag == "EncryptedAssertion":
			return newError(step, "encrypted assertion (no encryption certificate was registered)", nil)
		}
	}
	if assertion == nil {
		return newError(step, "no assertion", nil)
	}
	roots, err := r.idp.keyInfoCert(assertion)
	if err != nil {
		return newError(step, "assertion signature does not verify", err)
	}
	signedA, err := samlconn.VerifyEnveloped(assertion, roots, now)
	if err != nil {
		return newError(step, "assertion signature does not verify", err)
	}
	// The broker signed the assertion, and the Response too if it carries
	// a Signature (not checked here: the assertion's is the one relied on).
	r.ops.signed(roots[0].PublicKey)
	if _, signed := onlyDSigChild(root, "Signature"); signed {
		r.ops.signed(roots[0].PublicKey)
	}
	if crossCheck {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: roots})
		vc.IdAttribute = "ID"
		vc.Clock = dsig.NewFakeClockAt(now)
		if _, err := vc.Validate(assertion); err != nil {
			return newError(step, "assertion signature refused by goxmldsig but not by the broker's verifier", err)
		}
	}
	if is := signedA.SelectElement("Issuer"); is == nil || strings.TrimSpace(is.Text()) != r.idp.entityID {
		return newError(step, "assertion issuer is not the broker", nil)
	}
	scd := signedA.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData")
	if scd == nil || scd.SelectAttrValue("InResponseTo", "") != requestID || scd.SelectAttrValue("Recipient", "") != r.sp.acs {
		return newError(step, "subject confirmation wrong", nil)
	}
	if t, err := time.Parse(time.RFC3339, scd.SelectAttrValue("NotOnOrAfter", "")); err != nil || !now.Before(t) {
		return newError(step, "subject confirmation expired", err)
	}
	if aud := signedA.FindElement("./Conditions/AudienceRestriction/Audience"); aud == nil || strings.TrimSpace(aud.Text()) != r.sp.entityID {
		return newError(step, "audience is not this service", nil)
	}
	uid := false
	for _, at := range signedA.FindElements("./AttributeStatement/Attribute") {
		if at.SelectAttrValue("Name", "") == "urn:mpass.id:uid" {
			if v := at.SelectElement("AttributeValue"); v != nil && strings.HasPrefix(v.Text(), "MPASSOID.") {
				uid = true
			}
		}
	}
	if !uid {
		return newError(step, "no urn:mpass.id:uid", nil)
	}
	return nil
}
