package saml

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/keys"
)

// Metadata returns the IdP's metadata document: entityID, the signing
// certificates of every published key (current, next and previous, so
// that services follow a rotation), the current one also as the
// encryption key (services may encrypt the NameID of a LogoutRequest),
// the SLO and SSO endpoints of both bindings, and the transient NameID
// format. With Config.SignMetadata it is signed with the current key and
// carries validUntil.
func (idp *IdP) Metadata() ([]byte, error) {
	k, ks, err := idp.signingKey()
	if err != nil {
		return nil, err
	}
	ed := idp.metadataElement(ks.PublishedCertificates(keys.RS256), k.Certificate)
	if idp.cfg.SignMetadata {
		ed.CreateAttr("ID", newID())
		ed.CreateAttr("validUntil", samlTime(idp.now().Add(idp.cfg.MetadataValidity)))
		if ed, err = signEnveloped(ed, k); err != nil {
			return nil, fmt.Errorf("saml idp: metadata: %w", err)
		}
	}
	b, err := serialize(ed)
	if err != nil {
		return nil, fmt.Errorf("saml idp: metadata: %w", err)
	}
	return append([]byte(xml10Header), b...), nil
}

const xml10Header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func (idp *IdP) metadataElement(published []*x509.Certificate, current *x509.Certificate) *etree.Element {
	ed := etree.NewElement("EntityDescriptor")
	ed.CreateAttr("xmlns", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", idp.cfg.EntityID)
	sso := ed.CreateElement("IDPSSODescriptor")
	sso.CreateAttr("protocolSupportEnumeration", nsProtocol)
	sso.CreateAttr("WantAuthnRequestsSigned", "true")
	keyDescriptor := func(use string, c *x509.Certificate) {
		kd := sso.CreateElement("KeyDescriptor")
		kd.CreateAttr("use", use)
		ki := kd.CreateElement("ds:KeyInfo")
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	for _, c := range published {
		keyDescriptor("signing", c)
	}
	if current != nil {
		keyDescriptor("encryption", current)
	}
	for _, ep := range []struct{ b, loc string }{{BindingRedirect, idp.sloRedirect}, {BindingPOST, idp.sloPOST}} {
		e := sso.CreateElement("SingleLogoutService")
		e.CreateAttr("Binding", ep.b)
		e.CreateAttr("Location", ep.loc)
	}
	sso.CreateElement("NameIDFormat").SetText(nameIDTransient)
	for _, ep := range []struct{ b, loc string }{{BindingRedirect, idp.ssoRedirect}, {BindingPOST, idp.ssoPOST}} {
		e := sso.CreateElement("SingleSignOnService")
		e.CreateAttr("Binding", ep.b)
		e.CreateAttr("Location", ep.loc)
	}
	return ed
}

func (idp *IdP) serveMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := idp.Metadata()
	if err != nil {
		idp.log.ErrorContext(r.Context(), "metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusServiceUnavailable)
		return
	}
	ct := "application/samlmetadata+xml"
	if strings.Contains(r.Header.Get("Accept"), "text/xml") && !strings.Contains(r.Header.Get("Accept"), "samlmetadata") {
		ct = "text/xml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}
