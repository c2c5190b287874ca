// Package exchange converts integrations between model.Integration and the
// JSON shape of the national management service (a record with a
// "configurationEntity" holding "idp", "sp" or "set" and "attributes"), and
// imports and exports files in that shape.
//
// The national shape is what the national proxy reads from the provisioning
// interface and what the national service exports; speaking it lets a
// country move its integrations over and lets our management service feed
// the existing proxy. The shapes differ from model's own JSON (ACS bindings
// by short name, a service's set as "integrationGroups", an IdP's allowed
// services by entityId/client_id, "showSchools" as a string), so the
// conversions here are explicit.
package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// Mask replaces a secret field in every record this package writes.
const Mask = "********"

// AttributeMask replaces the content of a secret attribute (clientKey), as
// the national export does.
const AttributeMask = "***"

// Record is one integration in the national shape. The API uses every
// field; an export (Options.Export) leaves out what the national export does
// not carry.
type Record struct {
	ID                    int64                 `json:"id"`
	Version               int64                 `json:"version,omitempty"`
	Status                string                `json:"status,omitempty"`
	DeploymentPhase       int                   `json:"deploymentPhase"`
	AcceptanceDate        *time.Time            `json:"acceptanceDate,omitempty"`
	DeploymentDate        *time.Time            `json:"deploymentDate,omitempty"`
	ServiceContactAddress string                `json:"serviceContactAddress,omitempty"`
	CreatedAt             *time.Time            `json:"createdAt,omitempty"`
	LastUpdatedOn         *time.Time            `json:"lastUpdatedOn,omitempty"`
	UpdatedBy             string                `json:"updatedBy,omitempty"`
	ConfigurationEntity   ConfigurationEntity   `json:"configurationEntity"`
	DiscoveryInformation  *DiscoveryInformation `json:"discoveryInformation,omitempty"`
	Organization          *Organization         `json:"organization,omitempty"`
	// IntegrationGroups names a service's set.
	IntegrationGroups []GroupRef `json:"integrationGroups,omitempty"`
	// Permissions are the set ids an IdP allows (empty: all); the API's
	// form of allowedServiceProviders.
	Permissions []int64 `json:"permissions,omitempty"`
}

// ConfigurationEntity holds exactly one of IdP, SP and Set, and the
// attributes.
type ConfigurationEntity struct {
	IdP        *IdPEntity  `json:"idp,omitempty"`
	SP         *SPEntity   `json:"sp,omitempty"`
	Set        *SetEntity  `json:"set,omitempty"`
	Attributes []Attribute `json:"attributes"`
}

// Attribute is a data or user attribute.
type Attribute struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	Type    string `json:"type"`
}

// IdPEntity is the "idp" of an identity-provider integration.
type IdPEntity struct {
	Type             string `json:"type"`
	IdPID            string `json:"idpId"`
	FlowName         string `json:"flowName,omitempty"`
	LogoURL          string `json:"logoUrl,omitempty"`
	InstitutionTypes []int  `json:"institutionTypes,omitempty"`
	Hostname         string `json:"hostname,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	EntityID         string `json:"entityId,omitempty"`
	MetadataURL      string `json:"metadataUrl,omitempty"`
	Issuer           string `json:"issuer,omitempty"`
	ClientID         string `json:"clientId,omitempty"`
	// ClientSecret and SharedSecret are masked on the way out; on the way
	// in, Mask or "" keeps the stored secret.
	ClientSecret                    string     `json:"clientSecret,omitempty"`
	SharedSecret                    string     `json:"sharedSecret,omitempty"`
	MetadataValidUntil              *time.Time `json:"metadataValidUntil,omitempty"`
	SigningCertificateValidUntil    *time.Time `json:"signingCertificateValidUntil,omitempty"`
	EncryptionCertificateValidUntil *time.Time `json:"encryptionCertificateValidUntil,omitempty"`
	// AllowedServiceProviders is the export's form of the permissions.
	AllowedServiceProviders []AllowedService `json:"allowedServiceProviders,omitempty"`
}

// AllowedService names a service an IdP allows.
type AllowedService struct {
	Type     string `json:"type"`
	EntityID string `json:"entityId,omitempty"`
	ClientID string `json:"clientId,omitempty"`
}

// SPEntity is the "sp" of a service integration.
type SPEntity struct {
	Type             string     `json:"type"`
	Name             string     `json:"name"`
	Metadata         SPMetadata `json:"metadata"`
	LegacyAttributes bool       `json:"legacyAttributes,omitempty"`
}

// SPMetadata is the SAML or the OIDC metadata of a service.
type SPMetadata struct {
	// SAML.
	EntityID               string     `json:"entityId,omitempty"`
	AuthnRequestsSigned    *bool      `json:"authnRequestsSigned,omitempty"`
	WantAssertionsSigned   *bool      `json:"wantAssertionsSigned,omitempty"`
	WantResponseSigned     bool       `json:"wantResponseSigned,omitempty"`
	SigningCertificates    []string   `json:"signingCertificates,omitempty"`
	EncryptionCertificates []string   `json:"encryptionCertificates,omitempty"`
	ACS                    []ACS      `json:"assertionConsumerServiceUrls,omitempty"`
	SingleLogout           []Endpoint `json:"singleLogoutServices,omitempty"`
	// OIDC.
	ClientID                 string   `json:"client_id,omitempty"`
	ClientSecret             string   `json:"client_secret,omitempty"`
	RedirectURIs             []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes               []string `json:"grant_types,omitempty"`
	ResponseTypes            []string `json:"response_types,omitempty"`
	Scope                    string   `json:"scope,omitempty"`
	TokenEndpointAuthMethod  string   `json:"token_endpoint_auth_method,omitempty"`
	JWKS                     string   `json:"jwks,omitempty"`
	JWKSURI                  string   `json:"jwks_uri,omitempty"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg,omitempty"`
	SubjectType              string   `json:"subject_type,omitempty"`
	BackchannelLogoutURI     string   `json:"backchannel_logout_uri,omitempty"`
}

// ACS is an assertion consumer service; the binding by short name
// (HTTP-POST) as the national shape has it.
type ACS struct {
	Bindings  string `json:"bindings"`
	Location  string `json:"location"`
	Index     int    `json:"index"`
	IsDefault bool   `json:"isDefault"`
}

// Endpoint is a SAML endpoint with its binding by short name.
type Endpoint struct {
	Bindings string `json:"bindings"`
	Location string `json:"location"`
}

// SetEntity is the "set" of a service set.
type SetEntity struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// DiscoveryInformation is an IdP's school-selection settings.
type DiscoveryInformation struct {
	CustomDisplayName      string   `json:"customDisplayName,omitempty"`
	ShowSchools            FlexBool `json:"showSchools"`
	Schools                []string `json:"schools"`
	ExcludedSchools        []string `json:"excludedSchools"`
	Title                  string   `json:"title,omitempty"`
	EarlyEducationProvider bool     `json:"earlyEducationProvider,omitempty"`
}

// Organization is the organisation an integration belongs to.
type Organization struct {
	OID     string               `json:"oid"`
	Name    *model.LocalizedName `json:"name,omitempty"`
	Ytunnus string               `json:"ytunnus,omitempty"`
}

// GroupRef refers to a set by id.
type GroupRef struct {
	ID FlexInt `json:"id"`
}

// FlexBool is a boolean that the national export sometimes writes as the
// string "true" or "false". It is written as a JSON boolean.
type FlexBool bool

// UnmarshalJSON accepts true, false, "true" and "false".
func (b *FlexBool) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	switch strings.ToLower(s) {
	case "true":
		*b = true
	case "false", "", "null":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", data)
	}
	return nil
}

// FlexInt is an id that the national export sometimes writes as a string.
type FlexInt int64

// UnmarshalJSON accepts a number or a string of digits.
func (n *FlexInt) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an id: %s", data)
	}
	*n = FlexInt(v)
	return nil
}

// Bundle is the content of one export file, or the answer of the
// provisioning interface: any of the lists may be present.
type Bundle struct {
	IdentityProviders []Record `json:"identityProviders,omitempty"`
	Services          []Record `json:"services,omitempty"`
	// ServiceProviders is the provisioning interface's name for services.
	ServiceProviders  []Record `json:"serviceProviders,omitempty"`
	IntegrationGroups []Record `json:"integrationGroups,omitempty"`
}

// DecodeRecord reads one record, refusing unknown fields and trailing data.
func DecodeRecord(data []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode integration: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode integration: trailing data")
	}
	return &r, nil
}

// DecodeBundle reads an export file. Unknown fields are tolerated: national
// files carry fields this service does not use.
func DecodeBundle(data []byte) (*Bundle, error) {
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decode export: %w", err)
	}
	return &b, nil
}
