package saml

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// Clock tolerances of the response checks: those crewjam/saml's
// ServiceProvider applied (its MaxClockSkew and MaxIssueDelay defaults),
// which this package used before it read responses itself.
const (
	// maxClockSkew is allowed on every NotBefore, NotOnOrAfter and
	// IssueInstant in the future.
	maxClockSkew = 180 * time.Second
	// maxIssueDelay is how old a Response or Assertion IssueInstant may be.
	maxIssueDelay = 90 * time.Second
)

// More namespaces and SAML URIs read here.
const (
	nsXMLEnc = "http://www.w3.org/2001/04/xmlenc#"
	nsXSI    = "http://www.w3.org/2001/XMLSchema-instance"

	samlVersion  = "2.0"
	bearerMethod = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// maxEncryptedKeys bounds the xenc:EncryptedKey elements tried for one
// encrypted element: each costs a private-key operation per decryption
// key, and an unsigned Response gets decrypted before any signature is
// checked.
const maxEncryptedKeys = 4

// failf returns a connector error of kind with the (non-personal) detail.
func failf(kind error, format string, args ...any) error {
	return fmt.Errorf("saml: %w: %s", kind, fmt.Sprintf(format, args...))
}

// verify checks an encoded SAMLResponse answering requestID, signed
// according to m, and returns its identity. The error matches one of the
// connector errors, or is a replay-cache failure.
func (c *Connector) verify(ctx context.Context, encoded, requestID string, m *idpMetadata) (*connector.Identity, error) {
	if encoded == "" {
		return nil, fmt.Errorf("saml: %w: no SAMLResponse", connector.ErrInvalidResponse)
	}
	if len(encoded) > c.maxResponse {
		return nil, fmt.Errorf("saml: %w: SAMLResponse larger than %d bytes", connector.ErrInvalidResponse, c.maxResponse)
	}
	decoded, err := xmlsafe.DecodeBase64(encoded) // some IdPs wrap it in lines
	if err != nil {
		return nil, fmt.Errorf("saml: %w: SAMLResponse is not base64", connector.ErrInvalidResponse)
	}
	tree, pre, err := precheckResponse(decoded)
	if err != nil {
		return nil, fmt.Errorf("saml: %w: %w", connector.ErrInvalidResponse, err)
	}
	if pre.status == statusSuccess && c.requireEnc && !pre.encrypted {
		return nil, fmt.Errorf("saml: %w: assertion is not encrypted, and this source requires encryption", connector.ErrInvalidResponse)
	}
	return c.verifyResponse(ctx, tree.Root(), requestID, m, c.now())
}

// precheck is what precheckResponse learned of a response's structure.
type precheck struct {
	status    string // top-level StatusCode
	encrypted bool   // the assertion is an EncryptedAssertion
}

// precheckResponse parses a response once (parseMessageTree: no DTD, no
// comments, no processing instructions, one root, bounded depth and size,
// round-trip safe) and refuses responses whose structure allows signature
// wrapping before any signature is looked at: the root must be a
// samlp:Response, there may be at most one Assertion or EncryptedAssertion
// in the whole document and it must be a child of the Response, and every
// ds:Signature must be a child of the Response or of that Assertion.
func precheckResponse(doc []byte) (*etree.Document, *precheck, error) {
	tree, err := parseMessageTree(doc)
	if err != nil {
		return nil, nil, err
	}
	root := tree.Root()
	if !isElem(root, nsProtocol, "Response") {
		return nil, nil, errors.New("root element is not a samlp:Response")
	}
	p := &precheck{}
	var assertions []*etree.Element
	var signatures []*etree.Element
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, ch := range el.ChildElements() {
			switch {
			case isElem(ch, nsAssertion, "Assertion"), isElem(ch, nsAssertion, "EncryptedAssertion"):
				assertions = append(assertions, ch)
			case isElem(ch, nsDSig, "Signature"):
				signatures = append(signatures, ch)
			}
			walk(ch)
		}
	}
	walk(root)
	if len(assertions) > 1 {
		return nil, nil, fmt.Errorf("%d assertions; exactly one is accepted", len(assertions))
	}
	if len(assertions) == 1 {
		a := assertions[0]
		if a.Parent() != root {
			return nil, nil, errors.New("the assertion is not a child of the Response")
		}
		p.encrypted = a.Tag == "EncryptedAssertion"
	}
	for _, s := range signatures {
		if s.Parent() != root && (len(assertions) == 0 || s.Parent() != assertions[0]) {
			return nil, nil, errors.New("a Signature outside the Response and Assertion")
		}
	}
	if codes := statusCodes(root); len(codes) > 0 {
		p.status = codes[0]
	}
	return tree, p, nil
}

// statusCodes returns the Values of resp's top-level StatusCode and of
// those nested in it.
func statusCodes(resp *etree.Element) []string {
	var codes []string
	if st := childElem(resp, nsProtocol, "Status"); st != nil {
		for code := childElem(st, nsProtocol, "StatusCode"); code != nil; code = childElem(code, nsProtocol, "StatusCode") {
			codes = append(codes, attr(code, "Value"))
		}
	}
	return codes
}

// verifyResponse verifies received, the root of a response, as the Web
// Browser SSO profile requires, and returns the identity in its assertion.
// Everything it reads that matters comes from an element a signature
// covers, in the form goxmldsig read it back from the bytes it digested:
// the Response, if the Response is signed, else the Assertion; never from
// received beside them (see doc.go). It leans on precheckResponse only for
// defence in depth: on its own, it too refuses more than one assertion.
func (c *Connector) verifyResponse(ctx context.Context, received *etree.Element, requestID string, m *idpMetadata, now time.Time) (*connector.Identity, error) {
	resp, respSigned, err := c.verifySignature(received, m, now)
	if err != nil {
		return nil, failf(connector.ErrInvalidResponse, "Response signature: %v", err)
	}
	if err := c.checkResponse(resp, respSigned, requestID, m, now); err != nil {
		return nil, err
	}
	a, err := c.signedAssertion(resp, received, respSigned, m, now)
	if err != nil {
		return nil, err
	}
	until, err := c.checkAssertion(a, requestID, m, now)
	if err != nil {
		return nil, err
	}
	id, err := c.identity(a)
	if err != nil {
		return nil, err
	}
	aid := attr(a, "ID")
	fresh, err := c.cfg.ReplayCache.MarkUsed(ctx, ReplayNamespace, m.info.EntityID+" "+aid, until)
	if err != nil {
		return nil, fmt.Errorf("saml: replay cache: %w", err)
	}
	if !fresh {
		return nil, fmt.Errorf("saml: %w: assertion %q was used before", connector.ErrReplay, aid)
	}
	return id, nil
}

// checkResponse checks the Response element resp (as its signature covers
// it, if signed): version, Destination, InResponseTo, IssueInstant, Issuer,
// and last the status, so that only a response that answers this request
// can cancel the login.
func (c *Connector) checkResponse(resp *etree.Element, signed bool, requestID string, m *idpMetadata, now time.Time) error {
	if !isElem(resp, nsProtocol, "Response") {
		return failf(connector.ErrInvalidResponse, "not a samlp:Response")
	}
	if v := attr(resp, "Version"); v != samlVersion {
		return failf(connector.ErrInvalidResponse, "Response Version %q is not %s", v, samlVersion)
	}
	// An unsigned Response may omit the Destination (saml-bindings §3.5.5.2).
	if dest := attr(resp, "Destination"); (signed || dest != "") && dest != c.acsURL {
		return failf(connector.ErrInvalidResponse, "Response Destination %q is not the ACS URL", dest)
	}
	if irt := attr(resp, "InResponseTo"); irt == "" || irt != requestID {
		return failf(connector.ErrInvalidResponse, "Response InResponseTo %q does not answer the request %q", irt, requestID)
	}
	if err := checkIssueInstant("Response", resp, now); err != nil {
		return err
	}
	switch issuers := childElems(resp, nsAssertion, "Issuer"); {
	case len(issuers) > 1:
		return failf(connector.ErrInvalidResponse, "Response has %d Issuers", len(issuers))
	case len(issuers) == 1 && text(issuers[0]) != m.info.EntityID:
		return failf(connector.ErrInvalidResponse, "Response Issuer is not the IdP")
	}
	if codes := statusCodes(resp); len(codes) == 0 || codes[0] != statusSuccess {
		return fmt.Errorf("saml: %w: status %s", connector.ErrCancelled, strings.Join(codes, " / "))
	}
	return nil
}

// signedAssertion returns the Response's one assertion, decrypted if it is
// encrypted, as a signature covers it: its own, which must be valid if it
// has one (saml-core §2.3.3, even inside a signed Response), else the
// Response's. resp is the Response as read (what its signature covers, if
// respSigned), received as received; an assertion's own signature is
// checked on the assertion as received, since the Response as its
// signature covers it may lack namespace declarations the assertion's
// signature covers.
func (c *Connector) signedAssertion(resp, received *etree.Element, respSigned bool, m *idpMetadata, now time.Time) (*etree.Element, error) {
	a, err := oneAssertion(resp)
	if err != nil {
		return nil, failf(connector.ErrInvalidResponse, "%v", err)
	}
	recv := a
	if respSigned {
		if recv, err = oneAssertion(received); err != nil {
			return nil, failf(connector.ErrInvalidResponse, "%v", err)
		}
		if recv.Tag != a.Tag || attr(recv, "ID") != attr(a, "ID") {
			return nil, failf(connector.ErrInvalidResponse, "the assertion the Response signature covers is not the one received")
		}
	}
	if a.Tag == "EncryptedAssertion" {
		// Decrypted from what the Response signature covers, if signed.
		plain, err := c.decrypt(a)
		if err != nil {
			return nil, failf(connector.ErrInvalidResponse, "cannot decrypt the assertion: %v", err)
		}
		if !isElem(plain, nsAssertion, "Assertion") {
			return nil, failf(connector.ErrInvalidResponse, "the EncryptedAssertion holds a %s, not an Assertion", plain.FullTag())
		}
		a, recv = plain, plain
	}
	signed, ok, err := c.verifySignature(recv, m, now)
	switch {
	case err != nil:
		return nil, failf(connector.ErrInvalidResponse, "Assertion signature: %v", err)
	case ok:
		return signed, nil
	case !respSigned:
		return nil, failf(connector.ErrInvalidResponse, "neither the Response nor the Assertion is signed")
	}
	return a, nil
}

// oneAssertion returns resp's only Assertion or EncryptedAssertion child.
func oneAssertion(resp *etree.Element) (*etree.Element, error) {
	var found *etree.Element
	n := 0
	for _, ch := range resp.ChildElements() {
		if isElem(ch, nsAssertion, "Assertion") || isElem(ch, nsAssertion, "EncryptedAssertion") {
			found = ch
			n++
		}
	}
	switch n {
	case 0:
		return nil, errors.New("no Assertion in the Response")
	case 1:
		return found, nil
	}
	return nil, fmt.Errorf("%d assertions; exactly one is accepted", n)
}

// checkAssertion checks a (as a signature covers it) as the Web Browser
// SSO profile requires of this SP's login assertion, and returns until
// when the replay cache must remember its ID: the earliest moment at which
// these checks would refuse it anyway.
func (c *Connector) checkAssertion(a *etree.Element, requestID string, m *idpMetadata, now time.Time) (time.Time, error) {
	var none time.Time
	if !isElem(a, nsAssertion, "Assertion") {
		return none, failf(connector.ErrInvalidResponse, "not a saml:Assertion")
	}
	if v := attr(a, "Version"); v != samlVersion {
		return none, failf(connector.ErrInvalidResponse, "Assertion Version %q is not %s", v, samlVersion)
	}
	if attr(a, "ID") == "" {
		return none, failf(connector.ErrInvalidResponse, "Assertion has no ID")
	}
	if err := checkIssueInstant("Assertion", a, now); err != nil {
		return none, err
	}
	issuedAt, _ := attrSAMLTime(a, "IssueInstant") // checked above
	until := issuedAt.Add(maxIssueDelay)
	if issuer, err := oneChild(a, "Issuer"); err != nil {
		return none, err
	} else if text(issuer) != m.info.EntityID {
		return none, failf(connector.ErrInvalidResponse, "assertion issuer is not the IdP")
	}
	subject, err := oneChild(a, "Subject")
	if err != nil {
		return none, err
	}
	cond, err := oneChild(a, "Conditions")
	if err != nil {
		return none, err
	}
	confirmedUntil, err := c.checkBearer(subject, requestID, now)
	if err != nil {
		return none, err
	}
	until = earliest(until, confirmedUntil)
	if childElem(a, nsAssertion, "AuthnStatement") == nil {
		return none, failf(connector.ErrInvalidResponse, "assertion has no AuthnStatement")
	}
	notBefore, err := attrSAMLTime(cond, "NotBefore")
	if err != nil {
		return none, err
	}
	notOnOrAfter, err := attrSAMLTime(cond, "NotOnOrAfter")
	if err != nil {
		return none, err
	}
	if notBefore.Add(-maxClockSkew).After(now) {
		return none, failf(connector.ErrExpired, "assertion Conditions NotBefore %s is in the future", notBefore.Format(time.RFC3339))
	}
	// An omitted NotOnOrAfter sets no limit (saml-core §2.5.1.2); the
	// IssueInstant and the bearer confirmation still do.
	if !notOnOrAfter.IsZero() {
		if !now.Before(notOnOrAfter.Add(maxClockSkew)) {
			return none, failf(connector.ErrExpired, "assertion Conditions expired at %s", notOnOrAfter.Format(time.RFC3339))
		}
		until = earliest(until, notOnOrAfter.Add(maxClockSkew))
	}
	// Every AudienceRestriction must name this SP (saml-core §2.5.1.4),
	// and there must be one: an assertion without is good at any SP.
	restrictions := childElems(cond, nsAssertion, "AudienceRestriction")
	if len(restrictions) == 0 {
		return none, failf(connector.ErrInvalidResponse, "assertion Conditions has no AudienceRestriction")
	}
	for _, r := range restrictions {
		ok := false
		for _, aud := range childElems(r, nsAssertion, "Audience") {
			ok = ok || text(aud) == c.cfg.EntityID
		}
		if !ok {
			return none, failf(connector.ErrInvalidResponse, "assertion AudienceRestriction does not name this SP")
		}
	}
	return until, nil
}

// checkBearer checks the bearer SubjectConfirmations of subject (one that
// holds is enough, saml-core §2.4.1; other methods are ignored) and
// returns the latest moment one of them is good until; the error is the
// first one's.
func (c *Connector) checkBearer(subject *etree.Element, requestID string, now time.Time) (time.Time, error) {
	var firstErr error
	var until time.Time
	confirmed := false
	for _, sc := range childElems(subject, nsAssertion, "SubjectConfirmation") {
		if attr(sc, "Method") != bearerMethod {
			continue
		}
		u, err := c.checkBearerData(sc, requestID, now)
		if u.After(until) {
			until = u
		}
		if err == nil {
			confirmed = true
		} else if firstErr == nil {
			firstErr = err
		}
	}
	switch {
	case confirmed:
		return until, nil
	case firstErr != nil:
		return until, firstErr
	}
	return until, failf(connector.ErrInvalidResponse, "assertion has no bearer SubjectConfirmation")
}

// checkBearerData checks one bearer SubjectConfirmation's data
// (saml-profiles §4.1.4.2): it answers requestID, names the ACS as
// Recipient and is valid now. It returns its NotOnOrAfter with the clock
// skew, if it has one.
func (c *Connector) checkBearerData(sc *etree.Element, requestID string, now time.Time) (time.Time, error) {
	var none time.Time
	data, err := oneChild(sc, "SubjectConfirmationData")
	if err != nil {
		return none, err
	}
	notBefore, err := attrSAMLTime(data, "NotBefore")
	if err != nil {
		return none, err
	}
	notOnOrAfter, err := attrSAMLTime(data, "NotOnOrAfter")
	if err != nil {
		return none, err
	}
	until := notOnOrAfter.Add(maxClockSkew)
	if irt := attr(data, "InResponseTo"); irt == "" || irt != requestID {
		return until, failf(connector.ErrInvalidResponse, "assertion SubjectConfirmationData InResponseTo %q does not answer the request %q", irt, requestID)
	}
	if attr(data, "Recipient") != c.acsURL {
		return until, failf(connector.ErrInvalidResponse, "assertion SubjectConfirmationData Recipient is not the ACS URL")
	}
	if notBefore.Add(-maxClockSkew).After(now) {
		return until, failf(connector.ErrExpired, "assertion SubjectConfirmationData NotBefore %s is in the future", notBefore.Format(time.RFC3339))
	}
	// A bearer confirmation must have a NotOnOrAfter: without one it is
	// the zero time, long past.
	if !now.Before(until) {
		return until, failf(connector.ErrExpired, "assertion SubjectConfirmationData expired at %s", notOnOrAfter.Format(time.RFC3339))
	}
	return until, nil
}

// checkIssueInstant refuses el (a Response or Assertion, named what) whose
// IssueInstant is more than maxIssueDelay old, or more than maxClockSkew
// in the future.
func checkIssueInstant(what string, el *etree.Element, now time.Time) error {
	t, err := attrSAMLTime(el, "IssueInstant")
	if err != nil {
		return err
	}
	if t.Add(maxIssueDelay).Before(now) {
		return failf(connector.ErrExpired, "%s IssueInstant %s is too old", what, t.Format(time.RFC3339))
	}
	if t.Add(-maxClockSkew).After(now) {
		return failf(connector.ErrExpired, "%s IssueInstant %s is in the future", what, t.Format(time.RFC3339))
	}
	return nil
}

// identity builds the connector's Identity from a, a checked assertion as
// its signature covers it.
func (c *Connector) identity(a *etree.Element) (*connector.Identity, error) {
	id := &connector.Identity{Attributes: map[string][]string{}}
	subject := childElem(a, nsAssertion, "Subject")
	nameID, err := c.nameID(subject)
	if err != nil {
		return nil, err
	}
	id.NameID = nameID
	if as := childElem(a, nsAssertion, "AuthnStatement"); as != nil {
		if id.AuthnInstant, err = attrSAMLTime(as, "AuthnInstant"); err != nil {
			return nil, err
		}
		id.SessionIndex = attr(as, "SessionIndex")
	}
	type alias struct {
		name   string
		values []string
	}
	var aliases []alias
	for _, stmt := range childElems(a, nsAssertion, "AttributeStatement") {
		for _, at := range stmt.ChildElements() {
			switch {
			case isElem(at, nsAssertion, "Attribute"):
			case isElem(at, nsAssertion, "EncryptedAttribute"):
				// Covered by the assertion's signature, like the rest.
				plain, err := c.decrypt(at)
				if err != nil {
					return nil, failf(connector.ErrInvalidResponse, "cannot decrypt an EncryptedAttribute: %v", err)
				}
				if !isElem(plain, nsAssertion, "Attribute") {
					return nil, failf(connector.ErrInvalidResponse, "an EncryptedAttribute holds a %s, not an Attribute", plain.FullTag())
				}
				at = plain
			default:
				continue
			}
			vals, err := attributeValues(at)
			if err != nil {
				return nil, err
			}
			name, friendly := attr(at, "Name"), attr(at, "FriendlyName")
			if name != "" {
				id.Attributes[name] = append(id.Attributes[name], vals...)
			}
			if friendly != "" && friendly != name {
				aliases = append(aliases, alias{friendly, vals})
			}
			if short, ok := claimAliases[name]; ok && c.aliases {
				aliases = append(aliases, alias{short, vals})
			}
		}
	}
	// Aliases never shadow an attribute of that Name; the first alias of a
	// name wins.
	for _, al := range aliases {
		if _, exists := id.Attributes[al.name]; !exists {
			id.Attributes[al.name] = append([]string(nil), al.values...)
		}
	}
	return id, nil
}

// nameID returns the NameID of subject: its NameID, or the NameID its
// EncryptedID holds. A BaseID (whose content this package cannot
// interpret) or more than one identifier is refused.
func (c *Connector) nameID(subject *etree.Element) (string, error) {
	var ids []*etree.Element
	for _, ch := range subject.ChildElements() {
		switch {
		case isElem(ch, nsAssertion, "NameID"), isElem(ch, nsAssertion, "EncryptedID"):
			ids = append(ids, ch)
		case isElem(ch, nsAssertion, "BaseID"):
			return "", failf(connector.ErrInvalidResponse, "assertion Subject has a BaseID, which is not accepted")
		}
	}
	if len(ids) != 1 {
		return "", failf(connector.ErrInvalidResponse, "assertion Subject has %d NameIDs or EncryptedIDs, not one", len(ids))
	}
	nid := ids[0]
	if nid.Tag == "EncryptedID" {
		plain, err := c.decrypt(nid)
		if err != nil {
			return "", failf(connector.ErrInvalidResponse, "cannot decrypt the EncryptedID: %v", err)
		}
		if !isElem(plain, nsAssertion, "NameID") {
			return "", failf(connector.ErrInvalidResponse, "the EncryptedID holds a %s, not a NameID", plain.FullTag())
		}
		nid = plain
	}
	return text(nid), nil
}

// attributeValues returns the values of the Attribute at: each
// AttributeValue's text, or the NameID it holds; a null value
// (xsi:nil="true") is left out.
func attributeValues(at *etree.Element) ([]string, error) {
	var vals []string
	for _, v := range at.ChildElements() {
		if !isElem(v, nsAssertion, "AttributeValue") {
			continue
		}
		if nid := childElem(v, nsAssertion, "NameID"); nid != nil {
			vals = append(vals, text(nid))
			continue
		}
		isNil := false
		for i := range v.Attr {
			a := &v.Attr[i]
			if a.Key == "nil" && a.Space != "" && a.NamespaceURI() == nsXSI {
				b, err := strconv.ParseBool(strings.TrimSpace(a.Value))
				if err != nil {
					return nil, failf(connector.ErrInvalidResponse, "AttributeValue xsi:nil %q is not a boolean", a.Value)
				}
				isNil = b
			}
		}
		if !isNil {
			vals = append(vals, text(v))
		}
	}
	return vals, nil
}

// verifySignature verifies the enveloped signature of el (a Response or
// Assertion), if it has one: a ds:Signature child. It returns the element
// the signature covers, in the form whose canonical bytes were digested
// (so without the Signature), and true; or el and false if el has no
// signature.
//
// Before any cryptography it applies the rules of crewjam/saml's
// verifier, which this replaces: at most one Signature, no SHA-1 unless
// allowed, the SAML reference profile (saml-core §5.4.2: exactly one
// Reference, to "#" and el's ID), and the certificate from the IdP's
// metadata: the one the KeyInfo names, if it carries one, else each in
// turn. A signature of the common shape is then verified on a detached
// copy of el (commonsig.go); any other by goxmldsig's Validate, against
// one certificate at a time. Both see the signature without its KeyInfo,
// so that neither re-parses the certificate nor depends on KeyInfo.
func (c *Connector) verifySignature(el *etree.Element, m *idpMetadata, now time.Time) (*etree.Element, bool, error) {
	sigs := childElems(el, nsDSig, "Signature")
	switch len(sigs) {
	case 0:
		return el, false, nil
	case 1:
	default:
		return nil, false, fmt.Errorf("%d Signatures", len(sigs))
	}
	sig := sigs[0]
	if !c.cfg.AllowSHA1 {
		if err := checkNotSHA1(sig); err != nil {
			return nil, false, err
		}
	}
	if err := checkReference(el, sig); err != nil {
		return nil, false, err
	}
	certs, err := signingCandidates(sig, m.signingCerts)
	if err != nil {
		return nil, false, err
	}
	if c.cfg.IgnoreCertificateExpiry {
		valid := make([]*x509.Certificate, len(certs))
		for i, cert := range certs {
			valid[i] = withoutValidity(cert)
		}
		certs = valid
	}
	signed, err := verifyDetached(el, certs, now)
	if err != nil {
		return nil, false, err
	}
	return signed, true, nil
}

// VerifyEnveloped verifies the enveloped signature of el, which must have
// exactly one, with the first of certs that made it, as the connector
// verifies an IdP's: no SHA-1, the SAML reference profile, the common
// shape on the tree and any other by goxmldsig. It returns el as the
// signature covers it (a copy without the Signature); el is unchanged.
// The load tool checks the broker's own Responses with it.
func VerifyEnveloped(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	sigs := childElems(el, nsDSig, "Signature")
	if len(sigs) != 1 {
		return nil, fmt.Errorf("%d Signatures", len(sigs))
	}
	if err := checkNotSHA1(sigs[0]); err != nil {
		return nil, err
	}
	if err := checkReference(el, sigs[0]); err != nil {
		return nil, err
	}
	return verifyDetached(el, certs, now)
}

// verifyDetached verifies el's one Signature, already checked against
// the profile, on a detached copy of el without the KeyInfo.
func verifyDetached(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	cp := detach(el)
	cpSig := childElem(cp, nsDSig, "Signature")
	for _, ki := range childElems(cpSig, nsDSig, "KeyInfo") {
		cpSig.RemoveChild(ki)
	}
	if common, ok := parseCommonSignature(cpSig); ok {
		return common.verify(cp, cpSig, certs, now)
	}
	firstErr := errors.New("no signing certificate")
	for i, cert := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		vc.IdAttribute = "ID"
		vc.Clock = dsig.NewFakeClockAt(now)
		signed, err := vc.Validate(cp)
		if err == nil {
			return signed, nil
		}
		if i == 0 {
			firstErr = err
		}
	}
	return nil, firstErr
}

// signingCandidates returns the IdP signing certificates that may have
// made sig: the one its KeyInfo carries, which must be one of certs, or,
// if it carries none, all of certs.
func signingCandidates(sig *etree.Element, certs []*x509.Certificate) ([]*x509.Certificate, error) {
	kis := childElems(sig, nsDSig, "KeyInfo")
	switch {
	case len(kis) > 1:
		return nil, fmt.Errorf("%d KeyInfos", len(kis))
	case len(kis) == 0:
		return certs, nil
	}
	var xc *etree.Element
	for _, xd := range childElems(kis[0], nsDSig, "X509Data") {
		if xc = childElem(xd, nsDSig, "X509Certificate"); xc != nil {
			break
		}
	}
	if xc == nil {
		// A KeyInfo without a certificate (a KeyName or KeyValue) names
		// nothing the metadata can vouch for.
		return certs, nil
	}
	der, err := xmlsafe.DecodeBase64(text(xc))
	if err != nil || len(der) == 0 {
		return nil, errors.New("KeyInfo X509Certificate is not base64")
	}
	for _, cert := range certs {
		if bytes.Equal(cert.Raw, der) {
			return []*x509.Certificate{cert}, nil
		}
	}
	return nil, errors.New("the KeyInfo certificate is not a signing certificate in the IdP's metadata")
}

// checkReference checks that sig, el's signature, follows the reference
// profile of saml-core §5.4.2: one Reference, whose URI is "#" and el's
// ID. goxmldsig alone accepts URI="" and several References.
func checkReference(el, sig *etree.Element) error {
	si := childElems(sig, nsDSig, "SignedInfo")
	if len(si) != 1 {
		return fmt.Errorf("%d SignedInfos", len(si))
	}
	refs := childElems(si[0], nsDSig, "Reference")
	if len(refs) != 1 {
		return fmt.Errorf("signature must contain exactly one Reference, not %d", len(refs))
	}
	id := attr(el, "ID")
	if id == "" {
		return fmt.Errorf("signed %s has no ID", el.Tag)
	}
	// Every attribute named URI, whatever its prefix, so that a prefixed
	// one cannot stand in for the real one.
	var uris []string
	unprefixed := true
	for _, a := range refs[0].Attr {
		if a.Key == "URI" {
			uris = append(uris, a.Value)
			unprefixed = unprefixed && a.Space == ""
		}
	}
	if len(uris) != 1 || !unprefixed || uris[0] != "#"+id {
		return fmt.Errorf("signature Reference URI must be %q, not %q", "#"+id, uris)
	}
	return nil
}

// checkNotSHA1 refuses a signature that names a SHA-1 based
// SignatureMethod or DigestMethod anywhere in it.
func checkNotSHA1(sig *etree.Element) error {
	stack := []*etree.Element{sig}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if el.Tag == "SignatureMethod" || el.Tag == "DigestMethod" {
			for _, a := range el.Attr {
				if a.Key == "Algorithm" && isSHA1Algorithm(a.Value) {
					return fmt.Errorf("%s %q: SHA-1 is not accepted", el.Tag, a.Value)
				}
			}
		}
		stack = append(stack, el.ChildElements()...)
	}
	return nil
}

func isSHA1Algorithm(uri string) bool {
	switch uri {
	case dsig.RSASHA1SignatureMethod, dsig.ECDSASHA1SignatureMethod,
		"http://www.w3.org/2000/09/xmldsig#dsa-sha1",
		"http://www.w3.org/2000/09/xmldsig#hmac-sha1",
		"http://www.w3.org/2000/09/xmldsig#sha1":
		return true
	}
	return false
}

// detach returns a copy of el, without parent, that declares every
// namespace el inherits from its ancestors, as the signature of el needs
// when it is verified on its own.
func detach(el *etree.Element) *etree.Element {
	cp := el.Copy()
	if el.Parent() == nil {
		return cp
	}
	var declared []string
	for _, a := range cp.Attr {
		if p, ok := nsDeclPrefix(a); ok {
			declared = append(declared, p)
		}
	}
	// The nearest declaration of a prefix wins.
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			prefix, ok := nsDeclPrefix(a)
			if !ok || containsString(declared, prefix) {
				continue
			}
			declared = append(declared, prefix)
			cp.Attr = append(cp.Attr, etree.Attr{Space: a.Space, Key: a.Key, Value: a.Value})
		}
	}
	return cp
}

// nsDeclPrefix says whether a declares a namespace, and the prefix it
// declares ("" for the default namespace).
func nsDeclPrefix(a etree.Attr) (string, bool) {
	switch {
	case a.Space == "" && a.Key == "xmlns":
		return "", true
	case a.Space == "xmlns":
		return a.Key, true
	}
	return "", false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decrypt returns the root element of the plaintext of encEl (an
// EncryptedAssertion, EncryptedID or EncryptedAttribute) decrypted with
// the SP's keys (crewjam/saml's xmlenc does the cryptography). The
// content key may be wrapped for several recipients: those EncryptedKeys
// whose Recipient is this SP are tried first, at most maxEncryptedKeys in
// all, each with every key (saml-core errata E43). The plaintext is parsed
// as a message (parseMessageTree); if it is not one, the error is the same
// as for a wrong padding, which is what attacks on CBC mode learn from.
func (c *Connector) decrypt(encEl *etree.Element) (*etree.Element, error) {
	datas := childElems(encEl, nsXMLEnc, "EncryptedData")
	if len(datas) != 1 {
		return nil, fmt.Errorf("%d EncryptedData elements, not one", len(datas))
	}
	data := datas[0]
	var matching, others []*etree.Element
	for _, ek := range append(encEl.FindElements("./EncryptedKey"), data.FindElements("./KeyInfo/EncryptedKey")...) {
		if attr(ek, "Recipient") == c.cfg.EntityID {
			matching = append(matching, ek)
		} else {
			others = append(others, ek)
		}
	}
	keys := append(matching, others...)
	if len(keys) > maxEncryptedKeys {
		keys = keys[:maxEncryptedKeys]
	}
	if len(keys) == 0 {
		// No EncryptedKey: the private keys go to the EncryptedData.
		keys = []*etree.Element{nil}
	}
	// Only the first EncryptedKey's failures are reported.
	var firstErr error
	for i, ek := range keys {
		for _, k := range c.decryptionKeys {
			plain, err := decryptWith(k, ek, data)
			if err != nil {
				if i == 0 && firstErr == nil {
					firstErr = err
				}
				continue
			}
			tree, err := parseMessageTree(plain)
			if err != nil {
				return nil, xmlenc.ErrDecryptionFailed
			}
			return tree.Root(), nil
		}
	}
	return nil, firstErr
}

// decryptWith decrypts data with key, through the EncryptedKey ek if it is
// not nil.
func decryptWith(key *rsa.PrivateKey, ek, data *etree.Element) ([]byte, error) {
	if ek == nil {
		return xmlenc.Decrypt(key, data)
	}
	cek, err := xmlenc.Decrypt(key, ek)
	if err != nil {
		return nil, err
	}
	// The block ciphers would unwrap an EncryptedKey in the KeyInfo
	// themselves; give them the data without it, now that the key is known.
	if data.FindElement("./KeyInfo/EncryptedKey") != nil {
		data = data.Copy()
		for _, el := range data.FindElements("./KeyInfo/EncryptedKey") {
			el.Parent().RemoveChild(el)
		}
	}
	return xmlenc.Decrypt(cek, data)
}

// oneChild returns el's only saml:tag child; none or several are refused.
func oneChild(el *etree.Element, tag string) (*etree.Element, error) {
	chs := childElems(el, nsAssertion, tag)
	if len(chs) != 1 {
		return nil, failf(connector.ErrInvalidResponse, "%s has %d %s elements, not one", el.Tag, len(chs), tag)
	}
	return chs[0], nil
}

// childElems returns el's children ns:tag.
func childElems(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, t := range el.Child {
		if ch, ok := t.(*etree.Element); ok && isElem(ch, ns, tag) {
			out = append(out, ch)
		}
	}
	return out
}

// text returns the character data of el itself (not of its children), all
// of it, as encoding/xml's ",chardata" reads it.
func text(el *etree.Element) string {
	var s string
	n := 0
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			if n == 0 {
				s = cd.Data
			} else {
				s += cd.Data
			}
			n++
		}
	}
	return s
}

// attrSAMLTime parses el's time attribute key as crewjam/saml's
// RelaxedTime did: RFC 3339 with or without fractions, or without a zone
// (UTC), rounded to the millisecond; absent is the zero time.
func attrSAMLTime(el *etree.Element, key string) (time.Time, error) {
	v := attr(el, key)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05.999999999", v); err2 != nil {
			return time.Time{}, failf(connector.ErrInvalidResponse, "%s %s %q is not an xs:dateTime", el.Tag, key, v)
		}
	}
	return t.Round(time.Millisecond), nil
}
