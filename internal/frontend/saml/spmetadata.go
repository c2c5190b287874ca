package saml

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// MaxSPMetadata caps an SP metadata document.
const MaxSPMetadata = 1 << 20

// ErrSPMetadata is matched (errors.Is) by every ParseSPMetadata error.
var ErrSPMetadata = errors.New("invalid SP metadata")

// SPMetadataOptions relax ParseSPMetadata for development.
type SPMetadataOptions struct {
	// AllowHTTPLoopback accepts http:// endpoints on localhost, 127.0.0.1
	// and [::1] (development and tests). Never set it in production.
	AllowHTTPLoopback bool
}

// SPMetadataInfo is what the management service shows of a parsed
// metadata document besides the configuration itself.
type SPMetadataInfo struct {
	EntityID string
	// ValidUntil is the document's validUntil, if any.
	ValidUntil *time.Time
	// Certificates lists each certificate with its expiry.
	Certificates []CertificateInfo
	// Warnings are things that are accepted but worth telling the
	// administrator (ignored endpoints, expired certificates).
	Warnings []string
}

// CertificateInfo describes one certificate of the metadata.
type CertificateInfo struct {
	// Use is "signing", "encryption" or "" (both).
	Use       string
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
}

// ParseSPMetadata reads an SP's SAML metadata document into the service's
// SAML configuration: entityID, HTTP-POST ACS endpoints, SLO endpoints
// (HTTP-Redirect, HTTP-POST), signing and encryption certificates and the
// AuthnRequestsSigned and WantAssertionsSigned flags. Endpoint URLs must be
// https, without a fragment or user information. The metadata signature is
// not checked: the document comes from the service's administrator through
// the authenticated management service.
func ParseSPMetadata(data []byte) (*model.SAMLMetadata, *SPMetadataInfo, error) {
	return ParseSPMetadataOptions(data, SPMetadataOptions{})
}

// ParseSPMetadataOptions is ParseSPMetadata with options.
func ParseSPMetadataOptions(data []byte, opts SPMetadataOptions) (*model.SAMLMetadata, *SPMetadataInfo, error) {
	if len(data) > MaxSPMetadata {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrSPMetadata, MaxSPMetadata)
	}
	root, err := parseXML(data, true)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSPMetadata, err)
	}
	if isElem(root, nsMetadata, "EntitiesDescriptor") {
		eds := children(root, nsMetadata, "EntityDescriptor")
		if len(eds) != 1 {
			return nil, nil, fmt.Errorf("%w: an EntitiesDescriptor must hold exactly one EntityDescriptor, not %d", ErrSPMetadata, len(eds))
		}
		root = eds[0]
	}
	if !isElem(root, nsMetadata, "EntityDescriptor") {
		return nil, nil, fmt.Errorf("%w: the root element is not md:EntityDescriptor", ErrSPMetadata)
	}
	info := &SPMetadataInfo{}
	md := &model.SAMLMetadata{EntityID: strings.TrimSpace(attrValue(root, "entityID"))}
	if md.EntityID == "" || len(md.EntityID) > 1024 {
		return nil, nil, fmt.Errorf("%w: entityID is missing or too long", ErrSPMetadata)
	}
	info.EntityID = md.EntityID
	if v, ok := attr(root, "validUntil"); ok {
		t, err := parseSAMLTime(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: validUntil: %v", ErrSPMetadata, err)
		}
		info.ValidUntil = &t
	}
	sps := children(root, nsMetadata, "SPSSODescriptor")
	if len(sps) != 1 {
		return nil, nil, fmt.Errorf("%w: expected one SPSSODescriptor, got %d", ErrSPMetadata, len(sps))
	}
	sp := sps[0]
	if !strings.Contains(attrValue(sp, "protocolSupportEnumeration"), nsProtocol) {
		return nil, nil, fmt.Errorf("%w: the SPSSODescriptor does not support SAML 2.0", ErrSPMetadata)
	}
	if md.AuthnRequestsSigned, err = parseBool(sp, "AuthnRequestsSigned"); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSPMetadata, err)
	}
	if md.WantAssertionsSigned, err = parseBool(sp, "WantAssertionsSigned"); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSPMetadata, err)
	}
	for _, kd := range children(sp, nsMetadata, "KeyDescriptor") {
		use := attrValue(kd, "use")
		if use != "" && use != "signing" && use != "encryption" {
			return nil, nil, fmt.Errorf("%w: KeyDescriptor use %q", ErrSPMetadata, truncate(use, 40))
		}
		for _, xc := range kd.FindElements("./KeyInfo/X509Data/X509Certificate") {
			if xc.NamespaceURI() != nsDSig {
				continue
			}
			der, err := xmlsafe.DecodeBase64(xc.Text())
			if err != nil {
				return nil, nil, fmt.Errorf("%w: a certificate is not base64", ErrSPMetadata)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: certificate: %v", ErrSPMetadata, err)
			}
			b64 := base64.StdEncoding.EncodeToString(c.Raw)
			if use == "" || use == "signing" {
				md.SigningCertificates = appendNew(md.SigningCertificates, b64)
			}
			if use == "" || use == "encryption" {
				md.EncryptionCertificates = appendNew(md.EncryptionCertificates, b64)
			}
			info.Certificates = append(info.Certificates, CertificateInfo{Use: use, Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter})
			if time.Now().After(c.NotAfter) {
				info.Warnings = append(info.Warnings, fmt.Sprintf("certificate %q expired on %s", c.Subject.String(), c.NotAfter.Format(time.DateOnly)))
			}
		}
	}
	for i, e := range children(sp, nsMetadata, "AssertionConsumerService") {
		binding, loc := attrValue(e, "Binding"), strings.TrimSpace(attrValue(e, "Location"))
		if err := checkEndpointURL(loc, opts); err != nil {
			return nil, nil, fmt.Errorf("%w: AssertionConsumerService: %v", ErrSPMetadata, err)
		}
		if binding != BindingPOST {
			info.Warnings = append(info.Warnings, fmt.Sprintf("AssertionConsumerService %s with binding %s ignored: responses are sent by HTTP-POST", loc, binding))
			continue
		}
		idx := i
		if v, ok := attr(e, "index"); ok {
			if idx, err = strconv.Atoi(strings.TrimSpace(v)); err != nil || idx < 0 || idx > 65535 {
				return nil, nil, fmt.Errorf("%w: AssertionConsumerService index %q", ErrSPMetadata, truncate(v, 20))
			}
		}
		def, err := parseBool(e, "isDefault")
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrSPMetadata, err)
		}
		for _, a := range md.ACS {
			if a.Index == idx {
				return nil, nil, fmt.Errorf("%w: AssertionConsumerService index %d used twice", ErrSPMetadata, idx)
			}
		}
		md.ACS = append(md.ACS, model.ACSEndpoint{Binding: binding, Location: loc, Index: idx, IsDefault: def})
	}
	if len(md.ACS) == 0 {
		return nil, nil, fmt.Errorf("%w: no HTTP-POST AssertionConsumerService", ErrSPMetadata)
	}
	for _, e := range children(sp, nsMetadata, "SingleLogoutService") {
		binding, loc := attrValue(e, "Binding"), strings.TrimSpace(attrValue(e, "Location"))
		if err := checkEndpointURL(loc, opts); err != nil {
			return nil, nil, fmt.Errorf("%w: SingleLogoutService: %v", ErrSPMetadata, err)
		}
		if binding != BindingRedirect && binding != BindingPOST {
			info.Warnings = append(info.Warnings, fmt.Sprintf("SingleLogoutService %s with binding %s ignored: logout goes through the browser", loc, binding))
			continue
		}
		md.SingleLogout = append(md.SingleLogout, model.Endpoint{Binding: binding, Location: loc})
	}
	if len(md.SigningCertificates) == 0 {
		info.Warnings = append(info.Warnings, "no signing certificate: the service's requests cannot be verified")
	}
	return md, info, nil
}

// checkEndpointURL accepts an absolute https URL with a host, no user
// information and no fragment; http only on a loopback host with
// AllowHTTPLoopback.
func checkEndpointURL(raw string, opts SPMetadataOptions) error {
	if raw == "" {
		return errors.New("empty Location")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("Location %q is not a URL", truncate(raw, 200))
	}
	switch {
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("Location %q has a fragment", truncate(raw, 200))
	case u.User != nil:
		return fmt.Errorf("Location %q has user information", truncate(raw, 200))
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("Location %q is not an absolute URL with a host", truncate(raw, 200))
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && opts.AllowHTTPLoopback && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("Location %q must be https", truncate(raw, 200))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func appendNew(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
