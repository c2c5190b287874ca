package fakeopas

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// Size selects how big a generated dataset is.
type Size int

const (
	// SizeDemo is a handful of providers, schools, offices and daycare units
	// with memorable names, for `mpassid dev` and the first click-around.
	SizeDemo Size = iota
	// SizeSmall is a few hundred organisations of every kind, for fast unit
	// tests.
	SizeSmall
	// SizeNational is the whole country at real scale: about 300
	// municipalities, 1,000 other providers, 3,000 schools, 1,200 offices
	// and 8,500 daycare units, about 15,000 organisations in all.
	SizeNational
)

func (s Size) String() string {
	switch s {
	case SizeDemo:
		return "demo"
	case SizeSmall:
		return "small"
	case SizeNational:
		return "national"
	}
	return fmt.Sprintf("Size(%d)", int(s))
}

// Dataset is the fake registry's content plus the faults it should inject.
// All methods are safe for concurrent use, also while a Handler serves it,
// so tests can change the registry between syncs.
type Dataset struct {
	mu     sync.RWMutex
	orgs   []model.Organisation // pre-order: parents before children
	index  map[string]int
	faults Faults
	failed int // requests failed so far under faults.FailTimes

	requests     int64
	lastCallerID string
	lastAccept   string
	loc          *time.Location
}

// NewDataset makes a dataset of orgs. ParentOID says where each one hangs;
// an organisation whose parent is not in the dataset is a top-level one
// (its parent is normally the OPH root, model.RootOID). ParentOIDPath is
// recomputed.
func NewDataset(orgs []model.Organisation) *Dataset {
	d := &Dataset{orgs: cloneOrgs(orgs), loc: helsinki()}
	d.reindex()
	return d
}

func helsinki() *time.Location {
	if loc, err := time.LoadLocation("Europe/Helsinki"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}

// Orgs returns a copy of the organisations, parents before children, with
// ParentOIDPath from the root down (the model's form).
func (d *Dataset) Orgs() []model.Organisation {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return cloneOrgs(d.orgs)
}

// Len is the number of organisations.
func (d *Dataset) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.orgs)
}

// Get returns a copy of one organisation.
func (d *Dataset) Get(oid string) (model.Organisation, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	i, ok := d.index[oid]
	if !ok {
		return model.Organisation{}, false
	}
	return cloneOrg(d.orgs[i]), true
}

// Update changes one organisation in place (not its OID; a changed
// ParentOID moves it, see Move).
func (d *Dataset) Update(oid string, fn func(*model.Organisation)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, ok := d.index[oid]
	if !ok {
		return fmt.Errorf("fakeopas: no organisation %s", oid)
	}
	o := cloneOrg(d.orgs[i])
	fn(&o)
	if o.OID != oid {
		return errors.New("fakeopas: Update must not change the OID")
	}
	if o.ParentOID != d.orgs[i].ParentOID && d.isDescendant(o.ParentOID, oid) {
		return fmt.Errorf("fakeopas: %s cannot move under its own descendant", oid)
	}
	d.orgs[i] = o
	d.reindex()
	return nil
}

// Move hangs oid (with its subtree) under newParent.
func (d *Dataset) Move(oid, newParent string) error {
	return d.Update(oid, func(o *model.Organisation) { o.ParentOID = newParent })
}

// Close marks oid closed at the given time: status PASSIIVINEN and an end
// date, as the registry does when a school closes (it stays listed).
func (d *Dataset) Close(oid string, at time.Time) error {
	return d.Update(oid, func(o *model.Organisation) {
		o.Status = model.OrgPassive
		t := at.UTC()
		o.EndDate = &t
	})
}

// Add adds an organisation (its parent should exist, or it is top-level).
func (d *Dataset) Add(o model.Organisation) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.index[o.OID]; dup {
		return fmt.Errorf("fakeopas: %s exists", o.OID)
	}
	d.orgs = append(d.orgs, cloneOrg(o))
	d.reindex()
	return nil
}

// Remove deletes oid and its whole subtree, and returns how many went.
func (d *Dataset) Remove(oid string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.index[oid]; !ok {
		return 0
	}
	gone := map[string]bool{oid: true}
	// Pre-order: a descendant comes after its parent.
	for _, o := range d.orgs {
		if gone[o.ParentOID] {
			gone[o.OID] = true
		}
	}
	d.orgs = slices.DeleteFunc(d.orgs, func(o model.Organisation) bool { return gone[o.OID] })
	d.reindex()
	return len(gone)
}

// isDescendant reports whether x is oid or below it. Caller holds mu.
func (d *Dataset) isDescendant(x, oid string) bool {
	for steps := 0; x != "" && steps <= len(d.orgs); steps++ {
		if x == oid {
			return true
		}
		i, ok := d.index[x]
		if !ok {
			return false
		}
		x = d.orgs[i].ParentOID
	}
	return false
}

// reindex puts the organisations in pre-order (siblings in their current
// order) and recomputes every ParentOIDPath. Caller holds mu (or owns d).
func (d *Dataset) reindex() {
	index := make(map[string]int, len(d.orgs))
	for i := range d.orgs {
		index[d.orgs[i].OID] = i
	}
	children := make(map[string][]int, len(d.orgs)/4)
	var roots []int
	for i := range d.orgs {
		p := d.orgs[i].ParentOID
		if _, ok := index[p]; ok && p != d.orgs[i].OID {
			children[p] = append(children[p], i)
		} else {
			roots = append(roots, i)
		}
	}
	out := make([]model.Organisation, 0, len(d.orgs))
	type item struct {
		i    int
		path []string
	}
	var stack []item
	for k := len(roots) - 1; k >= 0; k-- {
		o := d.orgs[roots[k]]
		var path []string
		if o.ParentOID != "" {
			path = []string{o.ParentOID}
			if o.ParentOID != model.RootOID {
				path = []string{model.RootOID, o.ParentOID}
			}
		}
		stack = append(stack, item{roots[k], path})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		o := d.orgs[it.i]
		o.ParentOIDPath = it.path
		out = append(out, o)
		kids := children[o.OID]
		childPath := append(slices.Clip(it.path), o.OID)
		for k := len(kids) - 1; k >= 0; k-- {
			stack = append(stack, item{kids[k], childPath})
		}
	}
	d.orgs = out
	d.index = make(map[string]int, len(out))
	for i := range out {
		d.index[out[i].OID] = i
	}
}

func cloneOrgs(in []model.Organisation) []model.Organisation {
	out := make([]model.Organisation, len(in))
	for i := range in {
		out[i] = cloneOrg(in[i])
	}
	return out
}

func cloneOrg(o model.Organisation) model.Organisation {
	o.ParentOIDPath = slices.Clone(o.ParentOIDPath)
	o.Types = slices.Clone(o.Types)
	o.Languages = slices.Clone(o.Languages)
	if o.StartDate != nil {
		t := *o.StartDate
		o.StartDate = &t
	}
	if o.EndDate != nil {
		t := *o.EndDate
		o.EndDate = &t
	}
	return o
}

// Faults make the fake misbehave, to test that a sync never trusts a bad
// answer. The zero value is a healthy registry.
type Faults struct {
	// Status answers requests with this HTTP status (e.g. 500, 503, 429).
	Status int
	// FailTimes limits Status to the next FailTimes requests (0: all).
	FailTimes int
	// Delay holds each answer this long, or until the client gives up: a
	// Delay beyond the client's timeout is a hung registry.
	Delay time.Duration
	// TruncateAfter cuts the JSON after this many bytes (0: whole), while
	// ending the HTTP response properly: the client sees a complete
	// response with invalid JSON.
	TruncateAfter int
	// Empty answers hierarkia/hae with no organisations.
	Empty bool
	// DropShare leaves out about this share (0..1) of all organisations,
	// chosen among those without children by a hash of the OID.
	DropShare float64
	// OmitNumHits leaves numHits out of hierarkia answers.
	OmitNumHits bool
}

// SetFaults replaces the faults (and restarts the FailTimes count).
func (d *Dataset) SetFaults(f Faults) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = f
	d.failed = 0
}

// Requests is the number of requests served so far (any path or status).
func (d *Dataset) Requests() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.requests
}

// LastRequest returns the Caller-Id and Accept-Encoding of the latest
// request.
func (d *Dataset) LastRequest() (callerID, acceptEncoding string) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.lastCallerID, d.lastAccept
}

// ---- generation ----

// Generate makes a deterministic dataset: the same seed and size give the
// same organisations, OIDs, codes and names.
func Generate(seed int64, size Size) *Dataset {
	g := &gen{
		r:      rand.New(rand.NewPCG(uint64(seed), 0x6d7061737369640a)),
		loc:    helsinki(),
		oids:   map[string]bool{model.RootOID: true},
		codes:  map[string]bool{},
		ytunn:  map[string]bool{},
		places: map[string]bool{},
	}
	switch size {
	case SizeDemo:
		g.demo()
	case SizeSmall:
		g.country(smallParams)
	default:
		g.country(nationalParams)
	}
	return NewDataset(g.orgs)
}

type params struct {
	municipalities, swedish, mergedAway int
	basic, special, combined, upperSec  int // municipal schools by type 11, 12, 19, 15
	adultEd                             int // municipal kansalaisopistot (64)
	daycare                             int // municipal daycare units
	vocational                          int // providers with one type-21 school and offices
	privateDaycare                      int // providers (07) with 1-5 units
	privateSchools                      int // providers (01) with 1-2 schools
	otherProviders                      int // adult education etc. (64)
	officesMin, officesMax              int // per vocational school
}

var nationalParams = params{
	municipalities: 300, swedish: 16, mergedAway: 3,
	basic: 1750, special: 40, combined: 60, upperSec: 300, adultEd: 120, daycare: 8400,
	vocational: 150, privateDaycare: 300, privateSchools: 250, otherProviders: 300,
	officesMin: 3, officesMax: 12,
}

var smallParams = params{
	municipalities: 8, swedish: 1, mergedAway: 1,
	basic: 40, special: 2, combined: 2, upperSec: 8, adultEd: 3, daycare: 120,
	vocational: 4, privateDaycare: 6, privateSchools: 5, otherProviders: 5,
	officesMin: 2, officesMax: 5,
}

type gen struct {
	r      *rand.Rand
	loc    *time.Location
	orgs   []model.Organisation
	oids   map[string]bool
	codes  map[string]bool
	ytunn  map[string]bool
	places map[string]bool
}

func (g *gen) oid() string {
	for {
		s := fmt.Sprintf("1.2.246.562.10.%011d", g.r.Int64N(1e11))
		if !g.oids[s] {
			g.oids[s] = true
			return s
		}
	}
}

func (g *gen) schoolCode() string {
	for {
		s := fmt.Sprintf("%05d", 100+g.r.IntN(99900))
		if !g.codes[s] {
			g.codes[s] = true
			return s
		}
	}
}

// ytunnus makes a business id with a valid check digit.
func (g *gen) ytunnus() string {
	weights := [7]int{7, 9, 10, 5, 8, 4, 2}
	for {
		n := 100000 + g.r.IntN(3000000)
		s := fmt.Sprintf("%07d", n)
		sum := 0
		for i := range 7 {
			sum += int(s[i]-'0') * weights[i]
		}
		rem := sum % 11
		if rem == 1 {
			continue
		}
		check := 0
		if rem > 1 {
			check = 11 - rem
		}
		id := fmt.Sprintf("%s-%d", s, check)
		if !g.ytunn[id] {
			g.ytunn[id] = true
			return id
		}
	}
}

// date is a registry date: midnight in Finland, as epoch ms round-trips it.
func (g *gen) date(fromYear, toYear int) *time.Time {
	y := fromYear + g.r.IntN(toYear-fromYear+1)
	t := time.Date(y, time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, g.loc).UTC()
	return &t
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) add(o model.Organisation) *model.Organisation {
	g.orgs = append(g.orgs, o)
	return &g.orgs[len(g.orgs)-1]
}

const (
	langFi = "oppilaitoksenopetuskieli_1"
	langSv = "oppilaitoksenopetuskieli_2"
)

// fiName fills sv/en as the real data often does: copies of the Finnish
// name, sometimes missing.
func (g *gen) fiName(fi string) model.LocalizedName {
	n := model.LocalizedName{Fi: fi}
	if g.chance(0.6) {
		n.Sv = fi
	}
	if g.chance(0.6) {
		n.En = fi
	}
	return n
}

// svName: Swedish-speaking organisations sometimes have no Finnish name.
func (g *gen) svName(sv, fi string) model.LocalizedName {
	n := model.LocalizedName{Sv: sv}
	if g.chance(0.5) {
		n.Fi = fi
	}
	return n
}

type municipality struct {
	oid, code string
	p         place
	sv        string // Swedish name, for Swedish-speaking ones
	passive   bool
	weight    float64
	villages  []place
	nextV     int
}

func (m *municipality) village(g *gen) place {
	if m.nextV >= len(m.villages) {
		m.villages = append(m.villages, uniquePlaces(g.r, 8, map[string]bool{})...)
	}
	v := m.villages[m.nextV]
	m.nextV++
	return v
}

// status makes about 2% of units closed and 0.5% planned.
func (g *gen) status(o *model.Organisation, parentPassive bool) {
	o.Status = model.OrgActive
	switch {
	case parentPassive:
		o.Status = model.OrgPassive
		o.EndDate = g.date(2017, 2021)
	case g.chance(0.02):
		o.Status = model.OrgPassive
		o.EndDate = g.date(2015, 2025)
	case g.chance(0.005):
		o.Status = model.OrgPlanned
		t := time.Date(2026+g.r.IntN(2), time.August, 1, 0, 0, 0, 0, g.loc).UTC()
		o.StartDate = &t
	}
}

func (g *gen) country(p params) {
	muniCodes := g.r.Perm(988)[:p.municipalities]
	munis := make([]*municipality, p.municipalities)
	for i := range munis {
		m := &municipality{oid: g.oid(), code: fmt.Sprintf("%03d", muniCodes[i]+5)}
		m.p = uniquePlaces(g.r, 1, g.places)[0]
		m.weight = 1/float64(i+1) + 0.01 // a few big cities, a long tail
		m.villages = uniquePlaces(g.r, 10, map[string]bool{})
		munis[i] = m
	}
	for _, i := range g.r.Perm(p.municipalities)[:p.swedish] {
		munis[i].sv = svPlace(g.r)
	}
	for _, i := range g.r.Perm(p.municipalities)[:p.mergedAway] {
		munis[i].passive = true
	}

	// Assign municipal schools and daycare units by weight.
	type unit struct {
		kind int // institution type, or 8 for daycare
	}
	byMuni := make([][]unit, len(munis))
	cum := make([]float64, len(munis))
	total := 0.0
	for i, m := range munis {
		total += m.weight
		cum[i] = total
	}
	pickMuni := func() int {
		x := g.r.Float64() * total
		i, _ := slices.BinarySearch(cum, x)
		return min(i, len(munis)-1)
	}
	for i := range munis { // everyone has a school and a couple of daycare units
		byMuni[i] = append(byMuni[i], unit{11}, unit{8}, unit{8})
	}
	spread := func(n, kind int) {
		for range n {
			i := pickMuni()
			byMuni[i] = append(byMuni[i], unit{kind})
		}
	}
	spread(p.basic-len(munis), 11)
	spread(p.special, 12)
	spread(p.combined, 19)
	spread(p.upperSec, 15)
	spread(p.adultEd, 64)
	spread(p.daycare-2*len(munis), 8)

	for i, m := range munis {
		g.municipality(m, byMuniKinds(byMuni[i], func(u unit) int { return u.kind }))
	}
	for range p.vocational {
		g.vocational(munis, p)
	}
	for range p.privateDaycare {
		g.privateDaycare(munis)
	}
	for range p.privateSchools {
		g.privateSchool(munis)
	}
	for range p.otherProviders {
		g.adultEducation(munis)
	}
	g.ensureStatuses()
}

// ensureStatuses makes sure even a small dataset has a closed and a planned
// school, so tests always meet both.
func (g *gen) ensureStatuses() {
	var schools []int
	seen := map[model.OrgStatus]bool{}
	for i := range g.orgs {
		if g.orgs[i].IsSchool() {
			schools = append(schools, i)
			seen[g.orgs[i].Status] = true
		}
	}
	if len(schools) < 3 {
		return
	}
	if !seen[model.OrgPassive] {
		o := &g.orgs[schools[len(schools)/3]]
		o.Status, o.EndDate = model.OrgPassive, g.date(2019, 2024)
	}
	if !seen[model.OrgPlanned] {
		o := &g.orgs[schools[2*len(schools)/3]]
		t := time.Date(2027, time.August, 1, 0, 0, 0, 0, g.loc).UTC()
		o.Status, o.StartDate = model.OrgPlanned, &t
	}
}

func byMuniKinds[T any](in []T, f func(T) int) []int {
	out := make([]int, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

func (g *gen) municipality(m *municipality, kinds []int) {
	city := m.weight > 0.05
	kind := " kunta"
	if city {
		kind = " kaupunki"
	}
	o := model.Organisation{
		OID:              m.oid,
		ParentOID:        model.RootOID,
		BusinessID:       g.ytunnus(),
		Types:            []string{model.OrgTypeEducationProvider, model.OrgTypeEarlyEducationProvider, model.OrgTypeOther},
		MunicipalityCode: m.code,
		Languages:        []string{langFi},
		Status:           model.OrgActive,
		StartDate:        g.date(1970, 1990),
	}
	if m.sv != "" {
		svKind := " kommun"
		if city {
			svKind = " stad"
		}
		o.Name = model.LocalizedName{Fi: m.p.gen + kind, Sv: m.sv + svKind}
		o.Languages = []string{langSv}
	} else {
		o.Name = g.fiName(m.p.gen + kind)
	}
	if m.passive { // merged into a neighbour
		o.Status = model.OrgPassive
		o.EndDate = g.date(2017, 2021)
	}
	g.add(o)
	g.r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	lukiot := 0
	for _, k := range kinds {
		if k == 8 {
			g.daycareUnit(m.oid, m.code, m.sv != "", m.passive)
			continue
		}
		v := m.village(g)
		var fi, sv string
		switch k {
		case 11:
			switch x := g.r.IntN(20); {
			case x < 13:
				fi = v.gen + " koulu"
			case x < 16:
				fi = v.gen + " yhtenäiskoulu"
			case x < 18:
				fi = g.pick(compass) + "-" + m.p.gen + " koulu"
			default:
				fi = v.gen + " alakoulu"
			}
			sv = svPlace(g.r) + " skola"
		case 12:
			fi = v.gen + " erityiskoulu"
			sv = svPlace(g.r) + " specialskola"
		case 19:
			fi = v.gen + " koulu ja lukio"
			sv = svPlace(g.r) + " skola och gymnasium"
		case 15:
			if lukiot == 0 {
				fi = m.p.gen + " lukio"
			} else {
				fi = v.gen + " lukio"
			}
			lukiot++
			sv = svPlace(g.r) + " gymnasium"
		case 64:
			fi = m.p.gen + " kansalaisopisto"
			if g.chance(0.5) {
				fi = v.gen + " opisto"
			}
			sv = m.sv + " medborgarinstitut"
		}
		school := g.school(m.oid, m.code, k, fi, sv, m.sv != "", m.passive)
		if k == 15 && g.chance(0.2) {
			g.office(school, school.Name.Fi+", aikuislinja", m.code, 1)
		}
	}
}

func (g *gen) school(parent, muniCode string, instType int, fi, sv string, swedish, parentPassive bool) *model.Organisation {
	code := g.schoolCode()
	o := model.Organisation{
		OID:              g.oid(),
		ParentOID:        parent,
		Types:            []string{model.OrgTypeSchool},
		SchoolCode:       code,
		OfficeCode:       code,
		InstitutionType:  instType,
		MunicipalityCode: muniCode,
		Languages:        []string{langFi},
		StartDate:        g.date(1975, 2020),
	}
	if swedish {
		o.Name = g.svName(sv, fi)
		o.Languages = []string{langSv}
	} else {
		o.Name = g.fiName(fi)
	}
	g.status(&o, parentPassive)
	return g.add(o)
}

// office adds a toimipiste under school, with code school code + nn.
func (g *gen) office(school *model.Organisation, name, muniCode string, n int) {
	o := model.Organisation{
		OID:              g.oid(),
		ParentOID:        school.OID,
		Name:             g.fiName(name),
		Types:            []string{model.OrgTypeOffice},
		OfficeCode:       fmt.Sprintf("%s%02d", school.SchoolCode, n),
		MunicipalityCode: muniCode,
		Languages:        school.Languages,
		StartDate:        g.date(1995, 2022),
	}
	g.status(&o, school.Status == model.OrgPassive)
	g.add(o)
}

func (g *gen) daycareUnit(parent, muniCode string, swedish, parentPassive bool) {
	o := model.Organisation{
		OID:              g.oid(),
		ParentOID:        parent,
		Types:            []string{model.OrgTypeEarlyEducationUnit},
		MunicipalityCode: muniCode,
		Languages:        []string{langFi},
		StartDate:        g.date(1985, 2023),
	}
	if swedish && g.chance(0.7) {
		o.Name = g.svName("Daghemmet "+g.pick(svDaycareWords), "Päiväkoti "+g.pick(daycareWords))
		o.Languages = []string{langSv}
	} else {
		name := "Päiväkoti " + g.pick(daycareWords)
		if g.chance(0.1) {
			name += " Esiopetus"
		}
		o.Name = g.fiName(name)
	}
	g.status(&o, parentPassive)
	g.add(o)
}

func (g *gen) provider(name model.LocalizedName, muniCode string, types ...string) *model.Organisation {
	o := model.Organisation{
		OID:              g.oid(),
		ParentOID:        model.RootOID,
		Name:             name,
		BusinessID:       g.ytunnus(),
		Types:            types,
		MunicipalityCode: muniCode,
		Languages:        []string{langFi},
		Status:           model.OrgActive,
		StartDate:        g.date(1980, 2020),
	}
	if g.chance(0.01) {
		o.Status = model.OrgPassive
		o.EndDate = g.date(2018, 2025)
	}
	return g.add(o)
}

func (g *gen) vocational(munis []*municipality, p params) {
	m := munis[g.r.IntN(len(munis))]
	region := regions[g.r.IntN(len(regions))]
	var provName, schoolName string
	switch g.r.IntN(4) {
	case 0:
		provName = region.gen + " koulutuskuntayhtymä"
		schoolName = region.gen + " ammattiopisto"
	case 1:
		provName = m.p.gen + " seudun koulutussäätiö sr"
		schoolName = m.p.gen + " seudun ammattiopisto"
	case 2:
		w := g.pick(companyWords)
		provName = "Koulutus " + w + " Oy"
		schoolName = "Ammattiopisto " + w
	default:
		provName = m.p.nom + "-säätiö sr"
		schoolName = m.p.gen + " ammatti- ja aikuisopisto"
	}
	prov := g.provider(g.fiName(provName), m.code, model.OrgTypeEducationProvider)
	provOID, provPassive := prov.OID, prov.Status == model.OrgPassive
	school := g.school(provOID, m.code, 21, schoolName, "", false, provPassive)
	schoolCopy := *school
	n := p.officesMin + g.r.IntN(p.officesMax-p.officesMin+1)
	for k := 1; k <= n; k++ {
		om := munis[g.r.IntN(len(munis))]
		var name string
		if g.chance(0.5) {
			name = schoolName + ", " + om.p.nom
		} else {
			name = schoolName + ", " + m.village(g).gen + " kampus"
		}
		g.office(&schoolCopy, name, om.code, k)
	}
}

func (g *gen) privateDaycare(munis []*municipality) {
	m := munis[g.r.IntN(len(munis))]
	var name string
	switch g.r.IntN(3) {
	case 0:
		name = "Päiväkoti " + g.pick(daycareWords) + " Oy"
	case 1:
		name = m.p.gen + " " + g.pick([]string{"Montessori", "Steiner", "kieli", "liikunta"}) + "päiväkotiyhdistys ry"
	default:
		name = "Varhaiskasvatus " + g.pick(companyWords) + " Oy"
	}
	prov := g.provider(g.fiName(name), m.code, model.OrgTypeEarlyEducationProvider)
	oid, passive := prov.OID, prov.Status == model.OrgPassive
	for range 1 + g.r.IntN(5) {
		g.daycareUnit(oid, m.code, m.sv != "", passive)
	}
}

func (g *gen) privateSchool(munis []*municipality) {
	m := munis[g.r.IntN(len(munis))]
	type choice struct {
		prov, school string
		kind         int
	}
	options := []choice{
		{m.p.gen + " Steiner-koulun kannatusyhdistys ry", m.p.gen + " Steiner-koulu", 11},
		{m.p.gen + " kristillisen koulun kannatusyhdistys ry", m.p.gen + " kristillinen koulu", 11},
		{"International School of " + m.p.nom + " Oy", "International School of " + m.p.nom, 19},
		{m.p.gen + " yhteiskoulun säätiö sr", m.p.gen + " yhteiskoulun lukio", 15},
		{m.p.gen + " erityiskoulusäätiö sr", m.p.gen + " " + g.pick(compass) + "-koulu", 12},
		{g.pick(companyWords) + "-koulut Oy", "Koulu " + g.pick(companyWords) + " " + m.p.nom, 11},
	}
	c := options[g.r.IntN(len(options))]
	prov := g.provider(g.fiName(c.prov), m.code, model.OrgTypeEducationProvider)
	oid, passive := prov.OID, prov.Status == model.OrgPassive
	g.school(oid, m.code, c.kind, c.school, "", false, passive)
	if g.chance(0.4) { // a second school of the same provider
		g.school(oid, m.code, 11, m.village(g).gen+" "+g.pick([]string{"koulu", "alakoulu", "yläkoulu"}), "", false, passive)
	}
}

func (g *gen) adultEducation(munis []*municipality) {
	m := munis[g.r.IntN(len(munis))]
	w := g.pick(companyWords)
	var prov, school string
	switch g.r.IntN(3) {
	case 0:
		prov, school = m.p.gen+" opistoyhdistys ry", m.p.gen+" työväenopisto"
	case 1:
		prov, school = "Kansanopisto "+w+" -säätiö sr", w+"-opisto"
	default:
		prov, school = m.p.gen+" kesäyliopiston kannatusyhdistys ry", m.p.gen+" kesäyliopisto"
	}
	p := g.provider(g.fiName(prov), m.code, model.OrgTypeEducationProvider)
	oid, passive := p.OID, p.Status == model.OrgPassive
	s := g.school(oid, m.code, 64, school, "", false, passive)
	if g.chance(0.1) {
		sc := *s
		g.office(&sc, school+", "+m.village(g).nom, m.code, 1)
	}
}
