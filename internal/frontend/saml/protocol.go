package saml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// errBadMessage marks a protocol message that is well-formed XML but not a
// valid SAML message of the expected kind.
var errBadMessage = errors.New("invalid SAML message")

// header is what every SAML request or response carries.
type header struct {
	ID           string
	IssueInstant time.Time
	Destination  string
	Issuer       string
	InResponseTo string
}

// parseHeader reads the common attributes and the Issuer of root, which
// must be samlp:<tag>.
func parseHeader(root *etree.Element, tag string) (header, error) {
	var h header
	if !isElem(root, nsProtocol, tag) {
		return h, fmt.Errorf("%w: root is %s, not samlp:%s", errBadMessage, truncate(root.FullTag(), 60), tag)
	}
	if v := attrValue(root, "Version"); v != "2.0" {
		return h, fmt.Errorf("%w: Version %q", errBadMessage, truncate(v, 10))
	}
	h.ID = attrValue(root, "ID")
	if !validID(h.ID) {
		return h, fmt.Errorf("%w: missing or malformed ID", errBadMessage)
	}
	ii, ok := attr(root, "IssueInstant")
	if !ok {
		return h, fmt.Errorf("%w: no IssueInstant", errBadMessage)
	}
	t, err := parseSAMLTime(ii)
	if err != nil {
		return h, fmt.Errorf("%w: IssueInstant: %v", errBadMessage, err)
	}
	h.IssueInstant = t
	h.Destination = attrValue(root, "Destination")
	h.InResponseTo = attrValue(root, "InResponseTo")
	issuers := children(root, nsAssertion, "Issuer")
	if len(issuers) != 1 {
		return h, fmt.Errorf("%w: expected one saml:Issuer, got %d", errBadMessage, len(issuers))
	}
	if f := attrValue(issuers[0], "Format"); f != "" && f != nameIDEntity {
		return h, fmt.Errorf("%w: Issuer Format %q", errBadMessage, truncate(f, 80))
	}
	h.Issuer = strings.TrimSpace(issuers[0].Text())
	if h.Issuer == "" || len(h.Issuer) > 1024 {
		return h, fmt.Errorf("%w: empty or oversized Issuer", errBadMessage)
	}
	return h, nil
}

// validID accepts an xs:ID-like value of sensible length: no whitespace,
// no markup characters.
func validID(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '<' || r == '>' || r == '&' || r == '"' || r == '\'' || r == 0x7f {
			return false
		}
	}
	return true
}

// parseBool reads an xs:boolean attribute; absent is false.
func parseBool(el *etree.Element, name string) (bool, error) {
	v, ok := attr(el, name)
	if !ok {
		return false, nil
	}
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s is not a boolean", errBadMessage, name)
}

// authnRequest is a parsed samlp:AuthnRequest.
type authnRequest struct {
	header
	ACSURL          string
	ACSIndex        int
	HasACSIndex     bool
	ProtocolBinding string
	ForceAuthn      bool
	IsPassive       bool
	NameIDFormat    string
	// ClassRefs and Comparison are the RequestedAuthnContext.
	ClassRefs  []string
	Comparison string
}

// parseAuthnRequest reads an AuthnRequest from root.
func parseAuthnRequest(root *etree.Element) (*authnRequest, error) {
	h, err := parseHeader(root, "AuthnRequest")
	if err != nil {
		return nil, err
	}
	req := &authnRequest{header: h}
	req.ACSURL = attrValue(root, "AssertionConsumerServiceURL")
	if v, ok := attr(root, "AssertionConsumerServiceIndex"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("%w: bad AssertionConsumerServiceIndex", errBadMessage)
		}
		req.ACSIndex, req.HasACSIndex = n, true
	}
	if req.ACSURL != "" && req.HasACSIndex {
		return nil, fmt.Errorf("%w: both AssertionConsumerServiceURL and AssertionConsumerServiceIndex", errBadMessage)
	}
	req.ProtocolBinding = attrValue(root, "ProtocolBinding")
	if req.ForceAuthn, err = parseBool(root, "ForceAuthn"); err != nil {
		return nil, err
	}
	if req.IsPassive, err = parseBool(root, "IsPassive"); err != nil {
		return nil, err
	}
	if p := child(root, nsProtocol, "NameIDPolicy"); p != nil {
		req.NameIDFormat = attrValue(p, "Format")
	}
	if rac := child(root, nsProtocol, "RequestedAuthnContext"); rac != nil {
		req.Comparison = attrValue(rac, "Comparison")
		switch req.Comparison {
		case "", "exact", "minimum", "maximum", "better":
		default:
			return nil, fmt.Errorf("%w: bad RequestedAuthnContext Comparison", errBadMessage)
		}
		for _, c := range children(rac, nsAssertion, "AuthnContextClassRef") {
			req.ClassRefs = append(req.ClassRefs, strings.TrimSpace(c.Text()))
		}
		if len(req.ClassRefs) > 50 {
			return nil, fmt.Errorf("%w: too many AuthnContextClassRefs", errBadMessage)
		}
	}
	return req, nil
}

// nameID is a saml:NameID.
type nameID struct {
	Value, Format, NameQualifier, SPNameQualifier string
}

// logoutRequest is a parsed samlp:LogoutRequest.
type logoutRequest struct {
	header
	NotOnOrAfter time.Time
	NameID       nameID
	// EncryptedID is the saml:EncryptedID in place of NameID.
	EncryptedID    *etree.Element
	SessionIndexes []string
}

// parseLogoutRequest reads a LogoutRequest from root.
func parseLogoutRequest(root *etree.Element) (*logoutRequest, error) {
	h, err := parseHeader(root, "LogoutRequest")
	if err != nil {
		return nil, err
	}
	req := &logoutRequest{header: h}
	if v, ok := attr(root, "NotOnOrAfter"); ok {
		if req.NotOnOrAfter, err = parseSAMLTime(v); err != nil {
			return nil, fmt.Errorf("%w: NotOnOrAfter: %v", errBadMessage, err)
		}
	}
	ids := children(root, nsAssertion, "NameID")
	enc := children(root, nsAssertion, "EncryptedID")
	switch {
	case len(ids) == 1 && len(enc) == 0:
		req.NameID = readNameID(ids[0])
	case len(ids) == 0 && len(enc) == 1:
		req.EncryptedID = enc[0]
	default:
		return nil, fmt.Errorf("%w: expected one NameID or EncryptedID", errBadMessage)
	}
	for _, s := range children(root, nsProtocol, "SessionIndex") {
		req.SessionIndexes = append(req.SessionIndexes, strings.TrimSpace(s.Text()))
	}
	if len(req.SessionIndexes) > 20 {
		return nil, fmt.Errorf("%w: too many SessionIndexes", errBadMessage)
	}
	return req, nil
}

func readNameID(el *etree.Element) nameID {
	return nameID{
		Value:           strings.TrimSpace(el.Text()),
		Format:          attrValue(el, "Format"),
		NameQualifier:   attrValue(el, "NameQualifier"),
		SPNameQualifier: attrValue(el, "SPNameQualifier"),
	}
}

// logoutResponse is a parsed samlp:LogoutResponse.
type logoutResponse struct {
	header
	Status string
}

// parseLogoutResponse reads a LogoutResponse from root.
func parseLogoutResponse(root *etree.Element) (*logoutResponse, error) {
	h, err := parseHeader(root, "LogoutResponse")
	if err != nil {
		return nil, err
	}
	st := child(child(root, nsProtocol, "Status"), nsProtocol, "StatusCode")
	if st == nil {
		return nil, fmt.Errorf("%w: no StatusCode", errBadMessage)
	}
	return &logoutResponse{header: h, Status: attrValue(st, "Value")}, nil
}
