package registry

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// Lookup is an immutable index of the registry for the login path: every
// query is a map lookup plus array reads, with no allocation and no lock.
// Build a new one after each sync and publish it with Registry.Swap.
//
// The organisations it returns point into the Lookup's own copy: callers
// must not modify them.
type Lookup struct {
	orgs     []model.Organisation
	byOID    map[string]int32
	bySchool map[string]int32
	byOffice map[string]int32
	// provider[i] and school[i] are the indexes of the nearest education
	// provider and school above organisation i, or -1.
	provider []int32
	school   []int32
	// schools of each provider, sorted by Finnish name.
	schoolsOf map[int32][]int32
}

// maxWalk bounds a walk up the tree; the real tree is about 5 deep, and a
// cycle in bad data must not hang a login.
const maxWalk = 64

// NewLookup indexes orgs. It copies the list (not the slices inside each
// organisation, which the caller must leave alone).
//
// When two organisations share a school code or office code, the active one
// wins, then a planned one, then the first in the list: a closed school's
// code reused by a new school resolves to the new one.
func NewLookup(orgs []model.Organisation) *Lookup {
	n := len(orgs)
	l := &Lookup{
		orgs:      slices.Clone(orgs),
		byOID:     make(map[string]int32, n),
		bySchool:  make(map[string]int32, n/4),
		byOffice:  make(map[string]int32, n/8),
		provider:  make([]int32, n),
		school:    make([]int32, n),
		schoolsOf: make(map[int32][]int32),
	}
	for i := range l.orgs {
		o := &l.orgs[i]
		if _, dup := l.byOID[o.OID]; !dup {
			l.byOID[o.OID] = int32(i)
		}
		if o.SchoolCode != "" {
			preferActive(l.bySchool, l.orgs, o.SchoolCode, int32(i))
		}
		if o.OfficeCode != "" && o.IsOffice() {
			preferActive(l.byOffice, l.orgs, o.OfficeCode, int32(i))
		}
	}
	parent := make([]int32, n)
	for i := range l.orgs {
		parent[i] = -1
		if p, ok := l.byOID[l.orgs[i].ParentOID]; ok && int(p) != i {
			parent[i] = p
		}
	}
	for i := range l.orgs {
		l.provider[i] = l.walk(parent, parent[i], (*model.Organisation).IsEducationProvider)
		l.school[i] = l.walk(parent, parent[i], (*model.Organisation).IsSchool)
		if l.orgs[i].IsSchool() && l.provider[i] >= 0 {
			l.schoolsOf[l.provider[i]] = append(l.schoolsOf[l.provider[i]], int32(i))
		}
	}
	for _, s := range l.schoolsOf {
		slices.SortFunc(s, func(a, b int32) int {
			return cmp.Or(cmp.Compare(l.orgs[a].Name.In("fi"), l.orgs[b].Name.In("fi")),
				cmp.Compare(l.orgs[a].OID, l.orgs[b].OID))
		})
	}
	return l
}

func rank(o *model.Organisation) int {
	switch o.Status {
	case model.OrgActive:
		return 2
	case model.OrgPlanned:
		return 1
	}
	return 0
}

func preferActive(m map[string]int32, orgs []model.Organisation, code string, i int32) {
	if j, ok := m[code]; !ok || rank(&orgs[i]) > rank(&orgs[j]) {
		m[code] = i
	}
}

// walk goes up from i (inclusive) to the first organisation for which is
// holds.
func (l *Lookup) walk(parent []int32, i int32, is func(*model.Organisation) bool) int32 {
	for steps := 0; i >= 0 && steps < maxWalk; steps++ {
		if is(&l.orgs[i]) {
			return i
		}
		i = parent[i]
	}
	return -1
}

func (l *Lookup) at(i int32) (*model.Organisation, bool) {
	if i < 0 {
		return nil, false
	}
	return &l.orgs[i], true
}

// Len is the number of organisations.
func (l *Lookup) Len() int { return len(l.orgs) }

// ByOID finds an organisation by OID.
func (l *Lookup) ByOID(oid string) (*model.Organisation, bool) {
	i, ok := l.byOID[oid]
	if !ok {
		return nil, false
	}
	return &l.orgs[i], true
}

// BySchoolCode finds a school by its 5-digit code. It returns closed and
// planned schools too (preferring an active one when a code is shared):
// callers check IsActive, so that they can say why a code was refused.
func (l *Lookup) BySchoolCode(code string) (*model.Organisation, bool) {
	i, ok := l.bySchool[code]
	if !ok {
		return nil, false
	}
	return &l.orgs[i], true
}

// ByOfficeCode finds an office or early-education unit by its 7-digit
// toimipistekoodi, with the same preference as BySchoolCode.
func (l *Lookup) ByOfficeCode(code string) (*model.Organisation, bool) {
	i, ok := l.byOffice[code]
	if !ok {
		return nil, false
	}
	return &l.orgs[i], true
}

// above is the precomputed answer for an organisation of this
// Lookup, or a walk up its ParentOID chain for one from elsewhere.
func (l *Lookup) above(o *model.Organisation, pre []int32, is func(*model.Organisation) bool) (*model.Organisation, bool) {
	if o == nil {
		return nil, false
	}
	if i, ok := l.byOID[o.OID]; ok {
		return l.at(pre[i])
	}
	p := o.ParentOID
	for steps := 0; steps < maxWalk; steps++ {
		i, ok := l.byOID[p]
		if !ok {
			return nil, false
		}
		if is(&l.orgs[i]) {
			return &l.orgs[i], true
		}
		p = l.orgs[i].ParentOID
	}
	return nil, false
}

// Provider returns the education provider above an organisation (a
// school, an office, a unit): the nearest ancestor that IsEducationProvider.
func (l *Lookup) Provider(school *model.Organisation) (*model.Organisation, bool) {
	return l.above(school, l.provider, (*model.Organisation).IsEducationProvider)
}

// ParentSchool returns the school above an office or early-education unit:
// the nearest ancestor that IsSchool. Units directly under a municipality
// have none.
func (l *Lookup) ParentSchool(office *model.Organisation) (*model.Organisation, bool) {
	return l.above(office, l.school, (*model.Organisation).IsSchool)
}

// SchoolsOf lists the schools (active or not) whose education provider is
// providerOID, sorted by Finnish name. The slice is new; the organisations
// are shared.
func (l *Lookup) SchoolsOf(providerOID string) []*model.Organisation {
	p, ok := l.byOID[providerOID]
	if !ok {
		return nil
	}
	idx := l.schoolsOf[p]
	out := make([]*model.Organisation, len(idx))
	for k, i := range idx {
		out[k] = &l.orgs[i]
	}
	return out
}

// All returns the organisations in registry order; shared, do not modify.
func (l *Lookup) All() []model.Organisation { return l.orgs[:len(l.orgs):len(l.orgs)] }

// Registry holds the current Lookup. Readers call Current on each login and
// never see a half-built index; a sync publishes its result with Swap (or
// Update). The zero value holds an empty Lookup.
type Registry struct {
	cur atomic.Pointer[Lookup]
}

// NewRegistry returns a Registry holding l (nil: an empty Lookup).
func NewRegistry(l *Lookup) *Registry {
	r := &Registry{}
	if l != nil {
		r.cur.Store(l)
	}
	return r
}

// Current returns the current Lookup, never nil (an empty one before the
// first Swap).
func (r *Registry) Current() *Lookup {
	if l := r.cur.Load(); l != nil {
		return l
	}
	return &Lookup{} // the zero Lookup is a valid empty index
}

// Swap publishes l and returns the previous Lookup (nil if none).
func (r *Registry) Swap(l *Lookup) *Lookup { return r.cur.Swap(l) }

// Update builds a Lookup of orgs and publishes it; it fits Syncer's
// OnUpdate.
func (r *Registry) Update(orgs []model.Organisation) { r.Swap(NewLookup(orgs)) }

// Load builds the Lookup from what the store holds, for a process that
// starts with a registry synced earlier.
func (r *Registry) Load(ctx context.Context, st store.Organisations) error {
	orgs, err := st.ListOrganisations(ctx)
	if err != nil {
		return fmt.Errorf("load the organisation registry: %w", err)
	}
	r.Update(orgs)
	return nil
}
