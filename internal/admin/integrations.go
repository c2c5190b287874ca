package admin

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// record writes an integration for the API, with the organisation's name.
func (a *API) record(in *model.Integration) *exchange.Record {
	return exchange.FromModel(in, exchange.Options{Organisation: a.organisation})
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &httpError{http.StatusBadRequest, "the id must be a positive integer"}
	}
	return id, nil
}

// load returns the integration of the path, if p may do op on it.
func (a *API) load(r *http.Request, p *Principal, op Operation) (*model.Integration, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return a.Integration(r.Context(), p, id, op)
}

// Page is one page of a search, as Spring Data writes it.
type Page struct {
	Content       []*exchange.Record `json:"content"`
	TotalElements int                `json:"totalElements"`
	TotalPages    int                `json:"totalPages"`
	Number        int                `json:"number"`
	Size          int                `json:"size"`
}

// parseSort accepts "name", "-name" and Spring's "name,desc".
func parseSort(s string) (string, error) {
	field, dir, _ := strings.Cut(s, ",")
	desc := strings.HasPrefix(field, "-")
	field = strings.TrimPrefix(field, "-")
	switch strings.ToLower(dir) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return "", badRequest("sort direction must be asc or desc")
	}
	switch field {
	case "", "id", "name", "updatedAt":
	case "lastUpdatedOn":
		field = "updatedAt"
	default:
		return "", badRequest("sort must be id, name or updatedAt")
	}
	if desc && field != "" {
		field = "-" + field
	}
	return field, nil
}

func (a *API) handleSearch(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	f := store.IntegrationFilter{Query: q.Get("search"), Type: q.Get("type"), Role: model.Role(q.Get("role")), Status: model.Status(q.Get("status"))}
	if f.Role != "" && !f.Role.Valid() {
		a.failErr(w, r, badRequest("role must be idp, sp or set"))
		return
	}
	if f.Status != "" && !f.Status.Valid() {
		a.failErr(w, r, badRequest("status must be active or inactive"))
		return
	}
	if s := q.Get("deploymentPhase"); s != "" {
		n, err := strconv.Atoi(s)
		ph := model.DeploymentPhase(n)
		if err != nil || !ph.Valid() {
			a.failErr(w, r, badRequest("deploymentPhase must be 0, 1 or 2"))
			return
		}
		f.DeploymentPhase = &ph
	}
	page, size := 0, 20
	var err error
	if s := q.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 0 {
			a.failErr(w, r, badRequest("page must be a number from 0"))
			return
		}
	}
	if s := q.Get("size"); s != "" {
		if size, err = strconv.Atoi(s); err != nil || size < 1 || size > 500 {
			a.failErr(w, r, badRequest("size must be 1 to 500"))
			return
		}
	}
	if f.Sort, err = parseSort(q.Get("sort")); err != nil {
		a.failErr(w, r, err)
		return
	}
	var list []*model.Integration
	var total int
	if p.seesAll() && Allowed(p, OpView, model.RoleIdP, "*") {
		f.Offset, f.Limit = page*size, size
		list, total, err = a.st.ListIntegrations(r.Context(), f)
	} else {
		// Scoped principals: their organisations, then the role rules,
		// then the page.
		if !p.seesAll() {
			f.OrganisationOIDs = p.organisations()
			if f.OrganisationOIDs == nil {
				f.OrganisationOIDs = []string{}
			}
		}
		var all []*model.Integration
		all, _, err = a.st.ListIntegrations(r.Context(), f)
		for _, in := range all {
			if Allowed(p, OpView, in.Role, in.OrganisationOID) {
				list = append(list, in)
			}
		}
		total = len(list)
		list = list[min(page*size, total):min(page*size+size, total)]
	}
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	out := Page{Content: []*exchange.Record{}, TotalElements: total, TotalPages: (total + size - 1) / size, Number: page, Size: size}
	for _, in := range list {
		out.Content = append(out.Content, a.record(in))
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) handleGet(w http.ResponseWriter, r *http.Request, p *Principal) {
	in, err := a.load(r, p, OpView)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(in))
}

// handleTemplate answers a blank integration for ?role=&type=&organization=.
func (a *API) handleTemplate(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	role, typ, org := model.Role(q.Get("role")), q.Get("type"), q.Get("organization")
	if org == "" {
		org = q.Get("organizationOid")
	}
	in, err := a.Template(p, role, typ, org)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(in))
}

// readRecord decodes the integration of a request.
func readRecord(w http.ResponseWriter, r *http.Request) (*exchange.Record, *model.Integration, error) {
	data, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return nil, nil, err
	}
	rec, err := exchange.DecodeRecord(data)
	if err != nil {
		return nil, nil, badRequest(err.Error())
	}
	in, _, err := exchange.ToModel(rec, nil)
	if err != nil {
		return nil, nil, err
	}
	return rec, in, nil
}

func (a *API) handleCreate(w http.ResponseWriter, r *http.Request, p *Principal) {
	_, in, err := readRecord(w, r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	saved, clearSecret, err := a.Create(r.Context(), p, in)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	rec := a.record(saved)
	if clearSecret != "" {
		// Shown once: only the sealed value is stored.
		rec.ConfigurationEntity.SP.Metadata.ClientSecret = clearSecret
	}
	a.writeJSON(w, http.StatusCreated, rec)
}

// sealIdPSecrets seals the IdP secrets given in clear, and keeps the stored
// ones where the record has a mask or nothing.
func (a *API) sealIdPSecrets(in, old *model.Integration) error {
	if in.IdP == nil {
		return nil
	}
	for _, s := range []struct {
		field    string
		val      *string
		oldValue string
	}{
		{"sharedSecret", &in.IdP.SharedSecret, oldSecret(old, "sharedSecret")},
		{"clientSecret", &in.IdP.ClientSecret, oldSecret(old, "clientSecret")},
	} {
		switch {
		case *s.val == "" || *s.val == exchange.Mask:
			*s.val = s.oldValue
		case keys.IsSealedString(*s.val):
			return &model.FieldError{Field: "configurationEntity.idp." + s.field, Message: "must be the secret itself"}
		default:
			sealed, err := a.seal.SealString(*s.val, in.IdP.SecretContext(s.field))
			if err != nil {
				return fmt.Errorf("seal %s: %w", s.field, err)
			}
			*s.val = sealed
		}
	}
	return nil
}

func oldSecret(old *model.Integration, field string) string {
	if old == nil || old.IdP == nil {
		return ""
	}
	if field == "sharedSecret" {
		return old.IdP.SharedSecret
	}
	return old.IdP.ClientSecret
}

func (a *API) handleUpdate(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, err := pathID(r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	// A missing or hidden integration is 404 before anything about the body.
	if _, err := a.Integration(r.Context(), p, id, OpUpdate); err != nil {
		a.failErr(w, r, err)
		return
	}
	rec, in, err := readRecord(w, r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	if rec.ID != 0 && rec.ID != id {
		a.failErr(w, r, &model.FieldError{Field: "id", Message: "does not match the path"})
		return
	}
	in.ID, in.Version = id, rec.Version
	if rec.Status == "" {
		in.Status = "" // keep the stored status
	}
	saved, err := a.Update(r.Context(), p, in)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(saved))
}

// mergeUpdate carries over what an update may not change or does not
// carry: the role, the idpId and client_id that secrets and uids are bound
// to, sealed secrets, uploaded metadata and its expiry dates.
func (a *API) mergeUpdate(in, old *model.Integration) error {
	if in.Role != old.Role {
		return &model.FieldError{Field: "configurationEntity", Message: fmt.Sprintf("the role %s cannot change", old.Role)}
	}
	switch {
	case in.IdP != nil && old.IdP != nil:
		if in.IdP.IdPID != old.IdP.IdPID {
			return &model.FieldError{Field: "configurationEntity.idp.idpId", Message: "cannot change: it is part of every user's identifier"}
		}
		in.IdP.Metadata = old.IdP.Metadata
		in.IdP.MetadataValidUntil = old.IdP.MetadataValidUntil
		in.IdP.SigningCertificateValidUntil = old.IdP.SigningCertificateValidUntil
		in.IdP.EncryptionCertificateValidUntil = old.IdP.EncryptionCertificateValidUntil
		return a.sealIdPSecrets(in, old)
	case in.SP != nil && old.SP != nil:
		if in.SP.Type != old.SP.Type {
			return &model.FieldError{Field: "configurationEntity.sp.type", Message: "cannot change"}
		}
		if in.SP.OIDC != nil && old.SP.OIDC != nil {
			if in.SP.OIDC.ClientID != "" && in.SP.OIDC.ClientID != old.SP.OIDC.ClientID {
				return &model.FieldError{Field: "configurationEntity.sp.metadata.client_id", Message: "cannot change"}
			}
			in.SP.OIDC.ClientID = old.SP.OIDC.ClientID
			if s := in.SP.OIDC.ClientSecret; s != "" && s != exchange.Mask {
				return &model.FieldError{Field: "configurationEntity.sp.metadata.client_secret", Message: "is generated; it cannot be set"}
			}
			in.SP.OIDC.ClientSecret = old.SP.OIDC.ClientSecret
		}
	}
	return nil
}

func (a *API) handleInactivate(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, err := pathID(r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	saved, err := a.Inactivate(r.Context(), p, id)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(saved))
}

// DiscoveryInfo tells which schools the organisation's other identity
// providers already include or exclude, and lists its schools.
type DiscoveryInfo struct {
	ExistingIncludes []string     `json:"existingIncludes"`
	ExistingExcludes []string     `json:"existingExcludes"`
	Schools          []SchoolInfo `json:"schools"`
}

// SchoolInfo is one school of an organisation.
type SchoolInfo struct {
	SchoolCode      string              `json:"schoolCode"`
	OID             string              `json:"oid"`
	Name            model.LocalizedName `json:"name"`
	InstitutionType int                 `json:"institutionType,omitempty"`
	Active          bool                `json:"active"`
}

func (a *API) handleDiscoveryInformation(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	org := cmp.Or(q.Get("organizationOid"), q.Get("organization"))
	if org == "" {
		a.failErr(w, r, badRequest("organizationOid is required"))
		return
	}
	var except int64
	if s := q.Get("id"); s != "" {
		var err error
		if except, err = strconv.ParseInt(s, 10, 64); err != nil {
			a.failErr(w, r, badRequest("id must be a number"))
			return
		}
	}
	out, err := a.Discovery(r.Context(), p, org, except)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, out)
}

// --- history ---

// Change is one changed value between two revisions.
type Change struct {
	Path string `json:"path"`
	From any    `json:"from,omitempty"`
	To   any    `json:"to,omitempty"`
}

// HistoryEntry is one saved version with what changed from the one before.
type HistoryEntry struct {
	Version   int64            `json:"version"`
	Actor     string           `json:"actor"`
	CreatedAt string           `json:"createdAt"`
	Changes   []Change         `json:"changes"`
	Record    *exchange.Record `json:"record,omitempty"`
}

func (a *API) handleHistory(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, err := pathID(r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	out, err := a.History(r.Context(), p, id, r.URL.Query().Get("full") == "true")
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) handleRestore(w http.ResponseWriter, r *http.Request, p *Principal) {
	cur, err := a.load(r, p, OpRestore)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v <= 0 {
		a.failErr(w, r, badRequest("the version must be a positive integer"))
		return
	}
	rev, err := a.st.GetRevision(r.Context(), cur.ID, v)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	old := *rev.Integration
	if !Allowed(p, OpRestore, old.Role, old.OrganisationOID) {
		a.failErr(w, r, forbidden())
		return
	}
	if q := r.URL.Query().Get("basedOn"); q != "" {
		// The client may name the version it saw, for the same optimistic
		// lock as an update.
		b, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			a.failErr(w, r, badRequest("basedOn must be a version"))
			return
		}
		if b != cur.Version {
			a.failErr(w, r, store.ErrConflict)
			return
		}
	}
	old.Version = cur.Version
	a.save(w, r, p, &old)
}

// --- lookups ---

// IdPTypeInfo describes an upstream type and the fields it needs.
type IdPTypeInfo struct {
	Type     model.IdPType `json:"type"`
	SAML     bool          `json:"saml"`
	Required []string      `json:"required"`
}

func idpTypeInfos() []IdPTypeInfo {
	req := map[model.IdPType][]string{
		model.IdPWilma:   {"hostname", "sharedSecret"},
		model.IdPOpinsys: {"tenantId", "sharedSecret"},
		model.IdPAzure:   {"tenantId"},
		model.IdPADFS:    {"entityId", "metadataUrl"},
		model.IdPGSuite:  {"entityId", "metadataUrl"},
		model.IdPSAML:    {"entityId", "metadataUrl"},
		model.IdPOIDC:    {"issuer", "clientId", "clientSecret"},
		model.IdPTest:    {},
	}
	var out []IdPTypeInfo
	for _, t := range model.IdPTypes() {
		out = append(out, IdPTypeInfo{Type: t, SAML: t.IsSAML(), Required: append([]string{}, req[t]...)})
	}
	return out
}

func (a *API) handleIdPTypes(w http.ResponseWriter, r *http.Request, _ *Principal) {
	a.writeJSON(w, http.StatusOK, idpTypeInfos())
}

func (a *API) handleSPTypes(w http.ResponseWriter, r *http.Request, _ *Principal) {
	a.writeJSON(w, http.StatusOK, []map[string]any{
		{"type": "saml", "required": []string{"entityId", "assertionConsumerServiceUrls", "signingCertificates"}},
		{"type": "oidc", "required": []string{"redirect_uris"}},
	})
}

// ServiceSummary is what any signed-in user may learn of a service by its
// client_id or entityID (to allow it, for example).
type ServiceSummary struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	EntityID        string `json:"entityId,omitempty"`
	ClientID        string `json:"clientId,omitempty"`
	SetID           int64  `json:"setId,omitempty"`
	OrganisationOID string `json:"organisationOid"`
	DeploymentPhase int    `json:"deploymentPhase"`
}

func (a *API) handleSPLookup(w http.ResponseWriter, r *http.Request, p *Principal) {
	key := r.PathValue("key")
	if key == "" || key == "types" {
		a.failErr(w, r, store.ErrNotFound)
		return
	}
	in, err := a.st.FindByClientID(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		in, err = a.st.FindByEntityID(r.Context(), key)
	}
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	if Allowed(p, OpView, in.Role, in.OrganisationOID) {
		a.writeJSON(w, http.StatusOK, a.record(in))
		return
	}
	a.writeJSON(w, http.StatusOK, ServiceSummary{ID: in.ID, Name: in.Name(), Type: in.Type(), EntityID: in.EntityID(), ClientID: in.ClientID(),
		SetID: in.SP.SetID, OrganisationOID: in.OrganisationOID, DeploymentPhase: int(in.DeploymentPhase)})
}

// attributeNames are the names of user attributes (the data model's source
// names) and of data attributes (connection settings).
var attributeNames = struct {
	User []string `json:"user"`
	Data []string `json:"data"`
}{
	User: []string{"username", "firstName", "surname", "nickname", "learnerId", "roles", "groups", "groupLevels", "schoolIds",
		"schoolIdStatic", "learningMaterialsCharges", "customStudentRole", "customTeacherRole", "studentGroupGuid", "teacherGroupGuid", "legacyId"},
	Data: []string{"datasource", "hostname", "tenantId", "clientId", "clientKey", "redirectUri", "allowtestlearnerid"},
}

func (a *API) handleAttributeNames(w http.ResponseWriter, r *http.Request, _ *Principal) {
	a.writeJSON(w, http.StatusOK, attributeNames)
}

// save validates and updates an integration at in.Version and answers with
// the saved record.
func (a *API) save(w http.ResponseWriter, r *http.Request, p *Principal, in *model.Integration) {
	saved, err := a.saveModel(r.Context(), p, in)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(saved))
}
