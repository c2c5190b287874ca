package exchange

import (
	"slices"
	"strings"

	"github.com/mpassid/mpassid/internal/model"
)

const bindingPrefix = "urn:oasis:names:tc:SAML:2.0:bindings:"

// shortBinding turns a binding URN into the national short name (HTTP-POST).
func shortBinding(urn string) string { return strings.TrimPrefix(urn, bindingPrefix) }

// longBinding turns a short name into the binding URN; a URN stays as it is.
func longBinding(s string) string {
	if s == "" || strings.HasPrefix(s, "urn:") {
		return s
	}
	return bindingPrefix + s
}

// IsSecretAttribute reports whether a data attribute holds a secret, whose
// content is never written out in clear.
func IsSecretAttribute(name string) bool {
	switch strings.ToLower(name) {
	case "clientkey", "clientsecret", "client_secret", "sharedsecret", "secret", "password":
		return true
	}
	return false
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return Mask
}

// Options tune FromModel.
type Options struct {
	// Export writes what the national export carries: no version, status,
	// timestamps or expiry dates, and an IdP's permissions as
	// allowedServiceProviders (through ServicesOfSet).
	Export bool
	// ServicesOfSet lists the services of a set, for Export.
	ServicesOfSet func(setID int64) []*model.Integration
	// Organisation names an organisation (nil: the OID only).
	Organisation func(oid string) (*model.Organisation, bool)
}

// FromModel writes an integration as a record. Secrets are always masked.
func FromModel(in *model.Integration, o Options) *Record {
	r := &Record{
		ID:              in.ID,
		DeploymentPhase: int(in.DeploymentPhase),
	}
	if !o.Export {
		r.Version = in.Version
		r.Status = string(in.Status)
		r.AcceptanceDate = in.AcceptanceDate
		r.DeploymentDate = in.DeploymentDate
		r.ServiceContactAddress = in.ServiceContactAddress
		if !in.CreatedAt.IsZero() {
			c, u := in.CreatedAt, in.UpdatedAt
			r.CreatedAt, r.LastUpdatedOn = &c, &u
		}
		r.UpdatedBy = in.UpdatedBy
	}
	if in.OrganisationOID != "" {
		r.Organization = &Organization{OID: in.OrganisationOID}
		if o.Organisation != nil {
			if org, ok := o.Organisation(in.OrganisationOID); ok {
				name := org.Name
				r.Organization.Name = &name
				r.Organization.Ytunnus = org.BusinessID
			}
		}
	}
	r.ConfigurationEntity.Attributes = make([]Attribute, 0, len(in.Attributes))
	for _, a := range in.Attributes {
		c := a.Content
		if a.Type == model.AttributeData && IsSecretAttribute(a.Name) && c != "" {
			c = AttributeMask
		}
		r.ConfigurationEntity.Attributes = append(r.ConfigurationEntity.Attributes, Attribute{Name: a.Name, Content: c, Type: string(a.Type)})
	}
	switch {
	case in.IdP != nil:
		p := in.IdP
		e := &IdPEntity{
			Type: string(p.Type), IdPID: p.IdPID, FlowName: p.FlowName, LogoURL: p.LogoURL,
			InstitutionTypes: slices.Clone(p.InstitutionTypes),
			Hostname:         p.Hostname, TenantID: p.TenantID, EntityID: p.EntityID, MetadataURL: p.MetadataURL,
			Issuer: p.Issuer, ClientID: p.ClientID,
			ClientSecret: mask(p.ClientSecret), SharedSecret: mask(p.SharedSecret),
		}
		if !o.Export {
			e.MetadataValidUntil = p.MetadataValidUntil
			e.SigningCertificateValidUntil = p.SigningCertificateValidUntil
			e.EncryptionCertificateValidUntil = p.EncryptionCertificateValidUntil
			r.Permissions = slices.Clone(p.Permissions)
		} else if len(p.Permissions) > 0 && o.ServicesOfSet != nil {
			for _, setID := range p.Permissions {
				for _, svc := range o.ServicesOfSet(setID) {
					switch {
					case svc.EntityID() != "":
						e.AllowedServiceProviders = append(e.AllowedServiceProviders, AllowedService{Type: "saml", EntityID: svc.EntityID()})
					case svc.ClientID() != "":
						e.AllowedServiceProviders = append(e.AllowedServiceProviders, AllowedService{Type: "oidc", ClientID: svc.ClientID()})
					}
				}
			}
		}
		r.ConfigurationEntity.IdP = e
		d := p.Discovery
		r.DiscoveryInformation = &DiscoveryInformation{
			CustomDisplayName: d.CustomDisplayName, ShowSchools: FlexBool(d.ShowSchools),
			Schools: nonNil(d.Schools), ExcludedSchools: nonNil(d.ExcludedSchools),
			Title: d.Title, EarlyEducationProvider: d.EarlyEducationProvider,
		}
	case in.SP != nil:
		s := in.SP
		e := &SPEntity{Type: string(s.Type), Name: s.Name, LegacyAttributes: s.LegacyAttributes}
		if m := s.SAML; m != nil {
			ars, was := m.AuthnRequestsSigned, m.WantAssertionsSigned
			e.Metadata.EntityID = m.EntityID
			e.Metadata.AuthnRequestsSigned, e.Metadata.WantAssertionsSigned = &ars, &was
			e.Metadata.WantResponseSigned = m.WantResponseSigned
			e.Metadata.SigningCertificates = slices.Clone(m.SigningCertificates)
			e.Metadata.EncryptionCertificates = slices.Clone(m.EncryptionCertificates)
			for _, a := range m.ACS {
				e.Metadata.ACS = append(e.Metadata.ACS, ACS{Bindings: shortBinding(a.Binding), Location: a.Location, Index: a.Index, IsDefault: a.IsDefault})
			}
			for _, a := range m.SingleLogout {
				e.Metadata.SingleLogout = append(e.Metadata.SingleLogout, Endpoint{Bindings: shortBinding(a.Binding), Location: a.Location})
			}
		}
		if m := s.OIDC; m != nil {
			md := &e.Metadata
			md.ClientID, md.ClientSecret = m.ClientID, mask(m.ClientSecret)
			md.RedirectURIs = slices.Clone(m.RedirectURIs)
			md.PostLogoutRedirectURIs = slices.Clone(m.PostLogoutRedirectURIs)
			md.GrantTypes, md.ResponseTypes = slices.Clone(m.GrantTypes), slices.Clone(m.ResponseTypes)
			md.Scope, md.TokenEndpointAuthMethod = m.Scope, m.TokenEndpointAuthMethod
			md.JWKS, md.JWKSURI = m.JWKS, m.JWKSURI
			md.IDTokenSignedResponseAlg, md.SubjectType = m.IDTokenSignedResponseAlg, m.SubjectType
			md.BackchannelLogoutURI = m.BackchannelLogoutURI
		}
		r.ConfigurationEntity.SP = e
		if s.SetID != 0 {
			r.IntegrationGroups = []GroupRef{{ID: FlexInt(s.SetID)}}
		}
	case in.Set != nil:
		r.ConfigurationEntity.Set = &SetEntity{Name: in.Set.Name, Type: in.Set.Type}
		if _, ok := in.Attribute(model.AttributeData, "allowtestlearnerid"); !ok && in.Set.AllowTestLearnerID {
			r.ConfigurationEntity.Attributes = append(r.ConfigurationEntity.Attributes,
				Attribute{Name: "allowtestlearnerid", Content: "true", Type: string(model.AttributeData)})
		}
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// ResolveService finds the set of a service an IdP allows, for ToModel.
type ResolveService func(a AllowedService) (setID int64, ok bool)

// ToModel reads a record into an integration. Secrets are copied as given
// (Mask included); the caller seals or keeps them. When the record has
// allowedServiceProviders and no permissions, resolve (if not nil) turns
// them into set permissions; unresolved ones are returned, for a warning.
// Structural errors are *model.FieldError.
func ToModel(r *Record, resolve ResolveService) (*model.Integration, []AllowedService, error) {
	in := &model.Integration{
		ID:                    r.ID,
		DeploymentPhase:       model.DeploymentPhase(r.DeploymentPhase),
		Status:                model.Status(r.Status),
		AcceptanceDate:        r.AcceptanceDate,
		DeploymentDate:        r.DeploymentDate,
		ServiceContactAddress: r.ServiceContactAddress,
		Version:               r.Version,
	}
	if in.Status == "" {
		in.Status = model.StatusActive
	}
	if r.Organization != nil {
		in.OrganisationOID = r.Organization.OID
	}
	for i, a := range r.ConfigurationEntity.Attributes {
		t := model.AttributeType(a.Type)
		if t != model.AttributeData && t != model.AttributeUser {
			return nil, nil, &model.FieldError{Field: fieldf("configurationEntity.attributes[%d].type", i), Message: "must be data or user"}
		}
		in.Attributes = append(in.Attributes, model.Attribute{Name: a.Name, Content: a.Content, Type: t})
	}
	ce := r.ConfigurationEntity
	n := 0
	for _, set := range []bool{ce.IdP != nil, ce.SP != nil, ce.Set != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, nil, &model.FieldError{Field: "configurationEntity", Message: "exactly one of idp, sp and set must be given"}
	}
	var unresolved []AllowedService
	switch {
	case ce.IdP != nil:
		e := ce.IdP
		in.Role = model.RoleIdP
		p := &model.IdP{
			Type: model.IdPType(e.Type), IdPID: e.IdPID, FlowName: e.FlowName, LogoURL: e.LogoURL,
			InstitutionTypes: slices.Clone(e.InstitutionTypes),
			Hostname:         e.Hostname, TenantID: e.TenantID, EntityID: e.EntityID, MetadataURL: e.MetadataURL,
			Issuer: e.Issuer, ClientID: e.ClientID, ClientSecret: e.ClientSecret, SharedSecret: e.SharedSecret,
			MetadataValidUntil:              e.MetadataValidUntil,
			SigningCertificateValidUntil:    e.SigningCertificateValidUntil,
			EncryptionCertificateValidUntil: e.EncryptionCertificateValidUntil,
			Permissions:                     slices.Clone(r.Permissions),
		}
		if d := r.DiscoveryInformation; d != nil {
			p.Discovery = model.DiscoveryInformation{
				CustomDisplayName: d.CustomDisplayName, ShowSchools: bool(d.ShowSchools),
				Schools: emptyNil(d.Schools), ExcludedSchools: emptyNil(d.ExcludedSchools),
				Title: d.Title, EarlyEducationProvider: d.EarlyEducationProvider,
			}
		}
		if len(p.Permissions) == 0 && len(e.AllowedServiceProviders) > 0 {
			seen := map[int64]bool{}
			for _, a := range e.AllowedServiceProviders {
				id, ok := int64(0), false
				if resolve != nil {
					id, ok = resolve(a)
				}
				if !ok {
					unresolved = append(unresolved, a)
					continue
				}
				if !seen[id] {
					seen[id] = true
					p.Permissions = append(p.Permissions, id)
				}
			}
			slices.Sort(p.Permissions)
		}
		in.IdP = p
	case ce.SP != nil:
		e := ce.SP
		in.Role = model.RoleSP
		s := &model.SP{Type: model.SPType(e.Type), Name: e.Name, LegacyAttributes: e.LegacyAttributes}
		switch len(r.IntegrationGroups) {
		case 0:
		case 1:
			s.SetID = int64(r.IntegrationGroups[0].ID)
		default:
			return nil, nil, &model.FieldError{Field: "integrationGroups", Message: "a service belongs to exactly one set"}
		}
		md := e.Metadata
		switch s.Type {
		case model.SPTypeSAML:
			m := &model.SAMLMetadata{
				EntityID:               md.EntityID,
				AuthnRequestsSigned:    md.AuthnRequestsSigned != nil && *md.AuthnRequestsSigned,
				WantAssertionsSigned:   md.WantAssertionsSigned != nil && *md.WantAssertionsSigned,
				WantResponseSigned:     md.WantResponseSigned,
				SigningCertificates:    emptyNil(md.SigningCertificates),
				EncryptionCertificates: emptyNil(md.EncryptionCertificates),
			}
			for _, a := range md.ACS {
				m.ACS = append(m.ACS, model.ACSEndpoint{Binding: longBinding(a.Bindings), Location: a.Location, Index: a.Index, IsDefault: a.IsDefault})
			}
			for _, a := range md.SingleLogout {
				m.SingleLogout = append(m.SingleLogout, model.Endpoint{Binding: longBinding(a.Bindings), Location: a.Location})
			}
			s.SAML = m
		case model.SPTypeOIDC:
			s.OIDC = &model.OIDCMetadata{
				ClientID: md.ClientID, ClientSecret: md.ClientSecret,
				RedirectURIs:             emptyNil(md.RedirectURIs),
				PostLogoutRedirectURIs:   emptyNil(md.PostLogoutRedirectURIs),
				GrantTypes:               emptyNil(md.GrantTypes),
				ResponseTypes:            emptyNil(md.ResponseTypes),
				Scope:                    md.Scope,
				TokenEndpointAuthMethod:  md.TokenEndpointAuthMethod,
				JWKS:                     md.JWKS,
				JWKSURI:                  md.JWKSURI,
				IDTokenSignedResponseAlg: md.IDTokenSignedResponseAlg,
				SubjectType:              md.SubjectType,
				BackchannelLogoutURI:     md.BackchannelLogoutURI,
			}
		}
		in.SP = s
	case ce.Set != nil:
		in.Role = model.RoleSet
		in.Set = &model.Set{Name: ce.Set.Name, Type: ce.Set.Type}
		if v, ok := in.Attribute(model.AttributeData, "allowtestlearnerid"); ok {
			in.Set.AllowTestLearnerID = strings.EqualFold(v, "true")
		}
	}
	return in, unresolved, nil
}

func emptyNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
