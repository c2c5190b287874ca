package model

import (
	"errors"
	"testing"
)

func TestIntegrationIDRange(t *testing.T) {
	tests := []struct {
		role     Role
		phase    DeploymentPhase
		min, max int64
	}{
		{RoleIdP, PhaseProduction, 1000000, 1999999},
		{RoleSP, PhaseProduction, 2000000, 2999999},
		{RoleSet, PhaseProduction, 3000000, 3999999},
		{RoleIdP, PhaseTest, 4000000, 4999999},
		{RoleSP, PhaseTest, 5000000, 5999999},
		{RoleSet, PhaseTest, 6000000, 6999999},
		{RoleSP, PhasePreProduction, 5000000, 5999999},
	}
	for _, tt := range tests {
		r, err := IntegrationIDRange(tt.role, tt.phase)
		if err != nil || r.Min != tt.min || r.Max != tt.max {
			t.Errorf("%s/%s: %+v, %v; want %d-%d", tt.role, tt.phase, r, err, tt.min, tt.max)
		}
	}
	if _, err := IntegrationIDRange("bogus", PhaseTest); err == nil {
		t.Error("unknown role accepted")
	}
}

func TestValidate(t *testing.T) {
	valid := func() *Integration {
		return &Integration{Role: RoleSP, DeploymentPhase: PhaseTest, Status: StatusActive,
			SP: &SP{Type: SPTypeOIDC, OIDC: &OIDCMetadata{ClientID: "c"}}}
	}
	tests := []struct {
		name  string
		edit  func(*Integration)
		field string
	}{
		{"valid", func(*Integration) {}, ""},
		{"bad role", func(in *Integration) { in.Role = "x" }, "role"},
		{"bad phase", func(in *Integration) { in.DeploymentPhase = 7 }, "deploymentPhase"},
		{"bad status", func(in *Integration) { in.Status = "gone" }, "status"},
		{"two configurations", func(in *Integration) { in.Set = &Set{} }, "configurationEntity"},
		{"role mismatch", func(in *Integration) { in.Role = RoleIdP }, "configurationEntity.idp"},
		{"oidc without client_id", func(in *Integration) { in.SP.OIDC.ClientID = "" }, "configurationEntity.sp.metadata.client_id"},
		{"saml without entityId", func(in *Integration) { in.SP = &SP{Type: SPTypeSAML} }, "configurationEntity.sp.metadata.entityId"},
		{"unknown sp type", func(in *Integration) { in.SP.Type = "ws-fed" }, "configurationEntity.sp.type"},
		{"idp without idpId", func(in *Integration) {
			in.Role, in.SP, in.IdP = RoleIdP, nil, &IdP{Type: IdPWilma}
		}, "configurationEntity.idp.idpId"},
		{"idp of unknown type", func(in *Integration) {
			in.Role, in.SP, in.IdP = RoleIdP, nil, &IdP{Type: "carrier-pigeon", IdPID: "x"}
		}, "configurationEntity.idp.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(in)
			err := in.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("error %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
}

func TestLocalizedNameFallback(t *testing.T) {
	tests := []struct {
		name LocalizedName
		lang string
		want string
	}{
		{LocalizedName{Fi: "Koulu", Sv: "Skola", En: "School"}, "sv", "Skola"},
		{LocalizedName{Fi: "Koulu", Sv: "Skola", En: "School"}, "en", "School"},
		{LocalizedName{Fi: "Koulu"}, "sv", "Koulu"},
		{LocalizedName{Sv: "Skola"}, "fi", "Skola"},
		{LocalizedName{En: "School"}, "fi", "School"},
		{LocalizedName{Sv: "Skola", En: "School"}, "en", "School"},
		{LocalizedName{}, "fi", ""},
	}
	for _, tt := range tests {
		if got := tt.name.In(tt.lang); got != tt.want {
			t.Errorf("%+v.In(%q) = %q, want %q", tt.name, tt.lang, got, tt.want)
		}
	}
}

func TestIdPAllows(t *testing.T) {
	all := &IdP{}
	some := &IdP{Permissions: []int64{6000001, 6000003}}
	if !all.Allows(6000002) {
		t.Error("empty permissions must allow every set")
	}
	if !some.Allows(6000003) || some.Allows(6000002) {
		t.Error("permissions not honoured")
	}
}

func TestOrganisationKinds(t *testing.T) {
	school := Organisation{Types: []string{OrgTypeSchool}, Status: OrgActive}
	office := Organisation{Types: []string{OrgTypeOffice}}
	daycare := Organisation{Types: []string{OrgTypeEarlyEducationUnit}}
	provider := Organisation{Types: []string{OrgTypeEducationProvider, OrgTypeEarlyEducationProvider}}
	if !school.IsSchool() || !school.IsActive() || school.IsOffice() {
		t.Error("school misclassified")
	}
	if !office.IsOffice() || !daycare.IsOffice() || office.IsActive() {
		t.Error("office misclassified")
	}
	if !provider.IsEducationProvider() || provider.IsSchool() {
		t.Error("provider misclassified")
	}
}
