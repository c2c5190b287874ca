package model

import (
	"fmt"
	"time"
)

// Role is what an integration is: a school's login source, a service, or a
// service provider's set of services.
type Role string

const (
	RoleIdP Role = "idp"
	RoleSP  Role = "sp"
	RoleSet Role = "set"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == RoleIdP || r == RoleSP || r == RoleSet }

// DeploymentPhase is the environment an integration belongs to. The numbers are
// those of the national management service and its export format.
type DeploymentPhase int

const (
	PhaseTest          DeploymentPhase = 0
	PhaseProduction    DeploymentPhase = 1
	PhasePreProduction DeploymentPhase = 2
)

// Valid reports whether p is a known phase.
func (p DeploymentPhase) Valid() bool { return p >= PhaseTest && p <= PhasePreProduction }

func (p DeploymentPhase) String() string {
	switch p {
	case PhaseTest:
		return "test"
	case PhaseProduction:
		return "production"
	case PhasePreProduction:
		return "preproduction"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Status tells whether an integration takes part in logins. Deleting an
// integration inactivates it, so that its history is kept.
type Status string

const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == StatusActive || s == StatusInactive }

// IDRange is the inclusive range of integration ids for one role in one
// environment, as the national service allocates them.
type IDRange struct{ Min, Max int64 }

// IntegrationIDRange returns the id range of the national numbering plan:
// production IdPs below 2000000, SPs 2000000-2999999, sets 3000000-3999999;
// test (and pre-production) IdPs 4000000-4999999, SPs 5000000-5999999, sets
// 6000000-6999999.
func IntegrationIDRange(role Role, phase DeploymentPhase) (IDRange, error) {
	var base int64
	switch role {
	case RoleIdP:
		base = 1000000
	case RoleSP:
		base = 2000000
	case RoleSet:
		base = 3000000
	default:
		return IDRange{}, fmt.Errorf("unknown integration role %q", role)
	}
	if phase != PhaseProduction {
		base += 3000000
	}
	return IDRange{Min: base, Max: base + 999999}, nil
}

// Integration is one member integration of the trust network. Exactly one of
// IdP, SP and Set is set, according to Role.
type Integration struct {
	ID              int64           `json:"id"`
	OrganisationOID string          `json:"organisationOid"`
	Role            Role            `json:"role"`
	DeploymentPhase DeploymentPhase `json:"deploymentPhase"`
	Status          Status          `json:"status"`
	// AcceptanceDate and DeploymentDate are the dates the national service
	// records for the contract and the go-live; informational.
	AcceptanceDate        *time.Time `json:"acceptanceDate,omitempty"`
	DeploymentDate        *time.Time `json:"deploymentDate,omitempty"`
	ServiceContactAddress string     `json:"serviceContactAddress,omitempty"`

	// Version is the optimistic lock: an update must name the version it was
	// based on, and each saved change increments it.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy,omitempty"`

	IdP *IdP `json:"idp,omitempty"`
	SP  *SP  `json:"sp,omitempty"`
	Set *Set `json:"set,omitempty"`

	// Attributes are the "data" (connection settings) and "user" (source-name
	// to upstream-attribute mapping) attributes of the integration.
	Attributes []Attribute `json:"attributes,omitempty"`
}

// Active reports whether the integration takes part in logins.
func (in *Integration) Active() bool { return in.Status == StatusActive }

// EntityID returns the SAML entityID of a SAML service, or "".
func (in *Integration) EntityID() string {
	if in.SP != nil && in.SP.SAML != nil {
		return in.SP.SAML.EntityID
	}
	return ""
}

// ClientID returns the OIDC client_id of an OIDC service, or "".
func (in *Integration) ClientID() string {
	if in.SP != nil && in.SP.OIDC != nil {
		return in.SP.OIDC.ClientID
	}
	return ""
}

// Type returns the IdP or SP type, or "" for a set.
func (in *Integration) Type() string {
	switch {
	case in.IdP != nil:
		return string(in.IdP.Type)
	case in.SP != nil:
		return string(in.SP.Type)
	case in.Set != nil:
		return in.Set.Type
	}
	return ""
}

// Name returns a human name for lists: the service or set name, or the IdP's
// display name, flow name or idpId.
func (in *Integration) Name() string {
	switch {
	case in.SP != nil:
		return in.SP.Name
	case in.Set != nil:
		return in.Set.Name
	case in.IdP != nil:
		if in.IdP.Discovery.CustomDisplayName != "" {
			return in.IdP.Discovery.CustomDisplayName
		}
		if in.IdP.FlowName != "" {
			return in.IdP.FlowName
		}
		return in.IdP.IdPID
	}
	return ""
}

// Attribute returns the content of the attribute of the given type and name.
func (in *Integration) Attribute(typ AttributeType, name string) (string, bool) {
	for _, a := range in.Attributes {
		if a.Type == typ && a.Name == name {
			return a.Content, true
		}
	}
	return "", false
}

// Validate checks the structural rules that hold regardless of the registry
// and of other integrations: a known role with its matching configuration, a
// known phase and status. Field rules that depend on the environment (https
// only in production, unique entityID) belong to the management service.
func (in *Integration) Validate() error {
	if !in.Role.Valid() {
		return &FieldError{Field: "role", Message: "must be idp, sp or set"}
	}
	if !in.DeploymentPhase.Valid() {
		return &FieldError{Field: "deploymentPhase", Message: "must be 0 (test), 1 (production) or 2 (pre-production)"}
	}
	if !in.Status.Valid() {
		return &FieldError{Field: "status", Message: "must be active or inactive"}
	}
	n := 0
	for _, set := range []bool{in.IdP != nil, in.SP != nil, in.Set != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return &FieldError{Field: "configurationEntity", Message: "exactly one of idp, sp and set must be given"}
	}
	switch in.Role {
	case RoleIdP:
		if in.IdP == nil {
			return &FieldError{Field: "configurationEntity.idp", Message: "required for role idp"}
		}
		if in.IdP.IdPID == "" {
			return &FieldError{Field: "configurationEntity.idp.idpId", Message: "required"}
		}
		if !in.IdP.Type.Valid() {
			return &FieldError{Field: "configurationEntity.idp.type", Message: fmt.Sprintf("unknown type %q", in.IdP.Type)}
		}
	case RoleSP:
		if in.SP == nil {
			return &FieldError{Field: "configurationEntity.sp", Message: "required for role sp"}
		}
		switch in.SP.Type {
		case SPTypeSAML:
			if in.SP.SAML == nil || in.SP.SAML.EntityID == "" {
				return &FieldError{Field: "configurationEntity.sp.metadata.entityId", Message: "required for a SAML service"}
			}
		case SPTypeOIDC:
			if in.SP.OIDC == nil || in.SP.OIDC.ClientID == "" {
				return &FieldError{Field: "configurationEntity.sp.metadata.client_id", Message: "required for an OIDC service"}
			}
		default:
			return &FieldError{Field: "configurationEntity.sp.type", Message: "must be saml or oidc"}
		}
	case RoleSet:
		if in.Set == nil {
			return &FieldError{Field: "configurationEntity.set", Message: "required for role set"}
		}
	}
	return nil
}

// FieldError names the field of an input that is wrong and says what is wrong
// with it, in the field's own terms.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// AttributeType separates connection settings from the user-attribute mapping.
type AttributeType string

const (
	AttributeData AttributeType = "data"
	AttributeUser AttributeType = "user"
)

// Attribute is one name/content pair of an integration.
type Attribute struct {
	Name    string        `json:"name"`
	Content string        `json:"content"`
	Type    AttributeType `json:"type"`
}

// IdPType is the kind of upstream login system.
type IdPType string

const (
	IdPWilma   IdPType = "wilma"
	IdPOpinsys IdPType = "opinsys"
	IdPAzure   IdPType = "azure"
	IdPADFS    IdPType = "adfs"
	IdPGSuite  IdPType = "gsuite"
	IdPSAML    IdPType = "saml"
	IdPOIDC    IdPType = "oidc"
	// IdPTest is the broker's own test identity source with test pupils and
	// teachers; never allowed in production.
	IdPTest IdPType = "test"
)

// IdPTypes lists every supported upstream type in a stable order.
var idpTypes = []IdPType{IdPWilma, IdPOpinsys, IdPAzure, IdPADFS, IdPGSuite, IdPSAML, IdPOIDC, IdPTest}

// IdPTypes returns every supported upstream type in a stable order.
func IdPTypes() []IdPType { return append([]IdPType(nil), idpTypes...) }

// Valid reports whether t is a supported upstream type.
func (t IdPType) Valid() bool {
	for _, k := range idpTypes {
		if k == t {
			return true
		}
	}
	return false
}

// IsSAML reports whether the type speaks SAML upstream.
func (t IdPType) IsSAML() bool {
	return t == IdPAzure || t == IdPADFS || t == IdPGSuite || t == IdPSAML
}

// IdP is the configuration of an identity-provider integration: a school's
// (education provider's) own login system.
type IdP struct {
	Type IdPType `json:"type"`
	// IdPID is the technical id (wilma_en, azure_t); it is hashed into the
	// user's uid, so it never changes once users have logged in.
	IdPID string `json:"idpId"`
	// FlowName names the source in urn:mpass.id:authnsource:<flowName>.
	FlowName         string `json:"flowName"`
	LogoURL          string `json:"logoUrl,omitempty"`
	InstitutionTypes []int  `json:"institutionTypes,omitempty"`

	// Type fields. Which apply depends on Type.
	Hostname    string `json:"hostname,omitempty"`    // wilma
	TenantID    string `json:"tenantId,omitempty"`    // opinsys host, azure tenant
	EntityID    string `json:"entityId,omitempty"`    // SAML types: upstream IdP entityID
	MetadataURL string `json:"metadataUrl,omitempty"` // SAML types
	// Metadata is an uploaded SAML metadata document.
	Metadata string `json:"metadata,omitempty"`
	// Issuer, ClientID and ClientSecret configure an upstream OIDC provider;
	// ClientSecret is sealed at rest and never shown in clear.
	Issuer       string `json:"issuer,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// SharedSecret is the Wilma or Opinsys shared secret, sealed at rest.
	SharedSecret string `json:"sharedSecret,omitempty"`

	// Expiry information from the current metadata, for warnings.
	MetadataValidUntil              *time.Time `json:"metadataValidUntil,omitempty"`
	SigningCertificateValidUntil    *time.Time `json:"signingCertificateValidUntil,omitempty"`
	EncryptionCertificateValidUntil *time.Time `json:"encryptionCertificateValidUntil,omitempty"`

	Discovery DiscoveryInformation `json:"discoveryInformation"`

	// Permissions are the ids of the service sets whose services this source
	// may log users in to. Empty allows every set.
	Permissions []int64 `json:"permissions,omitempty"`
}

// SecretContext is the associated data an IdP integration's secret (field
// "sharedSecret" or "clientSecret") is sealed with: bound to the source's
// technical id and the field, so that a sealed value copied to another
// integration or field does not open. OIDC client secrets of services are
// sealed with their client_id.
func (p *IdP) SecretContext(field string) string { return "idp:" + p.IdPID + ":" + field }

// Allows reports whether the IdP permits logins to services of the given set.
func (p *IdP) Allows(setID int64) bool {
	if len(p.Permissions) == 0 {
		return true
	}
	for _, id := range p.Permissions {
		if id == setID {
			return true
		}
	}
	return false
}

// DiscoveryInformation decides how a source is shown on the school-selection
// page.
type DiscoveryInformation struct {
	// CustomDisplayName is shown when schools are not listed individually.
	CustomDisplayName string `json:"customDisplayName,omitempty"`
	ShowSchools       bool   `json:"showSchools"`
	// Schools and ExcludedSchools are school codes this source covers or
	// leaves out; one provider may split its schools across sources.
	Schools         []string `json:"schools,omitempty"`
	ExcludedSchools []string `json:"excludedSchools,omitempty"`
	// Title is shown after the school name, e.g. "Kormun koulu (Wilma)".
	Title                  string `json:"title,omitempty"`
	EarlyEducationProvider bool   `json:"earlyEducationProvider,omitempty"`
}

// SPType is the protocol a service speaks to the broker.
type SPType string

const (
	SPTypeSAML SPType = "saml"
	SPTypeOIDC SPType = "oidc"
)

// SP is a service (a relying party) integration. Every service belongs to
// exactly one set.
type SP struct {
	Type SPType `json:"type"`
	Name string `json:"name"`
	// SetID is the service set ("palvelu") this service belongs to.
	SetID int64         `json:"setId"`
	SAML  *SAMLMetadata `json:"saml,omitempty"`
	OIDC  *OIDCMetadata `json:"oidc,omitempty"`
	// LegacyAttributes adds the data model 1.3 attributes to what the
	// service receives.
	LegacyAttributes bool `json:"legacyAttributes,omitempty"`
}

// SAMLMetadata is what the broker knows of a SAML service.
type SAMLMetadata struct {
	EntityID string        `json:"entityId"`
	ACS      []ACSEndpoint `json:"assertionConsumerServiceUrls"`
	// SingleLogout lists the service's SLO endpoints.
	SingleLogout []Endpoint `json:"singleLogoutServices,omitempty"`
	// Certificates are base64 DER, as in metadata.
	SigningCertificates    []string `json:"signingCertificates"`
	EncryptionCertificates []string `json:"encryptionCertificates,omitempty"`
	AuthnRequestsSigned    bool     `json:"authnRequestsSigned"`
	WantAssertionsSigned   bool     `json:"wantAssertionsSigned"`
	// WantResponseSigned signs the Response as well as the Assertion.
	WantResponseSigned bool `json:"wantResponseSigned,omitempty"`
}

// Endpoint is a SAML protocol endpoint.
type Endpoint struct {
	Binding  string `json:"binding"`
	Location string `json:"location"`
}

// ACSEndpoint is an assertion consumer service of a SAML service.
type ACSEndpoint struct {
	Binding   string `json:"binding"`
	Location  string `json:"location"`
	Index     int    `json:"index"`
	IsDefault bool   `json:"isDefault"`
}

// OIDCMetadata is the client registration of an OIDC service. Field names
// follow OpenID Connect Dynamic Client Registration, as the national export
// does.
type OIDCMetadata struct {
	ClientID string `json:"client_id"`
	// ClientSecret is sealed at rest (see package keys); it is never exported
	// or shown in clear after creation.
	ClientSecret            string   `json:"client_secret,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	// JWKS or JWKSURI carry the client's keys for private_key_jwt.
	JWKS    string `json:"jwks,omitempty"`
	JWKSURI string `json:"jwks_uri,omitempty"`
	// IDTokenSignedResponseAlg is RS256 (default) or ES256.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// SubjectType is "public" or "pairwise" (sector = the service's set).
	SubjectType          string `json:"subject_type,omitempty"`
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
}

// Set is a service provider's group of services.
type Set struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	// AllowTestLearnerID lets the set's services receive test learner ids
	// (1.2.246.562.98.*).
	AllowTestLearnerID bool `json:"allowTestLearnerId"`
}
