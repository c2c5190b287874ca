package saml

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
)

// Preset selects the defaults for one kind of upstream IdP.
type Preset string

// The presets. Every preset accepts signed Responses or signed Assertions;
// they differ in:
//
//   - PresetAzure, Microsoft Entra ID: metadata at EntraMetadataURL(tenant);
//     no NameIDPolicy Format (Entra then sends the NameID the enterprise
//     application is configured with); claims arrive under WS-Federation
//     claim URIs, which get the short names of claimAliases; AuthnRequests
//     unsigned (Entra does not require signed requests unless the
//     enterprise application is set to, and then its metadata says
//     WantAuthnRequestsSigned).
//   - PresetADFS: ADFS expects signed AuthnRequests and, as set up for
//     MPASSid, encrypts its assertions, so a plaintext assertion is refused
//     (RequireEncryptedAssertions); no NameIDPolicy Format; claim URIs get
//     the short names of claimAliases.
//   - PresetGSuite, Google Workspace SAML app: uploaded metadata; NameIDPolicy
//     Format emailAddress (Google's NameID is the user's primary email); the
//     attributes carry the names given in the app's attribute mapping;
//     AuthnRequests unsigned (Google does not verify them).
//   - PresetGeneric: any SAML 2.0 IdP; no NameIDPolicy Format; attributes by
//     Name and FriendlyName; signed AuthnRequests.
//
// Signed AuthnRequests are rsa-sha256 (RSA keys) or ecdsa-sha256 (ECDSA
// keys); Config.SignAuthnRequests overrides the preset, and an IdP whose
// metadata says WantAuthnRequestsSigned="true" always gets them signed.
const (
	PresetAzure   Preset = "azure"
	PresetADFS    Preset = "adfs"
	PresetGSuite  Preset = "gsuite"
	PresetGeneric Preset = "generic"
)

// NameID formats (saml-core §8.3).
const (
	NameIDFormatUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDFormatEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDFormatPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDFormatTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
)

// ReplayNamespace is the connector.ReplayCache namespace of assertion IDs.
const ReplayNamespace = "saml-assertion"

// Size limits.
const (
	// DefaultMaxResponseSize is the largest SAMLResponse form value (base64)
	// accepted, unless Config.MaxResponseSize says otherwise. A login
	// response with a few dozen attributes, encrypted, is under 20 KiB.
	DefaultMaxResponseSize = 256 << 10
	// maxRelayState bounds the RelayState (a transaction id) accepted.
	maxRelayState = 1024
)

// presetDefaults are the per-preset defaults; a constant-like table.
type presetDefaults struct {
	nameIDFormat      string // "" = no Format in the NameIDPolicy
	requireEncryption bool
	aliases           bool // add claimAliases names
	signRequests      bool // sign AuthnRequests
}

func defaultsFor(p Preset) (presetDefaults, error) {
	switch p {
	case PresetAzure:
		return presetDefaults{aliases: true}, nil
	case PresetADFS:
		return presetDefaults{requireEncryption: true, aliases: true, signRequests: true}, nil
	case PresetGSuite:
		return presetDefaults{nameIDFormat: NameIDFormatEmail}, nil
	case PresetGeneric, "":
		return presetDefaults{signRequests: true}, nil
	}
	return presetDefaults{}, fmt.Errorf("saml: unknown preset %q", p)
}

// claimAliases maps the claim URIs that Entra ID and ADFS send to the short
// names a user-attribute mapping may use instead (the azure and adfs presets
// add them). A table read only, never written.
var claimAliases = map[string]string{
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname":            "givenName",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname":              "surname",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress":         "mail",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":                 "name",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":                  "upn",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier":       "nameIdentifier",
	"http://schemas.microsoft.com/identity/claims/objectidentifier":              "objectId",
	"http://schemas.microsoft.com/identity/claims/tenantid":                      "tenantId",
	"http://schemas.microsoft.com/identity/claims/displayname":                   "displayName",
	"http://schemas.microsoft.com/identity/claims/identityprovider":              "identityProvider",
	"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups":             "groups",
	"http://schemas.microsoft.com/ws/2008/06/identity/claims/role":               "role",
	"http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname": "windowsAccountName",
	"http://schemas.xmlsoap.org/claims/Group":                                    "groups",
	"http://schemas.xmlsoap.org/claims/CommonName":                               "commonName",
}

// Config configures one SAML upstream source.
type Config struct {
	// Preset selects the defaults for the kind of IdP; "" is PresetGeneric.
	Preset Preset

	// EntityID is the broker's SP entityID towards this source; it is the
	// AuthnRequest Issuer and the Audience the assertions must name.
	EntityID string
	// ACSURL is the broker's assertion consumer service (callback) URL for
	// this source, HTTP-POST binding. Responses must name it as Destination
	// and Recipient.
	ACSURL string
	// SigningKey and SigningCert sign AuthnRequests (rsa-sha256 for RSA
	// keys, ecdsa-sha256 for ECDSA), when they are signed (see
	// SignAuthnRequests); the certificate goes in the SP metadata either way.
	SigningKey  crypto.Signer
	SigningCert *x509.Certificate
	// Signer, when set, makes the signatures in SigningKey's place: the
	// same key behind a crypto.Signer that, say, counts them
	// (keys.SigningKey.CountedSigner). SigningKey still decides the
	// signature method and, unless EncryptionKey is set, decrypts.
	Signer crypto.Signer
	// EncryptionKey decrypts encrypted assertions; nil uses SigningKey,
	// which must then be an *rsa.PrivateKey. EncryptionCert, required with
	// EncryptionKey, is its certificate, advertised for encryption in the
	// SP metadata (without EncryptionKey, SigningCert is advertised).
	EncryptionKey  *rsa.PrivateKey
	EncryptionCert *x509.Certificate
	// DecryptionKeys are further keys tried for decryption, for SP
	// encryption key rollover; never advertised.
	DecryptionKeys []*rsa.PrivateKey

	// IdPEntityID is the upstream IdP's entityID: the metadata entity used
	// and the Issuer required. "" takes the entityID of the metadata.
	IdPEntityID string
	// Metadata supplies the IdP metadata (uploaded or fetched). Required.
	Metadata *MetadataSource

	// NameIDFormat overrides the preset's NameIDPolicy Format ("" keeps
	// the preset's).
	NameIDFormat string
	// SignAuthnRequests says whether AuthnRequests are signed: nil takes
	// the preset's default (adfs and generic sign, azure and gsuite do
	// not). Whatever it says, an IdP whose current metadata has
	// WantAuthnRequestsSigned="true" gets signed requests. Each signature
	// costs the broker one private-key operation per login.
	SignAuthnRequests *bool
	// RequireEncryptedAssertions refuses plaintext assertions; the adfs
	// preset sets it regardless.
	RequireEncryptedAssertions bool
	// AllowSHA1 accepts rsa-sha1 / sha1 signatures from the IdP. Off by
	// default.
	AllowSHA1 bool
	// IgnoreCertificateExpiry accepts signatures by an IdP signing
	// certificate outside its NotBefore/NotAfter, as the SAML metadata
	// interoperability profile allows. Off by default: the management
	// service warns before a certificate lapses.
	IgnoreCertificateExpiry bool
	// AllowExpiredMetadata keeps accepting logins with metadata whose
	// validUntil has passed. Off by default (saml-metadata §4.3.1).
	AllowExpiredMetadata bool
	// MaxResponseSize limits the SAMLResponse form value in bytes; 0 is
	// DefaultMaxResponseSize.
	MaxResponseSize int

	// ReplayCache records the assertion IDs used. Required.
	ReplayCache connector.ReplayCache
	// Logger receives connector events (never personal data); nil is
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (c *Config) validate() error {
	if c.EntityID == "" {
		return errors.New("saml: Config.EntityID is required")
	}
	u, err := url.Parse(c.ACSURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("saml: Config.ACSURL %q is not an absolute URL", c.ACSURL)
	}
	if c.SigningKey == nil || c.SigningCert == nil {
		return errors.New("saml: Config.SigningKey and SigningCert are required")
	}
	if !publicKeysEqual(c.SigningKey.Public(), c.SigningCert.PublicKey) {
		return errors.New("saml: Config.SigningCert does not match SigningKey")
	}
	if c.Signer != nil && !publicKeysEqual(c.Signer.Public(), c.SigningKey.Public()) {
		return errors.New("saml: Config.Signer is not SigningKey's")
	}
	if c.EncryptionKey == nil {
		if _, ok := c.SigningKey.(*rsa.PrivateKey); !ok {
			return errors.New("saml: Config.EncryptionKey is required when SigningKey is not an *rsa.PrivateKey")
		}
	} else if c.EncryptionCert == nil {
		return errors.New("saml: Config.EncryptionCert is required with EncryptionKey")
	} else if !publicKeysEqual(c.EncryptionKey.Public(), c.EncryptionCert.PublicKey) {
		return errors.New("saml: Config.EncryptionCert does not match EncryptionKey")
	}
	if c.Metadata == nil {
		return errors.New("saml: Config.Metadata is required")
	}
	if c.ReplayCache == nil {
		return errors.New("saml: Config.ReplayCache is required")
	}
	if _, err := defaultsFor(c.Preset); err != nil {
		return err
	}
	return nil
}

type equaler interface{ Equal(crypto.PublicKey) bool }

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// EntraMetadataURL returns the federation metadata URL of an Entra ID
// tenant: https://login.microsoftonline.com/<tenantId>/FederationMetadata/2007-06/FederationMetadata.xml.
// The tenant id is a GUID or a verified domain name.
func EntraMetadataURL(tenantID string) (string, error) {
	if tenantID == "" || len(tenantID) > 253 {
		return "", fmt.Errorf("saml: invalid Entra tenant id %q", tenantID)
	}
	for _, r := range tenantID {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.'
		if !ok {
			return "", fmt.Errorf("saml: invalid Entra tenant id %q", tenantID)
		}
	}
	return "https://login.microsoftonline.com/" + tenantID + "/FederationMetadata/2007-06/FederationMetadata.xml", nil
}
