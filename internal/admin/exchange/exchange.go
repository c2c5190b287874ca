package exchange

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// Export returns every active integration in the national shape, each list
// in id order. Secrets are masked.
func Export(ctx context.Context, st store.Integrations) (*Bundle, error) {
	all, _, err := st.ListIntegrations(ctx, store.IntegrationFilter{Status: model.StatusActive, Sort: "id"})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return ExportOf(all), nil
}

// ExportOf writes the given integrations (active ones) as a bundle.
func ExportOf(all []*model.Integration) *Bundle {
	bySet := map[int64][]*model.Integration{}
	for _, in := range all {
		if in.Active() && in.SP != nil && in.SP.SetID != 0 {
			bySet[in.SP.SetID] = append(bySet[in.SP.SetID], in)
		}
	}
	o := Options{Export: true, ServicesOfSet: func(id int64) []*model.Integration { return bySet[id] }}
	b := &Bundle{IdentityProviders: []Record{}, Services: []Record{}, IntegrationGroups: []Record{}}
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b *model.Integration) int { return cmp.Compare(a.ID, b.ID) })
	for _, in := range sorted {
		if !in.Active() {
			continue
		}
		r := *FromModel(in, o)
		switch in.Role {
		case model.RoleIdP:
			b.IdentityProviders = append(b.IdentityProviders, r)
		case model.RoleSP:
			b.Services = append(b.Services, r)
		case model.RoleSet:
			b.IntegrationGroups = append(b.IntegrationGroups, r)
		}
	}
	return b
}

// ImportOptions tune Import.
type ImportOptions struct {
	// DryRun reports what would change and changes nothing.
	DryRun bool
	// Actor is recorded in the revisions.
	Actor string
	// Sealer seals secrets given in clear; without it such secrets are an
	// error.
	Sealer *keys.Sealer
}

// Change is what Import does (or would do) to one integration.
type Change struct {
	ID     int64      `json:"id"`
	Role   model.Role `json:"role"`
	Name   string     `json:"name"`
	Action string     `json:"action"` // "create", "update" or "unchanged"
}

// Report tells what an import changed or would change.
type Report struct {
	DryRun   bool     `json:"dryRun"`
	Changes  []Change `json:"changes"`
	Warnings []string `json:"warnings,omitempty"`
}

// Counts returns how many integrations are created, updated and unchanged.
func (r *Report) Counts() (created, updated, unchanged int) {
	for _, c := range r.Changes {
		switch c.Action {
		case "create":
			created++
		case "update":
			updated++
		default:
			unchanged++
		}
	}
	return
}

// ErrInvalid is matched by an import refused because a record is invalid;
// nothing was written.
var ErrInvalid = errors.New("invalid import")

// Import creates or updates the integrations of b, keeping their ids: sets
// first, then services, then identity providers (whose allowed services
// become set permissions). Every record is converted and checked before the
// first write, so a bad record changes nothing; each integration is then
// saved atomically (a failure of the store part-way leaves the earlier ones
// saved, and running the import again completes it).
//
// Secrets given in clear (an OIDC client_secret, an IdP sharedSecret or
// clientSecret) are sealed; masked or empty ones keep what is stored. Secret
// attributes (clientKey) are never stored in clear: they are masked and
// reported.
func Import(ctx context.Context, st store.Integrations, b *Bundle, o ImportOptions) (*Report, error) {
	rep := &Report{DryRun: o.DryRun, Changes: []Change{}}
	var planned []*model.Integration
	warn := func(format string, args ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...)) }

	convert := func(r *Record, resolve ResolveService) (*model.Integration, error) {
		in, unresolved, err := ToModel(r, resolve)
		if err != nil {
			return nil, fmt.Errorf("integration %d: %w: %w", r.ID, ErrInvalid, err)
		}
		for _, a := range unresolved {
			warn("integration %d: allowed service %s%s has no set here; it is not allowed", r.ID, a.EntityID, a.ClientID)
		}
		if in.ID == 0 {
			return nil, fmt.Errorf("integration without an id: %w", ErrInvalid)
		}
		if err := in.Validate(); err != nil {
			return nil, fmt.Errorf("integration %d: %w: %w", r.ID, ErrInvalid, err)
		}
		for i, a := range in.Attributes {
			if a.Type == model.AttributeData && IsSecretAttribute(a.Name) && a.Content != "" && a.Content != AttributeMask {
				in.Attributes[i].Content = AttributeMask
				warn("integration %d: secret attribute %s is not imported in clear; set it through the API", in.ID, a.Name)
			}
		}
		planned = append(planned, in)
		return in, nil
	}

	// Services name their set; IdPs name services. Resolve the services
	// of this import first, then those already stored.
	setOf := map[string]int64{}
	services := append(slices.Clone(b.Services), b.ServiceProviders...)
	for i := range b.IntegrationGroups {
		if _, err := convert(&b.IntegrationGroups[i], nil); err != nil {
			return nil, err
		}
	}
	for i := range services {
		in, err := convert(&services[i], nil)
		if err != nil {
			return nil, err
		}
		if in.EntityID() != "" {
			setOf["saml:"+in.EntityID()] = in.SP.SetID
		}
		if in.ClientID() != "" {
			setOf["oidc:"+in.ClientID()] = in.SP.SetID
		}
	}
	resolve := func(a AllowedService) (int64, bool) {
		key := a.Type + ":" + a.EntityID + a.ClientID
		if id, ok := setOf[key]; ok {
			return id, id != 0
		}
		var svc *model.Integration
		var err error
		if a.EntityID != "" {
			svc, err = st.FindByEntityID(ctx, a.EntityID)
		} else {
			svc, err = st.FindByClientID(ctx, a.ClientID)
		}
		if err != nil || svc.SP == nil || svc.SP.SetID == 0 {
			return 0, false
		}
		return svc.SP.SetID, true
	}
	for i := range b.IdentityProviders {
		if _, err := convert(&b.IdentityProviders[i], resolve); err != nil {
			return nil, err
		}
	}

	// Decide each change before writing anything.
	type write struct {
		in     *model.Integration
		create bool
	}
	var writes []write
	for _, in := range planned {
		old, err := st.GetIntegration(ctx, in.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return nil, fmt.Errorf("import: %w", err)
		}
		if err := mergeSecrets(in, old, o.Sealer); err != nil {
			return nil, fmt.Errorf("integration %d: %w", in.ID, err)
		}
		action := "create"
		if old != nil {
			carryOver(in, old)
			in.Version = old.Version
			action = "update"
			if same, err := Same(in, old); err != nil {
				return nil, fmt.Errorf("integration %d: %w", in.ID, err)
			} else if same {
				action = "unchanged"
			}
		}
		rep.Changes = append(rep.Changes, Change{ID: in.ID, Role: in.Role, Name: in.Name(), Action: action})
		if action != "unchanged" {
			writes = append(writes, write{in, old == nil})
		}
	}
	if o.DryRun {
		return rep, nil
	}
	for _, w := range writes {
		var err error
		if w.create {
			_, err = st.CreateIntegration(ctx, w.in, o.Actor)
		} else {
			_, err = st.UpdateIntegration(ctx, w.in, o.Actor)
		}
		if err != nil {
			return rep, fmt.Errorf("import integration %d: %w", w.in.ID, err)
		}
	}
	return rep, nil
}

// carryOver keeps what the national shape does not carry from the stored
// integration: an uploaded metadata document, expiry dates, dates.
func carryOver(in, old *model.Integration) {
	if in.IdP != nil && old.IdP != nil {
		if in.IdP.Metadata == "" {
			in.IdP.Metadata = old.IdP.Metadata
		}
		in.IdP.MetadataValidUntil = cmp.Or(in.IdP.MetadataValidUntil, old.IdP.MetadataValidUntil)
		in.IdP.SigningCertificateValidUntil = cmp.Or(in.IdP.SigningCertificateValidUntil, old.IdP.SigningCertificateValidUntil)
		in.IdP.EncryptionCertificateValidUntil = cmp.Or(in.IdP.EncryptionCertificateValidUntil, old.IdP.EncryptionCertificateValidUntil)
	}
	in.AcceptanceDate = cmp.Or(in.AcceptanceDate, old.AcceptanceDate)
	in.DeploymentDate = cmp.Or(in.DeploymentDate, old.DeploymentDate)
	in.ServiceContactAddress = cmp.Or(in.ServiceContactAddress, old.ServiceContactAddress)
}

// mergeSecrets seals the secrets in given in clear and keeps the stored
// ones where in has none or a mask. A clear secret equal to the stored one
// keeps the stored sealed value, so that re-importing changes nothing.
func mergeSecrets(in, old *model.Integration, sealer *keys.Sealer) error {
	merge := func(field string, val *string, oldSealed, ad string) error {
		if *val == "" || *val == Mask {
			*val = oldSealed
			return nil
		}
		if keys.IsSealedString(*val) {
			return fmt.Errorf("%s: %w: a sealed value cannot be imported", field, ErrInvalid)
		}
		if sealer == nil {
			return fmt.Errorf("%s: %w: a secret in clear needs the master key", field, ErrInvalid)
		}
		if oldSealed != "" {
			if clear, err := sealer.OpenString(oldSealed, ad); err == nil && clear == *val {
				*val = oldSealed
				return nil
			}
		}
		sealed, err := sealer.SealString(*val, ad)
		if err != nil {
			return fmt.Errorf("%s: seal: %w", field, err)
		}
		*val = sealed
		return nil
	}
	switch {
	case in.SP != nil && in.SP.OIDC != nil:
		var oldSealed string
		if old != nil && old.SP != nil && old.SP.OIDC != nil && old.SP.OIDC.ClientID == in.SP.OIDC.ClientID {
			oldSealed = old.SP.OIDC.ClientSecret
		}
		return merge("client_secret", &in.SP.OIDC.ClientSecret, oldSealed, in.SP.OIDC.ClientID)
	case in.IdP != nil:
		var oldShared, oldClient string
		if old != nil && old.IdP != nil && old.IdP.IdPID == in.IdP.IdPID {
			oldShared, oldClient = old.IdP.SharedSecret, old.IdP.ClientSecret
		}
		if err := merge("sharedSecret", &in.IdP.SharedSecret, oldShared, in.IdP.SecretContext("sharedSecret")); err != nil {
			return err
		}
		return merge("clientSecret", &in.IdP.ClientSecret, oldClient, in.IdP.SecretContext("clientSecret"))
	}
	return nil
}

// Same reports whether two integrations hold the same configuration,
// ignoring version and timestamps.
func Same(a, b *model.Integration) (bool, error) {
	ja, err := canonical(a)
	if err != nil {
		return false, err
	}
	jb, err := canonical(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}

func canonical(in *model.Integration) ([]byte, error) {
	c := *in
	c.Version, c.UpdatedBy = 0, ""
	c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
	return json.Marshal(&c)
}
