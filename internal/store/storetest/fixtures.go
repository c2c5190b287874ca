package storetest

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// ms returns a time truncated to milliseconds, the precision every store
// must preserve.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func randomID() string { return rand.Text() }

func idp(phase model.DeploymentPhase, name string) *model.Integration {
	return &model.Integration{
		OrganisationOID: "1.2.246.562.10.11111111111",
		Role:            model.RoleIdP,
		DeploymentPhase: phase,
		Status:          model.StatusActive,
		IdP: &model.IdP{
			Type:      model.IdPWilma,
			IdPID:     "wilma_" + randomID()[:6],
			FlowName:  "wilmaFlow",
			Hostname:  "wilma.example.fi",
			Discovery: model.DiscoveryInformation{CustomDisplayName: name, Schools: []string{"00001"}},
		},
		Attributes: []model.Attribute{{Name: "hostname", Content: "wilma.example.fi", Type: model.AttributeData}},
	}
}

func samlSP(phase model.DeploymentPhase, name, entityID string) *model.Integration {
	return &model.Integration{
		OrganisationOID: "1.2.246.562.10.22222222222",
		Role:            model.RoleSP,
		DeploymentPhase: phase,
		Status:          model.StatusActive,
		SP: &model.SP{
			Type:  model.SPTypeSAML,
			Name:  name,
			SetID: 3000000,
			SAML: &model.SAMLMetadata{
				EntityID: entityID,
				ACS:      []model.ACSEndpoint{{Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", Location: "https://sp.example.fi/acs", IsDefault: true}},
			},
		},
	}
}

func oidcSP(phase model.DeploymentPhase, name, clientID string) *model.Integration {
	return &model.Integration{
		OrganisationOID: "1.2.246.562.10.33333333333",
		Role:            model.RoleSP,
		DeploymentPhase: phase,
		Status:          model.StatusActive,
		SP: &model.SP{
			Type:  model.SPTypeOIDC,
			Name:  name,
			SetID: 3000000,
			OIDC:  &model.OIDCMetadata{ClientID: clientID, RedirectURIs: []string{"https://rp.example.fi/cb"}},
		},
	}
}

func set(phase model.DeploymentPhase, name string) *model.Integration {
	return &model.Integration{
		OrganisationOID: "1.2.246.562.10.44444444444",
		Role:            model.RoleSet,
		DeploymentPhase: phase,
		Status:          model.StatusActive,
		Set:             &model.Set{Name: name, Type: "palvelu"},
	}
}

// orgs returns n organisations with OIDs 1.2.246.562.10.<prefix><i> and
// names tagged with gen.
func orgs(prefix string, n int, gen string) []model.Organisation {
	start := time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC)
	out := make([]model.Organisation, n)
	for i := range out {
		out[i] = model.Organisation{
			OID:              fmt.Sprintf("1.2.246.562.10.%s%08d", prefix, i),
			ParentOID:        "1.2.246.562.10.00000000001",
			ParentOIDPath:    []string{"1.2.246.562.10.00000000001"},
			Name:             model.LocalizedName{Fi: fmt.Sprintf("Koulu %d %s", i, gen), Sv: fmt.Sprintf("Skola %d", i)},
			Types:            []string{model.OrgTypeSchool},
			SchoolCode:       fmt.Sprintf("%05d", i),
			InstitutionType:  11,
			MunicipalityCode: "091",
			Languages:        []string{"fi"},
			Status:           model.OrgActive,
			StartDate:        &start,
		}
	}
	return out
}
