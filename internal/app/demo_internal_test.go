package app

import (
	"testing"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
)

// The demo integrations belong to an organisation the registry knows, so
// that the management service accepts them when they are edited: the demo
// city, or in the national fake an education provider of its own.
func TestDemoOrganisation(t *testing.T) {
	provider := func(oid string, status model.OrgStatus) model.Organisation {
		return model.Organisation{OID: oid, Types: []string{model.OrgTypeEducationProvider}, Status: status}
	}
	school := model.Organisation{OID: "1.2.246.562.10.3", Types: []string{model.OrgTypeSchool}, Status: model.OrgActive}
	cases := []struct {
		name string
		orgs []model.Organisation
		want string
	}{
		{"the demo city", []model.Organisation{provider("1.2.246.562.10.2", model.OrgActive), provider(DemoProviderOID, model.OrgActive)}, DemoProviderOID},
		{"another registry", []model.Organisation{school, provider("1.2.246.562.10.4", model.OrgPassive), provider("1.2.246.562.10.5", model.OrgActive)}, "1.2.246.562.10.5"},
		{"no provider", []model.Organisation{school}, model.RootOID},
		{"empty", nil, model.RootOID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := demoOrganisation(registry.NewLookup(tc.orgs)); got != tc.want {
				t.Errorf("demoOrganisation = %s, want %s", got, tc.want)
			}
		})
	}

	national := registry.NewLookup(fakeopas.Generate(1, fakeopas.SizeNational).Orgs())
	oid := demoOrganisation(national)
	if o, ok := national.ByOID(oid); !ok || !o.IsEducationProvider() {
		t.Errorf("in the national fake the demo belongs to %s, which is no education provider of it", oid)
	}
}
