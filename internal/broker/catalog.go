package broker

import (
	"sort"

	"github.com/mpassid/mpassid/internal/model"
)

// Service is a service (SP integration) with its set, as logins need it.
type Service struct {
	Integration *model.Integration
	// Set is the service's set (nil if the set is missing or inactive).
	Set *model.Integration
}

// ID returns the service's integration id.
func (s *Service) ID() int64 { return s.Integration.ID }

// AllowTestLearnerID reports whether the service's set may receive test
// learner ids.
func (s *Service) AllowTestLearnerID() bool {
	return s.Set != nil && s.Set.Set != nil && s.Set.Set.AllowTestLearnerID
}

// Catalog is an immutable snapshot of the active configuration, built from
// the store and swapped atomically when it changes: a login never queries
// the database for configuration.
type Catalog struct {
	Version    int64
	services   map[int64]*Service
	byClientID map[string]*Service
	byEntityID map[string]*Service
	// sources are the active IdP integrations in id order; sourceByID
	// finds one on the callback path.
	sources    []*model.Integration
	sourceByID map[int64]*model.Integration
	sets       map[int64]*model.Integration
	// active are all active integrations, for reports.
	active []*model.Integration
}

// Active returns every active integration of the snapshot. The slice and the
// integrations are shared: callers must not modify them.
func (c *Catalog) Active() []*model.Integration { return c.active }

// NewCatalog builds a snapshot from every integration; inactive ones are
// left out.
func NewCatalog(version int64, all []*model.Integration) *Catalog {
	c := &Catalog{
		Version:    version,
		services:   map[int64]*Service{},
		byClientID: map[string]*Service{},
		byEntityID: map[string]*Service{},
		sets:       map[int64]*model.Integration{},
		sourceByID: map[int64]*model.Integration{},
	}
	for _, in := range all {
		if in.Active() && in.Role == model.RoleSet && in.Set != nil {
			c.sets[in.ID] = in
		}
	}
	for _, in := range all {
		if !in.Active() {
			continue
		}
		c.active = append(c.active, in)
		switch {
		case in.Role == model.RoleSP && in.SP != nil:
			svc := &Service{Integration: in, Set: c.sets[in.SP.SetID]}
			c.services[in.ID] = svc
			if id := in.ClientID(); id != "" {
				c.byClientID[id] = svc
			}
			if id := in.EntityID(); id != "" {
				c.byEntityID[id] = svc
			}
		case in.Role == model.RoleIdP && in.IdP != nil:
			c.sources = append(c.sources, in)
			c.sourceByID[in.ID] = in
		}
	}
	sort.Slice(c.sources, func(i, j int) bool { return c.sources[i].ID < c.sources[j].ID })
	return c
}

// Service returns the active service with the integration id.
func (c *Catalog) Service(id int64) (*Service, bool) {
	s, ok := c.services[id]
	return s, ok
}

// ServiceByClientID returns the active OIDC service with the client_id.
func (c *Catalog) ServiceByClientID(clientID string) (*Service, bool) {
	s, ok := c.byClientID[clientID]
	return s, ok
}

// ServiceByEntityID returns the active SAML service with the entityID.
func (c *Catalog) ServiceByEntityID(entityID string) (*Service, bool) {
	s, ok := c.byEntityID[entityID]
	return s, ok
}

// Source returns the active IdP integration with the id.
func (c *Catalog) Source(id int64) (*model.Integration, bool) {
	s, ok := c.sourceByID[id]
	return s, ok
}

// SourcesFor returns the sources the service may use: active IdPs whose
// permissions allow the service's set, in the same deployment phase family
// (production services use production sources; test and pre-production
// services use test and pre-production ones).
func (c *Catalog) SourcesFor(svc *Service) []*model.Integration {
	var out []*model.Integration
	for _, src := range c.sources {
		if !src.IdP.Allows(svc.Integration.SP.SetID) {
			continue
		}
		if (src.DeploymentPhase == model.PhaseProduction) != (svc.Integration.DeploymentPhase == model.PhaseProduction) {
			continue
		}
		out = append(out, src)
	}
	return out
}
