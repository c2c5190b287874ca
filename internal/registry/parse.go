package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// Errors of an answer that cannot be trusted as the whole registry. They are
// returned wrapped; test with errors.Is.
var (
	// ErrInvalidAnswer: the body is not a complete hierarkia answer
	// (truncated or malformed JSON, no "organisaatiot", an organisation
	// without an OID, or fewer organisations than numHits promised).
	ErrInvalidAnswer = errors.New("invalid registry answer")
)

// wireOrg is one organisation in the shape Organisaatiopalvelu sends, both
// in hierarkia/hae (nested children) and in GET <oid> (detail). Unknown
// fields are ignored; subRows (a copy of children in hierarkia answers) is
// deliberately not declared, so it is skipped and never double-counted.
type wireOrg struct {
	OID                 string    `json:"oid"`
	ParentOID           string    `json:"parentOid"`
	ParentOIDPath       string    `json:"parentOidPath"`
	Nimi                wireName  `json:"nimi"`
	LyhytNimi           wireName  `json:"lyhytNimi"`
	YTunnus             string    `json:"ytunnus"`
	Organisaatiotyypit  []string  `json:"organisaatiotyypit"`
	Tyypit              []string  `json:"tyypit"`
	OppilaitosKoodi     string    `json:"oppilaitosKoodi"`
	Oppilaitostyyppi    string    `json:"oppilaitostyyppi"`
	OppilaitosTyyppiURI string    `json:"oppilaitosTyyppiUri"` // detail answers
	Toimipistekoodi     string    `json:"toimipistekoodi"`
	KotipaikkaURI       string    `json:"kotipaikkaUri"`
	KieletURIs          []string  `json:"kieletUris"`
	Status              string    `json:"status"`
	AlkuPvm             wireDate  `json:"alkuPvm"`
	LakkautusPvm        wireDate  `json:"lakkautusPvm"`
	Children            []wireOrg `json:"children"`
}

type wireName struct {
	Fi string `json:"fi"`
	Sv string `json:"sv"`
	En string `json:"en"`
}

func (n wireName) empty() bool { return n.Fi == "" && n.Sv == "" && n.En == "" }

// wireDate is a date as the registry sends it: epoch milliseconds in
// hierarkia answers, "YYYY-MM-DD" in detail answers, or null.
type wireDate struct {
	set  bool
	ms   int64
	date string // "YYYY-MM-DD" when sent as a string
}

func (d *wireDate) UnmarshalJSON(b []byte) error {
	*d = wireDate{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			d.set, d.ms = true, ms
			return nil
		}
		if len(s) >= 10 {
			s = s[:10] // tolerate a time part
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return fmt.Errorf("date %q: %w", s, err)
		}
		d.set, d.date = true, s
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("date %s: %w", b, err)
	}
	// Epoch ms beyond year ±292277 overflow time; treat as garbage.
	const limit = 1 << 53
	if f > limit || f < -limit {
		return fmt.Errorf("date %s out of range", b)
	}
	d.set, d.ms = true, int64(f)
	return nil
}

// time converts the date; string dates are midnight in loc.
func (d wireDate) time(loc *time.Location) *time.Time {
	if !d.set {
		return nil
	}
	var t time.Time
	if d.date != "" {
		var err error
		t, err = time.ParseInLocation(time.DateOnly, d.date, loc)
		if err != nil {
			return nil
		}
		t = t.UTC()
	} else {
		t = time.UnixMilli(d.ms).UTC()
	}
	return &t
}

// toModel maps a wire organisation to the model. parentPath is the
// normalised ancestor path of the enclosing organisation in a hierarkia
// answer (nil at the top level or in a detail answer); it fills in a path or
// parent the organisation itself left out.
func (w *wireOrg) toModel(loc *time.Location, parent *model.Organisation) model.Organisation {
	o := model.Organisation{
		OID:        strings.TrimSpace(w.OID),
		ParentOID:  strings.TrimSpace(w.ParentOID),
		Name:       model.LocalizedName(w.Nimi),
		BusinessID: w.YTunnus,
		SchoolCode: w.OppilaitosKoodi,
		OfficeCode: w.Toimipistekoodi,
		Status:     model.OrgStatus(strings.ToUpper(strings.TrimSpace(w.Status))),
		StartDate:  w.AlkuPvm.time(loc),
		EndDate:    w.LakkautusPvm.time(loc),
	}
	if w.Nimi.empty() {
		o.Name = model.LocalizedName(w.LyhytNimi)
	}
	o.Types = w.Organisaatiotyypit
	if len(o.Types) == 0 {
		o.Types = w.Tyypit
	}
	if len(o.Types) == 0 {
		o.Types = nil
	}
	ot := w.Oppilaitostyyppi
	if ot == "" {
		ot = w.OppilaitosTyyppiURI
	}
	o.InstitutionType = codeNumber(ot)
	o.MunicipalityCode = stripVersion(strings.TrimPrefix(w.KotipaikkaURI, "kunta_"))
	if len(w.KieletURIs) > 0 {
		o.Languages = make([]string, 0, len(w.KieletURIs))
		for _, l := range w.KieletURIs {
			if l = stripVersion(l); l != "" {
				o.Languages = append(o.Languages, l)
			}
		}
		if len(o.Languages) == 0 {
			o.Languages = nil
		}
	}
	if o.Status == "" {
		// Not sent: an end date means closed, otherwise active.
		o.Status = model.OrgActive
		if o.EndDate != nil {
			o.Status = model.OrgPassive
		}
	}
	o.ParentOIDPath = normalisePath(w.ParentOIDPath, o.OID, o.ParentOID)
	if parent != nil {
		if o.ParentOID == "" {
			o.ParentOID = parent.OID
		}
		if len(o.ParentOIDPath) == 0 && o.ParentOID == parent.OID {
			o.ParentOIDPath = append(slices.Clip(parent.ParentOIDPath), parent.OID)
		}
	}
	if o.ParentOID == "" && len(o.ParentOIDPath) > 0 {
		o.ParentOID = o.ParentOIDPath[len(o.ParentOIDPath)-1]
	}
	return o
}

// normalisePath turns the registry's parentOidPath into the model's form:
// ancestors from the root down, without the organisation itself.
//
// The registry has two spellings. hierarkia/hae sends
// "self/parent/.../root" (slash-separated, nearest first, including the
// organisation); GET <oid> sends "|root|...|parent|" (pipe-separated, root
// first, without it). Both separators are accepted, self is dropped wherever
// it is, and the direction is detected from where the parent or the OPH root
// stands.
func normalisePath(raw, self, parent string) []string {
	if raw == "" {
		return nil
	}
	parts := strings.FieldsFunc(raw, func(r rune) bool { return r == '/' || r == '|' })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && p != self {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if len(out) > 1 {
		first, last := out[0], out[len(out)-1]
		switch {
		case parent != "" && first == parent && last != parent:
			slices.Reverse(out)
		case parent == "" && last == model.RootOID && first != model.RootOID:
			slices.Reverse(out)
		case parent == "" && first != model.RootOID && strings.HasPrefix(raw, self):
			slices.Reverse(out)
		}
	}
	return slices.Clip(out)
}

// codeNumber extracts the number of a koodisto URI: "oppilaitostyyppi_11#1"
// -> 11. It returns 0 if there is none.
func codeNumber(uri string) int {
	uri = stripVersion(uri)
	if i := strings.LastIndexByte(uri, '_'); i >= 0 {
		uri = uri[i+1:]
	}
	n, err := strconv.Atoi(uri)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// stripVersion drops a koodisto version suffix ("#1"), so that a version
// bump alone does not count as a change.
func stripVersion(uri string) string {
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	return strings.TrimSpace(uri)
}

// hierarchyStats tells what a parse saw besides the organisations.
type hierarchyStats struct {
	NumHits    int64 // -1 when the answer had none
	Duplicates int   // organisations seen more than once (kept once)
}

// maxDepth bounds the nesting of children; the real tree is about 5 deep.
const maxDepth = 64

// ParseHierarchy reads a hierarkia/hae answer ({"numHits": N,
// "organisaatiot": [...]}) as a stream and returns the organisations as a
// flat list, parents before their children. String dates are midnight in
// loc (nil: UTC). It fails with ErrInvalidAnswer on truncated or malformed
// JSON, a missing "organisaatiot", an organisation without an OID, or when
// numHits promises clearly more organisations than the answer holds.
func ParseHierarchy(r io.Reader, loc *time.Location) ([]model.Organisation, error) {
	orgs, _, err := parseHierarchy(r, loc)
	return orgs, err
}

func parseHierarchy(r io.Reader, loc *time.Location) ([]model.Organisation, hierarchyStats, error) {
	if loc == nil {
		loc = time.UTC
	}
	st := hierarchyStats{NumHits: -1}
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, st, err
	}
	var (
		orgs    []model.Organisation
		seen    = make(map[string]struct{})
		gotList bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, st, invalid(err)
		}
		key, _ := tok.(string)
		switch key {
		case "numHits":
			var n json.Number
			if err := dec.Decode(&n); err != nil {
				return nil, st, invalid(fmt.Errorf("numHits: %w", err))
			}
			if v, err := n.Int64(); err == nil {
				st.NumHits = v
			}
		case "organisaatiot":
			tok, err := dec.Token()
			if err != nil {
				return nil, st, invalid(err)
			}
			if tok == nil { // null
				continue
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return nil, st, invalid(fmt.Errorf("organisaatiot is %v, want an array", tok))
			}
			gotList = true
			for dec.More() {
				var w wireOrg
				if err := dec.Decode(&w); err != nil {
					return nil, st, invalid(fmt.Errorf("organisation %d: %w", len(orgs), err))
				}
				if orgs, err = flatten(orgs, &w, loc, seen, &st); err != nil {
					return nil, st, err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return nil, st, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, st, invalid(fmt.Errorf("field %q: %w", key, err))
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, st, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the answer")
		}
		return nil, st, invalid(err)
	}
	if !gotList {
		return nil, st, invalid(errors.New(`no "organisaatiot" in the answer`))
	}
	if n := int64(len(orgs)); st.NumHits > n+max(5, n/50) {
		return nil, st, invalid(fmt.Errorf("numHits %d but the answer holds %d organisations", st.NumHits, n))
	}
	return orgs, st, nil
}

// flatten appends w and its descendants (depth first, parents first) to
// orgs, skipping OIDs already seen.
func flatten(orgs []model.Organisation, top *wireOrg, loc *time.Location, seen map[string]struct{}, st *hierarchyStats) ([]model.Organisation, error) {
	type item struct {
		w      *wireOrg
		parent int // index in orgs, -1 for none
		depth  int
	}
	stack := []item{{top, -1, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > maxDepth {
			return orgs, invalid(fmt.Errorf("organisations nested deeper than %d", maxDepth))
		}
		var parent *model.Organisation
		if it.parent >= 0 {
			parent = &orgs[it.parent]
		}
		o := it.w.toModel(loc, parent)
		if o.OID == "" {
			return orgs, invalid(fmt.Errorf("an organisation without an oid (parent %q)", o.ParentOID))
		}
		idx := -1
		if _, dup := seen[o.OID]; dup {
			st.Duplicates++
		} else {
			seen[o.OID] = struct{}{}
			orgs = append(orgs, o)
			idx = len(orgs) - 1
		}
		// Push in reverse so that children come out in their order.
		for i := len(it.w.Children) - 1; i >= 0; i-- {
			stack = append(stack, item{&it.w.Children[i], idx, it.depth + 1})
		}
	}
	return orgs, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return invalid(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return invalid(fmt.Errorf("got %v, want %v", tok, want))
	}
	return nil
}

func invalid(err error) error {
	var re *readError
	if errors.As(err, &re) {
		return err // a transport failure, not a bad answer
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", ErrInvalidAnswer, err)
}

// ParseOrganisation reads one GET <oid> answer.
func ParseOrganisation(r io.Reader, loc *time.Location) (*model.Organisation, error) {
	if loc == nil {
		loc = time.UTC
	}
	var w wireOrg
	dec := json.NewDecoder(r)
	if err := dec.Decode(&w); err != nil {
		return nil, invalid(err)
	}
	o := w.toModel(loc, nil)
	if o.OID == "" {
		return nil, invalid(errors.New("an organisation without an oid"))
	}
	return &o, nil
}
