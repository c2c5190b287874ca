package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// provisioningBundle exports the active integrations (of one phase when
// ?deploymentPhase= is given) in the national shape.
func (a *API) provisioningBundle(r *http.Request) (*exchange.Bundle, error) {
	f := store.IntegrationFilter{Status: model.StatusActive, Sort: "id"}
	if s := r.URL.Query().Get("deploymentPhase"); s != "" {
		n, err := strconv.Atoi(s)
		ph := model.DeploymentPhase(n)
		if err != nil || !ph.Valid() {
			return nil, badRequest("deploymentPhase must be 0, 1 or 2")
		}
		f.DeploymentPhase = &ph
	}
	all, _, err := a.st.ListIntegrations(r.Context(), f)
	if err != nil {
		return nil, err
	}
	return exchange.ExportOf(all), nil
}

func (a *API) handleProvisioningIdPs(w http.ResponseWriter, r *http.Request, _ *Principal) {
	b, err := a.provisioningBundle(r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"identityProviders": b.IdentityProviders})
}

func (a *API) handleProvisioningSPs(w http.ResponseWriter, r *http.Request, _ *Principal) {
	b, err := a.provisioningBundle(r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"serviceProviders": b.Services, "integrationGroups": b.IntegrationGroups})
}

// PhaseStatus tells whether a deployment phase changed since the last
// recorded provisioning run.
type PhaseStatus struct {
	DeploymentPhase int        `json:"deploymentPhase"`
	Changed         bool       `json:"changed"`
	LastProvisioned *time.Time `json:"lastProvisioned,omitempty"`
	LastUpdated     *time.Time `json:"lastUpdated,omitempty"`
}

func (a *API) handleProvisioningStatus(w http.ResponseWriter, r *http.Request, _ *Principal) {
	runs, err := a.st.LastProvisioning(r.Context())
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	out := []PhaseStatus{}
	for _, ph := range []model.DeploymentPhase{model.PhaseTest, model.PhaseProduction, model.PhasePreProduction} {
		list, _, err := a.st.ListIntegrations(r.Context(), store.IntegrationFilter{DeploymentPhase: &ph, Sort: "-updatedAt", Limit: 1})
		if err != nil {
			a.failErr(w, r, err)
			return
		}
		s := PhaseStatus{DeploymentPhase: int(ph)}
		if t, ok := runs[ph]; ok {
			s.LastProvisioned = &t
		}
		if len(list) > 0 {
			u := list[0].UpdatedAt
			s.LastUpdated = &u
		}
		s.Changed = s.LastUpdated != nil && (s.LastProvisioned == nil || s.LastUpdated.After(*s.LastProvisioned))
		out = append(out, s)
	}
	a.writeJSON(w, http.StatusOK, out)
}

// ProvisioningRun records a run of the national proxy's provisioning.
type ProvisioningRun struct {
	DeploymentPhase *int       `json:"deploymentPhase"`
	LastTime        *time.Time `json:"lastTime,omitempty"`
}

func (a *API) handleProvisioningRecord(w http.ResponseWriter, r *http.Request, _ *Principal) {
	var run ProvisioningRun
	if err := decodeJSON(w, r, &run); err != nil {
		a.failErr(w, r, err)
		return
	}
	if run.DeploymentPhase == nil || !model.DeploymentPhase(*run.DeploymentPhase).Valid() {
		a.failErr(w, r, &model.FieldError{Field: "deploymentPhase", Message: "must be 0, 1 or 2"})
		return
	}
	at := a.now().UTC()
	if run.LastTime != nil {
		at = run.LastTime.UTC()
	}
	if err := a.st.RecordProvisioning(r.Context(), model.DeploymentPhase(*run.DeploymentPhase), at); err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"deploymentPhase": *run.DeploymentPhase, "lastTime": at})
}
