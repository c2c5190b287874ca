package admin

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// validator collects field errors in the terms of the record's JSON.
type validator struct {
	errs []model.FieldError
	prod bool
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, model.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// url checks a URL: absolute http(s), no fragment; in production https
// only and not a loopback or localhost host.
func (v *validator) url(field, raw string, required bool) {
	if raw == "" {
		if required {
			v.add(field, "required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.add(field, "must be an absolute http(s) URL")
		return
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		v.add(field, "must not have a fragment")
	}
	if v.prod {
		if u.Scheme != "https" {
			v.add(field, "must use https in production")
		}
		if isLocalHost(u.Hostname()) {
			v.add(field, "must not point to localhost in production")
		}
	}
}

func isLocalHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	return false
}

// certificate checks a base64 DER certificate.
func (v *validator) certificate(field, b64 string) {
	clean := strings.Join(strings.Fields(b64), "")
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		v.add(field, "must be a base64 DER certificate")
		return
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		v.add(field, "is not a valid certificate: %v", err)
	}
}

var knownBindings = []string{
	"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
	"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
	"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
}

// validate checks an integration as it would be saved: the structural
// rules of model, the field rules of the management service, the registry
// and the other integrations.
func (a *API) validate(ctx context.Context, in *model.Integration) error {
	if err := in.Validate(); err != nil {
		return err
	}
	v := &validator{prod: in.DeploymentPhase == model.PhaseProduction}
	lk := a.lookup()
	if in.OrganisationOID == "" {
		v.add("organization.oid", "required")
	} else if _, ok := lk.ByOID(in.OrganisationOID); !ok {
		v.add("organization.oid", "unknown organisation %s", in.OrganisationOID)
	}
	switch {
	case in.IdP != nil:
		a.validateIdP(ctx, v, in)
	case in.SP != nil:
		a.validateSP(ctx, v, in)
	case in.Set != nil:
		if strings.TrimSpace(in.Set.Name) == "" {
			v.add("configurationEntity.set.name", "required")
		}
	}
	if len(v.errs) > 0 {
		return &validationError{v.errs}
	}
	return nil
}

// validationError carries every field error of one request.
type validationError struct{ fields []model.FieldError }

func (e *validationError) Error() string {
	var parts []string
	for _, f := range e.fields {
		parts = append(parts, f.Error())
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

func (a *API) validateIdP(ctx context.Context, v *validator, in *model.Integration) {
	p := in.IdP
	const f = "configurationEntity.idp."
	switch p.Type {
	case model.IdPWilma:
		if p.Hostname == "" {
			v.add(f+"hostname", "required for type wilma")
		}
	case model.IdPOpinsys:
		if p.TenantID == "" {
			v.add(f+"tenantId", "required for type opinsys")
		}
	case model.IdPAzure:
		if p.TenantID == "" && p.MetadataURL == "" && p.Metadata == "" {
			v.add(f+"tenantId", "required for type azure unless metadata is given")
		}
	case model.IdPADFS, model.IdPGSuite, model.IdPSAML:
		if p.EntityID == "" {
			v.add(f+"entityId", "required for type %s", p.Type)
		}
		if p.MetadataURL == "" && p.Metadata == "" {
			v.add(f+"metadataUrl", "required for type %s unless metadata is uploaded", p.Type)
		}
	case model.IdPOIDC:
		v.url(f+"issuer", p.Issuer, true)
		if p.ClientID == "" {
			v.add(f+"clientId", "required for type oidc")
		}
	case model.IdPTest:
		if in.DeploymentPhase == model.PhaseProduction {
			v.add(f+"type", "the test source is not allowed in production")
		}
	}
	v.url(f+"metadataUrl", p.MetadataURL, false)
	v.url(f+"logoUrl", p.LogoURL, false)
	lk := a.lookup()
	d := p.Discovery
	for i, list := range [][]string{d.Schools, d.ExcludedSchools} {
		name := []string{"discoveryInformation.schools", "discoveryInformation.excludedSchools"}[i]
		for j, code := range list {
			o, ok := lk.BySchoolCode(code)
			switch {
			case !ok:
				v.add(fmt.Sprintf("%s[%d]", name, j), "unknown school code %s", code)
			case !o.IsActive():
				v.add(fmt.Sprintf("%s[%d]", name, j), "school %s is not active", code)
			}
		}
	}
	for _, code := range d.Schools {
		if slices.Contains(d.ExcludedSchools, code) {
			v.add("discoveryInformation.excludedSchools", "school %s is both included and excluded", code)
		}
	}
	for i, id := range p.Permissions {
		set, err := a.st.GetIntegration(ctx, id)
		if err != nil || set.Role != model.RoleSet {
			v.add(fmt.Sprintf("permissions[%d]", i), "no set %d", id)
		}
	}
	// The idpId is hashed into every user's uid: it must be unique.
	others, _, err := a.st.ListIntegrations(ctx, store.IntegrationFilter{Role: model.RoleIdP})
	if err == nil {
		for _, o := range others {
			if o.ID != in.ID && o.IdP != nil && o.IdP.IdPID == p.IdPID {
				v.add(f+"idpId", "%q is already used by integration %d", p.IdPID, o.ID)
			}
		}
	}
}

func (a *API) validateSP(ctx context.Context, v *validator, in *model.Integration) {
	s := in.SP
	const f = "configurationEntity.sp."
	if strings.TrimSpace(s.Name) == "" {
		v.add(f+"name", "required")
	}
	if s.SetID == 0 {
		v.add("integrationGroups", "a service belongs to a set")
	} else if set, err := a.st.GetIntegration(ctx, s.SetID); err != nil || set.Role != model.RoleSet {
		v.add("integrationGroups[0].id", "no set %d", s.SetID)
	}
	if m := s.SAML; m != nil {
		const mf = f + "metadata."
		if len(m.ACS) == 0 {
			v.add(mf+"assertionConsumerServiceUrls", "at least one is required")
		}
		for i, acs := range m.ACS {
			v.url(fmt.Sprintf("%sassertionConsumerServiceUrls[%d].location", mf, i), acs.Location, true)
			if !slices.Contains(knownBindings, acs.Binding) {
				v.add(fmt.Sprintf("%sassertionConsumerServiceUrls[%d].bindings", mf, i), "unknown binding %q", acs.Binding)
			}
		}
		for i, slo := range m.SingleLogout {
			v.url(fmt.Sprintf("%ssingleLogoutServices[%d].location", mf, i), slo.Location, true)
		}
		if len(m.SigningCertificates) == 0 {
			v.add(mf+"signingCertificates", "at least one is required")
		}
		for i, c := range m.SigningCertificates {
			v.certificate(fmt.Sprintf("%ssigningCertificates[%d]", mf, i), c)
		}
		for i, c := range m.EncryptionCertificates {
			v.certificate(fmt.Sprintf("%sencryptionCertificates[%d]", mf, i), c)
		}
	}
	if m := s.OIDC; m != nil {
		const mf = f + "metadata."
		if len(m.RedirectURIs) == 0 {
			v.add(mf+"redirect_uris", "at least one is required")
		}
		for i, u := range m.RedirectURIs {
			v.url(fmt.Sprintf("%sredirect_uris[%d]", mf, i), u, true)
		}
		for i, u := range m.PostLogoutRedirectURIs {
			v.url(fmt.Sprintf("%spost_logout_redirect_uris[%d]", mf, i), u, true)
		}
		v.url(mf+"jwks_uri", m.JWKSURI, false)
		v.url(mf+"backchannel_logout_uri", m.BackchannelLogoutURI, false)
		for i, g := range m.GrantTypes {
			if g != "authorization_code" && g != "refresh_token" {
				v.add(fmt.Sprintf("%sgrant_types[%d]", mf, i), "unsupported grant type %q", g)
			}
		}
		for i, rt := range m.ResponseTypes {
			if rt != "code" {
				v.add(fmt.Sprintf("%sresponse_types[%d]", mf, i), "unsupported response type %q", rt)
			}
		}
		switch m.TokenEndpointAuthMethod {
		case "", "client_secret_basic", "client_secret_post", "private_key_jwt", "none":
		default:
			v.add(mf+"token_endpoint_auth_method", "unsupported method %q", m.TokenEndpointAuthMethod)
		}
		switch m.SubjectType {
		case "", "public", "pairwise":
		default:
			v.add(mf+"subject_type", "must be public or pairwise")
		}
	}
}
