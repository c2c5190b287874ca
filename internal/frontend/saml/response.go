package saml

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/identity"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
)

// Respond answers the service at the end of a login: a signed (and, if the
// service registered an encryption certificate, encrypted) assertion, or a
// SAML error status, by HTTP-POST to the ACS the request named. It
// implements broker.Responder.
func (idp *IdP) Respond(w http.ResponseWriter, r *http.Request, res *broker.Result) {
	if res == nil {
		idp.refuse(w, r, fmt.Errorf("%w: nil result", errInternal))
		return
	}
	var st ssoState
	if err := json.Unmarshal(res.Request.State, &st); err != nil || st.ACS == "" || st.EntityID == "" {
		idp.refuse(w, r, fmt.Errorf("%w: unreadable state", errInternal))
		return
	}
	svc := res.Service
	if svc == nil {
		if cat := idp.deps.Flow.Catalog(); cat != nil {
			svc, _ = cat.Service(res.Request.ServiceID)
		}
	}
	if svc == nil || svc.Integration.SP == nil || svc.Integration.SP.SAML == nil {
		idp.refuse(w, r, fmt.Errorf("%w: service %d is gone", errUnknownService, res.Request.ServiceID))
		return
	}
	md := svc.Integration.SP.SAML
	if md.EntityID != st.EntityID || !acsRegistered(md, st.ACS) {
		// The configuration changed during the login.
		idp.refuse(w, r, fmt.Errorf("%w: service %d changed its registration during the login", errBadACS, svc.ID()))
		return
	}
	log := idp.log.With("service", svc.ID())
	if res.Err != nil {
		top, second := statusOf(res.Err.Code)
		log.InfoContext(r.Context(), "login ended without a user", "code", res.Err.Code, "reference", res.Err.Reference)
		idp.sendError(w, r, md, st, top, second, res.Err.Description)
		return
	}
	if res.User == nil {
		log.ErrorContext(r.Context(), "login result without user or error")
		idp.sendError(w, r, md, st, StatusResponder, "", "internal error")
		return
	}
	k, _, err := idp.signingKey()
	if err != nil {
		log.ErrorContext(r.Context(), "no signing key", "err", err)
		idp.sendError(w, r, md, st, StatusResponder, "", "internal error")
		return
	}
	out, err := idp.buildResponse(k, svc, st, res.User, res.Session, idp.now())
	if err != nil {
		log.ErrorContext(r.Context(), "build response", "err", err)
		idp.sendError(w, r, md, st, StatusResponder, "", "internal error")
		return
	}
	if err := idp.recordParticipant(r.Context(), svc, res.Session, out.nameID, out.sessionIndex); err != nil {
		// The login stands; only single logout will not reach this service.
		log.WarnContext(r.Context(), "record SLO participant", "err", err)
	}
	log.InfoContext(r.Context(), "assertion issued", "encrypted", out.encrypted, "responseSigned", md.WantResponseSigned, "attributes", out.attributes)
	idp.writePOSTForm(w, st.ACS, "SAMLResponse", base64.StdEncoding.EncodeToString(out.xml), st.RelayState)
}

// statusOf maps a broker error code to SAML status codes.
func statusOf(code broker.ErrorCode) (top, second string) {
	switch code {
	case broker.ErrCodeNoPassive:
		return StatusResponder, StatusNoPassive
	case broker.ErrCodeCancelled:
		return StatusResponder, StatusAuthnFailed
	case broker.ErrCodeNoSource:
		return StatusRequester, StatusNoAuthnContext
	}
	return StatusResponder, ""
}

// built is a signed Response and what the IdP keeps of it.
type built struct {
	xml                  []byte
	nameID, sessionIndex string
	encrypted            bool
	attributes           int
}

// buildResponse builds the signed (and perhaps encrypted) Response for the
// user.
func (idp *IdP) buildResponse(k *keys.SigningKey, svc *broker.Service, st ssoState, u *model.User, sess broker.Session, now time.Time) (*built, error) {
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
	a := idp.assertionElement(assertionParams{
		id: newID(), now: now, spEntityID: md.EntityID, nameID: b.nameID, inResponseTo: st.RequestID,
		recipient: st.ACS, sessionIndex: b.sessionIndex, authnInstant: authnInstant, source: source, attrs: attrs,
	})
	signed, err := signEnveloped(a, k)
	if err != nil {
		return nil, fmt.Errorf("sign assertion: %w", err)
	}
	payload := signed
	if len(md.EncryptionCertificates) > 0 {
		certs, err := parseCertificates(md.EncryptionCertificates)
		if err != nil {
			return nil, fmt.Errorf("service %d encryption certificate: %w", svc.ID(), err)
		}
		plain, err := serialize(signed)
		if err != nil {
			return nil, err
		}
		if payload, err = encryptAssertion(plain, certs[0]); err != nil {
			return nil, fmt.Errorf("encrypt assertion: %w", err)
		}
		b.encrypted = true
	}
	resp := idp.responseElement(newID(), now, st.ACS, st.RequestID, StatusSuccess, "", "")
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

// sessionIndex derives the SessionIndex a service sees from the broker's
// session id: a hash over the id and the service's entityID. The session id
// is a secret random value, so the SessionIndex neither reveals it nor lets
// two services link their users' sessions.
func sessionIndex(sessionID, spEntityID string) string {
	h := sha256.New()
	h.Write([]byte("mpassid saml SessionIndex\x00"))
	h.Write([]byte(sessionID))
	h.Write([]byte{0})
	h.Write([]byte(spEntityID))
	return "_" + hex.EncodeToString(h.Sum(nil)[:16])
}

type assertionParams struct {
	id                      string
	now                     time.Time
	spEntityID, nameID      string
	inResponseTo, recipient string
	sessionIndex, source    string
	authnInstant            time.Time
	attrs                   []identity.Attribute
}

// assertionElement builds the unsigned Assertion, shaped like the national
// service's (see the package documentation for the differences).
func (idp *IdP) assertionElement(p assertionParams) *etree.Element {
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

// responseElement builds a Response without its assertion.
func (idp *IdP) responseElement(id string, now time.Time, destination, inResponseTo, top, second, message string) *etree.Element {
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

// addStatus appends samlp:Status to a response element (prefix saml2p).
func addStatus(parent *etree.Element, top, second, message string) {
	status := parent.CreateElement("saml2p:Status")
	code := status.CreateElement("saml2p:StatusCode")
	code.CreateAttr("Value", top)
	if second != "" {
		code.CreateElement("saml2p:StatusCode").CreateAttr("Value", second)
	}
	if message != "" {
		status.CreateElement("saml2p:StatusMessage").SetText(message)
	}
}

// encryptAssertion encrypts a signed assertion (its serialised bytes) for
// cert: AES-256-GCM content, RSA-OAEP (MGF1, SHA-1 digest: what every SAML
// implementation decrypts) key transport.
func encryptAssertion(plain []byte, cert *x509.Certificate) (*etree.Element, error) {
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES256GCM
	enc.DigestMethod = &xmlenc.SHA1
	ed, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		return nil, err
	}
	ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	ea := etree.NewElement("saml2:EncryptedAssertion")
	ea.CreateAttr("xmlns:saml2", nsAssertion)
	ea.AddChild(ed)
	return ea, nil
}

// sendError answers the service with an error Response (signed, no
// assertion) by HTTP-POST to its ACS.
func (idp *IdP) sendError(w http.ResponseWriter, r *http.Request, md *model.SAMLMetadata, st ssoState, top, second, message string) {
	k, _, err := idp.signingKey()
	if err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: %v", errInternal, err))
		return
	}
	resp := idp.responseElement(newID(), idp.now(), st.ACS, st.RequestID, top, second, message)
	signed, err := signEnveloped(resp, k)
	if err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: %v", errInternal, err))
		return
	}
	b, err := serialize(signed)
	if err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: %v", errInternal, err))
		return
	}
	idp.writePOSTForm(w, st.ACS, "SAMLResponse", base64.StdEncoding.EncodeToString(b), st.RelayState)
}

// participant is the IdP's data of a logged-in service
// (broker.Participant.Data) and of its logout index record.
type participant struct {
	EntityID     string `json:"sp"`
	NameID       string `json:"nameId"`
	SessionIndex string `json:"si"`
	SessionID    string `json:"sid,omitempty"`
	ServiceID    int64  `json:"svc,omitempty"`
}

// nameIDRef is what a transient NameID carries, sealed: the broker
// session it was issued in. A service's LogoutRequest arrives as a
// cross-site POST without the session cookie; opening its NameID finds the
// session without an index written at login. The seal's random nonce makes
// every NameID different, as a transient one must be, and its associated
// data (the service's entityID) keeps one service from using another's.
type nameIDRef struct {
	SessionID    string `json:"s"`
	SessionIndex string `json:"i"`
}

func nameIDAD(spEntityID string) string { return "saml transient nameid:" + spEntityID }

func (idp *IdP) sealNameID(spEntityID, sessionID, sessionIndex string) (string, error) {
	data, err := json.Marshal(nameIDRef{SessionID: sessionID, SessionIndex: sessionIndex})
	if err != nil {
		return "", fmt.Errorf("nameid: %w", err)
	}
	sealed, err := idp.deps.Sealer.SealString(string(data), nameIDAD(spEntityID))
	if err != nil {
		return "", fmt.Errorf("nameid: %w", err)
	}
	return sealed, nil
}

// openNameID returns the session reference of a NameID this IdP issued to
// the service, or an error for any other value.
func (idp *IdP) openNameID(spEntityID, nameID string) (*nameIDRef, error) {
	if len(nameID) > 1024 {
		return nil, errors.New("nameid too long")
	}
	data, err := idp.deps.Sealer.OpenString(nameID, nameIDAD(spEntityID))
	if err != nil {
		return nil, fmt.Errorf("nameid: %w", err)
	}
	var ref nameIDRef
	if err := json.Unmarshal([]byte(data), &ref); err != nil || ref.SessionID == "" {
		return nil, fmt.Errorf("nameid: malformed reference")
	}
	return &ref, nil
}

// recordParticipant records the service in the SSO session for single
// logout.
func (idp *IdP) recordParticipant(ctx context.Context, svc *broker.Service, sess broker.Session, nameID, sessionIndex string) error {
	if sess.ID == "" {
		return errors.New("no session id")
	}
	md := svc.Integration.SP.SAML
	data, err := json.Marshal(participant{EntityID: md.EntityID, NameID: nameID, SessionIndex: sessionIndex})
	if err != nil {
		return fmt.Errorf("participant: %w", err)
	}
	if err := idp.deps.Flow.AddParticipant(ctx, sess.ID, broker.Participant{ServiceID: svc.ID(), Protocol: broker.ProtocolSAML, Data: data}); err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	return nil
}
