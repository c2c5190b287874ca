// Package discovery is the school-selection model: what the selection page
// can offer (a school of a source that lists its schools, or the source
// itself), with its labels in Finnish, Swedish and English, its education
// provider and municipality, and a search index over them.
//
// Why a package of its own: the national registry has some 3,000 schools
// and a few hundred login sources, and the page is shown on every login
// without an SSO session, often on an old school laptop on a busy Monday
// morning. Working out which schools a source covers (showSchools, schools,
// excludedSchools, institution types), naming them in three languages,
// sorting them the way each language sorts and folding accents for the
// search is far too much to do per request. An Index does it once per
// configuration and registry version; a query is then a scan over
// precomputed, folded keys with no allocation beyond the caller's buffer.
//
// The Index knows nothing of services: the broker narrows every query to
// the sources the requesting service may use with a Mask.
package discovery

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

// Languages are the page languages, in the order of the per-language
// arrays of Entry and Index.
var Languages = [3]string{"fi", "sv", "en"}

// LangIndex maps fi, sv and en to 0, 1 and 2; anything else is Finnish.
func LangIndex(lang string) int {
	switch lang {
	case "sv":
		return 1
	case "en":
		return 2
	}
	return 0
}

// Entry is one thing a user can pick: a school of a source that lists its
// schools, or the source itself.
type Entry struct {
	// ID names the choice: the source id, or "<source id>.<school code>"
	// for a school. It is what the selection form posts and what the
	// recent-choices cookie remembers.
	ID       string
	SourceID int64
	// SchoolCode is the school's 5-digit code; "" for a source entry.
	SchoolCode string
	// Label is the school's or source's name per language.
	Label [3]string
	// Title is the source's extra text shown after the name ("Wilma").
	Title string
	// ProviderOID and Provider are the education provider the entry is
	// grouped under ("" when the registry does not know it).
	ProviderOID string
	Provider    [3]string
	// Municipality is the name of the school's (or provider's)
	// municipality per language, "" when unknown.
	Municipality [3]string
	// Logo is the source's logo as a same-origin path or a data: URL, ""
	// when it has none or only an external one (the page's CSP allows no
	// other images, and a login page makes no third-party requests).
	Logo string

	src int32  // position of the source in Index.sources
	key string // folded search text: every name in every language
}

// Group is a run of entries under one education provider in a language's
// display order.
type Group struct {
	ProviderOID string
	// Name is the provider's name in the group's language ("" for entries
	// without a known provider, which come last).
	Name string
	// First and End delimit the group's entries in Order(lang).
	First, End int
}

// Index is the immutable selection model of one catalog and registry
// version. It is safe for concurrent use.
type Index struct {
	sources []int64
	srcPos  map[int64]int32
	entries []Entry
	byID    map[string]int32
	// order[l] lists the entries sorted by provider, then label, in
	// language l's collation; groups[l] delimits its providers;
	// groupOf[l][k] is the group of order[l][k].
	order   [3][]int32
	groups  [3][]Group
	groupOf [3][]int32
}

// Options tune Build.
type Options struct {
	// BaseURL is the broker's public base URL: a logo under it counts as
	// same-origin and is shown by its path.
	BaseURL string
}

// maxDataLogo caps a data: logo; a bigger one would weigh the page down.
const maxDataLogo = 8 << 10

// Build indexes the sources (active IdP integrations, in any order) against
// the registry.
func Build(sources []*model.Integration, reg *registry.Lookup, opt Options) *Index {
	ix := &Index{srcPos: make(map[int64]int32, len(sources)), byID: map[string]int32{}}
	munis := municipalities(reg)
	f := newFolder()
	for _, src := range sources {
		if src == nil || src.IdP == nil {
			continue
		}
		if _, dup := ix.srcPos[src.ID]; dup {
			continue
		}
		pos := int32(len(ix.sources))
		ix.sources = append(ix.sources, src.ID)
		ix.srcPos[src.ID] = pos
		ix.addSource(src, pos, reg, munis, f, opt)
	}
	ix.sort()
	return ix
}

func (ix *Index) addSource(src *model.Integration, pos int32, reg *registry.Lookup, munis map[string]model.LocalizedName, f *folder, opt Options) {
	d := src.IdP.Discovery
	provider, _ := reg.ByOID(src.OrganisationOID)
	if provider != nil && !provider.IsEducationProvider() {
		// A source may belong to a school or office: group it under the
		// provider above.
		if p, ok := reg.Provider(provider); ok {
			provider = p
		}
	}
	base := Entry{SourceID: src.ID, Title: strings.TrimSpace(d.Title), Logo: logo(src.IdP.LogoURL, opt.BaseURL), src: pos}
	if provider != nil {
		base.ProviderOID = provider.OID
		base.Provider = names(provider.Name)
		if m, ok := munis[provider.MunicipalityCode]; ok {
			base.Municipality = names(m)
		}
	}
	listed := false
	if d.ShowSchools && provider != nil {
		for _, school := range reg.SchoolsOf(provider.OID) {
			if !school.IsActive() || !Includes(src.IdP, school) {
				continue
			}
			e := base
			e.SchoolCode = school.SchoolCode
			e.ID = strconv.FormatInt(src.ID, 10) + "." + school.SchoolCode
			if school.SchoolCode == "" {
				e.ID = strconv.FormatInt(src.ID, 10) + "." + school.OID
			}
			e.Label = names(school.Name)
			if m, ok := munis[school.MunicipalityCode]; ok {
				e.Municipality = names(m)
			}
			ix.add(e, f)
			listed = true
		}
	}
	if !listed {
		e := base
		e.ID = strconv.FormatInt(src.ID, 10)
		switch {
		case d.CustomDisplayName != "":
			e.Label = [3]string{d.CustomDisplayName, d.CustomDisplayName, d.CustomDisplayName}
		case provider != nil:
			e.Label = base.Provider
		default:
			n := src.Name()
			e.Label = [3]string{n, n, n}
		}
		ix.add(e, f)
	}
}

func (ix *Index) add(e Entry, f *folder) {
	if _, dup := ix.byID[e.ID]; dup {
		return
	}
	var b strings.Builder
	var seen [10]string
	n := 0
	for _, parts := range [...][3]string{e.Label, e.Provider, e.Municipality, {e.Title}} {
		for _, s := range parts {
			folded := f.fold(s)
			if folded == "" || slices.Contains(seen[:n], folded) {
				continue
			}
			seen[n] = folded
			n++
			b.WriteByte(' ')
			b.WriteString(folded)
		}
	}
	e.key = b.String()
	ix.byID[e.ID] = int32(len(ix.entries))
	ix.entries = append(ix.entries, e)
}

// sort orders the entries of each language by provider, then label, as
// that language sorts (å, ä and ö after z in Finnish and Swedish).
func (ix *Index) sort() {
	tags := [3]language.Tag{language.Finnish, language.Swedish, language.English}
	for l := range Languages {
		c := collate.New(tags[l], collate.IgnoreCase)
		var buf collate.Buffer
		type k struct {
			i            int32
			group, label []byte
			noProvider   bool
		}
		keys := make([]k, len(ix.entries))
		for i := range ix.entries {
			e := &ix.entries[i]
			keys[i] = k{i: int32(i), noProvider: e.ProviderOID == ""}
			keys[i].group = slices.Clone(c.KeyFromString(&buf, e.Provider[l]+"\x00"+e.ProviderOID))
			keys[i].label = slices.Clone(c.KeyFromString(&buf, e.Label[l]+" "+e.Title))
			buf.Reset()
		}
		slices.SortStableFunc(keys, func(a, b k) int {
			if a.noProvider != b.noProvider {
				if a.noProvider {
					return 1
				}
				return -1
			}
			if r := bytes.Compare(a.group, b.group); r != 0 {
				return r
			}
			if r := bytes.Compare(a.label, b.label); r != 0 {
				return r
			}
			return strings.Compare(ix.entries[a.i].ID, ix.entries[b.i].ID)
		})
		order := make([]int32, len(keys))
		groupOf := make([]int32, len(keys))
		var groups []Group
		for pos, key := range keys {
			order[pos] = key.i
			e := &ix.entries[key.i]
			if len(groups) == 0 || groups[len(groups)-1].ProviderOID != e.ProviderOID {
				groups = append(groups, Group{ProviderOID: e.ProviderOID, Name: e.Provider[l], First: pos})
			}
			groups[len(groups)-1].End = pos + 1
			groupOf[pos] = int32(len(groups) - 1)
		}
		ix.order[l], ix.groups[l], ix.groupOf[l] = order, groups, groupOf
	}
}

// names fills a localized name's gaps by its fallbacks.
func names(n model.LocalizedName) [3]string {
	return [3]string{n.In("fi"), n.In("sv"), n.In("en")}
}

// municipalities maps municipality codes to names: the registry knows
// municipalities as education providers of type 09 with their own code. An
// active one wins over one merged away.
func municipalities(reg *registry.Lookup) map[string]model.LocalizedName {
	out := map[string]model.LocalizedName{}
	active := map[string]bool{}
	all := reg.All()
	for i := range all {
		o := &all[i]
		if o.MunicipalityCode == "" || !o.HasType(model.OrgTypeOther) || !o.IsEducationProvider() || active[o.MunicipalityCode] {
			continue
		}
		out[o.MunicipalityCode] = o.Name
		active[o.MunicipalityCode] = o.IsActive()
	}
	return out
}

// Includes applies a source's school list, exclusions and institution
// types to one school.
func Includes(idp *model.IdP, school *model.Organisation) bool {
	d := idp.Discovery
	if len(d.Schools) > 0 && !slices.Contains(d.Schools, school.SchoolCode) {
		return false
	}
	if slices.Contains(d.ExcludedSchools, school.SchoolCode) {
		return false
	}
	if len(idp.InstitutionTypes) > 0 && !slices.Contains(idp.InstitutionTypes, school.InstitutionType) {
		return false
	}
	return true
}

// logo returns a logo URL the page may show: a same-origin path, or a small
// data: image. Anything else is dropped; the entry shows its name alone.
func logo(u, baseURL string) string {
	switch {
	case u == "":
		return ""
	case strings.HasPrefix(u, "data:image/"):
		if len(u) > maxDataLogo || strings.HasPrefix(u, "data:image/svg") {
			return ""
		}
		return u
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.Contains(u, `\`):
		return u
	case baseURL != "" && strings.HasPrefix(u, strings.TrimSuffix(baseURL, "/")+"/"):
		return u[len(strings.TrimSuffix(baseURL, "/")):]
	}
	return ""
}

// Len is the number of entries.
func (ix *Index) Len() int { return len(ix.entries) }

// Entry returns entry i (an index from Search, Order or ByID); shared, do
// not modify.
func (ix *Index) Entry(i int32) *Entry { return &ix.entries[i] }

// ByID finds an entry by its ID.
func (ix *Index) ByID(id string) (int32, bool) {
	i, ok := ix.byID[id]
	return i, ok
}

// Groups returns a language's provider groups over Order(lang); shared.
func (ix *Index) Groups(lang string) []Group { return ix.groups[LangIndex(lang)] }

// Order returns every entry in a language's display order; shared.
func (ix *Index) Order(lang string) []int32 { return ix.order[LangIndex(lang)] }

// Mask is the set of sources a query may return, by position in the Index.
type Mask []bool

// Mask returns the mask of the sources with the given ids; ids the Index
// does not know are ignored.
func (ix *Index) Mask(ids []int64) Mask {
	m := make(Mask, len(ix.sources))
	for _, id := range ids {
		if p, ok := ix.srcPos[id]; ok {
			m[p] = true
		}
	}
	return m
}

// Allowed reports whether entry i's source is in the mask.
func (m Mask) Allowed(ix *Index, i int32) bool {
	p := ix.entries[i].src
	return int(p) < len(m) && m[p]
}

// Query is one search.
type Query struct {
	Lang string
	// Text is what the user typed; accents, case and punctuation are
	// ignored, and every word must match somewhere in the entry's names
	// (a word of one or two letters at the start of a name's word).
	// Empty matches everything.
	Text string
	// ProviderOID, when set, keeps only the entries of one provider.
	ProviderOID string
	Allowed     Mask
	// Limit caps the entries returned (0: no cap); Total still counts all.
	Limit int
}

// Result is a search's answer.
type Result struct {
	// Entries are entry indexes in display order (grouped by provider).
	Entries []int32
	// Total counts every match, also those past the Limit.
	Total int
}

// maxWords bounds the words of a query that are matched.
const maxWords = 8

// Search returns the matching entries in display order, appended to
// buf[:0]. It folds the query once and then only compares bytes: with
// a reused buf it does not allocate for an ASCII query.
func (ix *Index) Search(q Query, buf []int32) Result {
	l := LangIndex(q.Lang)
	var words [maxWords]string
	n := 0
	for w := range strings.FieldsSeq(FoldQuery(q.Text)) {
		if n == maxWords {
			break
		}
		words[n] = w
		n++
	}
	res := Result{Entries: buf[:0]}
	for _, i := range ix.order[l] {
		e := &ix.entries[i]
		if int(e.src) >= len(q.Allowed) || !q.Allowed[e.src] {
			continue
		}
		if q.ProviderOID != "" && e.ProviderOID != q.ProviderOID {
			continue
		}
		match := true
		for _, w := range words[:n] {
			if !matchWord(e.key, w) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		res.Total++
		if q.Limit == 0 || len(res.Entries) < q.Limit {
			res.Entries = append(res.Entries, i)
		}
	}
	return res
}

// matchWord reports whether the folded word occurs in the key: anywhere
// (Finnish compounds: "koulu" finds "yhtenäiskoulu"), except that a word
// of one or two letters must start a word ("a" does not find everything).
func matchWord(key, w string) bool {
	if len(w) > 2 {
		return strings.Contains(key, w)
	}
	for off := 0; ; {
		i := strings.Index(key[off:], w)
		if i < 0 {
			return false
		}
		if p := off + i; p > 0 && key[p-1] == ' ' {
			return true
		}
		off += i + 1
	}
}

// ProviderCount is a provider with how many allowed entries it has.
type ProviderCount struct {
	ProviderOID string
	Name        string
	Count       int
}

// Providers lists a language's provider groups that have allowed entries,
// in display order, appended to buf[:0].
func (ix *Index) Providers(lang string, allowed Mask, buf []ProviderCount) []ProviderCount {
	l := LangIndex(lang)
	out := buf[:0]
	for _, g := range ix.groups[l] {
		n := 0
		for _, i := range ix.order[l][g.First:g.End] {
			if allowed.Allowed(ix, i) {
				n++
			}
		}
		if n > 0 {
			out = append(out, ProviderCount{ProviderOID: g.ProviderOID, Name: g.Name, Count: n})
		}
	}
	return out
}

// FoldQuery folds a query like Fold, without the Unicode machinery for
// plain ASCII input.
func FoldQuery(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return Fold(s)
		}
	}
	b := make([]byte, 0, len(s))
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			if space {
				continue
			}
			c, space = ' ', true
			b = append(b, c)
			continue
		}
		space = false
		b = append(b, c)
	}
	return strings.TrimSuffix(string(b), " ")
}

// folder folds names while an Index is built: names repeat (providers,
// municipalities), and the Unicode transformer is built once.
type folder struct {
	t    transform.Transformer
	done map[string]string
}

func newFolder() *folder {
	return &folder{t: transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), done: map[string]string{}}
}

func (f *folder) fold(s string) string {
	if s == "" {
		return ""
	}
	if out, ok := f.done[s]; ok {
		return out
	}
	out := foldWith(f.t, s)
	f.done[s] = out
	return out
}

// Fold lowercases, strips accents and turns punctuation into single
// spaces, so that "hameenlinna" finds "Hämeenlinna" and "steiner koulu"
// finds "Steiner-koulu".
func Fold(s string) string {
	return foldWith(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
}

func foldWith(t transform.Transformer, s string) string {
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	var b strings.Builder
	b.Grow(len(out))
	space := true
	for _, r := range out {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}
