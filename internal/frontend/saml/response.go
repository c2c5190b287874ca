package saml

import (
	"bytes"
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
	dsig "github.com/russellhaering/goxmldsig"

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
	st, err := decodeSSOState(res.Request.State)
	if err != nil || st.ACS == "" || st.EntityID == "" {
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
	log.DebugContext(r.Context(), "assertion issued", "encrypted", out.encrypted, "responseSigned", md.WantResponseSigned, "attributes", out.attributes)
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
// user. The Assertion and the Response are written in canonical form
// (canon.go), so each signature digests the bytes already written.
func (idp *IdP) buildResponse(k *keys.SigningKey, svc *broker.Service, st ssoState, u *model.User, sess broker.Session, now time.Time) (*built, error) {
	if err := checkSigningKey(k); err != nil {
		return nil, err
	}
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
	si := sessionIndex(sess.ID, md.EntityID)
	nameID, err := idp.sealNameID(md.EntityID, sess.ID, si)
	if err != nil {
		return nil, err
	}
	b := &built{nameID: nameID, sessionIndex: si, attributes: len(attrs)}
	x := idp.getBuf()
	defer idp.putBuf(x)
	assertion, err := idp.signedAssertion(x, k, assertionParams{
		id: newID(), now: now, spEntityID: md.EntityID, nameID: nameID, inResponseTo: st.RequestID,
		recipient: st.ACS, sessionIndex: si, authnInstant: authnInstant, source: source, attrs: attrs,
	})
	if err != nil {
		return nil, fmt.Errorf("sign assertion: %w", err)
	}
	if len(md.EncryptionCertificates) > 0 {
		certs, err := idp.certs.certificates(md.EncryptionCertificates)
		if err != nil {
			return nil, fmt.Errorf("service %d encryption certificate: %w", svc.ID(), err)
		}
		ea, err := encryptAssertion(bytes.Join(assertion, nil), certs[0])
		if err != nil {
			return nil, fmt.Errorf("encrypt assertion: %w", err)
		}
		// The EncryptedAssertion comes from xmlenc as a tree; its canonical
		// form alone is also its canonical form inside the Response, as it
		// uses none of the Response's prefixes.
		c, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(ea)
		if err != nil {
			return nil, fmt.Errorf("encrypted assertion: %w", err)
		}
		assertion = [][]byte{c}
		b.encrypted = true
	}
	b.xml, err = idp.writeResponse(x, k, responseParams{
		id: newID(), now: now, destination: st.ACS, inResponseTo: st.RequestID, top: StatusSuccess,
	}, assertion, md.WantResponseSigned)
	if err != nil {
		return nil, fmt.Errorf("sign response: %w", err)
	}
	return b, nil
}

// sessionIndex derives the SessionIndex a service sees from the broker's
// session id: a hash over the id and the service's entityID. The session id
// is a secret random value, so the SessionIndex neither reveals it nor lets
// two services link their users' sessions.
func sessionIndex(sessionID, spEntityID string) string {
	sum := sha256.Sum256([]byte("mpassid saml SessionIndex\x00" + sessionID + "\x00" + spEntityID))
	return "_" + hex.EncodeToString(sum[:16])
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

// signedAssertion writes the Assertion, shaped like the national
// service's (see the package documentation for the differences), and its
// enveloped signature right after its Issuer, where the SAML schema wants
// it. It returns the signed Assertion in three pieces (up to the Issuer,
// the Signature, the rest), which alias x.b: later appends to x do not
// change them.
func (idp *IdP) signedAssertion(x *xmlBuf, k *keys.SigningKey, p assertionParams) ([][]byte, error) {
	notAfter := p.now.Add(idp.cfg.AssertionLifetime)
	start := len(x.b)
	x.start("saml2:Assertion")
	x.b = append(x.b, ` xmlns:saml2="`+nsAssertion+`"`...)
	x.attr("ID", p.id)
	x.timeAttr("IssueInstant", p.now)
	x.attr("Version", "2.0")
	x.open()
	x.leaf("saml2:Issuer", idp.cfg.EntityID)
	issuerEnd := len(x.b)

	x.start("saml2:Subject")
	x.open()
	x.start("saml2:NameID")
	x.attr("Format", nameIDTransient)
	x.attr("NameQualifier", idp.cfg.EntityID)
	x.attr("SPNameQualifier", p.spEntityID)
	x.open()
	x.text(p.nameID)
	x.end("saml2:NameID")
	x.start("saml2:SubjectConfirmation")
	x.attr("Method", cmBearer)
	x.open()
	x.start("saml2:SubjectConfirmationData")
	x.attr("InResponseTo", p.inResponseTo)
	x.timeAttr("NotOnOrAfter", notAfter)
	x.attr("Recipient", p.recipient)
	x.open()
	x.end("saml2:SubjectConfirmationData")
	x.end("saml2:SubjectConfirmation")
	x.end("saml2:Subject")

	x.start("saml2:Conditions")
	x.timeAttr("NotBefore", p.now)
	x.timeAttr("NotOnOrAfter", notAfter)
	x.open()
	x.start("saml2:AudienceRestriction")
	x.open()
	x.leaf("saml2:Audience", p.spEntityID)
	x.end("saml2:AudienceRestriction")
	x.end("saml2:Conditions")

	x.start("saml2:AuthnStatement")
	x.timeAttr("AuthnInstant", p.authnInstant)
	x.attr("SessionIndex", p.sessionIndex)
	x.open()
	x.start("saml2:AuthnContext")
	x.open()
	x.leaf("saml2:AuthnContextClassRef", broker.AuthnSourcePrefix+p.source)
	x.end("saml2:AuthnContext")
	x.end("saml2:AuthnStatement")

	if len(p.attrs) > 0 {
		x.start("saml2:AttributeStatement")
		x.open()
		for _, at := range p.attrs {
			x.start("saml2:Attribute")
			x.attr("FriendlyName", at.FriendlyName)
			x.attr("Name", at.Name)
			x.attr("NameFormat", at.NameFormat)
			x.open()
			for _, v := range at.Values {
				x.leaf("saml2:AttributeValue", v)
			}
			x.end("saml2:Attribute")
		}
		x.end("saml2:AttributeStatement")
	}
	x.end("saml2:Assertion")
	end := len(x.b)

	h := sha256.New()
	h.Write(x.b[start:issuerEnd])
	h.Write(x.b[issuerEnd:end])
	if err := x.appendSignature(k, p.id, h.Sum(nil)); err != nil {
		return nil, err
	}
	return [][]byte{x.b[start:issuerEnd], x.b[end:], x.b[issuerEnd:end]}, nil
}

// responseParams are the Response's own fields.
type responseParams struct {
	id                        string
	now                       time.Time
	destination, inResponseTo string
	top, second, message      string
}

// responseClose ends a Response.
const responseClose = "</saml2p:Response>"

// writeResponse writes the Response around body (the signed or encrypted
// Assertion in canonical form, in pieces, or nothing) and, when sign is
// set, its enveloped signature after its Issuer. The document is returned
// in a slice of its own (x is pooled).
func (idp *IdP) writeResponse(x *xmlBuf, k *keys.SigningKey, p responseParams, body [][]byte, sign bool) ([]byte, error) {
	start := len(x.b)
	x.start("saml2p:Response")
	x.b = append(x.b, ` xmlns:saml2p="`+nsProtocol+`"`...)
	x.attr("Destination", p.destination)
	x.attr("ID", p.id)
	if p.inResponseTo != "" {
		x.attr("InResponseTo", p.inResponseTo)
	}
	x.timeAttr("IssueInstant", p.now)
	x.attr("Version", "2.0")
	x.open()
	x.start("saml2:Issuer")
	x.b = append(x.b, ` xmlns:saml2="`+nsAssertion+`"`...)
	x.open()
	x.text(idp.cfg.EntityID)
	x.end("saml2:Issuer")
	issuerEnd := len(x.b)
	x.status(p.top, p.second, p.message)
	statusEnd := len(x.b)
	head, status := x.b[start:issuerEnd], x.b[issuerEnd:statusEnd]

	var sig []byte
	if sign {
		h := sha256.New()
		h.Write(head)
		h.Write(status)
		for _, part := range body {
			h.Write(part)
		}
		h.Write([]byte(responseClose))
		if err := x.appendSignature(k, p.id, h.Sum(nil)); err != nil {
			return nil, err
		}
		sig = x.b[statusEnd:]
	}
	n := len(head) + len(sig) + len(status) + len(responseClose)
	for _, part := range body {
		n += len(part)
	}
	out := make([]byte, 0, n)
	out = append(out, head...)
	out = append(out, sig...)
	out = append(out, status...)
	for _, part := range body {
		out = append(out, part...)
	}
	return append(out, responseClose...), nil
}

// status writes samlp:Status (prefix saml2p, declared by the Response).
func (x *xmlBuf) status(top, second, message string) {
	x.start("saml2p:Status")
	x.open()
	x.start("saml2p:StatusCode")
	x.attr("Value", top)
	x.open()
	if second != "" {
		x.start("saml2p:StatusCode")
		x.attr("Value", second)
		x.open()
		x.end("saml2p:StatusCode")
	}
	x.end("saml2p:StatusCode")
	if message != "" {
		x.leaf("saml2p:StatusMessage", message)
	}
	x.end("saml2p:Status")
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
	b, err := idp.errorResponse(k, st, top, second, message, idp.now())
	if err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: %v", errInternal, err))
		return
	}
	idp.writePOSTForm(w, st.ACS, "SAMLResponse", base64.StdEncoding.EncodeToString(b), st.RelayState)
}

// errorResponse builds a signed Response that carries only a status.
func (idp *IdP) errorResponse(k *keys.SigningKey, st ssoState, top, second, message string, now time.Time) ([]byte, error) {
	if err := checkSigningKey(k); err != nil {
		return nil, err
	}
	x := idp.getBuf()
	defer idp.putBuf(x)
	b, err := idp.writeResponse(x, k, responseParams{
		id: newID(), now: now, destination: st.ACS, inResponseTo: st.RequestID, top: top, second: second, message: message,
	}, nil, true)
	if err != nil {
		return nil, fmt.Errorf("sign error response: %w", err)
	}
	return b, nil
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
