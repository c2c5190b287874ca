// Package storeutil holds what the sqlite and postgres stores share: how an
// integration maps to its indexed columns, how a list filter becomes a WHERE
// clause, and how organisation documents are prepared for comparison.
package storeutil

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// Now is the store's clock reading: UTC, truncated to microseconds so that
// every backend round-trips it exactly.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// IdleEnd is when a session's idle time runs out as the stores keep it:
// never after the session's absolute end, so that the sweep of expired
// sessions reads one column, and one index.
func IdleEnd(idle, end time.Time) time.Time {
	if idle.After(end) {
		return end
	}
	return idle
}

// IntegrationRow is an integration as stored: the JSON document and the
// columns derived from it.
type IntegrationRow struct {
	ID              int64
	Role            string
	Type            string
	OrganisationOID string
	DeploymentPhase int
	Status          string
	Name            string
	EntityID        string
	ClientID        string
	Search          string
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Document        []byte
	// Integration is the document decoded again: a deep copy the caller
	// may keep.
	Integration *model.Integration
}

// NewIntegrationRow stamps a copy of in with id, version, times and actor and
// derives its columns.
func NewIntegrationRow(in *model.Integration, id, version int64, created, updated time.Time, actor string) (*IntegrationRow, error) {
	c := *in
	c.ID = id
	c.Version = version
	c.CreatedAt = created.UTC()
	c.UpdatedAt = updated.UTC()
	c.UpdatedBy = actor
	doc, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode integration: %w", err)
	}
	out, err := DecodeIntegration(doc)
	if err != nil {
		return nil, err
	}
	r := &IntegrationRow{
		ID:              id,
		Role:            string(c.Role),
		Type:            c.Type(),
		OrganisationOID: c.OrganisationOID,
		DeploymentPhase: int(c.DeploymentPhase),
		Status:          string(c.Status),
		Name:            c.Name(),
		EntityID:        c.EntityID(),
		ClientID:        c.ClientID(),
		Version:         version,
		CreatedAt:       c.CreatedAt,
		UpdatedAt:       c.UpdatedAt,
		Document:        doc,
		Integration:     out,
	}
	r.Search = strings.ToLower(strings.Join([]string{r.Name, r.OrganisationOID, r.EntityID, r.ClientID}, "\n"))
	return r, nil
}

// DecodeIntegration decodes a stored integration document.
func DecodeIntegration(doc []byte) (*model.Integration, error) {
	var in model.Integration
	if err := json.Unmarshal(doc, &in); err != nil {
		return nil, fmt.Errorf("decode integration: %w", err)
	}
	return &in, nil
}

// DecodeOrganisation decodes a stored organisation document.
func DecodeOrganisation(doc []byte) (model.Organisation, error) {
	var o model.Organisation
	if err := json.Unmarshal(doc, &o); err != nil {
		return o, fmt.Errorf("decode organisation: %w", err)
	}
	return o, nil
}

// OrgDoc is an organisation ready to be stored.
type OrgDoc struct {
	OID, ParentOID string
	Document       []byte
}

// PrepareOrganisations encodes orgs, sorted by OID; of duplicate OIDs the
// last one wins. An organisation without an OID is an error.
func PrepareOrganisations(orgs []model.Organisation) ([]OrgDoc, error) {
	idx := make(map[string]int, len(orgs))
	out := make([]OrgDoc, 0, len(orgs))
	for i := range orgs {
		o := &orgs[i]
		if o.OID == "" {
			return nil, fmt.Errorf("organisation %d has no OID", i)
		}
		doc, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("encode organisation %s: %w", o.OID, err)
		}
		d := OrgDoc{OID: o.OID, ParentOID: o.ParentOID, Document: doc}
		if j, ok := idx[o.OID]; ok {
			out[j] = d
			continue
		}
		idx[o.OID] = len(out)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OID < out[j].OID })
	return out, nil
}

// ValidKeyState reports whether s is one of the four key states.
func ValidKeyState(s store.KeyState) bool {
	switch s {
	case store.KeyNext, store.KeyCurrent, store.KeyPrevious, store.KeyRetired:
		return true
	}
	return false
}

// OrderBy returns the ORDER BY expression of a filter's Sort.
func OrderBy(s string) (string, error) {
	dir := "ASC"
	if strings.HasPrefix(s, "-") {
		dir = "DESC"
		s = s[1:]
	}
	switch s {
	case "", "id":
		return "id " + dir, nil
	case "name":
		return "name " + dir + ", id " + dir, nil
	case "updatedAt":
		return "updated_at " + dir + ", id " + dir, nil
	}
	return "", fmt.Errorf("unknown sort %q", s)
}

// Where turns a filter into a WHERE clause (without the keyword; "TRUE"-like
// "1=1" when empty) and its arguments; ph returns the placeholder of the n-th
// argument (1-based). none reports a filter that matches nothing.
func Where(f store.IntegrationFilter, ph func(n int) string) (where string, args []any, none bool) {
	var conds []string
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", ph(len(args)), 1)
		}
		conds = append(conds, cond)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		pat := "%" + EscapeLike(strings.ToLower(q)) + "%"
		if id, err := strconv.ParseInt(q, 10, 64); err == nil && isDigits(q) {
			add(`(search LIKE ? ESCAPE '\' OR id = ?)`, pat, id)
		} else {
			add(`search LIKE ? ESCAPE '\'`, pat)
		}
	}
	if f.Role != "" {
		add("role = ?", string(f.Role))
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.DeploymentPhase != nil {
		add("deployment_phase = ?", int(*f.DeploymentPhase))
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.OrganisationOIDs != nil {
		if len(f.OrganisationOIDs) == 0 {
			return "", nil, true
		}
		ps := make([]string, len(f.OrganisationOIDs))
		for i, oid := range f.OrganisationOIDs {
			args = append(args, oid)
			ps[i] = ph(len(args))
		}
		conds = append(conds, "organisation_oid IN ("+strings.Join(ps, ", ")+")")
	}
	if len(conds) == 0 {
		return "1=1", args, false
	}
	return strings.Join(conds, " AND "), args, false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// EscapeLike escapes the LIKE wildcards of s with backslashes.
func EscapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// LockKey hashes a lock name (within a scope, such as a schema) to the int64
// key of a PostgreSQL advisory lock.
func LockKey(scope, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// NextID returns the id after maxID in r, or r.Min when the range is empty
// (maxID < r.Min); an error when the range is full.
func NextID(r model.IDRange, maxID int64, found bool) (int64, error) {
	if !found || maxID < r.Min {
		return r.Min, nil
	}
	if maxID >= r.Max {
		return 0, fmt.Errorf("id range %d-%d is full", r.Min, r.Max)
	}
	return maxID + 1, nil
}
