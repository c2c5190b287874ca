package ui

import (
	"cmp"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// --- the list ---

// listQuery is the list's filters, all kept in the URL.
type listQuery struct {
	Search, Role, Type, Phase, Status, Sort string
	Page                                    int
}

func readListQuery(q url.Values) listQuery {
	lq := listQuery{Search: strings.TrimSpace(q.Get("search")), Role: q.Get("role"), Type: q.Get("type"),
		Phase: q.Get("phase"), Status: q.Get("status"), Sort: q.Get("sort")}
	lq.Page, _ = strconv.Atoi(q.Get("page"))
	lq.Page = max(lq.Page, 0)
	return lq
}

// url writes the query back, with page and sort as given.
func (q listQuery) url(page int, sort string) string {
	v := url.Values{}
	for k, s := range map[string]string{"search": q.Search, "role": q.Role, "type": q.Type, "phase": q.Phase, "status": q.Status, "sort": sort} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 0 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return Base + "/"
	}
	return Base + "/?" + v.Encode()
}

type listRow struct {
	In      *model.Integration
	OrgName string
}

type sortLink struct {
	URL  string
	Sort string // "ascending", "descending" or "" (aria-sort)
}

type listData struct {
	Q             listQuery
	Rows          []listRow
	Total         int
	Page, Pages   int
	First, Last   int
	Prev, Next    string
	SortLinks     map[string]sortLink
	IdPTypes      []model.IdPType
	PageSize      int
	BadFilter     string
	CanCreateSome bool
}

func (u *UI) list(c *reqCtx) {
	q := readListQuery(c.r.URL.Query())
	f := store.IntegrationFilter{Query: q.Search, Role: model.Role(q.Role), Type: q.Type, Status: model.Status(q.Status), Sort: q.Sort}
	if q.Phase != "" {
		n, err := strconv.Atoi(q.Phase)
		ph := model.DeploymentPhase(n)
		if err != nil || !ph.Valid() {
			u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
			return
		}
		f.DeploymentPhase = &ph
	}
	list, total, err := u.api.Search(c.r.Context(), c.p, admin.SearchQuery{Filter: f, Page: q.Page, Size: u.cfg.PageSize})
	if err != nil {
		u.fail(c, err)
		return
	}
	d := &listData{Q: q, Total: total, Page: q.Page + 1, Pages: max(1, (total+u.cfg.PageSize-1)/u.cfg.PageSize),
		IdPTypes: model.IdPTypes(), PageSize: u.cfg.PageSize, SortLinks: map[string]sortLink{}, CanCreateSome: canCreateSome(c.p)}
	for _, in := range list {
		d.Rows = append(d.Rows, listRow{In: in, OrgName: u.orgName(in.OrganisationOID, c.lang)})
	}
	if len(list) > 0 {
		d.First, d.Last = q.Page*u.cfg.PageSize+1, q.Page*u.cfg.PageSize+len(list)
	}
	if q.Page > 0 {
		d.Prev = q.url(q.Page-1, q.Sort)
	}
	if (q.Page+1)*u.cfg.PageSize < total {
		d.Next = q.url(q.Page+1, q.Sort)
	}
	for _, col := range []string{"id", "name", "updatedAt"} {
		l := sortLink{URL: q.url(0, col)}
		switch q.Sort {
		case col:
			l = sortLink{URL: q.url(0, "-"+col), Sort: "ascending"}
		case "-" + col:
			l.Sort = "descending"
		}
		d.SortLinks[col] = l
	}
	u.render(c, http.StatusOK, "list", u.newPage(c, "list.title", d))
}

// canCreateSome reports whether p holds an editor role anywhere.
func canCreateSome(p *admin.Principal) bool {
	for _, r := range p.Roles {
		if admin.Allowed(p, admin.OpCreate, model.RoleSP, r.OrgOID) {
			return true
		}
	}
	return false
}

func (u *UI) orgName(oid, lang string) string {
	if o, ok := u.api.Organisation(oid); ok {
		return o.Name.In(lang)
	}
	return oid
}

// --- one integration ---

type expiryRow struct {
	What    string // a message key
	At      time.Time
	Expired bool
	Soon    bool
}

type schoolRow struct {
	Code, Name string
	Known      bool
}

type viewData struct {
	In         *model.Integration
	Org        *model.Organisation
	Included   []schoolRow
	Excluded   []schoolRow
	Expiries   []expiryRow
	Attributes []model.Attribute
	SetName    string
	Allowed    []admin.SetSummary
	TestLogin  string
	// RedirectURI and SPMetadata are the broker's URLs the source's login
	// system is given (ui.Config.BrokerURLs).
	RedirectURI, SPMetadata string
	LogoSrc                 string
	Created                 bool
	MetadataOK              bool
}

func (u *UI) loadIntegration(c *reqCtx, op admin.Operation) (*model.Integration, bool) {
	id, err := pathInt(c.r, "id")
	if err == nil {
		var in *model.Integration
		if in, err = u.api.Integration(c.r.Context(), c.p, id, op); err == nil {
			return in, true
		}
	}
	u.fail(c, err)
	return nil, false
}

func (u *UI) view(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpView)
	if !ok {
		return
	}
	pg, err := u.viewPage(c, in)
	if err != nil {
		u.fail(c, err)
		return
	}
	switch c.r.URL.Query().Get("saved") {
	case "1":
		pg.Flash = "flash.saved"
	case "created":
		pg.Flash = "flash.created"
	case "metadata":
		pg.Flash = "flash.metadata"
	case "logo":
		pg.Flash = "flash.logo"
	case "services":
		pg.Flash = "flash.services"
	case "inactivated":
		pg.Flash = "flash.inactivated"
	}
	u.render(c, http.StatusOK, "view", pg)
}

// viewPage builds the page of one integration.
func (u *UI) viewPage(c *reqCtx, in *model.Integration) (*page, error) {
	d := &viewData{In: in}
	if o, ok := u.api.Organisation(in.OrganisationOID); ok {
		d.Org = o
	}
	now := u.now()
	soon := now.Add(u.api.ExpiryWindow())
	addExpiry := func(what string, t *time.Time) {
		if t != nil && !t.IsZero() {
			d.Expiries = append(d.Expiries, expiryRow{What: what, At: t.UTC(), Expired: !t.After(now), Soon: t.Before(soon)})
		}
	}
	for _, a := range in.Attributes {
		if a.Type == model.AttributeData && exchange.IsSecretAttribute(a.Name) && a.Content != "" {
			a.Content = exchange.AttributeMask
		}
		d.Attributes = append(d.Attributes, a)
	}
	sets, err := u.api.ServiceSets(c.r.Context(), c.p)
	if err != nil {
		return nil, err
	}
	switch {
	case in.IdP != nil:
		p := in.IdP
		addExpiry("exp.metadata", p.MetadataValidUntil)
		addExpiry("exp.signing", p.SigningCertificateValidUntil)
		addExpiry("exp.encryption", p.EncryptionCertificateValidUntil)
		d.Included, d.Excluded = u.schoolRows(p.Discovery.Schools, c.lang), u.schoolRows(p.Discovery.ExcludedSchools, c.lang)
		for _, s := range sets {
			if slices.Contains(p.Permissions, s.ID) {
				d.Allowed = append(d.Allowed, s)
			}
		}
		if strings.HasSuffix(p.LogoURL, admin.LogoPath(in.ID)) {
			d.LogoSrc = admin.LogoPath(in.ID)
		}
	case in.SP != nil:
		for _, s := range sets {
			if s.ID == in.SP.SetID {
				d.SetName = s.Name
			}
		}
		if m := in.SP.SAML; m != nil {
			for _, cert := range m.SigningCertificates {
				addExpiry("exp.signing", certNotAfter(cert))
			}
			for _, cert := range m.EncryptionCertificates {
				addExpiry("exp.encryption", certNotAfter(cert))
			}
		}
	}
	if u.cfg.TestLoginURL != nil {
		d.TestLogin = u.cfg.TestLoginURL(in)
	}
	if u.cfg.BrokerURLs != nil && in.Role == model.RoleIdP {
		d.RedirectURI, d.SPMetadata = u.cfg.BrokerURLs(in)
	}
	pg := u.newPage(c, "view.title", d)
	pg.TitleX = " " + strconv.FormatInt(in.ID, 10)
	return pg, nil
}

func certNotAfter(b64 string) *time.Time {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	return &cert.NotAfter
}

func (u *UI) schoolRows(codes []string, lang string) []schoolRow {
	var out []schoolRow
	for _, code := range codes {
		r := schoolRow{Code: code}
		if o, ok := u.reg.Current().BySchoolCode(code); ok {
			r.Name, r.Known = o.Name.In(lang), true
		}
		out = append(out, r)
	}
	return out
}

// --- metadata and logo uploads ---

// uploadedFile reads the file of a multipart field, "" when none was
// chosen.
func uploadedFile(r *http.Request, field string, limit int64) ([]byte, error) {
	f, _, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	return data, nil
}

func (u *UI) metadata(c *reqCtx) {
	id, err := pathInt(c.r, "id")
	if err != nil {
		u.fail(c, err)
		return
	}
	doc, err := uploadedFile(c.r, "metadata.file", maxForm)
	if err != nil {
		u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
		return
	}
	basedOn, _ := strconv.ParseInt(c.r.PostFormValue("version"), 10, 64)
	_, err = u.api.SetMetadata(c.r.Context(), c.p, id, basedOn, strings.TrimSpace(c.r.PostFormValue("metadata.url")), doc)
	if err != nil {
		u.reshowView(c, id, err, "metadata")
		return
	}
	c.seeOther(integrationPath(id) + "?saved=metadata#metadata")
}

func (u *UI) logo(c *reqCtx) {
	id, err := pathInt(c.r, "id")
	if err != nil {
		u.fail(c, err)
		return
	}
	data, err := uploadedFile(c.r, "file", maxForm)
	if err != nil {
		u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
		return
	}
	if _, err := u.api.SetLogo(c.r.Context(), c.p, id, data); err != nil {
		u.reshowView(c, id, err, "logo")
		return
	}
	c.seeOther(integrationPath(id) + "?saved=logo#logo")
}

// reshowView shows the integration again with the field errors of an
// upload (field "metadata" or "file" of the API named after the form).
func (u *UI) reshowView(c *reqCtx, id int64, err error, form string) {
	fes, ok := admin.FieldErrors(err)
	if !ok {
		u.fail(c, err)
		return
	}
	in, err2 := u.api.Integration(c.r.Context(), c.p, id, admin.OpView)
	if err2 != nil {
		u.fail(c, err2)
		return
	}
	pg, err2 := u.viewPage(c, in)
	if err2 != nil {
		u.fail(c, err2)
		return
	}
	for _, fe := range fes {
		field := form
		if fe.Field == "metadataUrl" || fe.Field == "url" {
			field = "metadata.url"
		}
		pg.Errors = append(pg.Errors, fieldError{Field: field, Message: translateMessage(c.lang, fe.Message)})
	}
	u.render(c, http.StatusBadRequest, "view", pg)
}

// --- creating and editing ---

type instType struct {
	Code    int
	Checked bool
}

type schoolChoice struct {
	admin.SchoolInfo
	Included, Excluded       bool
	OtherIncl, OtherExcluded bool
}

type formData struct {
	Creating         bool
	Action           string
	In               *model.Integration
	Org              *model.Organisation
	OrgOID           string
	Fields           map[string]bool
	Schools          []schoolChoice
	UnknownSchools   []string
	InstitutionTypes []instType
	Sets             []admin.SetSummary
	AttrRows         []model.Attribute
	ACSRows          []model.ACSEndpoint
	Bindings         []string
	Signing          string
	Encryption       string
	Redirects        string
	PostLogout       string
	UserNames        []string
	DataNames        []string
	HasSecret        map[string]bool
}

// formPage builds the form of in; v are the posted values when the form
// is shown again after an error.
func (u *UI) formPage(c *reqCtx, in *model.Integration, creating bool, action string, v url.Values) (*page, error) {
	d := &formData{Creating: creating, Action: action, In: in, OrgOID: in.OrganisationOID, Fields: map[string]bool{},
		Bindings: bindings, HasSecret: map[string]bool{}}
	d.UserNames, d.DataNames = admin.AttributeNames()
	if o, ok := u.api.Organisation(in.OrganisationOID); ok {
		d.Org = o
	}
	d.AttrRows = attributeRows(in.Attributes)
	switch {
	case in.IdP != nil:
		for _, f := range idpTypeFields[in.IdP.Type] {
			d.Fields[f] = true
		}
		if !creating {
			if stored, err := u.api.Integration(c.r.Context(), c.p, in.ID, admin.OpView); err == nil && stored.IdP != nil {
				d.HasSecret["sharedSecret"] = stored.IdP.SharedSecret != ""
				d.HasSecret["clientSecret"] = stored.IdP.ClientSecret != ""
			}
		}
		var except int64
		if !creating {
			except = in.ID
		}
		disc, err := u.api.Discovery(c.r.Context(), c.p, in.OrganisationOID, except)
		if err != nil {
			return nil, err
		}
		codes := map[int]bool{}
		listed := map[string]bool{}
		for _, s := range disc.Schools {
			if s.InstitutionType != 0 {
				codes[s.InstitutionType] = true
			}
			listed[s.SchoolCode] = true
			d.Schools = append(d.Schools, schoolChoice{SchoolInfo: s,
				Included: slices.Contains(in.IdP.Discovery.Schools, s.SchoolCode), Excluded: slices.Contains(in.IdP.Discovery.ExcludedSchools, s.SchoolCode),
				OtherIncl: slices.Contains(disc.ExistingIncludes, s.SchoolCode), OtherExcluded: slices.Contains(disc.ExistingExcludes, s.SchoolCode)})
		}
		for _, code := range append(slices.Clone(in.IdP.Discovery.Schools), in.IdP.Discovery.ExcludedSchools...) {
			if !listed[code] && !slices.Contains(d.UnknownSchools, code) {
				d.UnknownSchools = append(d.UnknownSchools, code)
			}
		}
		for _, t := range in.IdP.InstitutionTypes {
			codes[t] = true
		}
		for code := range institutionTypeNames {
			codes[code] = true
		}
		for code := range codes {
			d.InstitutionTypes = append(d.InstitutionTypes, instType{Code: code, Checked: slices.Contains(in.IdP.InstitutionTypes, code)})
		}
		slices.SortFunc(d.InstitutionTypes, func(a, b instType) int { return cmp.Compare(a.Code, b.Code) })
	case in.SP != nil:
		sets, err := u.api.ServiceSets(c.r.Context(), c.p)
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			if s.OrganisationOID == in.OrganisationOID {
				d.Sets = append(d.Sets, s)
			}
		}
		if m := in.SP.SAML; m != nil {
			d.ACSRows = append(slices.Clone(m.ACS), model.ACSEndpoint{Binding: bindings[0]})
			d.Signing, d.Encryption = certificatesText(m.SigningCertificates), certificatesText(m.EncryptionCertificates)
			if v != nil {
				d.Signing, d.Encryption = v.Get(fSigning), v.Get(fEncryption)
			}
		}
		if m := in.SP.OIDC; m != nil {
			d.Redirects = strings.Join(m.RedirectURIs, "\n")
			d.PostLogout = strings.Join(m.PostLogoutRedirectURIs, "\n")
		}
	}
	title := "form.edit"
	if creating {
		title = "form.create"
	}
	pg := u.newPage(c, title, d)
	if !creating {
		pg.TitleX = " " + strconv.FormatInt(in.ID, 10)
	}
	return pg, nil
}

func (u *UI) edit(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpUpdate)
	if !ok {
		return
	}
	pg, err := u.formPage(c, in, false, integrationPath(in.ID)+"/edit", nil)
	if err != nil {
		u.fail(c, err)
		return
	}
	u.render(c, http.StatusOK, "form", pg)
}

func (u *UI) update(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpUpdate)
	if !ok {
		return
	}
	v := c.r.PostForm
	version, err := strconv.ParseInt(v.Get("version"), 10, 64)
	if err != nil {
		u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
		return
	}
	in.Version = version
	fes := applyForm(in, v, false)
	if len(fes) == 0 {
		var saved *model.Integration
		saved, err = u.api.Update(c.r.Context(), c.p, in)
		if err == nil {
			c.seeOther(integrationPath(saved.ID) + "?saved=1")
			return
		}
		var ok bool
		if fes, ok = admin.FieldErrors(err); !ok {
			u.fail(c, err)
			return
		}
	}
	u.reshowForm(c, in, false, integrationPath(in.ID)+"/edit", fes)
}

func (u *UI) reshowForm(c *reqCtx, in *model.Integration, creating bool, action string, fes []model.FieldError) {
	pg, err := u.formPage(c, in, creating, action, c.r.PostForm)
	if err != nil {
		u.fail(c, err)
		return
	}
	pg.Errors = formErrors(c.lang, fes)
	u.render(c, http.StatusBadRequest, "form", pg)
}

// newData is a step of choosing what to create.
type newData struct {
	Step                  string // "org", "role", "type", "set"
	Org, Role, Type, Set  string
	OrgName               string
	Orgs                  []orgChoice
	AnyOrg                bool
	Roles                 []model.Role
	IdPTypes              []model.IdPType
	SPTypes               []model.SPType
	Sets                  []admin.SetSummary
	OrgURL, RoleURL, TURL string
}

type orgChoice struct {
	OID, Name string
}

func (u *UI) newIntegration(c *reqCtx) {
	q := c.r.URL.Query()
	d := &newData{Org: strings.TrimSpace(q.Get("org")), Role: q.Get("role"), Type: q.Get("type"), Set: q.Get("set")}
	step := func(name string) {
		d.Step = name
		u.render(c, http.StatusOK, "new", u.newPage(c, "new.title", d))
	}
	d.OrgURL = Base + "/new"
	if d.Org == "" {
		d.Orgs, d.AnyOrg = u.orgChoices(c)
		step("org")
		return
	}
	d.OrgName = u.orgName(d.Org, c.lang)
	for _, r := range []model.Role{model.RoleIdP, model.RoleSP, model.RoleSet} {
		if admin.Allowed(c.p, admin.OpCreate, r, d.Org) {
			d.Roles = append(d.Roles, r)
		}
	}
	if len(d.Roles) == 0 {
		u.fail(c, &statusError{http.StatusForbidden, "err.forbidden"})
		return
	}
	d.RoleURL = Base + "/new?" + url.Values{"org": {d.Org}}.Encode()
	if !slices.Contains(d.Roles, model.Role(d.Role)) {
		if d.Role != "" {
			u.fail(c, &statusError{http.StatusForbidden, "err.forbidden"})
			return
		}
		step("role")
		return
	}
	d.TURL = Base + "/new?" + url.Values{"org": {d.Org}, "role": {d.Role}}.Encode()
	role := model.Role(d.Role)
	switch role {
	case model.RoleIdP:
		d.IdPTypes = model.IdPTypes()
		if !model.IdPType(d.Type).Valid() {
			step("type")
			return
		}
	case model.RoleSP:
		d.SPTypes = []model.SPType{model.SPTypeSAML, model.SPTypeOIDC}
		if d.Type != string(model.SPTypeSAML) && d.Type != string(model.SPTypeOIDC) {
			step("type")
			return
		}
		sets, err := u.api.ServiceSets(c.r.Context(), c.p)
		if err != nil {
			u.fail(c, err)
			return
		}
		for _, s := range sets {
			if s.OrganisationOID == d.Org {
				d.Sets = append(d.Sets, s)
			}
		}
		if !slices.ContainsFunc(d.Sets, func(s admin.SetSummary) bool { return strconv.FormatInt(s.ID, 10) == d.Set }) {
			step("set")
			return
		}
	}
	in, err := u.api.Template(c.p, role, d.Type, d.Org)
	if err != nil {
		u.fail(c, err)
		return
	}
	if in.SP != nil {
		in.SP.SetID, _ = strconv.ParseInt(d.Set, 10, 64)
	}
	if in.IdP != nil {
		in.IdP.IdPID = suggestIdPID(in.IdP.Type, d.Org)
		in.IdP.FlowName = string(in.IdP.Type)
	}
	pg, err := u.formPage(c, in, true, Base+"/new", nil)
	if err != nil {
		u.fail(c, err)
		return
	}
	u.render(c, http.StatusOK, "form", pg)
}

// suggestIdPID proposes a technical id: the type and the organisation
// OID's last digits (the user may change it before saving).
func suggestIdPID(t model.IdPType, org string) string {
	tail := org[strings.LastIndex(org, ".")+1:]
	tail = strings.TrimLeft(tail, "0")
	return string(t) + "_" + cmp.Or(tail, "0")
}

// orgChoices lists the organisations the user may create something in;
// any is true for admin-organisation users, who may name any organisation.
func (u *UI) orgChoices(c *reqCtx) ([]orgChoice, bool) {
	var out []orgChoice
	any := false
	for _, r := range c.p.Roles {
		if !admin.Allowed(c.p, admin.OpCreate, model.RoleSP, r.OrgOID) || slices.ContainsFunc(out, func(o orgChoice) bool { return o.OID == r.OrgOID }) {
			continue
		}
		out = append(out, orgChoice{OID: r.OrgOID, Name: u.orgName(r.OrgOID, c.lang)})
		any = any || r.OrgOID == admin.AdminOrganisationOID
	}
	if any {
		for _, o := range u.reg.Current().All() {
			if o.IsEducationProvider() && o.IsActive() && !slices.ContainsFunc(out, func(x orgChoice) bool { return x.OID == o.OID }) {
				out = append(out, orgChoice{OID: o.OID, Name: o.Name.In(c.lang)})
			}
		}
	}
	return out, any
}

// createResult is the page after creating an OIDC service: its secret,
// shown this once.
type createResult struct {
	In     *model.Integration
	Secret string
}

func (u *UI) create(c *reqCtx) {
	v := c.r.PostForm
	role, typ, org := model.Role(v.Get("role")), v.Get("type"), strings.TrimSpace(v.Get("organization.oid"))
	in, err := u.api.Template(c.p, role, typ, org)
	if err != nil {
		u.fail(c, err)
		return
	}
	fes := applyForm(in, v, true)
	if len(fes) == 0 {
		saved, secret, err := u.api.Create(c.r.Context(), c.p, in)
		switch {
		case err == nil && secret != "":
			pg := u.newPage(c, "secret.title", &createResult{In: saved, Secret: secret})
			pg.Flash = "flash.created"
			u.render(c, http.StatusCreated, "secret", pg)
			return
		case err == nil:
			c.seeOther(integrationPath(saved.ID) + "?saved=created")
			return
		}
		var ok bool
		if fes, ok = admin.FieldErrors(err); !ok {
			u.fail(c, err)
			return
		}
	}
	u.reshowForm(c, in, true, Base+"/new", fes)
}

// --- allowed services of an identity provider ---

type serviceRow struct {
	admin.SetSummary
	OrgName string
	Checked bool
}

type servicesData struct {
	In      *model.Integration
	All     bool
	Rows    []serviceRow
	Version int64
}

func (u *UI) servicesPage(c *reqCtx, in *model.Integration, all bool, chosen []int64) (*page, error) {
	sets, err := u.api.ServiceSets(c.r.Context(), c.p)
	if err != nil {
		return nil, err
	}
	d := &servicesData{In: in, All: all, Version: in.Version}
	for _, s := range sets {
		d.Rows = append(d.Rows, serviceRow{SetSummary: s, OrgName: u.orgName(s.OrganisationOID, c.lang), Checked: slices.Contains(chosen, s.ID)})
	}
	pg := u.newPage(c, "services.title", d)
	pg.TitleX = " " + strconv.FormatInt(in.ID, 10)
	return pg, nil
}

func (u *UI) servicesForm(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpView)
	if !ok {
		return
	}
	if in.IdP == nil {
		u.fail(c, &statusError{http.StatusNotFound, "err.notfound"})
		return
	}
	pg, err := u.servicesPage(c, in, len(in.IdP.Permissions) == 0, in.IdP.Permissions)
	if err != nil {
		u.fail(c, err)
		return
	}
	u.render(c, http.StatusOK, "services", pg)
}

// services handles the steps of the allowed-services form: "clear" shows
// the form with nothing chosen, "all" and "save" ask for confirmation,
// "confirm" saves.
func (u *UI) services(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpUpdate)
	if !ok {
		return
	}
	if in.IdP == nil {
		u.fail(c, &statusError{http.StatusNotFound, "err.notfound"})
		return
	}
	v := c.r.PostForm
	var chosen []int64
	for _, s := range v["set"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && !slices.Contains(chosen, id) {
			chosen = append(chosen, id)
		}
	}
	slices.Sort(chosen)
	all := v.Get("mode") == "all"
	action := v.Get("action")
	if action == "all" {
		all, chosen = true, nil
	}
	if all {
		chosen = nil
	}
	switch action {
	case "clear":
		pg, err := u.servicesPage(c, in, false, nil)
		if err != nil {
			u.fail(c, err)
			return
		}
		u.render(c, http.StatusOK, "services", pg)
		return
	case "all", "save":
		if !all && len(chosen) == 0 {
			pg, err := u.servicesPage(c, in, false, nil)
			if err != nil {
				u.fail(c, err)
				return
			}
			pg.Errors = []fieldError{{Field: "set", Message: mustT(c.lang, "services.none")}}
			u.render(c, http.StatusBadRequest, "services", pg)
			return
		}
		sets, err := u.api.ServiceSets(c.r.Context(), c.p)
		if err != nil {
			u.fail(c, err)
			return
		}
		cd := &confirmData{Action: integrationPath(in.ID) + "/services", Cancel: integrationPath(in.ID) + "/services",
			Button: "services.confirm", Hidden: [][2]string{{"action", "confirm"}, {"version", v.Get("version")}}}
		if all {
			cd.Hidden = append(cd.Hidden, [2]string{"mode", "all"})
			cd.Message = "services.confirm.all"
		} else {
			cd.Hidden = append(cd.Hidden, [2]string{"mode", "selected"})
			cd.Message = "services.confirm.selected"
			for _, s := range sets {
				if slices.Contains(chosen, s.ID) {
					cd.Hidden = append(cd.Hidden, [2]string{"set", strconv.FormatInt(s.ID, 10)})
					cd.Items = append(cd.Items, fmt.Sprintf("%s (%d)", s.Name, s.ID))
				}
			}
		}
		pg := u.newPage(c, "services.title", cd)
		pg.TitleX = " " + strconv.FormatInt(in.ID, 10)
		u.render(c, http.StatusOK, "confirm", pg)
		return
	case "confirm":
		version, err := strconv.ParseInt(v.Get("version"), 10, 64)
		if err != nil {
			u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
			return
		}
		in.Version = version
		in.IdP.Permissions = chosen
		in.IdP.SharedSecret, in.IdP.ClientSecret = "", ""
		if _, err := u.api.Update(c.r.Context(), c.p, in); err != nil {
			u.fail(c, err)
			return
		}
		c.seeOther(integrationPath(in.ID) + "?saved=services")
		return
	}
	u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
}

// --- confirmations: inactivation, restore ---

type confirmData struct {
	Message string   // a message key
	Items   []string // what the action concerns
	Changes []changeRow
	Action  string
	Cancel  string
	Button  string // a message key
	Danger  bool
	Hidden  [][2]string
}

func (u *UI) inactivateForm(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpInactivate)
	if !ok {
		return
	}
	pg := u.newPage(c, "inactivate.title", &confirmData{Message: "inactivate.confirm", Items: []string{fmt.Sprintf("%s (%d)", in.Name(), in.ID)},
		Action: integrationPath(in.ID) + "/inactivate", Cancel: integrationPath(in.ID), Button: "inactivate.button", Danger: true})
	u.render(c, http.StatusOK, "confirm", pg)
}

func (u *UI) inactivate(c *reqCtx) {
	id, err := pathInt(c.r, "id")
	if err == nil {
		_, err = u.api.Inactivate(c.r.Context(), c.p, id)
	}
	if err != nil {
		u.fail(c, err)
		return
	}
	c.seeOther(integrationPath(id) + "?saved=inactivated")
}

// changeRow is one change of a diff, written for people.
type changeRow struct {
	Path, From, To string
}

func changeRows(cs []admin.Change) []changeRow {
	out := make([]changeRow, 0, len(cs))
	for _, ch := range cs {
		out = append(out, changeRow{Path: ch.Path, From: showValue(ch.From), To: showValue(ch.To)})
	}
	return out
}

// showValue writes a JSON value of a diff readably.
func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

type historyEntry struct {
	admin.HistoryEntry
	At      time.Time
	Rows    []changeRow
	Current bool
}

type historyData struct {
	In      *model.Integration
	Entries []historyEntry
	CanEdit bool
}

func (u *UI) history(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpView)
	if !ok {
		return
	}
	hist, err := u.api.History(c.r.Context(), c.p, in.ID, false)
	if err != nil {
		u.fail(c, err)
		return
	}
	d := &historyData{In: in, CanEdit: admin.Allowed(c.p, admin.OpRestore, in.Role, in.OrganisationOID)}
	for _, h := range hist {
		at, _ := time.Parse(time.RFC3339, h.CreatedAt)
		d.Entries = append(d.Entries, historyEntry{HistoryEntry: h, At: at, Rows: changeRows(h.Changes), Current: h.Version == in.Version})
	}
	pg := u.newPage(c, "history.title", d)
	pg.TitleX = " " + strconv.FormatInt(in.ID, 10)
	if c.r.URL.Query().Get("saved") == "restored" {
		pg.Flash = "flash.restored"
	}
	u.render(c, http.StatusOK, "history", pg)
}

func (u *UI) restoreForm(c *reqCtx) {
	in, ok := u.loadIntegration(c, admin.OpRestore)
	if !ok {
		return
	}
	version, err := pathInt(c.r, "version")
	var rev *store.Revision
	if err == nil {
		rev, err = u.api.Revision(c.r.Context(), c.p, in.ID, version)
	}
	var changes []admin.Change
	if err == nil {
		changes, err = admin.Diff(in, rev.Integration)
	}
	if err != nil {
		u.fail(c, err)
		return
	}
	cd := &confirmData{Message: "restore.confirm", Changes: changeRows(changes),
		Items:  []string{fmt.Sprintf("%s (%d), %s %d", in.Name(), in.ID, mustT(c.lang, "history.version"), version)},
		Action: fmt.Sprintf("%s/history/%d/restore", integrationPath(in.ID), version), Cancel: integrationPath(in.ID) + "/history",
		Button: "restore.button", Hidden: [][2]string{{"basedOn", strconv.FormatInt(in.Version, 10)}}}
	u.render(c, http.StatusOK, "confirm", u.newPage(c, "restore.title", cd))
}

func (u *UI) restore(c *reqCtx) {
	id, err := pathInt(c.r, "id")
	var version, basedOn int64
	if err == nil {
		version, err = pathInt(c.r, "version")
	}
	if err == nil {
		basedOn, _ = strconv.ParseInt(c.r.PostFormValue("basedOn"), 10, 64)
		_, err = u.api.Restore(c.r.Context(), c.p, id, version, basedOn)
	}
	if err != nil {
		u.fail(c, err)
		return
	}
	c.seeOther(integrationPath(id) + "/history?saved=restored")
}

// --- the expiry overview ---

type expiringData struct {
	Days int
	Rows []expiringRow
}

type expiringRow struct {
	admin.Expiry
	OrgName string
	What    string // a message key
}

func (u *UI) expiring(c *reqCtx) {
	days := int(u.api.ExpiryWindow() / (24 * time.Hour))
	if s := c.r.URL.Query().Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3650 {
			u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
			return
		}
		days = n
	}
	list, err := u.api.ExpiringFor(c.r.Context(), c.p, time.Duration(days)*24*time.Hour)
	if err != nil {
		u.fail(c, err)
		return
	}
	d := &expiringData{Days: days}
	what := map[string]string{"metadata": "exp.metadata", "signingCertificate": "exp.signing", "encryptionCertificate": "exp.encryption"}
	for _, e := range list {
		d.Rows = append(d.Rows, expiringRow{Expiry: e, OrgName: u.orgName(e.OrganisationOID, c.lang), What: cmp.Or(what[e.What], "exp.metadata")})
	}
	u.render(c, http.StatusOK, "expiring", u.newPage(c, "expiring.title", d))
}

// --- sign-in ---

type signInData struct {
	Return  string
	OIDCURL string
	Kinds   []admin.RoleKind
	Orgs    []orgChoice
}

func (u *UI) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ret := localPath(r.URL.Query().Get("return"))
	if _, _, err := u.api.BrowserSession(r); err == nil {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	c := &reqCtx{w: w, r: r, lang: langOf(r)}
	d := &signInData{Return: ret, OIDCURL: u.api.SignInURL(ret)}
	if u.cfg.Dev {
		d.Kinds = []admin.RoleKind{admin.KindEditor, admin.KindViewer, admin.KindServiceEditor, admin.KindServiceViewer}
		d.Orgs = append(d.Orgs, orgChoice{OID: admin.AdminOrganisationOID, Name: u.orgName(admin.AdminOrganisationOID, c.lang)})
		for _, o := range u.reg.Current().All() {
			if o.IsEducationProvider() && o.OID != admin.AdminOrganisationOID {
				d.Orgs = append(d.Orgs, orgChoice{OID: o.OID, Name: o.Name.In(c.lang)})
			}
		}
	}
	u.render(c, http.StatusOK, "signin", u.newPage(c, "signin.title", d))
}

// devSignIn signs in as a demo user of the chosen role (development only).
func (u *UI) devSignIn(w http.ResponseWriter, r *http.Request) {
	if !u.cfg.Dev {
		http.NotFound(w, r)
		return
	}
	c := &reqCtx{w: w, r: r, lang: langOf(r)}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		u.fail(c, &statusError{http.StatusForbidden, "err.csrf"})
		return
	}
	name := cmp.Or(strings.TrimSpace(r.PostFormValue("name")), "Demo")
	group := "APP_MPASSID_" + r.PostFormValue("kind") + "_" + strings.TrimSpace(r.PostFormValue("org"))
	if _, ok := admin.ParseRole(group); !ok {
		u.fail(c, &statusError{http.StatusBadRequest, "err.badrequest"})
		return
	}
	if _, err := u.api.StartBrowserSession(w, "dev:"+name, name, []string{group}); err != nil {
		u.fail(c, err)
		return
	}
	u.log.InfoContext(r.Context(), "admin ui: development sign-in", "name", name, "group", group)
	http.Redirect(w, r, localPath(r.PostFormValue("return")), http.StatusSeeOther)
}

func (u *UI) signOut(c *reqCtx) {
	u.api.EndBrowserSession(c.w)
	c.seeOther(Base + "/signin")
}
