package saml

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/model"
)

// ssoState is what the IdP keeps in broker.Request.State to answer the
// service when the login ends.
type ssoState struct {
	EntityID   string `json:"sp"`
	RequestID  string `json:"id"`
	ACS        string `json:"acs"`
	RelayState string `json:"rs,omitempty"`
}

func (idp *IdP) serveSSORedirect(w http.ResponseWriter, r *http.Request) {
	in, err := decodeRedirect(r.URL.RawQuery, "SAMLRequest", &idp.inflater)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	idp.sso(w, r, in, r.URL.Query().Get("lang"))
}

func (idp *IdP) serveSSOPOST(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	in, err := decodePOST(w, r, "SAMLRequest")
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	if v := r.PostForm.Get("lang"); v != "" {
		lang = v
	}
	idp.sso(w, r, in, lang)
}

// refuse writes the error page for a request that cannot be answered to a
// service, with a message chosen by the kind of error.
func (idp *IdP) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusBadRequest, "The request is malformed."
	switch {
	case errors.Is(err, errTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, "The request is too large."
	case errors.Is(err, errUnsafeXML):
		msg = "The request is not acceptable XML."
	case errors.Is(err, errUnknownService):
		status, msg = http.StatusForbidden, "The service is not registered with MPASSid."
	case errors.Is(err, errNoSignature), errors.Is(err, errBadSignature), errors.Is(err, errSHA1Forbidden):
		status, msg = http.StatusForbidden, "The request's signature is missing or does not verify."
	case errors.Is(err, errBadACS):
		status, msg = http.StatusForbidden, "The request names a response address the service has not registered."
	case errors.Is(err, errBadDestination):
		msg = "The request was sent to another address than it names."
	case errors.Is(err, errInternal):
		status, msg = http.StatusInternalServerError, "An internal error occurred."
	}
	idp.writeErrorPage(w, r, status, msg, err)
}

var (
	errUnknownService = errors.New("unknown or inactive SAML service")
	errBadACS         = errors.New("assertion consumer service not registered")
	errBadDestination = errors.New("wrong Destination")
	errInternal       = errors.New("internal error")
)

// serviceFor returns the active SAML service with the entityID.
func (idp *IdP) serviceFor(entityID string) (*broker.Service, *model.SAMLMetadata, error) {
	cat := idp.deps.Flow.Catalog()
	if cat == nil {
		return nil, nil, fmt.Errorf("%w: no catalog", errInternal)
	}
	svc, ok := cat.ServiceByEntityID(entityID)
	if !ok || svc.Integration == nil || svc.Integration.SP == nil || svc.Integration.SP.SAML == nil || svc.Integration.SP.Type != model.SPTypeSAML {
		return nil, nil, fmt.Errorf("%w: %q", errUnknownService, truncate(entityID, 200))
	}
	return svc, svc.Integration.SP.SAML, nil
}

// authenticate checks the signature of a message from the service: it is
// verified when present, and required when required is set. It returns the
// element to read: for HTTP-POST, what the signature covers.
func (idp *IdP) authenticate(in *inbound, root *etree.Element, md *model.SAMLMetadata, required bool) (*etree.Element, bool, error) {
	present := signatureOf(root) != nil
	if in.binding == BindingRedirect {
		present = in.signature != nil
	}
	if !present {
		if required {
			return nil, false, errNoSignature
		}
		return root, false, nil
	}
	certs, err := idp.certs.certificates(md.SigningCertificates)
	if err != nil {
		return nil, false, fmt.Errorf("%w: registered certificates: %v", errBadSignature, err)
	}
	if in.binding == BindingRedirect {
		if err := verifyRedirectSignature(in, certs, idp.cfg.AllowSHA1); err != nil {
			return nil, false, err
		}
		return root, true, nil
	}
	signed, err := verifyEnveloped(root, certs, idp.now(), idp.cfg.AllowSHA1)
	if err != nil {
		return nil, false, err
	}
	return signed, true, nil
}

// sso validates an AuthnRequest and hands the login to the broker.
func (idp *IdP) sso(w http.ResponseWriter, r *http.Request, in *inbound, lang string) {
	req, svc, md, signed, err := idp.readAuthnRequest(in)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	acs, err := resolveACS(md, req)
	if err != nil {
		idp.refuse(w, r, err)
		return
	}
	// From here on the service is trusted and the ACS registered: problems
	// are answered to it with a SAML status.
	st := ssoState{EntityID: md.EntityID, RequestID: req.ID, ACS: acs, RelayState: in.relayState}
	log := idp.log.With("service", svc.ID(), "binding", bindingName(in.binding))
	now := idp.now()
	maxAge := idp.cfg.RequestMaxAge + idp.cfg.ClockSkew
	if req.IssueInstant.Before(now.Add(-maxAge)) || req.IssueInstant.After(now.Add(idp.cfg.ClockSkew)) {
		log.WarnContext(r.Context(), "authnrequest refused: IssueInstant out of range", "issueInstant", req.IssueInstant)
		idp.sendError(w, r, md, st, StatusRequester, StatusRequestDenied, "IssueInstant is too old or in the future")
		return
	}
	fresh, err := idp.deps.Runtime.MarkUsed(r.Context(), ReplayNamespace, md.EntityID+"\x00"+req.ID, req.IssueInstant.Add(maxAge+idp.cfg.ClockSkew))
	if err != nil {
		broker.LogFailure(r.Context(), log, "authnrequest: replay check", err)
		idp.sendError(w, r, md, st, StatusResponder, "", "temporary failure")
		return
	}
	if !fresh {
		log.WarnContext(r.Context(), "authnrequest refused: replayed ID")
		idp.sendError(w, r, md, st, StatusRequester, StatusRequestDenied, "request ID already used")
		return
	}
	switch req.NameIDFormat {
	case "", nameIDTransient, nameIDUnspecified:
	default:
		log.WarnContext(r.Context(), "authnrequest refused: NameID format", "format", truncate(req.NameIDFormat, 100))
		idp.sendError(w, r, md, st, StatusRequester, StatusInvalidNameIDPolicy, "only transient NameIDs are issued")
		return
	}
	state := encodeSSOState(st)
	breq := broker.Request{
		Protocol:   broker.ProtocolSAML,
		ServiceID:  svc.ID(),
		ForceAuthn: req.ForceAuthn,
		Passive:    req.IsPassive,
		Language:   language(lang),
		Sources:    requestedSources(req.ClassRefs),
		State:      state,
	}
	log.DebugContext(r.Context(), "authnrequest accepted", "signed", signed, "forceAuthn", req.ForceAuthn, "passive", req.IsPassive, "sources", len(breq.Sources))
	idp.deps.Flow.Begin(w, r, breq)
}

// readAuthnRequest parses, attributes and authenticates an AuthnRequest.
func (idp *IdP) readAuthnRequest(in *inbound) (*authnRequest, *broker.Service, *model.SAMLMetadata, bool, error) {
	root, err := parseXML(in.xml, false)
	if err != nil {
		return nil, nil, nil, false, err
	}
	req, err := parseAuthnRequest(root)
	if err != nil {
		return nil, nil, nil, false, err
	}
	svc, md, err := idp.serviceFor(req.Issuer)
	if err != nil {
		return nil, nil, nil, false, err
	}
	el, signed, err := idp.authenticate(in, root, md, md.AuthnRequestsSigned)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("service %d: %w", svc.ID(), err)
	}
	if signed && in.binding == BindingPOST {
		// Read only what the signature covers.
		if req, err = parseAuthnRequest(el); err != nil {
			return nil, nil, nil, false, err
		}
		if req.Issuer != md.EntityID {
			return nil, nil, nil, false, fmt.Errorf("%w: issuer changed under the signature", errBadSignature)
		}
	}
	if req.Destination != "" && req.Destination != idp.ssoRedirect && req.Destination != idp.ssoPOST {
		return nil, nil, nil, false, fmt.Errorf("%w: %q", errBadDestination, truncate(req.Destination, 200))
	}
	if signed && req.Destination == "" {
		// saml-bindings 3.4.5.2 and 3.5.5.2: a signed message names its
		// Destination, or it could be replayed to another endpoint.
		return nil, nil, nil, false, fmt.Errorf("%w: signed request without Destination", errBadDestination)
	}
	return req, svc, md, signed, nil
}

// resolveACS returns the registered HTTP-POST assertion consumer service
// the request asks for: by exact URL, by index, or the default endpoint.
func resolveACS(md *model.SAMLMetadata, req *authnRequest) (string, error) {
	if req.ProtocolBinding != "" && req.ProtocolBinding != BindingPOST {
		return "", fmt.Errorf("%w: ProtocolBinding %q (responses are sent by HTTP-POST)", errBadACS, truncate(req.ProtocolBinding, 100))
	}
	isPOST := func(a model.ACSEndpoint) bool { return a.Binding == BindingPOST || a.Binding == "" }
	switch {
	case req.ACSURL != "":
		for _, a := range md.ACS {
			if a.Location == req.ACSURL && isPOST(a) {
				return a.Location, nil
			}
		}
		return "", fmt.Errorf("%w: AssertionConsumerServiceURL %q", errBadACS, truncate(req.ACSURL, 200))
	case req.HasACSIndex:
		for _, a := range md.ACS {
			if a.Index == req.ACSIndex && isPOST(a) {
				return a.Location, nil
			}
		}
		return "", fmt.Errorf("%w: AssertionConsumerServiceIndex %d", errBadACS, req.ACSIndex)
	}
	if a, ok := defaultACS(md); ok {
		return a.Location, nil
	}
	return "", fmt.Errorf("%w: the service has no HTTP-POST assertion consumer service", errBadACS)
}

// defaultACS returns the service's default HTTP-POST endpoint: the one
// marked default, else the one with the lowest index.
func defaultACS(md *model.SAMLMetadata) (model.ACSEndpoint, bool) {
	var best model.ACSEndpoint
	found := false
	for _, a := range md.ACS {
		if a.Binding != BindingPOST && a.Binding != "" {
			continue
		}
		if a.IsDefault {
			return a, true
		}
		if !found || a.Index < best.Index {
			best, found = a, true
		}
	}
	return best, found
}

// acsRegistered reports whether url is still a registered HTTP-POST ACS of
// the service.
func acsRegistered(md *model.SAMLMetadata, url string) bool {
	return slices.ContainsFunc(md.ACS, func(a model.ACSEndpoint) bool {
		return a.Location == url && (a.Binding == BindingPOST || a.Binding == "")
	})
}

// requestedSources returns the flowNames of the urn:mpass.id:authnsource:
// class references. Other references (PasswordProtectedTransport, which
// some client libraries send by default) are ignored, as the national
// service does: every source is at least that.
func requestedSources(refs []string) []string {
	var out []string
	for _, ref := range refs {
		if name, ok := strings.CutPrefix(ref, broker.AuthnSourcePrefix); ok && name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// language returns fi, sv or en, or "".
func language(lang string) string {
	switch l := strings.ToLower(strings.TrimSpace(lang)); l {
	case "fi", "sv", "en":
		return l
	}
	return ""
}

func bindingName(b string) string {
	if b == BindingRedirect {
		return "redirect"
	}
	return "post"
}
