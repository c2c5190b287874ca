package broker

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpassid/mpassid/internal/audit"
	"github.com/mpassid/mpassid/internal/discovery"
	"github.com/mpassid/mpassid/internal/registry"
)

// message keys of user-facing texts.
type message int

const (
	msgTitle message = iota
	msgLead
	msgChoose
	msgSearch
	msgSearchHint
	msgSearchButton
	msgNoMatch
	msgRecent
	msgFound
	msgShowing
	msgProviders
	msgAllProviders
	msgOther
	msgSkip
	msgContinue
	msgUnknownService
	msgBadRequest
	msgExpired
	msgTechnical
	msgErrorTitle
	msgReference
	msgWhatToDo
	msgLanguage
	msgFooter
)

// texts holds every user-facing text in Finnish, Swedish and English.
var texts = map[message][3]string{
	msgTitle:        {"Kirjaudu MPASSid:llä", "Logga in med MPASSid", "Log in with MPASSid"},
	msgLead:         {"Valitse koulu tai oppilaitos, jonka tunnuksilla kirjaudut.", "Välj den skola eller läroanstalt vars inloggning du använder.", "Choose the school whose login you use."},
	msgChoose:       {"Valitse koulusi", "Välj din skola", "Choose your school"},
	msgSearch:       {"Hae koulua, kuntaa tai koulutuksen järjestäjää", "Sök skola, kommun eller utbildningsanordnare", "Search for a school, municipality or education provider"},
	msgSearchHint:   {"Kirjoita osa nimestä, esimerkiksi koulun tai kunnan nimi.", "Skriv en del av namnet, till exempel skolans eller kommunens namn.", "Type part of the name, for example the school's or the municipality's."},
	msgSearchButton: {"Hae", "Sök", "Search"},
	msgNoMatch:      {"Hakuasi vastaavaa koulua ei löytynyt. Kokeile lyhyempää hakusanaa.", "Ingen skola motsvarar din sökning. Prova ett kortare sökord.", "No school matches your search. Try a shorter search term."},
	msgRecent:       {"Viimeksi valitsemasi", "Dina senaste val", "Your recent choices"},
	msgFound:        {"Vaihtoehtoja: %d", "Alternativ: %d", "Options: %d"},
	msgShowing:      {"Näytetään %d / %d. Tarkenna hakua nähdäksesi muut.", "Visar %d av %d. Förfina sökningen för att se resten.", "Showing %d of %d. Refine your search to see the rest."},
	msgProviders:    {"Kirjoita hakuun koulusi nimi tai valitse ensin koulutuksen järjestäjä:", "Skriv skolans namn i sökfältet eller välj först utbildningsanordnare:", "Type your school's name in the search, or first choose the education provider:"},
	msgAllProviders: {"Näytä kaikki koulutuksen järjestäjät", "Visa alla utbildningsanordnare", "Show all education providers"},
	msgOther:        {"Muut", "Övriga", "Other"},
	msgSkip:         {"Siirry pääsisältöön", "Hoppa till huvudinnehållet", "Skip to main content"},
	msgContinue:     {"Jatka", "Fortsätt", "Continue"},
	msgUnknownService: {"Palvelu, josta tulit, ei ole käytössä MPASSid:ssä.", "Tjänsten du kom från används inte i MPASSid.",
		"The service you came from is not in use in MPASSid."},
	msgBadRequest: {"Kirjautumispyyntö oli virheellinen.", "Inloggningsbegäran var felaktig.", "The login request was not valid."},
	msgExpired: {"Kirjautuminen vanheni tai se aloitettiin toisessa selaimessa.", "Inloggningen gick ut eller påbörjades i en annan webbläsare.",
		"The login expired or was started in another browser."},
	msgTechnical:  {"Kirjautumisessa tapahtui tekninen virhe.", "Ett tekniskt fel inträffade vid inloggningen.", "A technical error occurred during login."},
	msgErrorTitle: {"Kirjautuminen ei onnistunut", "Inloggningen misslyckades", "Login did not succeed"},
	msgReference:  {"Virhekoodi", "Felkod", "Reference code"},
	msgWhatToDo: {"Palaa palveluun, josta tulit, ja aloita kirjautuminen alusta. Jos virhe toistuu, kerro virhekoodi opettajallesi tai koulusi tukihenkilölle.",
		"Gå tillbaka till tjänsten du kom från och börja logga in på nytt. Om felet upprepas, ge felkoden till din lärare eller skolans stödperson.",
		"Go back to the service you came from and start the login again. If it happens again, give the reference code to your teacher or your school's IT support."},
	msgLanguage: {"Kieli", "Språk", "Language"},
	msgFooter:   {"MPASSid välittää kirjautumisesi koulusi tunnuksilla oppimispalveluun.", "MPASSid förmedlar din inloggning med skolans användarnamn till lärtjänsten.", "MPASSid passes your login with your school's account on to the learning service."},
}

// errorMessages name the error texts in /login/error links.
var errorMessages = map[string]message{
	"unknown_service": msgUnknownService,
	"bad_request":     msgBadRequest,
	"expired":         msgExpired,
	"technical":       msgTechnical,
}

func messageName(m message) string {
	for k, v := range errorMessages {
		if v == m {
			return k
		}
	}
	return "technical"
}

func langIndex(lang string) int { return discovery.LangIndex(lang) }

func text(lang string, m message) string { return texts[m][langIndex(lang)] }

func validLang(l string) bool { return l == "fi" || l == "sv" || l == "en" }

// language picks the page language: the service's request, then the
// browser's Accept-Language, then the configured default.
func (b *Broker) language(r *http.Request, requested string) string {
	if validLang(requested) {
		return requested
	}
	if l := r.URL.Query().Get("lang"); validLang(l) {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "fi"):
			return "fi"
		case strings.HasPrefix(tag, "sv"):
			return "sv"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return b.cfg.DefaultLanguage
}

// ---- the selection index, built once per catalog and registry ----

// pageState is the broker's cache of the selection index. The index is
// built lazily on the first selection page after the catalog or the
// registry changed, by one request while others wait for it.
type pageState struct {
	mu  sync.Mutex
	cur atomic.Pointer[cachedIndex]
}

type cachedIndex struct {
	cat *Catalog
	reg *registry.Lookup
	ix  *discovery.Index
}

// discoveryIndex returns the selection index of the current catalog and
// registry.
func (b *Broker) discoveryIndex() *discovery.Index {
	cat, reg := b.Catalog(), b.registry.Current()
	if reg.Len() == 0 {
		reg = nil // Current returns a new empty Lookup each time
	}
	if c := b.pages.cur.Load(); c != nil && c.cat == cat && c.reg == reg {
		return c.ix
	}
	b.pages.mu.Lock()
	defer b.pages.mu.Unlock()
	if c := b.pages.cur.Load(); c != nil && c.cat == cat && c.reg == reg {
		return c.ix
	}
	start := time.Now()
	ix := discovery.Build(cat.sources, b.registry.Current(), discovery.Options{BaseURL: b.cfg.BaseURL})
	b.pages.cur.Store(&cachedIndex{cat: cat, reg: reg, ix: ix})
	b.log.Info("selection index built", slog.Int64("config_version", cat.Version), slog.Int("entries", ix.Len()), slog.Duration("took", time.Since(start)))
	return ix
}

// ---- the recent-choices cookie ----

// recentCookie remembers the user's last choices on this device: entry ids
// (source ids, with a school code for a school), no personal data.
const (
	recentCookie = "mpassid_recent"
	recentMax    = 3
	recentMaxAge = 180 * 24 * time.Hour
)

// validChoiceID accepts "<digits>" or "<digits>.<code>" with a code of
// digits or an OID.
func validChoiceID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	return s[0] != '.'
}

// parseChoice returns the source id of a posted choice.
func parseChoice(v string) (int64, bool) {
	if !validChoiceID(v) {
		return 0, false
	}
	src, _, _ := strings.Cut(v, ".")
	id, err := strconv.ParseInt(src, 10, 64)
	return id, err == nil
}

func recentChoices(r *http.Request) []string {
	c, err := r.Cookie(recentCookie)
	if err != nil {
		return nil
	}
	var out []string
	for _, id := range strings.Split(c.Value, "_") {
		if validChoiceID(id) && len(out) < recentMax {
			out = append(out, id)
		}
	}
	return out
}

// rememberChoice puts the choice first in the recent-choices cookie.
func (b *Broker) rememberChoice(w http.ResponseWriter, r *http.Request, choice string) {
	if !validChoiceID(choice) {
		return
	}
	ids := []string{choice}
	for _, id := range recentChoices(r) {
		if id != choice && len(ids) < recentMax {
			ids = append(ids, id)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: recentCookie, Value: strings.Join(ids, "_"), Path: SelectPath, MaxAge: int(recentMaxAge.Seconds()),
		HttpOnly: true, Secure: b.cookieSecure(), SameSite: http.SameSiteLaxMode,
	})
}

// ---- the selection page ----

// Limits that keep the page light (under 100 KB) at national scale.
const (
	// listAllMax: up to this many choices are listed at once; more show
	// the providers first.
	listAllMax = 150
	// searchMax caps the choices of a search or of one provider.
	searchMax = 100
	// providerMax caps the choices of one provider.
	providerMax = 400
)

type langLink struct {
	Lang, Label string
	Href        template.URL
	Current     bool
}

// languageLabels are each language's own name, as the switcher shows it.
var languageLabels = [3]string{"Suomeksi", "På svenska", "In English"}

type choiceView struct {
	ID, Label, Title, Meta, Logo string
}

type groupView struct {
	ID, Name string
	Choices  []choiceView
}

type providerView struct {
	Name  string
	Href  template.URL
	Count int
}

type selectView struct {
	Lang, Title, Lead, Choose, SearchLabel, SearchHint, SearchButton string
	Skip, LanguageLabel, Recent, Footer                              string
	Tx, Query, ProviderOID                                           string
	Langs                                                            []langLink
	RecentChoices                                                    []choiceView
	Groups                                                           []groupView
	Providers                                                        []providerView
	ProvidersIntro, AllProviders                                     string
	AllProvidersHref                                                 template.URL
	Status, More, NoMatch                                            string
}

const pageHead = `{{define "head"}}<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} – MPASSid</title><link rel="stylesheet" href="/login/static/broker.css">{{end}}
{{define "top"}}<body>
<a class="skip" href="#main">{{.Skip}}</a>
<header class="top"><div class="wrap top-row"><span class="brand">MPASSid</span>
{{if .Langs}}<nav aria-label="{{.LanguageLabel}}"><ul class="langs">{{range .Langs}}<li><a href="{{.Href}}" lang="{{.Lang}}" hreflang="{{.Lang}}"{{if .Current}} aria-current="true"{{end}}>{{.Label}}</a></li>{{end}}</ul></nav>{{end}}
</div></header>{{end}}
{{define "foot"}}<footer class="foot"><div class="wrap"><p>{{.Footer}}</p></div></footer>
</body>
</html>{{end}}`

var selectTemplate = template.Must(template.Must(template.New("select").Parse(pageHead)).Parse(`{{template "head" .}}
<script src="/login/static/select.js" defer></script></head>
{{template "top" .}}
<main id="main" class="wrap" tabindex="-1">
<h1>{{.Title}}</h1>
<p class="lead">{{.Lead}}</p>
{{if .RecentChoices}}<section class="recent" aria-labelledby="recent-h">
<h2 id="recent-h">{{.Recent}}</h2>
<form method="post" action="/login/select">
<input type="hidden" name="tx" value="{{.Tx}}">
<ul class="choices">{{range .RecentChoices}}{{template "choice" .}}{{end}}</ul>
</form>
</section>{{end}}
<form method="get" action="/login/select" role="search" class="search" id="search">
<input type="hidden" name="tx" value="{{.Tx}}"><input type="hidden" name="lang" value="{{.Lang}}">
<label for="q">{{.SearchLabel}}</label>
<p class="hint" id="q-hint">{{.SearchHint}}</p>
<div class="search-row"><input id="q" name="q" type="search" value="{{.Query}}" autocomplete="off" spellcheck="false" aria-describedby="q-hint"><button type="submit" class="secondary">{{.SearchButton}}</button></div>
</form>
<p id="status" class="status" role="status">{{.Status}}</p>
<div id="results">{{template "results" .}}</div>
</main>
{{template "foot" .}}
{{define "choice"}}<li><button type="submit" name="source" value="{{.ID}}" class="choice">{{if .Logo}}<img src="{{.Logo}}" alt="" width="28" height="28">{{end}}<span class="name">{{.Label}}{{if .Title}} ({{.Title}}){{end}}</span>{{if .Meta}}<span class="meta">{{.Meta}}</span>{{end}}</button></li>
{{end}}
{{define "results"}}<h2 id="results-h" data-status="{{.Status}}">{{.Choose}}</h2>
{{if .Providers}}<p>{{.ProvidersIntro}}</p>
<ul class="providers">{{range .Providers}}<li><a href="{{.Href}}">{{.Name}}</a> <span class="count">({{.Count}})</span></li>
{{end}}</ul>
{{else if .Groups}}<form method="post" action="/login/select">
<input type="hidden" name="tx" value="{{.Tx}}">
{{range .Groups}}<section class="group" aria-labelledby="{{.ID}}"><h3 id="{{.ID}}">{{.Name}}</h3>
<ul class="choices">{{range .Choices}}{{template "choice" .}}{{end}}</ul></section>
{{end}}</form>
{{if .More}}<p class="more">{{.More}}</p>{{end}}
{{else}}<p class="nomatch">{{.NoMatch}}</p>{{end}}
{{if .AllProvidersHref}}<p><a href="{{.AllProvidersHref}}">{{.AllProviders}}</a></p>{{end}}
{{end}}`))

// selectURL is a link to the selection page of the transaction. It is
// built by hand (url.Values sorts and allocates more) and typed as a safe
// URL: every part is query-escaped and the path is ours.
func selectURL(tx, lang, q, provider string) template.URL {
	u := SelectPath + "?tx=" + url.QueryEscape(tx) + "&lang=" + url.QueryEscape(lang)
	if q != "" {
		u += "&q=" + url.QueryEscape(q)
	}
	if provider != "" {
		u += "&provider=" + url.QueryEscape(provider)
	}
	return template.URL(u)
}

func (b *Broker) handleSelectPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	txID := q.Get("tx")
	tx, err := b.loadTransaction(r, txID)
	if err != nil {
		b.transactionError(w, r, err)
		return
	}
	cat := b.Catalog()
	svc, ok := cat.Service(tx.Request.ServiceID)
	if !ok {
		b.errorPage(w, r, http.StatusBadRequest, msgUnknownService, tx.Language, "service gone during login")
		return
	}
	// The language switcher: the choice also carries on to the source's
	// page, so the transaction keeps it.
	if l := q.Get("lang"); validLang(l) && l != tx.Language {
		tx.Language = l
		if err := b.putTransaction(w, r, txID, tx); err != nil {
			b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, l, "update transaction language", slog.Any("error", err))
			return
		}
	}
	sources := b.allowedSources(cat, svc, tx.Request.Sources)
	ids := make([]int64, len(sources))
	for i, s := range sources {
		ids[i] = s.ID
	}
	ix := b.discoveryIndex()
	view := buildSelectView(ix, ix.Mask(ids), tx.Language, txID, q.Get("q"), q.Get("provider"), recentChoices(r))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Cookie")
	name := "select"
	if q.Get("fragment") == "1" {
		name = "results"
	}
	if err := selectTemplate.ExecuteTemplate(w, name, view); err != nil {
		b.log.ErrorContext(r.Context(), "render selection page", slog.Any("error", err))
	}
}

// buildSelectView works out what the page shows: the recent choices, and
// either the matching choices grouped by provider, or, when there are too
// many to list and nothing was searched, the providers to pick from.
func buildSelectView(ix *discovery.Index, mask discovery.Mask, lang, txID, query, provider string, recent []string) *selectView {
	l := langIndex(lang)
	query = strings.TrimSpace(query)
	if len(query) > 100 {
		query = query[:100]
	}
	v := &selectView{
		Lang: lang, Title: text(lang, msgTitle), Lead: text(lang, msgLead), Choose: text(lang, msgChoose),
		SearchLabel: text(lang, msgSearch), SearchHint: text(lang, msgSearchHint), SearchButton: text(lang, msgSearchButton),
		Skip: text(lang, msgSkip), LanguageLabel: text(lang, msgLanguage), Recent: text(lang, msgRecent), Footer: text(lang, msgFooter),
		NoMatch: text(lang, msgNoMatch), Tx: txID, Query: query, ProviderOID: provider,
	}
	for i, other := range discovery.Languages {
		v.Langs = append(v.Langs, langLink{Lang: other, Label: languageLabels[i], Href: selectURL(txID, other, query, provider), Current: other == lang})
	}
	for _, id := range recent {
		if i, ok := ix.ByID(id); ok && mask.Allowed(ix, i) {
			v.RecentChoices = append(v.RecentChoices, choiceOf(ix.Entry(i), l, true))
		}
	}

	limit := searchMax
	if provider != "" {
		limit = providerMax
	}
	if query == "" && provider == "" {
		limit = listAllMax
	}
	var buf [listAllMax]int32
	res := ix.Search(discovery.Query{Lang: lang, Text: query, ProviderOID: provider, Allowed: mask, Limit: limit}, buf[:0])
	if query == "" && provider == "" && res.Total > listAllMax {
		for _, p := range ix.Providers(lang, mask, nil) {
			name := p.Name
			if name == "" {
				name = text(lang, msgOther)
			}
			v.Providers = append(v.Providers, providerView{Name: name, Count: p.Count, Href: selectURL(txID, lang, "", p.ProviderOID)})
		}
		v.ProvidersIntro = text(lang, msgProviders)
		v.Status = fmt.Sprintf(text(lang, msgFound), res.Total)
		return v
	}
	for _, i := range res.Entries {
		e := ix.Entry(i)
		if n := len(v.Groups); n == 0 || v.Groups[n-1].ID != "g-"+groupKey(e.ProviderOID) {
			name := e.Provider[l]
			if name == "" {
				name = text(lang, msgOther)
			}
			v.Groups = append(v.Groups, groupView{ID: "g-" + groupKey(e.ProviderOID), Name: name})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Choices = append(g.Choices, choiceOf(e, l, false))
	}
	v.Status = fmt.Sprintf(text(lang, msgFound), res.Total)
	if res.Total > len(res.Entries) {
		v.More = fmt.Sprintf(text(lang, msgShowing), len(res.Entries), res.Total)
	}
	if provider != "" {
		v.AllProviders, v.AllProvidersHref = text(lang, msgAllProviders), selectURL(txID, lang, "", "")
	}
	return v
}

// groupKey makes an element id of a provider OID.
func groupKey(oid string) string {
	if oid == "" {
		return "other"
	}
	return strings.ReplaceAll(oid, ".", "-")
}

// choiceOf is an entry's button. Its second line names the municipality
// (and, among recent choices, which are not grouped, the provider) when
// that adds something to the group heading.
func choiceOf(e *discovery.Entry, l int, withProvider bool) choiceView {
	c := choiceView{ID: e.ID, Label: e.Label[l], Title: e.Title, Logo: e.Logo}
	var meta []string
	if withProvider && e.Provider[l] != "" && e.Provider[l] != e.Label[l] {
		meta = append(meta, e.Provider[l])
	}
	if m := e.Municipality[l]; m != "" && m != e.Provider[l] && m != e.Label[l] {
		meta = append(meta, m)
	}
	c.Meta = strings.Join(meta, " · ")
	return c
}

// ---- error pages ----

type errorView struct {
	Lang, Title, Message, WhatToDo, ReferenceLabel, Reference string
	Skip, LanguageLabel, Footer                               string
	Langs                                                     []langLink
}

var errorTemplate = template.Must(template.Must(template.New("error").Parse(pageHead)).Parse(`{{template "head" .}}</head>
{{template "top" .}}
<main id="main" class="wrap" tabindex="-1">
<h1>{{.Title}}</h1>
<p class="lead">{{.Message}}</p>
<p>{{.WhatToDo}}</p>
{{if .Reference}}<p class="reference">{{.ReferenceLabel}}: <strong>{{.Reference}}</strong></p>{{end}}
</main>
{{template "foot" .}}`))

func errorLink(m message, ref, lang string) template.URL {
	v := url.Values{"m": {messageName(m)}, "lang": {lang}}
	if ref != "" {
		v.Set("ref", ref)
	}
	return template.URL(ErrorPath + "?" + v.Encode())
}

// ErrorPath shows an error page's text again in another language.
const ErrorPath = "/login/error"

func renderError(w http.ResponseWriter, status int, m message, lang, ref string) {
	view := errorView{
		Lang: lang, Title: text(lang, msgErrorTitle), Message: text(lang, m), WhatToDo: text(lang, msgWhatToDo),
		ReferenceLabel: text(lang, msgReference), Reference: ref,
		Skip: text(lang, msgSkip), LanguageLabel: text(lang, msgLanguage), Footer: text(lang, msgFooter),
	}
	for i, other := range discovery.Languages {
		view.Langs = append(view.Langs, langLink{Lang: other, Label: languageLabels[i], Href: errorLink(m, ref, other), Current: other == lang})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = errorTemplate.Execute(w, view)
}

// errorPage shows a page a pupil's teacher can act on, and writes the
// audit event with the same reference code.
func (b *Broker) errorPage(w http.ResponseWriter, r *http.Request, status int, m message, lang, cause string, attrs ...any) {
	if lang == "" {
		lang = b.language(r, "")
	}
	ref := reference()
	b.audit.LoginFailed(r.Context(), audit.Failure{Result: messageName(m), Reference: ref, Detail: cause, Extra: attrs})
	renderError(w, status, m, lang, ref)
}

// handleErrorAgain shows an error page's text in the language the user
// switched to. It logs nothing: the event was logged when it happened.
func handleErrorAgain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m, ok := errorMessages[q.Get("m")]
	if !ok {
		m = msgTechnical
	}
	lang := q.Get("lang")
	if !validLang(lang) {
		lang = "fi"
	}
	ref := q.Get("ref")
	if !validReference(ref) {
		ref = ""
	}
	renderError(w, http.StatusOK, m, lang, ref)
}

// validReference accepts what reference makes: 7 characters of base64.
func validReference(s string) bool {
	if len(s) != 7 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// ---- the self-submitting form ----

var autoPostTemplate = template.Must(template.New("autopost").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Continue}}</title><link rel="stylesheet" href="/login/static/broker.css"><script src="/login/static/autosubmit.js" defer></script></head>
<body>
<main id="main" class="wrap">
<form method="post" action="{{.Action}}" id="autosubmit">
{{range $k, $vs := .Fields}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<noscript><p>{{.Continue}}:</p></noscript>
<button type="submit">{{.Continue}}</button>
</form>
</main>
</body>
</html>
`))

// autoPost sends the browser on with a POST: a form that submits itself
// with a same-origin script, and works without JavaScript by a button.
func autoPost(w http.ResponseWriter, action string, fields url.Values, lang string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = autoPostTemplate.Execute(w, map[string]any{"Lang": lang, "Action": template.URL(action), "Fields": fields, "Continue": text(lang, msgContinue)})
}

// ---- static assets ----

const autosubmitJS = `document.addEventListener("DOMContentLoaded",function(){var f=document.getElementById("autosubmit");if(f){f.submit();}});`

// selectJS filters the choices as the user types, by asking the server
// for the results part of the page (the same search the plain form does);
// without JavaScript the form's submit button does the same.
const selectJS = `(function(){"use strict";
var form=document.getElementById("search"),q=document.getElementById("q"),res=document.getElementById("results"),st=document.getElementById("status");
if(!form||!q||!res||!window.fetch||!window.URLSearchParams)return;
var timer=0,seq=0,last=q.value;
function run(){if(q.value===last)return;last=q.value;var my=++seq;
var params=new URLSearchParams(new FormData(form)).toString(),url=form.getAttribute("action")+"?"+params;
fetch(url+"&fragment=1",{credentials:"same-origin",headers:{"Accept":"text/html"}}).then(function(r){if(!r.ok){throw new Error(r.status);}return r.text();}).then(function(t){
if(my!==seq){return;}res.innerHTML=t;var h=res.querySelector("[data-status]");if(st&&h){st.textContent=h.getAttribute("data-status");}
if(window.history&&history.replaceState){history.replaceState(null,"",url);}}).catch(function(){});}
q.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(run,120);});
})();`

// brokerCSS follows the GOV.UK Design System's look: plain, high contrast
// (text 19:1, secondary text 7:1, links 5:1), large targets, a yellow
// focus indicator that never relies on colour alone.
const brokerCSS = `*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:1.1875rem;line-height:1.45;color:#0b0c0c;background:#fff}
.wrap{max-width:48rem;margin:0 auto;padding:0 1rem}
main.wrap{padding-top:1.5rem;padding-bottom:2.5rem;display:block}
main:focus{outline:none}
h1{font-size:2rem;line-height:1.15;margin:0 0 1rem}
h2{font-size:1.5rem;line-height:1.2;margin:1.75rem 0 .75rem}
h3{font-size:1.1875rem;margin:1.25rem 0 .5rem}
p{margin:0 0 1rem}
.lead{font-size:1.3rem}
a{color:#1d70b8;text-decoration:underline;text-underline-offset:.15em}
a:visited{color:#4c2c92}
a:hover{color:#003078;text-decoration-thickness:3px}
.skip{position:absolute;left:-9999px;top:0;padding:.5rem 1rem;background:#fd0;color:#0b0c0c}
.skip:focus{left:0;z-index:10}
.top{background:#0b0c0c;color:#fff;border-bottom:.6rem solid #1d70b8}
.top-row{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding-top:.6rem;padding-bottom:.6rem}
.brand{font-weight:700;font-size:1.5rem;letter-spacing:.02em}
.langs{list-style:none;margin:0;padding:0;display:flex;gap:.25rem 1rem;flex-wrap:wrap}
.langs a,.langs a:visited{color:#fff;font-size:1rem}
.langs a[aria-current]{font-weight:700;text-decoration:none}
.foot{border-top:1px solid #b1b4b6;background:#f3f2f1;color:#0b0c0c;padding:1.25rem 0;font-size:1rem}
label{display:block;font-weight:700;margin-bottom:.25rem}
.hint{color:#505a5f;margin-bottom:.5rem}
.search-row{display:flex;gap:.5rem;flex-wrap:wrap}
input[type=search]{flex:1 1 14rem;min-width:0;font:inherit;padding:.35rem .5rem;border:2px solid #0b0c0c;border-radius:0;height:2.6rem}
button{font:inherit;cursor:pointer;border-radius:0}
button[type=submit]:not(.choice){padding:.45rem 1rem;border:2px solid transparent;background:#00703c;color:#fff;box-shadow:0 2px 0 #002d18}
button.secondary{background:#f3f2f1;color:#0b0c0c;box-shadow:0 2px 0 #929191}
.status{color:#505a5f;margin:1rem 0 0}
ul.choices,ul.providers{list-style:none;margin:0;padding:0}
ul.choices li{margin:0 0 .5rem}
button.choice{display:flex;flex-wrap:wrap;align-items:center;gap:.1rem .6rem;width:100%;text-align:left;padding:.6rem .8rem;min-height:2.75rem;background:#fff;color:#0b0c0c;border:2px solid #505a5f}
button.choice:hover{background:#f3f2f1;border-color:#0b0c0c}
button.choice .name{font-weight:700;color:#1d70b8}
button.choice .meta{flex-basis:100%;color:#505a5f;font-size:1rem}
button.choice img{flex:none;object-fit:contain}
ul.providers li{margin:0 0 .4rem}
.count{color:#505a5f}
.reference strong{font-size:1.3rem;letter-spacing:.08em}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid #b1b4b6;word-break:break-word}
:focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}
a:focus-visible{background:#fd0;color:#0b0c0c;box-shadow:0 -2px #fd0,0 4px #0b0c0c;outline:none;text-decoration:none}
.langs a:focus-visible{color:#0b0c0c}
button.choice:focus-visible{background:#fd0;border-color:#0b0c0c}
button.choice:focus-visible .name{color:#0b0c0c}
input:focus-visible{outline:3px solid #fd0;box-shadow:inset 0 0 0 2px #0b0c0c}
@media (max-width:40rem){body{font-size:1.0625rem}h1{font-size:1.6rem}.lead{font-size:1.15rem}}
@media (prefers-reduced-motion:reduce){*{transition:none!important}}`

// StaticRoutes serves the broker's small static assets and the error page
// in another language.
func (b *Broker) StaticRoutes(mux *http.ServeMux) {
	static := func(path, contentType, body string) {
		data := []byte(body)
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Cache-Control", "public, max-age=86400")
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		})
	}
	static("/login/static/autosubmit.js", "text/javascript; charset=utf-8", autosubmitJS)
	static("/login/static/select.js", "text/javascript; charset=utf-8", selectJS)
	static("/login/static/broker.css", "text/css; charset=utf-8", brokerCSS)
	mux.HandleFunc("GET "+ErrorPath, handleErrorAgain)
}
