package fakeopas

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// NewServer starts an httptest server serving ds; the client's base URL is
// its URL plus "/".
func NewServer(ds *Dataset) *httptest.Server { return httptest.NewServer(Handler(ds)) }

// Handler serves ds the way Organisaatiopalvelu does, relative to the API
// base (mount it with http.StripPrefix under e.g.
// "/organisaatio-service/api"):
//
//   - GET hierarkia/hae: {"numHits": N, "organisaatiot": [...]} with nested
//     children (and their copy, subRows), filtered by aktiiviset (default
//     true), suunnitellut (default true), lakkautetut (default false) and
//     oid (that organisation's subtree, under its ancestors);
//   - GET <oid>: one organisation in the detail shape.
//
// Both require a Caller-Id header (400 without), and answer gzip when the
// client accepts it. The dataset's Faults apply to every request.
func Handler(ds *Dataset) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ds.mu.Lock()
		ds.requests++
		ds.lastCallerID = r.Header.Get("Caller-Id")
		ds.lastAccept = r.Header.Get("Accept-Encoding")
		f := ds.faults
		failNow := false
		if f.Status != 0 && (f.FailTimes == 0 || ds.failed < f.FailTimes) {
			failNow = true
			ds.failed++
		}
		ds.mu.Unlock()

		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Caller-Id") == "" {
			http.Error(w, `{"errorMessage":"Caller-Id header is required"}`, http.StatusBadRequest)
			return
		}
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if failNow {
			if f.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			http.Error(w, `{"errorMessage":"injected failure"}`, f.Status)
			return
		}
		path := strings.Trim(r.URL.Path, "/")
		switch {
		case path == "hierarkia/hae":
			serveHierarchy(ds, f, w, r)
		case path != "" && !strings.Contains(path, "/"):
			serveOrg(ds, f, w, r, path)
		default:
			http.NotFound(w, r)
		}
	})
}

// respond sets up gzip and truncation and returns the writer for the JSON
// and a function that finishes the answer.
func respond(w http.ResponseWriter, r *http.Request, f Faults) (io.Writer, func()) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	var out io.Writer = w
	var closers []func()
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Del("Content-Length")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = zw
		closers = append(closers, func() { zw.Close() })
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	out = bw
	if f.TruncateAfter > 0 {
		out = &truncWriter{w: bw, left: f.TruncateAfter}
	}
	w.WriteHeader(http.StatusOK)
	return out, func() {
		bw.Flush()
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
}

func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

// truncWriter passes the first left bytes and swallows the rest.
type truncWriter struct {
	w    io.Writer
	left int
}

func (t *truncWriter) Write(p []byte) (int, error) {
	n := len(p)
	if t.left <= 0 {
		return n, nil
	}
	if len(p) > t.left {
		p = p[:t.left]
	}
	t.left -= len(p)
	if _, err := t.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// ---- hierarkia/hae ----

type wireName struct {
	Fi string `json:"fi,omitempty"`
	Sv string `json:"sv,omitempty"`
	En string `json:"en,omitempty"`
}

// wireHierOrg is an organisation in a hierarkia/hae answer, in the field
// order and spelling of the real service.
type wireHierOrg struct {
	AliOrganisaatioMaara int            `json:"aliOrganisaatioMaara"`
	AlkuPvm              *int64         `json:"alkuPvm,omitempty"`
	Children             []*wireHierOrg `json:"children"`
	KieletUris           []string       `json:"kieletUris"`
	KotipaikkaURI        string         `json:"kotipaikkaUri,omitempty"`
	LakkautusPvm         *int64         `json:"lakkautusPvm,omitempty"`
	LyhytNimi            wireName       `json:"lyhytNimi"`
	Match                bool           `json:"match"`
	Nimi                 wireName       `json:"nimi"`
	OID                  string         `json:"oid"`
	OppilaitosKoodi      string         `json:"oppilaitosKoodi,omitempty"`
	Oppilaitostyyppi     string         `json:"oppilaitostyyppi,omitempty"`
	Organisaatiotyypit   []string       `json:"organisaatiotyypit"`
	ParentOID            string         `json:"parentOid"`
	ParentOIDPath        string         `json:"parentOidPath"`
	Status               string         `json:"status"`
	SubRows              []*wireHierOrg `json:"subRows"`
	Toimipistekoodi      string         `json:"toimipistekoodi"`
	Tyypit               []string       `json:"tyypit"`
	YTunnus              string         `json:"ytunnus,omitempty"`
}

func epochMs(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func versioned(uris []string, version string) []string {
	out := make([]string, len(uris))
	for i, u := range uris {
		out[i] = u + version
	}
	return out
}

func kotipaikka(code string) string {
	if code == "" {
		return ""
	}
	return "kunta_" + code
}

func instType(n int) string {
	if n == 0 {
		return ""
	}
	return "oppilaitostyyppi_" + strconv.Itoa(n) + "#1"
}

func toWireHier(o *model.Organisation) *wireHierOrg {
	// The real path is "self/parent/.../root": nearest first, self included.
	parts := make([]string, 0, len(o.ParentOIDPath)+1)
	parts = append(parts, o.OID)
	for i := len(o.ParentOIDPath) - 1; i >= 0; i-- {
		parts = append(parts, o.ParentOIDPath[i])
	}
	n := wireName(o.Name)
	return &wireHierOrg{
		AlkuPvm:            epochMs(o.StartDate),
		Children:           []*wireHierOrg{},
		KieletUris:         versioned(o.Languages, "#1"),
		KotipaikkaURI:      kotipaikka(o.MunicipalityCode),
		LakkautusPvm:       epochMs(o.EndDate),
		LyhytNimi:          n,
		Nimi:               n,
		OID:                o.OID,
		OppilaitosKoodi:    o.SchoolCode,
		Oppilaitostyyppi:   instType(o.InstitutionType),
		Organisaatiotyypit: o.Types,
		ParentOID:          o.ParentOID,
		ParentOIDPath:      strings.Join(parts, "/"),
		Status:             string(o.Status),
		SubRows:            []*wireHierOrg{},
		Toimipistekoodi:    o.OfficeCode,
		Tyypit:             o.Types,
		YTunnus:            o.BusinessID,
	}
}

func boolParam(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

func dropped(oid string, share float64) bool {
	if share <= 0 {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(oid))
	return float64(h.Sum32()%10000) < share*10000
}

func serveHierarchy(ds *Dataset, f Faults, w http.ResponseWriter, r *http.Request) {
	active := boolParam(r, "aktiiviset", true)
	planned := boolParam(r, "suunnitellut", true)
	closed := boolParam(r, "lakkautetut", false)
	only := r.URL.Query().Get("oid")

	ds.mu.RLock()
	orgs := ds.orgs // pre-order; read under the lock while we build
	n := len(orgs)
	// include[i]: the organisation matches; keep[i]: it is in the answer
	// (it matches or a descendant does, so the tree stays connected).
	match := make([]bool, n)
	keep := make([]bool, n)
	parentIdx := make([]int32, n)
	for i := range orgs {
		parentIdx[i] = -1
		if p, ok := ds.index[orgs[i].ParentOID]; ok {
			parentIdx[i] = int32(p)
		}
	}
	var onlyIdx = -1
	if only != "" {
		if i, ok := ds.index[only]; ok {
			onlyIdx = i
		}
	}
	// DropShare leaves out leaves (units, offices, most schools), scaled so
	// that about that share of all organisations goes missing.
	hasKids := make([]bool, n)
	leaves := 0
	for i := range orgs {
		if p := parentIdx[i]; p >= 0 {
			hasKids[p] = true
		}
	}
	for i := range orgs {
		if !hasKids[i] {
			leaves++
		}
	}
	leafShare := 0.0
	if leaves > 0 {
		leafShare = min(1, f.DropShare*float64(n)/float64(leaves))
	}
	for i := range orgs {
		o := &orgs[i]
		if !hasKids[i] && dropped(o.OID, leafShare) {
			continue
		}
		if f.Empty {
			continue
		}
		if only != "" && !underOrSelf(i, onlyIdx, parentIdx) {
			continue
		}
		switch o.Status {
		case model.OrgActive:
			match[i] = active
		case model.OrgPlanned:
			match[i] = planned
		case model.OrgPassive:
			match[i] = closed
		}
	}
	for i := n - 1; i >= 0; i-- { // children come after parents
		if match[i] {
			keep[i] = true
		}
		if keep[i] && parentIdx[i] >= 0 {
			keep[parentIdx[i]] = true
		}
	}
	// Build the nested answer one top-level subtree at a time.
	var tops []*wireHierOrg
	nodes := make(map[int]*wireHierOrg)
	hits := 0
	for i := range orgs {
		if !keep[i] {
			continue
		}
		node := toWireHier(&orgs[i])
		node.Match = match[i]
		hits++
		if p := parentIdx[i]; p >= 0 && keep[p] {
			pn := nodes[int(p)]
			pn.Children = append(pn.Children, node)
			pn.SubRows = append(pn.SubRows, node)
		} else {
			tops = append(tops, node)
		}
		nodes[i] = node
	}
	ds.mu.RUnlock()
	countDescendants(tops)

	out, finish := respond(w, r, f)
	defer finish()
	if r.Method == http.MethodHead {
		return
	}
	if f.OmitNumHits {
		io.WriteString(out, `{"organisaatiot":[`)
	} else {
		io.WriteString(out, `{"numHits":`+strconv.Itoa(hits)+`,"organisaatiot":[`)
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for k, t := range tops {
		if k > 0 {
			io.WriteString(out, ",")
		}
		if err := enc.Encode(t); err != nil {
			return
		}
	}
	io.WriteString(out, "]}")
}

func underOrSelf(i, anc int, parent []int32) bool {
	if anc < 0 {
		return false
	}
	for steps := 0; i >= 0 && steps < len(parent); steps++ {
		if i == anc {
			return true
		}
		i = int(parent[i])
	}
	return false
}

func countDescendants(nodes []*wireHierOrg) int {
	total := 0
	for _, n := range nodes {
		n.AliOrganisaatioMaara = countDescendants(n.Children)
		total += 1 + n.AliOrganisaatioMaara
	}
	return total
}

// ---- GET <oid> ----

// wireDetail is the detail shape: pipe-separated parentOidPath from the root
// down without self, dates as "YYYY-MM-DD", oppilaitosTyyppiUri.
type wireDetail struct {
	OID                 string   `json:"oid"`
	ParentOID           string   `json:"parentOid"`
	Nimi                wireName `json:"nimi"`
	AlkuPvm             string   `json:"alkuPvm,omitempty"`
	LakkautusPvm        string   `json:"lakkautusPvm,omitempty"`
	KieletUris          []string `json:"kieletUris"`
	KotipaikkaURI       string   `json:"kotipaikkaUri,omitempty"`
	MaaURI              string   `json:"maaUri"`
	ParentOIDPath       string   `json:"parentOidPath"`
	Toimipistekoodi     string   `json:"toimipistekoodi"`
	Tyypit              []string `json:"tyypit"`
	YTunnus             string   `json:"ytunnus,omitempty"`
	OppilaitosKoodi     string   `json:"oppilaitosKoodi,omitempty"`
	OppilaitosTyyppiURI string   `json:"oppilaitosTyyppiUri,omitempty"`
	LyhytNimi           wireName `json:"lyhytNimi"`
	Status              string   `json:"status"`
	Version             int      `json:"version"`
}

func serveOrg(ds *Dataset, f Faults, w http.ResponseWriter, r *http.Request, oid string) {
	ds.mu.RLock()
	i, ok := ds.index[oid]
	var o model.Organisation
	if ok {
		o = cloneOrg(ds.orgs[i])
	}
	loc := ds.loc
	ds.mu.RUnlock()
	if !ok || dropped(oid, f.DropShare) {
		http.Error(w, `{"errorMessage":"organisaatio.exception.organisaatio.not.found"}`, http.StatusNotFound)
		return
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format(time.DateOnly)
	}
	path := ""
	if len(o.ParentOIDPath) > 0 {
		path = "|" + strings.Join(o.ParentOIDPath, "|") + "|"
	}
	n := wireName(o.Name)
	d := wireDetail{
		OID: o.OID, ParentOID: o.ParentOID, Nimi: n, LyhytNimi: n,
		AlkuPvm: date(o.StartDate), LakkautusPvm: date(o.EndDate),
		KieletUris: versioned(o.Languages, "#1"), KotipaikkaURI: kotipaikka(o.MunicipalityCode),
		MaaURI: "maatjavaltiot1_fin", ParentOIDPath: path, Toimipistekoodi: o.OfficeCode,
		Tyypit: o.Types, YTunnus: o.BusinessID, OppilaitosKoodi: o.SchoolCode,
		OppilaitosTyyppiURI: instType(o.InstitutionType), Status: string(o.Status), Version: 1,
	}
	out, finish := respond(w, r, f)
	defer finish()
	if r.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.Encode(d)
}

// handlerTransport answers HTTP requests by calling a handler in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// HTTPClient returns a client whose requests are answered by Handler(ds)
// in-process, without a listening socket. `mpassid dev` syncs its demo
// registry through it, over the same client code as production.
func HTTPClient(ds *Dataset) *http.Client {
	return &http.Client{Transport: handlerTransport{h: Handler(ds)}}
}
