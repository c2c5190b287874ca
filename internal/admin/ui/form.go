package ui

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/model"
)

// Form field names are the API's field paths without indices
// (configurationEntity.sp.metadata.redirect_uris), so that a field error of
// the API lands next to the input it concerns.
const (
	fPhase   = "deploymentPhase"
	fContact = "serviceContactAddress"

	fIdP       = "configurationEntity.idp."
	fIdPID     = fIdP + "idpId"
	fFlowName  = fIdP + "flowName"
	fLogoURL   = fIdP + "logoUrl"
	fInstTypes = fIdP + "institutionTypes"

	fDisc        = "discoveryInformation."
	fDisplayName = fDisc + "customDisplayName"
	fShowSchools = fDisc + "showSchools"
	fSchools     = fDisc + "schools"
	fExcluded    = fDisc + "excludedSchools"
	fTitle       = fDisc + "title"
	fEarly       = fDisc + "earlyEducationProvider"

	fSP         = "configurationEntity.sp."
	fSPName     = fSP + "name"
	fSet        = "integrationGroups"
	fLegacy     = fSP + "legacyAttributes"
	fMD         = fSP + "metadata."
	fEntityID   = fMD + "entityId"
	fACS        = fMD + "assertionConsumerServiceUrls"
	fACSLoc     = fACS + ".location"
	fACSBinding = fACS + ".bindings"
	fACSDefault = fACS + ".isDefault"
	fSigning    = fMD + "signingCertificates"
	fEncryption = fMD + "encryptionCertificates"
	fAuthnSig   = fMD + "authnRequestsSigned"
	fWantAssert = fMD + "wantAssertionsSigned"
	fWantResp   = fMD + "wantResponseSigned"
	fRedirects  = fMD + "redirect_uris"
	fPostLogout = fMD + "post_logout_redirect_uris"
	fScope      = fMD + "scope"
	fAuthMethod = fMD + "token_endpoint_auth_method"
	fSubject    = fMD + "subject_type"
	fJWKSURI    = fMD + "jwks_uri"
	fBackchan   = fMD + "backchannel_logout_uri"
	fGrants     = fMD + "grant_types"
	fIDTokenAlg = fMD + "id_token_signed_response_alg"

	fSetName    = "configurationEntity.set.name"
	fSetTestIDs = "configurationEntity.set.allowTestLearnerId"

	fAttr        = "configurationEntity.attributes"
	fAttrType    = fAttr + ".type"
	fAttrName    = fAttr + ".name"
	fAttrContent = fAttr + ".content"
)

// idpTypeFields are the type fields each identity-provider type shows, by
// the field's name after "configurationEntity.idp.".
var idpTypeFields = map[model.IdPType][]string{
	model.IdPWilma:   {"hostname", "sharedSecret"},
	model.IdPOpinsys: {"tenantId", "sharedSecret"},
	model.IdPAzure:   {"tenantId", "entityId", "metadataUrl"},
	model.IdPADFS:    {"entityId", "metadataUrl"},
	model.IdPGSuite:  {"entityId", "metadataUrl"},
	model.IdPSAML:    {"entityId", "metadataUrl"},
	model.IdPOIDC:    {"issuer", "clientId", "clientSecret"},
	model.IdPTest:    {},
}

// bindings are the SAML bindings an ACS may use.
var bindings = []string{
	"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
	"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
	"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
}

// fieldError is one error of a form, in the page's language.
type fieldError struct {
	Field   string // the form field name (the API path without indices)
	Message string
}

// indexRe finds the indices of a field path.
var indexRe = regexp.MustCompile(`\[(\d+)\]`)

// formErrors turns the API's field errors into form errors: the path
// without indices names the field; an index becomes "row n".
func formErrors(lang string, fes []model.FieldError) []fieldError {
	var out []fieldError
	for _, fe := range fes {
		field := indexRe.ReplaceAllString(fe.Field, "")
		if strings.HasPrefix(field, fSet) {
			field = fSet
		}
		switch {
		case strings.HasPrefix(field, fACS):
			field = fACS
		case strings.HasPrefix(field, fAttr):
			field = fAttr
		}
		msg := translateMessage(lang, fe.Message)
		if m := indexRe.FindStringSubmatch(fe.Field); m != nil {
			n, _ := strconv.Atoi(m[1])
			row, _ := translate(lang, "form.row")
			msg = fmt.Sprintf("%s %d: %s", row, n+1, msg)
		}
		// One entry per field: messages of the same field are joined.
		if i := slices.IndexFunc(out, func(e fieldError) bool { return e.Field == field }); i >= 0 {
			out[i].Message += "; " + msg
			continue
		}
		out = append(out, fieldError{Field: field, Message: msg})
	}
	return out
}

// applyForm writes the posted form over in, for in's role and type: what
// the form does not show is kept. Secrets left empty keep the stored ones.
// It returns the errors of values that cannot even be read.
func applyForm(in *model.Integration, v url.Values, creating bool) []model.FieldError {
	var errs []model.FieldError
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	on := func(name string) bool { return v.Get(name) != "" }
	if s := get(fPhase); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !model.DeploymentPhase(n).Valid() {
			errs = append(errs, model.FieldError{Field: fPhase, Message: "must be 0 (test), 1 (production) or 2 (pre-production)"})
		} else {
			in.DeploymentPhase = model.DeploymentPhase(n)
		}
	}
	in.ServiceContactAddress = get(fContact)
	switch {
	case in.IdP != nil:
		p := in.IdP
		// The stored secrets are sealed: the update keeps them for "".
		p.SharedSecret, p.ClientSecret = "", ""
		if creating {
			p.IdPID = get(fIdPID)
		}
		p.FlowName = get(fFlowName)
		p.LogoURL = get(fLogoURL)
		for _, f := range idpTypeFields[p.Type] {
			val := get(fIdP + f)
			switch f {
			case "hostname":
				p.Hostname = val
			case "tenantId":
				p.TenantID = val
			case "entityId":
				p.EntityID = val
			case "metadataUrl":
				p.MetadataURL = val
			case "issuer":
				p.Issuer = val
			case "clientId":
				p.ClientID = val
			case "clientSecret":
				p.ClientSecret = val // "" keeps the stored one
			case "sharedSecret":
				p.SharedSecret = val
			}
		}
		p.InstitutionTypes = nil
		for _, s := range v[fInstTypes] {
			n, err := strconv.Atoi(s)
			if err != nil {
				errs = append(errs, model.FieldError{Field: fInstTypes, Message: "must be institution type codes"})
				continue
			}
			p.InstitutionTypes = append(p.InstitutionTypes, n)
		}
		d := &p.Discovery
		d.CustomDisplayName = get(fDisplayName)
		d.ShowSchools = on(fShowSchools)
		d.Title = get(fTitle)
		d.EarlyEducationProvider = on(fEarly)
		d.Schools = cleanList(v[fSchools])
		d.ExcludedSchools = cleanList(v[fExcluded])
	case in.SP != nil:
		s := in.SP
		s.Name = get(fSPName)
		s.LegacyAttributes = on(fLegacy)
		if set := get(fSet); set != "" {
			n, err := strconv.ParseInt(set, 10, 64)
			if err != nil {
				errs = append(errs, model.FieldError{Field: fSet, Message: "a service belongs to a set"})
			}
			s.SetID = n
		} else {
			s.SetID = 0
		}
		if m := s.SAML; m != nil {
			m.EntityID = get(fEntityID)
			m.ACS = nil
			locs, binds := v[fACSLoc], v[fACSBinding]
			def := get(fACSDefault)
			for i, loc := range locs {
				loc = strings.TrimSpace(loc)
				if loc == "" {
					continue
				}
				b := bindings[0]
				if i < len(binds) && binds[i] != "" {
					b = binds[i]
				}
				m.ACS = append(m.ACS, model.ACSEndpoint{Binding: b, Location: loc, Index: len(m.ACS), IsDefault: def == strconv.Itoa(i)})
			}
			if len(m.ACS) > 0 && !slices.ContainsFunc(m.ACS, func(a model.ACSEndpoint) bool { return a.IsDefault }) {
				m.ACS[0].IsDefault = true
			}
			var err error
			if m.SigningCertificates, err = parseCertificates(v.Get(fSigning)); err != nil {
				errs = append(errs, model.FieldError{Field: fSigning, Message: err.Error()})
			}
			if m.EncryptionCertificates, err = parseCertificates(v.Get(fEncryption)); err != nil {
				errs = append(errs, model.FieldError{Field: fEncryption, Message: err.Error()})
			}
			m.AuthnRequestsSigned = on(fAuthnSig)
			m.WantAssertionsSigned = on(fWantAssert)
			m.WantResponseSigned = on(fWantResp)
		}
		if m := s.OIDC; m != nil {
			m.RedirectURIs = lines(v.Get(fRedirects))
			m.PostLogoutRedirectURIs = lines(v.Get(fPostLogout))
			m.Scope = get(fScope)
			m.TokenEndpointAuthMethod = get(fAuthMethod)
			m.SubjectType = get(fSubject)
			m.JWKSURI = get(fJWKSURI)
			m.BackchannelLogoutURI = get(fBackchan)
			m.IDTokenSignedResponseAlg = get(fIDTokenAlg)
			m.GrantTypes = cleanList(v[fGrants])
			if !creating {
				m.ClientSecret = "" // kept by the update
			}
		}
	case in.Set != nil:
		in.Set.Name = get(fSetName)
		in.Set.AllowTestLearnerID = on(fSetTestIDs)
	}
	in.Attributes = applyAttributes(in.Attributes, v)
	return errs
}

// applyAttributes reads the attribute rows; a secret data attribute left
// empty keeps its stored content.
func applyAttributes(old []model.Attribute, v url.Values) []model.Attribute {
	types, names, contents := v[fAttrType], v[fAttrName], v[fAttrContent]
	var out []model.Attribute
	for i, name := range names {
		name = strings.TrimSpace(name)
		if name == "" || i >= len(types) || i >= len(contents) {
			continue
		}
		a := model.Attribute{Name: name, Type: model.AttributeType(types[i]), Content: strings.TrimSpace(contents[i])}
		if a.Type != model.AttributeUser {
			a.Type = model.AttributeData
		}
		if a.Type == model.AttributeData && exchange.IsSecretAttribute(a.Name) && a.Content == "" {
			for _, o := range old {
				if o.Type == a.Type && o.Name == a.Name {
					a.Content = o.Content
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// attributeRows are the rows of the attribute table: the stored ones
// (secrets blanked) and two empty ones to add.
func attributeRows(in []model.Attribute) []model.Attribute {
	out := make([]model.Attribute, 0, len(in)+2)
	for _, a := range in {
		if a.Type == model.AttributeData && exchange.IsSecretAttribute(a.Name) {
			a.Content = ""
		}
		out = append(out, a)
	}
	return append(out, model.Attribute{Type: model.AttributeUser}, model.Attribute{Type: model.AttributeUser})
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func lines(s string) []string { return cleanList(strings.Split(s, "\n")) }

// parseCertificates reads certificates pasted as PEM blocks or as base64
// DER separated by empty lines, into base64 DER (the shape the API keeps).
// Whether each is a valid certificate is the API's validation.
func parseCertificates(s string) ([]string, error) {
	s = strings.ReplaceAll(s, "\r", "")
	var out []string
	if strings.Contains(s, "-----BEGIN") {
		rest := []byte(s)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			out = append(out, base64.StdEncoding.EncodeToString(b.Bytes))
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("must be PEM certificates or base64 DER")
		}
		return out, nil
	}
	for _, block := range strings.Split(s, "\n\n") {
		if c := strings.Join(strings.Fields(block), ""); c != "" {
			out = append(out, c)
		}
	}
	return out, nil
}

// certificatesText writes certificates as PEM for the form.
func certificatesText(certs []string) string {
	var b strings.Builder
	for _, c := range certs {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
		if err != nil {
			b.WriteString(c + "\n\n")
			continue
		}
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	return b.String()
}
