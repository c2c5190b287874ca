package saml

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/identity"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
)

// The reference implementation: the Response as it was built before it
// was written in canonical form directly (an etree tree, signed by
// goxmldsig, serialised by etree). The differential tests compare the
// production path against it; it is kept here, not in the package, so
// that nothing in production can fall back to it by accident.

// buildResponseRef is the former buildResponse.
func (idp *IdP) buildResponseRef(k *keys.SigningKey, svc *broker.Service, st ssoState, u *model.User, sess broker.Session, now time.Time) (*built, error) {
	md := svc.Integration.SP.SAML
	rel := identity.Release{AllowTestLearnerID: svc.AllowTestLearnerID(), Legacy: svc.Integration.SP.LegacyAttributes}
	attrs := identity.SAMLAttributes(u, rel)
	source := sess.Source
	if source == "" {
		source = u.Source
	}
	authnInstant := sess.AuthnInstant
	if authnInstant.IsZero() {
		authnInstant = now
	}
	nameID, err := idp.sealNameID(md.EntityID, sess.ID, sessionIndex(sess.ID, md.EntityID))
	if err != nil {
		return nil, err
	}
	b := &built{nameID: nameID, sessionIndex: sessionIndex(sess.ID, md.EntityID), attributes: len(attrs)}
	a := idp.refAssertionElement(assertionParams{
		id: newID(), now: now, spEntityID: md.EntityID, nameID: b.nameID, inResponseTo: st.RequestID,
		recipient: st.ACS, sessionIndex: b.sessionIndex, authnInstant: authnInstant, source: source, attrs: attrs,
	})
	signed, err := signEnveloped(a, k)
	if err != nil {
		return nil, fmt.Errorf("sign assertion: %w", err)
	}
	payload := signed
	if len(md.EncryptionCertificates) > 0 {
		certs, err := new(certCache).certificates(md.EncryptionCertificates)
		if err != nil {
			return nil, fmt.Errorf("service %d encryption certificate: %w", svc.ID(), err)
		}
		if payload, err = refEncryptAssertion(signed, certs[0]); err != nil {
			return nil, fmt.Errorf("encrypt assertion: %w", err)
		}
		b.encrypted = true
	}
	resp := idp.refResponseElement(newID(), now, st.ACS, st.RequestID, StatusSuccess, "", "")
	resp.AddChild(payload)
	if md.WantResponseSigned {
		if resp, err = signEnveloped(resp, k); err != nil {
			return nil, fmt.Errorf("sign response: %w", err)
		}
	}
	if b.xml, err = serialize(resp); err != nil {
		return nil, err
	}
	return b, nil
}

// refAssertionElement is the former assertionElement.
func (idp *IdP) refAssertionElement(p assertionParams) *etree.Element {
	notAfter := samlTime(p.now.Add(idp.cfg.AssertionLifetime))
	a := etree.NewElement("saml2:Assertion")
	a.CreateAttr("xmlns:saml2", nsAssertion)
	a.CreateAttr("ID", p.id)
	a.CreateAttr("IssueInstant", samlTime(p.now))
	a.CreateAttr("Version", "2.0")
	a.CreateElement("saml2:Issuer").SetText(idp.cfg.EntityID)

	subj := a.CreateElement("saml2:Subject")
	nid := subj.CreateElement("saml2:NameID")
	nid.CreateAttr("Format", nameIDTransient)
	nid.CreateAttr("NameQualifier", idp.cfg.EntityID)
	nid.CreateAttr("SPNameQualifier", p.spEntityID)
	nid.SetText(p.nameID)
	sc := subj.CreateElement("saml2:SubjectConfirmation")
	sc.CreateAttr("Method", cmBearer)
	scd := sc.CreateElement("saml2:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", p.inResponseTo)
	scd.CreateAttr("NotOnOrAfter", notAfter)
	scd.CreateAttr("Recipient", p.recipient)

	cond := a.CreateElement("saml2:Conditions")
	cond.CreateAttr("NotBefore", samlTime(p.now))
	cond.CreateAttr("NotOnOrAfter", notAfter)
	cond.CreateElement("saml2:AudienceRestriction").CreateElement("saml2:Audience").SetText(p.spEntityID)

	as := a.CreateElement("saml2:AuthnStatement")
	as.CreateAttr("AuthnInstant", samlTime(p.authnInstant))
	as.CreateAttr("SessionIndex", p.sessionIndex)
	as.CreateElement("saml2:AuthnContext").CreateElement("saml2:AuthnContextClassRef").SetText(broker.AuthnSourcePrefix + p.source)

	if len(p.attrs) > 0 {
		st := a.CreateElement("saml2:AttributeStatement")
		for _, at := range p.attrs {
			e := st.CreateElement("saml2:Attribute")
			e.CreateAttr("FriendlyName", at.FriendlyName)
			e.CreateAttr("Name", at.Name)
			e.CreateAttr("NameFormat", at.NameFormat)
			for _, v := range at.Values {
				e.CreateElement("saml2:AttributeValue").SetText(v)
			}
		}
	}
	return a
}

// refResponseElement is the former responseElement.
func (idp *IdP) refResponseElement(id string, now time.Time, destination, inResponseTo, top, second, message string) *etree.Element {
	resp := etree.NewElement("saml2p:Response")
	resp.CreateAttr("xmlns:saml2p", nsProtocol)
	resp.CreateAttr("Destination", destination)
	resp.CreateAttr("ID", id)
	if inResponseTo != "" {
		resp.CreateAttr("InResponseTo", inResponseTo)
	}
	resp.CreateAttr("IssueInstant", samlTime(now))
	resp.CreateAttr("Version", "2.0")
	iss := resp.CreateElement("saml2:Issuer")
	iss.CreateAttr("xmlns:saml2", nsAssertion)
	iss.SetText(idp.cfg.EntityID)
	addStatus(resp, top, second, message)
	return resp
}

// refEncryptAssertion is the former encryptAssertion.
func refEncryptAssertion(signed *etree.Element, cert *x509.Certificate) (*etree.Element, error) {
	plain, err := serialize(signed)
	if err != nil {
		return nil, err
	}
	return encryptAssertion(plain, cert)
}

// errorResponseRef is the former sendError's Response.
func (idp *IdP) errorResponseRef(k *keys.SigningKey, st ssoState, top, second, message string, now time.Time) ([]byte, error) {
	resp := idp.refResponseElement(newID(), now, st.ACS, st.RequestID, top, second, message)
	signed, err := signEnveloped(resp, k)
	if err != nil {
		return nil, err
	}
	return serialize(signed)
}
