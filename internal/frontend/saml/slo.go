package saml

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/web"
)

// LogoutLifetime bounds a front-channel logout chain: a participant that
// has not answered by then is skipped if the browser ever comes back.
const LogoutLifetime = 10 * time.Minute

var errNoSLO = errors.New("the service has no single logout endpoint")

// logoutTx is the state of a front-channel logout chain, kept in the
// runtime store under "saml-logout:" + the RelayState sent with each
// LogoutRequest.
type logoutTx struct {
	// The service that asked, and how to answer it.
	EntityID   string `json:"sp"`
	RequestID  string `json:"id"`
	RelayState string `json:"rs,omitempty"`
	Binding    string `json:"b"`
	// Pending participants; Current is the one asked last, by CurrentID.
	Pending   []participant `json:"pending,omitempty"`
	Current   string        `json:"cur,omitempty"`
	CurrentID string        `json:"curId,omitempty"`
	Partial   bool          `json:"partial,omitempty"`
	// ReturnURL, for a chain started by another frontend (an OIDC logout),
	// is where the browser goes at the end instead of a LogoutResponse.
	ReturnURL string `json:"ret,omitempty"`
}

func logoutTxID(relayState string) string { return "saml-logout:" + relayState }

func (idp *IdP) serveSLORedirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	param := "SAMLRequest"
	if q.Has("SAMLResponse") && !q.Has("SAMLRequest") {
		param = "SAMLResponse"
	}
	in, err := decodeRedirect(r.URL.RawQuery, param, &idp.inflater)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	idp.slo(w, r, in, param)
}

func (idp *IdP) serveSLOPOST(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxPOSTBody)
	if err := web.ParseForm(r); err != nil {
		kind := errBadBinding
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			kind = errTooLarge
		}
		idp.refuse(w, r, fmt.Errorf("%w: form: %v", kind, err))
		return
	}
	param := "SAMLRequest"
	if r.PostForm.Has("SAMLResponse") && !r.PostForm.Has("SAMLRequest") {
		param = "SAMLResponse"
	}
	in, err := decodePOST(w, r, param)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	idp.slo(w, r, in, param)
}

func (idp *IdP) slo(w http.ResponseWriter, r *http.Request, in *inbound, param string) {
	if param == "SAMLResponse" {
		idp.logoutResponse(w, r, in)
		return
	}
	idp.logoutRequest(w, r, in)
}

// readLogoutRequest parses, attributes and authenticates a LogoutRequest.
func (idp *IdP) readLogoutRequest(in *inbound) (*logoutRequest, *broker.Service, *model.SAMLMetadata, error) {
	root, err := parseXML(in.xml, false)
	if err != nil {
		return nil, nil, nil, err
	}
	req, err := parseLogoutRequest(root)
	if err != nil {
		return nil, nil, nil, err
	}
	svc, md, err := idp.serviceFor(req.Issuer)
	if err != nil {
		return nil, nil, nil, err
	}
	el, signed, err := idp.authenticate(in, root, md, md.AuthnRequestsSigned)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("service %d: %w", svc.ID(), err)
	}
	if signed && in.binding == BindingPOST {
		if req, err = parseLogoutRequest(el); err != nil {
			return nil, nil, nil, err
		}
		if req.Issuer != md.EntityID {
			return nil, nil, nil, fmt.Errorf("%w: issuer changed under the signature", errBadSignature)
		}
	}
	if req.Destination != "" && req.Destination != idp.sloRedirect && req.Destination != idp.sloPOST {
		return nil, nil, nil, fmt.Errorf("%w: %q", errBadDestination, truncate(req.Destination, 200))
	}
	if signed && req.Destination == "" {
		return nil, nil, nil, fmt.Errorf("%w: signed request without Destination", errBadDestination)
	}
	if _, ok := sloEndpoint(md, in.binding); !ok {
		return nil, nil, nil, fmt.Errorf("service %d: %w", svc.ID(), errNoSLO)
	}
	return req, svc, md, nil
}

// logoutRequest handles a service's LogoutRequest: it ends the SSO
// session, logs out the session's other SAML services through the browser
// one after another, and answers the service with a LogoutResponse.
func (idp *IdP) logoutRequest(w http.ResponseWriter, r *http.Request, in *inbound) {
	req, svc, md, err := idp.readLogoutRequest(in)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	ctx := r.Context()
	log := idp.log.With("service", svc.ID(), "binding", bindingName(in.binding))
	tx := &logoutTx{EntityID: md.EntityID, RequestID: req.ID, RelayState: in.relayState, Binding: in.binding}
	now := idp.now()
	maxAge := idp.cfg.RequestMaxAge + idp.cfg.ClockSkew
	if req.IssueInstant.Before(now.Add(-maxAge)) || req.IssueInstant.After(now.Add(idp.cfg.ClockSkew)) ||
		(!req.NotOnOrAfter.IsZero() && !now.Before(req.NotOnOrAfter.Add(idp.cfg.ClockSkew))) {
		log.WarnContext(ctx, "logoutrequest refused: stale")
		idp.answerLogout(w, r, md, tx, StatusRequester, StatusRequestDenied)
		return
	}
	fresh, err := idp.deps.Runtime.MarkUsed(ctx, ReplayNamespaceLogout, md.EntityID+"\x00"+req.ID, req.IssueInstant.Add(maxAge+idp.cfg.ClockSkew))
	if err != nil || !fresh {
		log.WarnContext(ctx, "logoutrequest refused: replayed or unchecked", "err", err)
		idp.answerLogout(w, r, md, tx, StatusRequester, StatusRequestDenied)
		return
	}
	nid := req.NameID
	if req.EncryptedID != nil {
		if nid, err = idp.decryptNameID(req.EncryptedID); err != nil {
			log.WarnContext(ctx, "logoutrequest: EncryptedID", "err", err)
			idp.answerLogout(w, r, md, tx, StatusRequester, "")
			return
		}
	}
	sessionID := ""
	if ref, err := idp.openNameID(md.EntityID, nid.Value); err == nil &&
		(len(req.SessionIndexes) == 0 || contains(req.SessionIndexes, ref.SessionIndex)) {
		sessionID = ref.SessionID
	}
	if sessionID == "" {
		// No session of ours has this NameID (it ended or expired): there
		// is nothing to end, which is success (saml-profiles 4.4.4.2).
		log.InfoContext(ctx, "logoutrequest for no live session")
		idp.answerLogout(w, r, md, tx, StatusSuccess, "")
		return
	}
	others, err := idp.deps.Flow.EndSession(w, r, sessionID, svc.ID())
	if err != nil {
		broker.LogFailure(ctx, log, "end session", err)
		idp.answerLogout(w, r, md, tx, StatusResponder, "")
		return
	}
	for _, o := range others {
		if o.Protocol != broker.ProtocolSAML {
			// Other frontends' participants are theirs to log out.
			continue
		}
		var p participant
		if err := json.Unmarshal(o.Data, &p); err != nil || p.EntityID == "" {
			tx.Partial = true
			continue
		}
		tx.Pending = append(tx.Pending, p)
	}
	log.InfoContext(ctx, "session ended by logoutrequest", "participants", len(tx.Pending))
	if len(tx.Pending) == 0 {
		top, second := StatusSuccess, ""
		if tx.Partial {
			second = StatusPartialLogout
		}
		idp.answerLogout(w, r, md, tx, top, second)
		return
	}
	id := newID()[1:]
	if err := idp.deps.Runtime.PutTransaction(ctx, store.Transaction{ID: logoutTxID(id), Data: mustJSON(tx), ExpiresAt: now.Add(LogoutLifetime)}); err != nil {
		broker.LogFailure(ctx, log, "store logout chain", err)
		idp.answerLogout(w, r, md, tx, StatusSuccess, StatusPartialLogout)
		return
	}
	idp.continueLogout(w, r, id, tx)
}

// FrontChannelLogout implements broker.FrontChannelLogout: a logout that
// started at a service of another protocol (OIDC) reaches the session's
// SAML services through the browser, as a chain of LogoutRequests like the
// one a SAML logout starts, and ends at returnURL, which the caller took
// from its own registered configuration.
func (idp *IdP) FrontChannelLogout(w http.ResponseWriter, r *http.Request, parts []broker.Participant, returnURL string) {
	ctx := r.Context()
	tx := &logoutTx{ReturnURL: returnURL}
	for _, o := range parts {
		if o.Protocol != broker.ProtocolSAML {
			continue
		}
		var p participant
		if err := json.Unmarshal(o.Data, &p); err != nil || p.EntityID == "" {
			continue
		}
		tx.Pending = append(tx.Pending, p)
	}
	id := newID()[1:]
	if len(tx.Pending) == 0 {
		http.Redirect(w, r, returnURL, http.StatusSeeOther)
		return
	}
	if err := idp.deps.Runtime.PutTransaction(ctx, store.Transaction{ID: logoutTxID(id), Data: mustJSON(tx), ExpiresAt: idp.now().Add(LogoutLifetime)}); err != nil {
		broker.LogFailure(ctx, idp.log, "store logout chain", err)
		http.Redirect(w, r, returnURL, http.StatusSeeOther)
		return
	}
	idp.log.InfoContext(ctx, "logout chain for another protocol", "participants", len(tx.Pending))
	idp.continueLogout(w, r, id, tx)
}

// continueLogout sends the browser with a LogoutRequest to the next
// participant that can be reached, or, when none is left, answers the
// service that asked.
func (idp *IdP) continueLogout(w http.ResponseWriter, r *http.Request, id string, tx *logoutTx) {
	ctx := r.Context()
	k, _, kerr := idp.signingKey()
	for kerr == nil && len(tx.Pending) > 0 {
		p := tx.Pending[0]
		tx.Pending = tx.Pending[1:]
		_, md, err := idp.serviceFor(p.EntityID)
		if err != nil {
			tx.Partial = true
			continue
		}
		ep, ok := sloEndpoint(md, BindingRedirect)
		if !ok {
			tx.Partial = true
			continue
		}
		reqID := newID()
		el := idp.logoutRequestElement(reqID, ep.Location, p)
		tx.Current, tx.CurrentID = p.EntityID, reqID
		if err := idp.deps.Runtime.UpdateTransaction(ctx, store.Transaction{ID: logoutTxID(id), Data: mustJSON(tx), ExpiresAt: idp.now().Add(LogoutLifetime)}); err != nil {
			broker.LogFailure(ctx, idp.log, "update logout chain", err)
			tx.Partial = true
			break
		}
		if err := idp.send(w, r, k, ep, "SAMLRequest", el, id); err != nil {
			idp.log.ErrorContext(ctx, "send logoutrequest", "err", err)
			tx.Partial = true
			continue
		}
		return
	}
	if kerr != nil {
		tx.Partial = true
	}
	_, _ = idp.deps.Runtime.ConsumeTransaction(ctx, logoutTxID(id))
	if tx.ReturnURL != "" {
		http.Redirect(w, r, tx.ReturnURL, http.StatusSeeOther)
		return
	}
	_, md, err := idp.serviceFor(tx.EntityID)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	second := ""
	if tx.Partial {
		second = StatusPartialLogout
	}
	idp.answerLogout(w, r, md, tx, StatusSuccess, second)
}

// logoutResponse handles a participant's answer within a logout chain.
func (idp *IdP) logoutResponse(w http.ResponseWriter, r *http.Request, in *inbound) {
	ctx := r.Context()
	root, err := parseXML(in.xml, false)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	resp, err := parseLogoutResponse(root)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	if !in.hasRelay || !validID(in.relayState) || len(in.relayState) > 64 {
		idp.refuse(w, r, fmt.Errorf("%w: LogoutResponse without our RelayState", errBadMessage))
		return
	}
	id := in.relayState
	t, err := idp.deps.Runtime.GetTransaction(ctx, logoutTxID(id))
	if err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: logout chain: %v", errBadMessage, err))
		return
	}
	var tx logoutTx
	if err := json.Unmarshal(t.Data, &tx); err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: logout chain: %v", errInternal, err))
		return
	}
	if resp.InResponseTo != tx.CurrentID || resp.Issuer != tx.Current {
		idp.refuse(w, r, fmt.Errorf("%w: LogoutResponse does not answer the pending request", errBadMessage))
		return
	}
	svc, md, err := idp.serviceFor(resp.Issuer)
	if err != nil {
		tx.Partial = true
	} else if _, _, err := idp.authenticate(in, root, md, md.AuthnRequestsSigned); err != nil {
		idp.log.WarnContext(ctx, "logoutresponse signature", "service", svc.ID(), "err", err)
		tx.Partial = true
	} else if resp.Status != StatusSuccess {
		tx.Partial = true
	}
	tx.Current, tx.CurrentID = "", ""
	idp.continueLogout(w, r, id, &tx)
}

// answerLogout sends the LogoutResponse to the service that asked.
func (idp *IdP) answerLogout(w http.ResponseWriter, r *http.Request, md *model.SAMLMetadata, tx *logoutTx, top, second string) {
	ep, ok := sloEndpoint(md, tx.Binding)
	if !ok {
		idp.refuse(w, r, errNoSLO)
		return
	}
	k, _, err := idp.signingKey()
	if err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: %v", errInternal, err))
		return
	}
	el := etree.NewElement("saml2p:LogoutResponse")
	el.CreateAttr("xmlns:saml2p", nsProtocol)
	el.CreateAttr("Destination", ep.Location)
	el.CreateAttr("ID", newID())
	el.CreateAttr("InResponseTo", tx.RequestID)
	el.CreateAttr("IssueInstant", samlTime(idp.now()))
	el.CreateAttr("Version", "2.0")
	iss := el.CreateElement("saml2:Issuer")
	iss.CreateAttr("xmlns:saml2", nsAssertion)
	iss.SetText(idp.cfg.EntityID)
	addStatus(el, top, second, "")
	if err := idp.send(w, r, k, ep, "SAMLResponse", el, tx.RelayState); err != nil {
		idp.refuse(w, r, fmt.Errorf("%w: %v", errInternal, err))
	}
}

// logoutRequestElement builds a LogoutRequest for a participant.
func (idp *IdP) logoutRequestElement(id, destination string, p participant) *etree.Element {
	now := idp.now()
	el := etree.NewElement("saml2p:LogoutRequest")
	el.CreateAttr("xmlns:saml2p", nsProtocol)
	el.CreateAttr("xmlns:saml2", nsAssertion)
	el.CreateAttr("Destination", destination)
	el.CreateAttr("ID", id)
	el.CreateAttr("IssueInstant", samlTime(now))
	el.CreateAttr("NotOnOrAfter", samlTime(now.Add(LogoutLifetime)))
	el.CreateAttr("Version", "2.0")
	el.CreateElement("saml2:Issuer").SetText(idp.cfg.EntityID)
	nid := el.CreateElement("saml2:NameID")
	nid.CreateAttr("Format", nameIDTransient)
	nid.CreateAttr("NameQualifier", idp.cfg.EntityID)
	nid.CreateAttr("SPNameQualifier", p.EntityID)
	nid.SetText(p.NameID)
	el.CreateElement("saml2p:SessionIndex").SetText(p.SessionIndex)
	return el
}

// send delivers a message through the browser: HTTP-POST with an
// enveloped signature, or HTTP-Redirect signed over the query string.
func (idp *IdP) send(w http.ResponseWriter, r *http.Request, k *keys.SigningKey, ep model.Endpoint, param string, el *etree.Element, relayState string) error {
	if ep.Binding == BindingPOST {
		signed, err := signEnveloped(el, k)
		if err != nil {
			return err
		}
		b, err := serialize(signed)
		if err != nil {
			return err
		}
		idp.writePOSTForm(w, ep.Location, param, base64.StdEncoding.EncodeToString(b), relayState)
		return nil
	}
	b, err := serialize(el)
	if err != nil {
		return err
	}
	u, err := redirectURL(ep.Location, param, b, relayState, k)
	if err != nil {
		return err
	}
	noCache(w)
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// sloEndpoint returns the service's SLO endpoint of the preferred binding,
// else its HTTP-Redirect or HTTP-POST one.
func sloEndpoint(md *model.SAMLMetadata, prefer string) (model.Endpoint, bool) {
	for _, b := range []string{prefer, BindingRedirect, BindingPOST} {
		for _, ep := range md.SingleLogout {
			if ep.Binding == b && ep.Location != "" {
				return ep, true
			}
		}
	}
	return model.Endpoint{}, false
}

// decryptNameID decrypts a saml:EncryptedID with the current key (the one
// the metadata publishes for encryption).
func (idp *IdP) decryptNameID(enc *etree.Element) (nameID, error) {
	k, _, err := idp.signingKey()
	if err != nil {
		return nameID{}, err
	}
	priv, ok := k.Signer.(*rsa.PrivateKey)
	if !ok {
		return nameID{}, errors.New("the current key is not RSA")
	}
	ed := child(enc, nsXMLEnc, "EncryptedData")
	if ed == nil {
		return nameID{}, fmt.Errorf("%w: EncryptedID without EncryptedData", errBadMessage)
	}
	ed = ed.Copy()
	if ek := child(enc, nsXMLEnc, "EncryptedKey"); ek != nil {
		// The key may be a peer of the data (as Shibboleth places it);
		// xmlenc looks for it in the data's KeyInfo.
		ki := ed.FindElement("./KeyInfo")
		if ki == nil {
			ki = etree.NewElement("ds:KeyInfo")
			ed.InsertChildAt(1, ki)
		}
		if ki.FindElement("./EncryptedKey") == nil {
			ki.AddChild(ek.Copy())
		}
	}
	plain, err := xmlenc.Decrypt(priv, ed)
	if err != nil {
		return nameID{}, fmt.Errorf("decrypt EncryptedID: %w", err)
	}
	root, err := parseXML(plain, false)
	if err != nil {
		return nameID{}, err
	}
	if !isElem(root, nsAssertion, "NameID") {
		return nameID{}, fmt.Errorf("%w: EncryptedID does not hold a NameID", errBadMessage)
	}
	return readNameID(root), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("saml idp: marshal %T: %v", v, err)) // plain structs of strings always marshal
	}
	return b
}
