package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/demo"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
)

// Demo integration ids, in the national test ranges.
const (
	DemoSetID        int64 = 6000001
	DemoTestSourceID int64 = 4000001
	DemoSAMLID       int64 = 5000001
	DemoOIDCID       int64 = 5000002
	DemoClientID           = "demo-client"
	// DemoProviderOID is the demo city of the built-in fake registry.
	DemoProviderOID = "1.2.246.562.10.99900000001"
	// demoActor is recorded as the author of the seeded revisions.
	demoActor        = "mpassid dev (demo seed)"
	demoSecretFile   = "demo-oidc-client-secret"
	demoSPKeyFile    = "demo-saml-sp.pem"
	demoSAMLPathPart = "/demo/saml"
)

// DemoInfo tells a newcomer what the demo seeding created.
type DemoInfo struct {
	DataDir string
	// Integrations are one-line descriptions for the home page.
	Integrations     []string
	OIDCClientID     string
	OIDCClientSecret string
	SAMLEntityID     string
	// SAMLKey and SAMLCertificate are the demo SAML service's own.
	SAMLKey         *rsa.PrivateKey
	SAMLCertificate *x509.Certificate
	// AdminToken is an API token of the demo admin, who may manage every
	// integration through /api/v2.
	AdminToken string
}

// SeedDemo creates, on the first start of `mpassid dev`, a demo service set
// with one SAML and one OIDC service, and the built-in test identity source
// allowed to log in to them. On later starts it changes nothing and only
// reads back what is there, so that a developer's own changes survive.
func SeedDemo(ctx context.Context, st store.Store, sealer *keys.Sealer, orgs *registry.Lookup, cfg *config.Config, log *slog.Logger) (*DemoInfo, error) {
	spKey, spCert, err := demo.LoadOrCreateSPKey(filepath.Join(cfg.Dev.DataDir, demoSPKeyFile))
	if err != nil {
		return nil, err
	}
	info := &DemoInfo{DataDir: cfg.Dev.DataDir, OIDCClientID: DemoClientID, SAMLKey: spKey, SAMLCertificate: spCert}
	base := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	info.SAMLEntityID = base + demoSAMLPathPart

	_, total, err := st.ListIntegrations(ctx, store.IntegrationFilter{Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("look for existing integrations: %w", err)
	}
	if total == 0 {
		secret, err := seedDemoIntegrations(ctx, st, sealer, orgs, cfg, info)
		if err != nil {
			return nil, err
		}
		if err := writeSecretFile(filepath.Join(cfg.Dev.DataDir, demoSecretFile), secret); err != nil {
			return nil, err
		}
		log.Info("seeded demo integrations", slog.Int("count", 4))
	}

	secret, err := os.ReadFile(filepath.Join(cfg.Dev.DataDir, demoSecretFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read demo client secret: %w", err)
	}
	info.OIDCClientSecret = strings.TrimSpace(string(secret))

	all, _, err := st.ListIntegrations(ctx, store.IntegrationFilter{Limit: 50})
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	for _, in := range all {
		desc := fmt.Sprintf("%d: %s %s %q (%s, %s)", in.ID, in.Role, in.Type(), in.Name(), in.DeploymentPhase, in.Status)
		info.Integrations = append(info.Integrations, desc)
	}
	return info, nil
}

// demoOrganisation is the organisation the demo source and services belong
// to: the demo city of the built-in registry, or else, in a registry
// without it (the national fake, a real one), its first active education
// provider, so that they validate in the management service like any
// other integration there. OPH's root only when the registry is empty.
func demoOrganisation(orgs *registry.Lookup) string {
	if city, ok := orgs.ByOID(DemoProviderOID); ok {
		return city.OID
	}
	all := orgs.All()
	for i := range all {
		if o := &all[i]; o.IsEducationProvider() && o.IsActive() {
			return o.OID
		}
	}
	return model.RootOID
}

func seedDemoIntegrations(ctx context.Context, st store.Store, sealer *keys.Sealer, orgs *registry.Lookup, cfg *config.Config, info *DemoInfo) (string, error) {
	base := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	org := demoOrganisation(orgs)

	set := &model.Integration{
		ID: DemoSetID, OrganisationOID: org, Role: model.RoleSet,
		DeploymentPhase: model.PhaseTest, Status: model.StatusActive,
		Set: &model.Set{Name: "Demopalvelut", AllowTestLearnerID: true},
		Attributes: []model.Attribute{
			{Name: "allowtestlearnerid", Content: "true", Type: model.AttributeData},
		},
	}
	source := &model.Integration{
		ID: DemoTestSourceID, OrganisationOID: org, Role: model.RoleIdP,
		DeploymentPhase: model.PhaseTest, Status: model.StatusActive,
		IdP: &model.IdP{
			Type: model.IdPTest, IdPID: "testi", FlowName: "Testi",
			InstitutionTypes: []int{11, 12, 15, 19},
			Discovery: model.DiscoveryInformation{
				CustomDisplayName: "Testikirjautuminen", ShowSchools: true, Title: "Testi",
			},
		},
	}

	secret, err := randomSecret()
	if err != nil {
		return "", err
	}
	sealedSecret, err := sealer.SealString(secret, DemoClientID)
	if err != nil {
		return "", fmt.Errorf("seal demo client secret: %w", err)
	}
	oidcSP := &model.Integration{
		ID: DemoOIDCID, OrganisationOID: org, Role: model.RoleSP,
		DeploymentPhase: model.PhaseTest, Status: model.StatusActive,
		SP: &model.SP{
			Type: model.SPTypeOIDC, Name: "Demo-OIDC-palvelu", SetID: DemoSetID,
			OIDC: &model.OIDCMetadata{
				ClientID:                DemoClientID,
				ClientSecret:            sealedSecret,
				RedirectURIs:            []string{base + "/demo/oidc/callback"},
				PostLogoutRedirectURIs:  []string{base + "/demo/oidc/"},
				GrantTypes:              []string{"authorization_code"},
				ResponseTypes:           []string{"code"},
				Scope:                   "openid profile",
				TokenEndpointAuthMethod: "client_secret_basic",
				SubjectType:             "public",
			},
		},
	}
	samlSP := &model.Integration{
		ID: DemoSAMLID, OrganisationOID: org, Role: model.RoleSP,
		DeploymentPhase: model.PhaseTest, Status: model.StatusActive,
		SP: &model.SP{
			Type: model.SPTypeSAML, Name: "Demo-SAML-palvelu", SetID: DemoSetID,
			SAML: &model.SAMLMetadata{
				EntityID: info.SAMLEntityID,
				ACS: []model.ACSEndpoint{{
					Binding:  "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
					Location: base + demoSAMLPathPart + "/acs", Index: 0, IsDefault: true,
				}},
				SigningCertificates: []string{base64.StdEncoding.EncodeToString(info.SAMLCertificate.Raw)},
				SingleLogout: []model.Endpoint{{
					Binding:  "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
					Location: base + demoSAMLPathPart + "/slo",
				}},
				WantAssertionsSigned: true,
			},
		},
	}
	for _, in := range []*model.Integration{set, source, oidcSP, samlSP} {
		if err := in.Validate(); err != nil {
			return "", fmt.Errorf("demo integration %d: %w", in.ID, err)
		}
		if _, err := st.CreateIntegration(ctx, in, demoActor); err != nil {
			return "", fmt.Errorf("create demo integration %d: %w", in.ID, err)
		}
	}
	return secret, nil
}

// randomSecret returns 32 random bytes as URL-safe base64, the form client
// secrets are handed out in.
func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// writeSecretFile keeps the demo client's secret readable for the developer
// only. It exists in dev mode alone; production secrets are shown once.
func writeSecretFile(path, secret string) error {
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write demo client secret: %w", err)
	}
	return nil
}
