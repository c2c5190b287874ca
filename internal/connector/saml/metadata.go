package saml

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/mpassid/mpassid/internal/xmlsafe"
	dsig "github.com/russellhaering/goxmldsig"
)

// XML namespaces and SAML URIs read here.
const (
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"

	protocolSAML2 = "urn:oasis:names:tc:SAML:2.0:protocol"

	// BindingRedirect and BindingPOST are the SAML bindings this package
	// uses.
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// DefaultMaxMetadataSize is the largest metadata document accepted unless
// MetadataOptions.MaxSize says otherwise. Entra ID's is about 40 KiB.
const DefaultMaxMetadataSize = 4 << 20

// ErrInvalidMetadata marks metadata that cannot be used: malformed, unsafe,
// without a usable IDPSSODescriptor, expired, or with a bad signature.
var ErrInvalidMetadata = errors.New("saml: invalid IdP metadata")

// MetadataInfo is what the management service needs to know about an IdP's
// current metadata: identity, endpoints and expiry dates.
type MetadataInfo struct {
	// EntityID is the IdP's entityID.
	EntityID string
	// ValidUntil is the earliest validUntil of the entity, its
	// IDPSSODescriptor and any enclosing EntitiesDescriptor; zero if none
	// (Entra ID and ADFS metadata have none).
	ValidUntil time.Time
	// SigningCertNotAfter are the NotAfter dates of all the signing
	// certificates of the IDPSSODescriptor, in document order (several
	// during a key rollover).
	SigningCertNotAfter []time.Time
	// EncryptionCertNotAfter are those of its encryption certificates.
	EncryptionCertNotAfter []time.Time
	// SSORedirectURL and SSOPostURL are the SingleSignOnService locations
	// for the HTTP-Redirect and HTTP-POST bindings ("" if not offered).
	SSORedirectURL string
	SSOPostURL     string
	// WantAuthnRequestsSigned is the IDPSSODescriptor's attribute.
	WantAuthnRequestsSigned bool
	// SignatureVerified says the metadata signature was verified against
	// a configured metadata signing certificate.
	SignatureVerified bool
	// Source is the metadata URL, or "uploaded".
	Source string
	// LoadedAt is when this copy was fetched or uploaded.
	LoadedAt time.Time
}

// SigningCertificateValidUntil returns the latest NotAfter of the signing
// certificates: the date after which no certificate in this metadata can
// verify a login (model.IdP.SigningCertificateValidUntil). Zero if none.
func (m MetadataInfo) SigningCertificateValidUntil() time.Time { return latest(m.SigningCertNotAfter) }

// EncryptionCertificateValidUntil is SigningCertificateValidUntil for the
// encryption certificates.
func (m MetadataInfo) EncryptionCertificateValidUntil() time.Time {
	return latest(m.EncryptionCertNotAfter)
}

func latest(ts []time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

// idpMetadata is one parsed, validated copy of an IdP's metadata. It is
// immutable once built.
type idpMetadata struct {
	info         MetadataInfo
	signingCerts []*x509.Certificate
}

// parseOptions are the inputs of parseMetadata besides the document.
type parseOptions struct {
	entityID      string              // the entity to use; "" = the only one
	signingCerts  []*x509.Certificate // metadata signing certs; nil = unsigned ok
	maxSize       int
	now           time.Time
	allowLoopback bool // http://127.0.0.1 SSO endpoints (tests)
}

// parseMetadata parses and validates an IdP metadata document (an
// EntityDescriptor, or an EntitiesDescriptor holding the entity).
func parseMetadata(doc []byte, o parseOptions) (*idpMetadata, error) {
	maxSize := o.maxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxMetadataSize
	}
	if len(doc) > maxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidMetadata, maxSize)
	}
	doc = stripBOM(doc)
	if err := checkXML(doc, xmlPolicy{allowComments: true}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	root := tree.Root()
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrInvalidMetadata)
	}
	verified := false
	if len(o.signingCerts) > 0 {
		signed, err := verifyEnveloped(root, o.signingCerts, o.now, true)
		if err != nil {
			return nil, fmt.Errorf("%w: metadata signature: %v", ErrInvalidMetadata, err)
		}
		root, verified = signed, true
	}

	entity, validUntil, err := findEntity(root, o.entityID)
	if err != nil {
		return nil, err
	}
	m, err := readEntity(entity, validUntil, o)
	if err != nil {
		return nil, err
	}
	m.info.SignatureVerified = verified
	return m, nil
}

// findEntity returns the EntityDescriptor with entityID (or the only one
// when entityID is ""), and the earliest validUntil of the
// EntitiesDescriptors enclosing it.
func findEntity(root *etree.Element, entityID string) (*etree.Element, time.Time, error) {
	if !isElem(root, nsMetadata, "EntityDescriptor") && !isElem(root, nsMetadata, "EntitiesDescriptor") {
		return nil, time.Time{}, fmt.Errorf("%w: root is not an EntityDescriptor or EntitiesDescriptor", ErrInvalidMetadata)
	}
	type found struct {
		el         *etree.Element
		validUntil time.Time
	}
	var matches []found
	var walk func(el *etree.Element, vu time.Time) error
	walk = func(el *etree.Element, vu time.Time) error {
		t, err := attrTime(el, "validUntil")
		if err != nil {
			return err
		}
		vu = earliest(vu, t)
		if isElem(el, nsMetadata, "EntityDescriptor") {
			if entityID == "" || attr(el, "entityID") == entityID {
				matches = append(matches, found{el, vu})
			}
			return nil
		}
		for _, c := range el.ChildElements() {
			if isElem(c, nsMetadata, "EntityDescriptor") || isElem(c, nsMetadata, "EntitiesDescriptor") {
				if err := walk(c, vu); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, time.Time{}); err != nil {
		return nil, time.Time{}, err
	}
	switch {
	case len(matches) == 0 && entityID != "":
		return nil, time.Time{}, fmt.Errorf("%w: no EntityDescriptor with entityID %q", ErrInvalidMetadata, entityID)
	case len(matches) == 0:
		return nil, time.Time{}, fmt.Errorf("%w: no EntityDescriptor", ErrInvalidMetadata)
	case len(matches) > 1:
		return nil, time.Time{}, fmt.Errorf("%w: %d matching EntityDescriptors; configure the IdP entityID", ErrInvalidMetadata, len(matches))
	}
	return matches[0].el, matches[0].validUntil, nil
}

func readEntity(entity *etree.Element, validUntil time.Time, o parseOptions) (*idpMetadata, error) {
	entityID := attr(entity, "entityID")
	if entityID == "" {
		return nil, fmt.Errorf("%w: EntityDescriptor without entityID", ErrInvalidMetadata)
	}
	t, err := attrTime(entity, "validUntil")
	if err != nil {
		return nil, err
	}
	validUntil = earliest(validUntil, t)

	var idp *etree.Element
	for _, c := range entity.ChildElements() {
		if isElem(c, nsMetadata, "IDPSSODescriptor") && slices.Contains(strings.Fields(attr(c, "protocolSupportEnumeration")), protocolSAML2) {
			if idp != nil {
				return nil, fmt.Errorf("%w: more than one SAML 2.0 IDPSSODescriptor", ErrInvalidMetadata)
			}
			idp = c
		}
	}
	if idp == nil {
		return nil, fmt.Errorf("%w: no SAML 2.0 IDPSSODescriptor in %q", ErrInvalidMetadata, entityID)
	}
	t, err = attrTime(idp, "validUntil")
	if err != nil {
		return nil, err
	}
	validUntil = earliest(validUntil, t)
	if !validUntil.IsZero() && !o.now.Before(validUntil) {
		return nil, fmt.Errorf("%w: expired (validUntil %s)", ErrInvalidMetadata, validUntil.UTC().Format(time.RFC3339))
	}

	m := &idpMetadata{info: MetadataInfo{
		EntityID:                entityID,
		ValidUntil:              validUntil,
		WantAuthnRequestsSigned: attr(idp, "WantAuthnRequestsSigned") == "true" || attr(idp, "WantAuthnRequestsSigned") == "1",
	}}
	for _, kd := range idp.ChildElements() {
		if !isElem(kd, nsMetadata, "KeyDescriptor") {
			continue
		}
		use := attr(kd, "use")
		if use != "" && use != "signing" && use != "encryption" {
			return nil, fmt.Errorf("%w: KeyDescriptor use %q", ErrInvalidMetadata, use)
		}
		for _, ki := range kd.ChildElements() {
			if !isElem(ki, nsDSig, "KeyInfo") {
				continue
			}
			for _, xd := range ki.ChildElements() {
				if !isElem(xd, nsDSig, "X509Data") {
					continue
				}
				for _, xc := range xd.ChildElements() {
					if !isElem(xc, nsDSig, "X509Certificate") {
						continue
					}
					cert, err := parseCertText(xc.Text())
					if err != nil {
						return nil, fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
					}
					if use == "" || use == "signing" {
						m.signingCerts = append(m.signingCerts, cert)
						m.info.SigningCertNotAfter = append(m.info.SigningCertNotAfter, cert.NotAfter)
					}
					if use == "" || use == "encryption" {
						m.info.EncryptionCertNotAfter = append(m.info.EncryptionCertNotAfter, cert.NotAfter)
					}
				}
			}
		}
	}
	if len(m.signingCerts) == 0 {
		return nil, fmt.Errorf("%w: no signing certificate in the IDPSSODescriptor of %q", ErrInvalidMetadata, entityID)
	}

	for _, s := range idp.ChildElements() {
		if !isElem(s, nsMetadata, "SingleSignOnService") {
			continue
		}
		binding, loc := attr(s, "Binding"), attr(s, "Location")
		if binding != BindingRedirect && binding != BindingPOST {
			continue
		}
		if err := checkEndpointURL(loc, o.allowLoopback); err != nil {
			return nil, fmt.Errorf("%w: SingleSignOnService: %v", ErrInvalidMetadata, err)
		}
		if binding == BindingRedirect && m.info.SSORedirectURL == "" {
			m.info.SSORedirectURL = loc
		}
		if binding == BindingPOST && m.info.SSOPostURL == "" {
			m.info.SSOPostURL = loc
		}
	}
	if m.info.SSORedirectURL == "" && m.info.SSOPostURL == "" {
		return nil, fmt.Errorf("%w: no HTTP-Redirect or HTTP-POST SingleSignOnService in %q", ErrInvalidMetadata, entityID)
	}

	return m, nil
}

// parseCertText parses the base64 DER of an X509Certificate element.
func parseCertText(s string) (*x509.Certificate, error) {
	der, err := xmlsafe.DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("certificate is not base64: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cannot parse certificate: %v", err)
	}
	return cert, nil
}

// checkEndpointURL accepts https URLs, and with allowLoopback also
// http://127.0.0.1 and http://[::1] ones (tests).
func checkEndpointURL(raw string, allowLoopback bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q", raw)
	}
	if u.Host == "" || u.User != nil {
		return fmt.Errorf("URL %q must be absolute, without user info", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" && allowLoopback && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1") {
		return nil
	}
	return fmt.Errorf("URL %q must be https", raw)
}

// withoutValidity is a copy of cert valid at any time, for IdPs whose
// metadata certificates are only key containers (often long expired).
func withoutValidity(cert *x509.Certificate) *x509.Certificate {
	cp := *cert
	cp.NotBefore, cp.NotAfter = time.Time{}, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	return &cp
}

// verifyEnveloped verifies the enveloped signature of el with goxmldsig,
// trying each trusted certificate on its own (so that a signature without
// KeyInfo, or one during a rollover, verifies), and returns what the
// signature covers. ignoreValidity ignores the certificates'
// validity periods (metadata signing certificates are often long expired
// self-signed key containers).
func verifyEnveloped(el *etree.Element, certs []*x509.Certificate, now time.Time, ignoreValidity bool) (*etree.Element, error) {
	var firstErr error
	for _, cert := range certs {
		c := cert
		if ignoreValidity {
			c = withoutValidity(cert)
		}
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		ctx.IdAttribute = "ID"
		ctx.Clock = dsig.NewFakeClockAt(now)
		// Verify against this certificate alone: drop the KeyInfo so that
		// goxmldsig uses the single root.
		cp := el.Copy()
		if sig := childElem(cp, nsDSig, "Signature"); sig != nil {
			if ki := childElem(sig, nsDSig, "KeyInfo"); ki != nil {
				sig.RemoveChild(ki)
			}
		}
		signed, err := ctx.Validate(cp)
		if err == nil {
			return signed, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no certificate")
	}
	return nil, firstErr
}

func isElem(el *etree.Element, ns, tag string) bool {
	return el != nil && el.Tag == tag && el.NamespaceURI() == ns
}

func childElem(el *etree.Element, ns, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if isElem(c, ns, tag) {
			return c
		}
	}
	return nil
}

// attr returns the value of the unqualified attribute key of el.
func attr(el *etree.Element, key string) string {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

func attrTime(el *etree.Element, key string) (time.Time, error) {
	v := attr(el, key)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %s=%q is not an xs:dateTime", ErrInvalidMetadata, el.Tag, key, v)
	}
	return t, nil
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
