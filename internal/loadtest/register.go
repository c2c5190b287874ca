package loadtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mpassid/mpassid/internal/admin/exchange"
)

// adminClient speaks the management API (/api/v2) with a bearer token.
type adminClient struct {
	c     *http.Client
	base  string
	token string
}

func (a *adminClient) call(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+"/api/v2"+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("management API %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return fmt.Errorf("management API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("management API %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("management API %s %s: HTTP %d: %s", method, path, resp.StatusCode, snippet(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("management API %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func (a *adminClient) create(ctx context.Context, rec *exchange.Record) (*exchange.Record, error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode integration: %w", err)
	}
	var out exchange.Record
	if err := a.call(ctx, http.MethodPost, "/integration", "application/json", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (a *adminClient) inactivate(ctx context.Context, id int64) error {
	return a.call(ctx, http.MethodDelete, "/integration/"+strconv.FormatInt(id, 10)+"/inactive", "", nil, nil)
}

// findTestSource returns the id of the active test source with the
// flowName, and the organisation it belongs to.
func (a *adminClient) findTestSource(ctx context.Context, flowName string) (int64, string, error) {
	var page struct {
		Content []exchange.Record `json:"content"`
	}
	q := url.Values{"role": {"idp"}, "type": {"test"}, "status": {"active"}, "size": {"500"}}
	if err := a.call(ctx, http.MethodGet, "/integration/search?"+q.Encode(), "", nil, &page); err != nil {
		return 0, "", err
	}
	for _, r := range page.Content {
		if idp := r.ConfigurationEntity.IdP; idp != nil && strings.EqualFold(idp.FlowName, flowName) && r.DeploymentPhase != 1 {
			org := ""
			if r.Organization != nil {
				org = r.Organization.OID
			}
			return r.ID, org, nil
		}
	}
	return 0, "", fmt.Errorf("no active test source with flowName %q (see --test-flow)", flowName)
}

// registration is what the tool registered for one run.
type registration struct {
	setID        int64
	created      []int64
	clientID     string
	clientSecret string
	samlSPID     int64
	samlIdPID    int64
	oidcIdPID    int64
	testSourceID int64
}

// register creates the tool's set, services and upstream sources. What it
// created is in reg even when it fails, for cleanup.
func (r *runner) register(ctx context.Context, reg *registration) error {
	a := r.admin
	testSourceID, testSourceOrg, err := a.findTestSource(ctx, r.opts.TestSourceFlow)
	if err != nil && r.usesSource(SourceTest) {
		return err
	}
	reg.testSourceID = testSourceID
	// Without --organisation the tool's integrations join the test
	// source's organisation, which the registry knows whichever registry
	// the instance runs on (mpassid dev's demo city, or an education
	// provider of the national fake).
	oid := r.opts.Organisation
	if oid == "" {
		oid = cmp.Or(testSourceOrg, DefaultOrganisation)
	}
	org := &exchange.Organization{OID: oid}
	set, err := a.create(ctx, &exchange.Record{
		Organization: org,
		ConfigurationEntity: exchange.ConfigurationEntity{
			Set:        &exchange.SetEntity{Name: "mpassid loadtest " + r.runID},
			Attributes: []exchange.Attribute{{Name: "allowtestlearnerid", Content: "true", Type: "data"}},
		},
	})
	if err != nil {
		return fmt.Errorf("create the tool's service set: %w", err)
	}
	reg.setID = set.ID
	reg.created = append(reg.created, set.ID)
	group := []exchange.GroupRef{{ID: exchange.FlexInt(set.ID)}}

	if r.usesFlow(FlowOIDC) {
		sp, err := a.create(ctx, &exchange.Record{
			Organization: org, IntegrationGroups: group,
			ConfigurationEntity: exchange.ConfigurationEntity{SP: &exchange.SPEntity{
				Type: "oidc", Name: "mpassid loadtest OIDC " + r.runID,
				Metadata: exchange.SPMetadata{
					RedirectURIs: []string{r.redirectURI}, GrantTypes: []string{"authorization_code"},
					ResponseTypes: []string{"code"}, Scope: "openid profile",
					TokenEndpointAuthMethod: "client_secret_basic", SubjectType: "public",
				},
			}},
		})
		if err != nil {
			return fmt.Errorf("register the tool's OIDC service: %w", err)
		}
		reg.created = append(reg.created, sp.ID)
		if sp.ConfigurationEntity.SP == nil || sp.ConfigurationEntity.SP.Metadata.ClientID == "" || sp.ConfigurationEntity.SP.Metadata.ClientSecret == "" {
			return fmt.Errorf("register the tool's OIDC service: no client_id and client_secret in the answer")
		}
		reg.clientID, reg.clientSecret = sp.ConfigurationEntity.SP.Metadata.ClientID, sp.ConfigurationEntity.SP.Metadata.ClientSecret
	}
	if r.usesFlow(FlowSAML) {
		t := true
		sp, err := a.create(ctx, &exchange.Record{
			Organization: org, IntegrationGroups: group,
			ConfigurationEntity: exchange.ConfigurationEntity{SP: &exchange.SPEntity{
				Type: "saml", Name: "mpassid loadtest SAML " + r.runID,
				Metadata: exchange.SPMetadata{
					EntityID:             r.sp.entityID,
					ACS:                  []exchange.ACS{{Bindings: "HTTP-POST", Location: r.sp.acs, Index: 0, IsDefault: true}},
					SigningCertificates:  []string{base64.StdEncoding.EncodeToString(r.sp.kp.cert.Raw)},
					AuthnRequestsSigned:  &t,
					WantAssertionsSigned: &t,
				},
			}},
		})
		if err != nil {
			return fmt.Errorf("register the tool's SAML service: %w", err)
		}
		reg.created = append(reg.created, sp.ID)
		reg.samlSPID = sp.ID
	}
	perms := []int64{set.ID}
	if r.samlIdP != nil {
		idp, err := a.create(ctx, &exchange.Record{
			Organization: org, Permissions: perms,
			DiscoveryInformation: &exchange.DiscoveryInformation{CustomDisplayName: "Loadtest SAML " + r.runID, Title: "SAML"},
			ConfigurationEntity: exchange.ConfigurationEntity{IdP: &exchange.IdPEntity{
				Type: "saml", IdPID: "loadtest_saml_" + r.runID, FlowName: r.samlIdP.flowName,
				EntityID: r.samlIdP.entityID, InstitutionTypes: []int{11},
				// Required on creation; the document uploaded next replaces it
				// (the broker could not fetch it: the tool's certificate is
				// self-signed).
				MetadataURL: r.samlIdP.base + "/metadata",
			}},
		})
		if err != nil {
			return fmt.Errorf("register the tool's upstream SAML IdP: %w", err)
		}
		reg.created = append(reg.created, idp.ID)
		reg.samlIdPID = idp.ID
		if err := a.call(ctx, http.MethodPost, "/idp/saml/metadata/"+strconv.FormatInt(idp.ID, 10), "application/samlmetadata+xml", r.samlIdP.metadata(), nil); err != nil {
			return fmt.Errorf("upload the upstream SAML IdP's metadata: %w", err)
		}
	}
	if r.oidcOP != nil {
		idp, err := a.create(ctx, &exchange.Record{
			Organization: org, Permissions: perms,
			DiscoveryInformation: &exchange.DiscoveryInformation{CustomDisplayName: "Loadtest OIDC " + r.runID, Title: "OIDC"},
			ConfigurationEntity: exchange.ConfigurationEntity{IdP: &exchange.IdPEntity{
				Type: "oidc", IdPID: "loadtest_oidc_" + r.runID, FlowName: r.oidcOP.flowName,
				Issuer: r.oidcOP.issuer, ClientID: r.oidcOP.clientID, ClientSecret: r.oidcOP.clientSecret,
				InstitutionTypes: []int{11},
			}},
		})
		if err != nil {
			return fmt.Errorf("register the tool's upstream OpenID provider: %w", err)
		}
		reg.created = append(reg.created, idp.ID)
		reg.oidcIdPID = idp.ID
	}
	return nil
}

// unregister inactivates what register created, newest first.
func (r *runner) unregister(ctx context.Context, reg *registration) error {
	var first error
	for i := len(reg.created) - 1; i >= 0; i-- {
		if err := r.admin.inactivate(ctx, reg.created[i]); err != nil && first == nil {
			first = fmt.Errorf("inactivate integration %d: %w", reg.created[i], err)
		}
	}
	return first
}
