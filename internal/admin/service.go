package admin

// This file exposes the API's operations as Go methods for the server-
// rendered management UI (package admin/ui), so that the UI shares the
// API's authorization (Allowed), validation (validate), secret handling
// (sealIdPSecrets, mergeUpdate) and store calls instead of repeating them.
// Each method does what the handler of the same operation does, without
// HTTP; the handlers in integrations.go and files.go could call these in
// turn (left as they are, so as not to rewrite them under other work).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/connector/saml"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// SearchQuery is a search of integrations, as the search endpoint reads it.
type SearchQuery struct {
	Filter store.IntegrationFilter
	// Page counts from 0; Size is 1 to 500 (default 20).
	Page, Size int
}

// Search returns the page of integrations p may view that match q, and
// the total number of matches. The filter's Sort is checked as the search
// endpoint checks it ("name", "-name", "name,desc").
func (a *API) Search(ctx context.Context, p *Principal, q SearchQuery) ([]*model.Integration, int, error) {
	f := q.Filter
	if f.Role != "" && !f.Role.Valid() {
		return nil, 0, badRequest("role must be idp, sp or set")
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, badRequest("status must be active or inactive")
	}
	if f.DeploymentPhase != nil && !f.DeploymentPhase.Valid() {
		return nil, 0, badRequest("deploymentPhase must be 0, 1 or 2")
	}
	if q.Size == 0 {
		q.Size = 20
	}
	if q.Page < 0 || q.Size < 1 || q.Size > 500 {
		return nil, 0, badRequest("page must be from 0 and size 1 to 500")
	}
	var err error
	if f.Sort, err = parseSort(f.Sort); err != nil {
		return nil, 0, err
	}
	if p == nil {
		return nil, 0, forbidden()
	}
	if p.seesAll() && Allowed(p, OpView, model.RoleIdP, "*") {
		f.Offset, f.Limit = q.Page*q.Size, q.Size
		list, total, err := a.st.ListIntegrations(ctx, f)
		if err != nil {
			return nil, 0, fmt.Errorf("search: %w", err)
		}
		return list, total, nil
	}
	if !p.seesAll() {
		f.OrganisationOIDs = p.organisations()
		if f.OrganisationOIDs == nil {
			f.OrganisationOIDs = []string{}
		}
	}
	f.Offset, f.Limit = 0, 0
	all, _, err := a.st.ListIntegrations(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	var list []*model.Integration
	for _, in := range all {
		if Allowed(p, OpView, in.Role, in.OrganisationOID) {
			list = append(list, in)
		}
	}
	total := len(list)
	return list[min(q.Page*q.Size, total):min(q.Page*q.Size+q.Size, total)], total, nil
}

// Integration returns integration id if p may do op on it; store.ErrNotFound
// also when p may not even view it, so that nothing outside p's view is
// revealed.
func (a *API) Integration(ctx context.Context, p *Principal, id int64, op Operation) (*model.Integration, error) {
	in, err := a.st.GetIntegration(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Allowed(p, OpView, in.Role, in.OrganisationOID) {
		return nil, store.ErrNotFound
	}
	if !Allowed(p, op, in.Role, in.OrganisationOID) {
		return nil, forbidden()
	}
	return in, nil
}

// Template returns a blank integration of role and type in organisation
// org, as the template endpoint answers it; forbidden unless p may create
// it.
func (a *API) Template(p *Principal, role model.Role, typ, org string) (*model.Integration, error) {
	if !role.Valid() {
		return nil, badRequest("role must be idp, sp or set")
	}
	if !Allowed(p, OpCreate, role, org) {
		return nil, forbidden()
	}
	in := &model.Integration{OrganisationOID: org, Role: role, DeploymentPhase: model.PhaseTest, Status: model.StatusActive}
	switch role {
	case model.RoleIdP:
		if !model.IdPType(typ).Valid() {
			return nil, badRequest("type must be one of the idp types")
		}
		in.IdP = &model.IdP{Type: model.IdPType(typ), Discovery: model.DiscoveryInformation{ShowSchools: true}}
	case model.RoleSP:
		switch model.SPType(typ) {
		case model.SPTypeSAML:
			in.SP = &model.SP{Type: model.SPTypeSAML, SAML: &model.SAMLMetadata{WantAssertionsSigned: true}}
		case model.SPTypeOIDC:
			in.SP = &model.SP{Type: model.SPTypeOIDC, OIDC: &model.OIDCMetadata{
				GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				Scope: "openid profile", TokenEndpointAuthMethod: "client_secret_basic",
			}}
		default:
			return nil, badRequest("type must be saml or oidc")
		}
	case model.RoleSet:
		in.Set = &model.Set{Type: cmp.Or(typ, "palvelu")}
	}
	return in, nil
}

// Create validates and stores a new integration for p, as the create
// endpoint does: the OIDC client_id and secret are generated (the secret
// is returned in clear once, and only stored sealed), IdP secrets given in
// clear are sealed, and metadata-derived fields are cleared. Secrets of in
// must be in clear (or empty).
func (a *API) Create(ctx context.Context, p *Principal, in *model.Integration) (saved *model.Integration, clientSecret string, err error) {
	if !Allowed(p, OpCreate, in.Role, in.OrganisationOID) {
		return nil, "", forbidden()
	}
	in.ID, in.Version, in.Status = 0, 0, model.StatusActive
	if in.IdP != nil {
		in.IdP.Metadata, in.IdP.MetadataValidUntil, in.IdP.SigningCertificateValidUntil, in.IdP.EncryptionCertificateValidUntil = "", nil, nil, nil
	}
	if in.SP != nil && in.SP.OIDC != nil {
		o := in.SP.OIDC
		if o.ClientSecret != "" && o.ClientSecret != exchange.Mask {
			return nil, "", &model.FieldError{Field: "configurationEntity.sp.metadata.client_secret", Message: "is generated; it cannot be set"}
		}
		o.ClientID = randomString(20)
		o.ClientSecret = ""
		if o.TokenEndpointAuthMethod != "none" && o.TokenEndpointAuthMethod != "private_key_jwt" {
			clientSecret = randomString(32)
			if o.ClientSecret, err = a.seal.SealString(clientSecret, o.ClientID); err != nil {
				return nil, "", fmt.Errorf("seal client secret: %w", err)
			}
		}
	}
	if err := a.sealIdPSecrets(in, nil); err != nil {
		return nil, "", err
	}
	if err := a.validate(ctx, in); err != nil {
		return nil, "", err
	}
	saved, err = a.st.CreateIntegration(ctx, in, actor(p))
	if err != nil {
		return nil, "", err
	}
	a.log.InfoContext(ctx, "admin: integration created", "id", saved.ID, "role", saved.Role, "by", p.Subject)
	return saved, clientSecret, nil
}

// Update saves in (based on in.Version) over the stored integration in.ID,
// as the update endpoint does: the role, idpId and client_id cannot change,
// stored secrets are kept where in has the mask or nothing, uploaded
// metadata is kept.
func (a *API) Update(ctx context.Context, p *Principal, in *model.Integration) (*model.Integration, error) {
	old, err := a.Integration(ctx, p, in.ID, OpUpdate)
	if err != nil {
		return nil, err
	}
	if in.Version == 0 {
		return nil, &model.FieldError{Field: "version", Message: "required: the version the change is based on"}
	}
	if in.Status == "" {
		in.Status = old.Status
	}
	if err := a.mergeUpdate(in, old); err != nil {
		return nil, err
	}
	if !Allowed(p, OpUpdate, in.Role, in.OrganisationOID) {
		return nil, forbidden()
	}
	return a.saveModel(ctx, p, in)
}

// saveModel validates and updates in at in.Version, as save does.
func (a *API) saveModel(ctx context.Context, p *Principal, in *model.Integration) (*model.Integration, error) {
	if err := a.validate(ctx, in); err != nil {
		return nil, err
	}
	saved, err := a.st.UpdateIntegration(ctx, in, actor(p))
	if err != nil {
		return nil, err
	}
	a.log.InfoContext(ctx, "admin: integration saved", "id", saved.ID, "version", saved.Version, "by", p.Subject)
	return saved, nil
}

// Inactivate inactivates integration id (a soft delete that keeps history).
func (a *API) Inactivate(ctx context.Context, p *Principal, id int64) (*model.Integration, error) {
	in, err := a.Integration(ctx, p, id, OpInactivate)
	if err != nil {
		return nil, err
	}
	if !in.Active() {
		return in, nil
	}
	in.Status = model.StatusInactive
	saved, err := a.st.UpdateIntegration(ctx, in, actor(p))
	if err != nil {
		return nil, err
	}
	a.log.InfoContext(ctx, "admin: integration inactivated", "id", saved.ID, "by", p.Subject)
	return saved, nil
}

// History lists the saved versions of integration id, newest first, each
// with what changed from the one before (secrets masked), and with
// withRecords each version whole, as the export writes it.
func (a *API) History(ctx context.Context, p *Principal, id int64, withRecords bool) ([]HistoryEntry, error) {
	in, err := a.Integration(ctx, p, id, OpView)
	if err != nil {
		return nil, err
	}
	revs, err := a.st.Revisions(ctx, in.ID)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	out := []HistoryEntry{}
	for i, rev := range revs {
		var before *model.Integration
		if i+1 < len(revs) {
			before = revs[i+1].Integration
		}
		changes, err := diffIntegrations(before, rev.Integration)
		if err != nil {
			return nil, err
		}
		e := HistoryEntry{Version: rev.Version, Actor: rev.Actor,
			CreatedAt: rev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Changes: changes}
		if withRecords {
			e.Record = a.record(rev.Integration)
		}
		out = append(out, e)
	}
	return out, nil
}

// Restore saves revision version of integration id as its newest version.
// basedOn, when not 0, is the version the user saw: a different current
// version is a conflict, as for an update.
func (a *API) Restore(ctx context.Context, p *Principal, id, version, basedOn int64) (*model.Integration, error) {
	cur, err := a.Integration(ctx, p, id, OpRestore)
	if err != nil {
		return nil, err
	}
	rev, err := a.st.GetRevision(ctx, cur.ID, version)
	if err != nil {
		return nil, err
	}
	old := *rev.Integration
	if !Allowed(p, OpRestore, old.Role, old.OrganisationOID) {
		return nil, forbidden()
	}
	if basedOn != 0 && basedOn != cur.Version {
		return nil, store.ErrConflict
	}
	old.Version = cur.Version
	return a.saveModel(ctx, p, &old)
}

// Discovery tells which schools the organisation's other active identity
// providers (all but except) include or exclude, and lists its schools.
func (a *API) Discovery(ctx context.Context, p *Principal, org string, except int64) (*DiscoveryInfo, error) {
	if !Allowed(p, OpView, model.RoleIdP, org) {
		return nil, forbidden()
	}
	list, _, err := a.st.ListIntegrations(ctx, store.IntegrationFilter{Role: model.RoleIdP, Status: model.StatusActive, OrganisationOIDs: []string{org}})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	out := DiscoveryInfo{ExistingIncludes: []string{}, ExistingExcludes: []string{}, Schools: []SchoolInfo{}}
	for _, in := range list {
		if in.ID == except || in.IdP == nil {
			continue
		}
		out.ExistingIncludes = append(out.ExistingIncludes, in.IdP.Discovery.Schools...)
		out.ExistingExcludes = append(out.ExistingExcludes, in.IdP.Discovery.ExcludedSchools...)
	}
	slices.Sort(out.ExistingIncludes)
	slices.Sort(out.ExistingExcludes)
	out.ExistingIncludes = slices.Compact(out.ExistingIncludes)
	out.ExistingExcludes = slices.Compact(out.ExistingExcludes)
	for _, s := range a.lookup().SchoolsOf(org) {
		out.Schools = append(out.Schools, SchoolInfo{SchoolCode: s.SchoolCode, OID: s.OID, Name: s.Name, InstitutionType: s.InstitutionType, Active: s.IsActive()})
	}
	return &out, nil
}

// ExpiringFor lists what expires within window (0: the configured window)
// in the active integrations p may view.
func (a *API) ExpiringFor(ctx context.Context, p *Principal, window time.Duration) ([]Expiry, error) {
	if window <= 0 {
		window = a.cfg.ExpiryWindow
	}
	if p == nil {
		return nil, forbidden()
	}
	f := store.IntegrationFilter{Status: model.StatusActive}
	if !p.seesAll() {
		f.OrganisationOIDs = p.organisations()
		if f.OrganisationOIDs == nil {
			f.OrganisationOIDs = []string{}
		}
	}
	all, _, err := a.st.ListIntegrations(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("expiring: %w", err)
	}
	var visible []*model.Integration
	for _, in := range all {
		if Allowed(p, OpView, in.Role, in.OrganisationOID) {
			visible = append(visible, in)
		}
	}
	return Expiring(visible, a.now(), window), nil
}

// ExpiryWindow is the configured default window of the expiry watch.
func (a *API) ExpiryWindow() time.Duration { return a.cfg.ExpiryWindow }

// SetMetadata stores a SAML identity provider's metadata, fetched from
// metadataURL when it is not empty, otherwise the uploaded doc; parsed and
// validated as the metadata endpoint does, with the expiry dates recorded.
// A parse failure is a FieldError of field "metadata".
func (a *API) SetMetadata(ctx context.Context, p *Principal, id, basedOn int64, metadataURL string, doc []byte) (*model.Integration, error) {
	in, err := a.Integration(ctx, p, id, OpUpdate)
	if err != nil {
		return nil, err
	}
	if basedOn != 0 && basedOn != in.Version {
		return nil, store.ErrConflict
	}
	if in.IdP == nil || !in.IdP.Type.IsSAML() {
		return nil, badRequest("only SAML identity providers have metadata")
	}
	opts := saml.MetadataOptions{EntityID: in.IdP.EntityID, MaxSize: int(a.cfg.MaxMetadataSize), Now: a.now, Logger: a.log}
	if metadataURL != "" {
		v := &validator{prod: in.DeploymentPhase == model.PhaseProduction}
		if v.url("metadataUrl", metadataURL, true); len(v.errs) > 0 {
			return nil, &validationError{v.errs}
		}
		opts.URL, opts.HTTPClient, opts.AllowLoopbackHTTP = metadataURL, a.cfg.HTTPClient, a.cfg.AllowLoopbackMetadata
	} else {
		if len(doc) == 0 {
			return nil, &model.FieldError{Field: "metadata", Message: "required: a file or a URL"}
		}
		if int64(len(doc)) > a.cfg.MaxMetadataSize {
			return nil, &model.FieldError{Field: "metadata", Message: fmt.Sprintf("the file is larger than %d bytes", a.cfg.MaxMetadataSize)}
		}
		opts.Document = doc
	}
	src, err := saml.NewMetadataSource(opts)
	if err == nil && opts.URL != "" {
		err = src.Refresh(ctx)
	}
	var info saml.MetadataInfo
	if err == nil {
		info, err = src.Info()
	}
	if err != nil {
		return nil, &model.FieldError{Field: "metadata", Message: err.Error()}
	}
	if opts.URL != "" {
		in.IdP.MetadataURL, in.IdP.Metadata = opts.URL, ""
	} else {
		in.IdP.Metadata = string(doc)
	}
	in.IdP.EntityID = info.EntityID
	in.IdP.MetadataValidUntil = timePtr(info.ValidUntil)
	in.IdP.SigningCertificateValidUntil = timePtr(info.SigningCertificateValidUntil())
	in.IdP.EncryptionCertificateValidUntil = timePtr(info.EncryptionCertificateValidUntil())
	return a.saveModel(ctx, p, in)
}

// SetLogo stores the logo of an identity provider (PNG, JPEG, GIF or WebP,
// at most the configured size) and points the provider's logo URL at it.
func (a *API) SetLogo(ctx context.Context, p *Principal, id int64, data []byte) (*model.Integration, error) {
	in, err := a.Integration(ctx, p, id, OpUpdate)
	if err != nil {
		return nil, err
	}
	if in.IdP == nil {
		return nil, badRequest("only identity providers have a logo")
	}
	if int64(len(data)) > a.cfg.MaxLogoSize {
		return nil, &model.FieldError{Field: "file", Message: fmt.Sprintf("the file is larger than %d bytes", a.cfg.MaxLogoSize)}
	}
	ct := http.DetectContentType(data)
	if len(data) == 0 || !slices.Contains(logoTypes, ct) {
		return nil, &model.FieldError{Field: "file", Message: "must be a PNG, JPEG, GIF or WebP image"}
	}
	if err := a.st.PutLogo(ctx, store.Logo{IntegrationID: in.ID, ContentType: ct, Data: data, UpdatedAt: a.now().UTC()}); err != nil {
		return nil, fmt.Errorf("logo: %w", err)
	}
	url := a.cfg.PublicURL + a.logoPath(in.ID)
	if in.IdP.LogoURL == url {
		return in, nil
	}
	in.IdP.LogoURL = url
	return a.saveModel(ctx, p, in)
}

// LogoPath is the API path of an integration's logo.
func LogoPath(id int64) string { return (*API)(nil).logoPath(id) }

// Organisation returns an organisation of the registry by OID.
func (a *API) Organisation(oid string) (*model.Organisation, bool) { return a.organisation(oid) }

// AttributeNames returns the user-attribute (source) names and the data-
// attribute (connection setting) names.
func AttributeNames() (user, data []string) {
	return slices.Clone(attributeNames.User), slices.Clone(attributeNames.Data)
}

// FieldErrors returns the field errors of a validation or field error, and
// whether err is one. A duplicate entityID or client_id counts, named by
// the field of the record it concerns.
func FieldErrors(err error) ([]model.FieldError, bool) {
	var ve *validationError
	var fe *model.FieldError
	var de *store.DuplicateError
	switch {
	case errors.As(err, &ve):
		return slices.Clone(ve.fields), true
	case errors.As(err, &de):
		return []model.FieldError{{Field: duplicateField(de.Field), Message: fmt.Sprintf("%q is already used by another active integration", de.Value)}}, true
	case errors.As(err, &fe):
		return []model.FieldError{*fe}, true
	}
	return nil, false
}

// ErrorStatus is the HTTP status the API answers err with: 400 for bad
// input and validation, 403, 404, 409 for conflicts and duplicates, 413,
// and 500 for anything else.
func ErrorStatus(err error) int {
	var he *httpError
	var de *store.DuplicateError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &de), errors.Is(err, store.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	}
	if _, ok := FieldErrors(err); ok {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// Diff lists what differs between two states of an integration, by the
// record's JSON paths, secrets masked (as in History).
func Diff(before, after *model.Integration) ([]Change, error) { return diffIntegrations(before, after) }

// Revision returns version of integration id, if p may view it.
func (a *API) Revision(ctx context.Context, p *Principal, id, version int64) (*store.Revision, error) {
	if _, err := a.Integration(ctx, p, id, OpView); err != nil {
		return nil, err
	}
	return a.st.GetRevision(ctx, id, version)
}

// SetSummary names a service set, for choosing the sets an identity
// provider allows.
type SetSummary struct {
	ID              int64
	Name            string
	OrganisationOID string
	DeploymentPhase model.DeploymentPhase
}

// ServiceSets lists the active service sets of every organisation to any
// signed-in principal: an education provider allows sets of other
// organisations, and a set's name and id are what the lookup of a service
// (GET /sp/{key}) tells any signed-in user too.
func (a *API) ServiceSets(ctx context.Context, p *Principal) ([]SetSummary, error) {
	if p == nil {
		return nil, forbidden()
	}
	list, _, err := a.st.ListIntegrations(ctx, store.IntegrationFilter{Role: model.RoleSet, Status: model.StatusActive, Sort: "name"})
	if err != nil {
		return nil, fmt.Errorf("service sets: %w", err)
	}
	out := make([]SetSummary, 0, len(list))
	for _, in := range list {
		out = append(out, SetSummary{ID: in.ID, Name: in.Name(), OrganisationOID: in.OrganisationOID, DeploymentPhase: in.DeploymentPhase})
	}
	return out, nil
}
