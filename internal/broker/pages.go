package broker

import (
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/mpassid/mpassid/internal/model"
)

// message keys of user-facing texts.
type message int

const (
	msgTitle message = iota
	msgChoose
	msgSearch
	msgSearchButton
	msgNoMatch
	msgContinue
	msgUnknownService
	msgBadRequest
	msgExpired
	msgTechnical
	msgErrorTitle
	msgReference
	msgWhatToDo
	msgLanguage
)

// texts holds every user-facing text in Finnish, Swedish and English.
var texts = map[message][3]string{
	msgTitle:          {"Kirjaudu MPASSid:llä", "Logga in med MPASSid", "Log in with MPASSid"},
	msgChoose:         {"Valitse koulusi", "Välj din skola", "Choose your school"},
	msgSearch:         {"Hae koulua tai kuntaa", "Sök skola eller kommun", "Search for a school or municipality"},
	msgSearchButton:   {"Hae", "Sök", "Search"},
	msgNoMatch:        {"Hakuasi vastaavaa koulua ei löytynyt.", "Ingen skola motsvarar din sökning.", "No school matches your search."},
	msgContinue:       {"Jatka", "Fortsätt", "Continue"},
	msgUnknownService: {"Palvelu, josta tulit, ei ole käytössä MPASSid:ssä.", "Tjänsten du kom från används inte i MPASSid.", "The service you came from is not in use in MPASSid."},
	msgBadRequest:     {"Kirjautumispyyntö oli virheellinen.", "Inloggningsbegäran var felaktig.", "The login request was not valid."},
	msgExpired:        {"Kirjautuminen vanheni tai se aloitettiin toisessa selaimessa.", "Inloggningen gick ut eller påbörjades i en annan webbläsare.", "The login expired or was started in another browser."},
	msgTechnical:      {"Kirjautumisessa tapahtui tekninen virhe.", "Ett tekniskt fel inträffade vid inloggningen.", "A technical error occurred during login."},
	msgErrorTitle:     {"Kirjautuminen ei onnistunut", "Inloggningen misslyckades", "Login did not succeed"},
	msgReference:      {"Virhekoodi", "Felkod", "Reference code"},
	msgWhatToDo:       {"Palaa palveluun ja yritä uudelleen. Jos virhe toistuu, kerro opettajallesi tai koulusi tukihenkilölle virhekoodi.", "Gå tillbaka till tjänsten och försök igen. Om felet upprepas, ge felkoden till din lärare eller skolans stödperson.", "Go back to the service and try again. If it happens again, give the reference code to your teacher or your school's IT support."},
	msgLanguage:       {"Kieli", "Språk", "Language"},
}

func langIndex(lang string) int {
	switch lang {
	case "sv":
		return 1
	case "en":
		return 2
	}
	return 0
}

func text(lang string, m message) string { return texts[m][langIndex(lang)] }

// language picks the page language: the service's request, then the
// browser's Accept-Language, then the configured default.
func (b *Broker) language(r *http.Request, requested string) string {
	if requested == "fi" || requested == "sv" || requested == "en" {
		return requested
	}
	if l := r.URL.Query().Get("lang"); l == "fi" || l == "sv" || l == "en" {
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

// choice is one button on the selection page.
type choice struct {
	SourceID int64
	Label    string
	Detail   string
	key      string
}

var selectTemplate = template.Must(template.New("select").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/login/static/broker.css"></head>
<body>
<main>
<h1>{{.Title}}</h1>
<form method="get" action="/login/select" role="search">
<input type="hidden" name="tx" value="{{.Tx}}">
<label for="q">{{.SearchLabel}}</label>
<input id="q" name="q" type="search" value="{{.Query}}" autocomplete="off">
<button type="submit">{{.SearchButton}}</button>
</form>
<h2>{{.Choose}}</h2>
{{if .Choices}}<form method="post" action="/login/select">
<input type="hidden" name="tx" value="{{.Tx}}">
<ul class="choices">
{{range .Choices}}<li><button type="submit" name="source" value="{{.SourceID}}">{{.Label}}{{if .Detail}} <span class="detail">({{.Detail}})</span>{{end}}</button></li>
{{end}}</ul>
</form>{{else}}<p>{{.NoMatch}}</p>{{end}}
</main>
</body>
</html>
`))

func (b *Broker) handleSelectPage(w http.ResponseWriter, r *http.Request) {
	txID := r.URL.Query().Get("tx")
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
	lang := tx.Language
	query := r.URL.Query().Get("q")
	choices := b.choices(b.allowedSources(cat, svc, tx.Request.Sources), lang)
	if q := fold(query); q != "" {
		kept := choices[:0]
		for _, c := range choices {
			if strings.Contains(c.key, q) {
				kept = append(kept, c)
			}
		}
		choices = kept
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err = selectTemplate.Execute(w, map[string]any{
		"Lang": lang, "Title": text(lang, msgTitle), "Choose": text(lang, msgChoose),
		"SearchLabel": text(lang, msgSearch), "SearchButton": text(lang, msgSearchButton),
		"NoMatch": text(lang, msgNoMatch), "Tx": txID, "Query": query, "Choices": choices,
	})
	if err != nil {
		b.log.ErrorContext(r.Context(), "render selection page", slog.Any("error", err))
	}
}

// choices lists what the user can pick: each source's schools when it shows
// them, otherwise the source itself, sorted by name.
func (b *Broker) choices(sources []*model.Integration, lang string) []choice {
	reg := b.registry.Current()
	var out []choice
	for _, src := range sources {
		d := src.IdP.Discovery
		provider, _ := reg.ByOID(src.OrganisationOID)
		providerName := ""
		if provider != nil {
			providerName = provider.Name.In(lang)
		}
		listed := false
		if d.ShowSchools && provider != nil {
			for _, school := range reg.SchoolsOf(provider.OID) {
				if !school.IsActive() || !schoolIncluded(school, src.IdP) {
					continue
				}
				label := school.Name.In(lang)
				out = append(out, choice{SourceID: src.ID, Label: label, Detail: d.Title, key: fold(label + " " + providerName + " " + d.Title)})
				listed = true
			}
		}
		if !listed {
			label := d.CustomDisplayName
			if label == "" {
				label = providerName
			}
			if label == "" {
				label = src.Name()
			}
			out = append(out, choice{SourceID: src.ID, Label: label, Detail: d.Title, key: fold(label + " " + providerName + " " + d.Title)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// schoolIncluded applies a source's school list, exclusions and institution
// types to one school.
func schoolIncluded(school *model.Organisation, idp *model.IdP) bool {
	d := idp.Discovery
	if len(d.Schools) > 0 && !contains(d.Schools, school.SchoolCode) {
		return false
	}
	if contains(d.ExcludedSchools, school.SchoolCode) {
		return false
	}
	if len(idp.InstitutionTypes) > 0 {
		for _, t := range idp.InstitutionTypes {
			if t == school.InstitutionType {
				return true
			}
		}
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fold lowercases and strips accents so that "hameenlinna" finds
// "Hämeenlinna".
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/login/static/broker.css"></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p>{{.WhatToDo}}</p>
<p>{{.ReferenceLabel}}: <strong>{{.Reference}}</strong></p>
</main>
</body>
</html>
`))

// errorPage shows a page a pupil's teacher can act on, and logs the cause
// with the same reference code.
func (b *Broker) errorPage(w http.ResponseWriter, r *http.Request, status int, m message, lang, cause string, attrs ...any) {
	if lang == "" {
		lang = b.language(r, "")
	}
	ref := reference()
	b.log.WarnContext(r.Context(), "login error page", append([]any{slog.String("reference", ref), slog.String("cause", cause), slog.Int("status", status)}, attrs...)...)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = errorTemplate.Execute(w, map[string]any{
		"Lang": lang, "Title": text(lang, msgErrorTitle), "Message": text(lang, m),
		"WhatToDo": text(lang, msgWhatToDo), "ReferenceLabel": text(lang, msgReference), "Reference": ref,
	})
}

var autoPostTemplate = template.Must(template.New("autopost").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Continue}}</title><script src="/login/static/autosubmit.js" defer></script></head>
<body>
<form method="post" action="{{.Action}}" id="autosubmit">
{{range $k, $vs := .Fields}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<noscript><p>{{.Continue}}:</p></noscript>
<button type="submit">{{.Continue}}</button>
</form>
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

const autosubmitJS = `document.addEventListener("DOMContentLoaded",function(){var f=document.getElementById("autosubmit");if(f){f.submit();}});`

const brokerCSS = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;line-height:1.5;color:#0b0c0c;background:#fff}
h1{font-size:1.75rem}label{display:block;font-weight:bold;margin-bottom:.25rem}
input[type=search]{font-size:1.1rem;padding:.4rem;border:2px solid #0b0c0c;width:70%}
button{font-size:1.1rem;padding:.5rem .9rem;margin:.2rem 0;border:2px solid #00703c;background:#00703c;color:#fff;cursor:pointer;text-align:left}
ul.choices{list-style:none;padding:0}ul.choices button{width:100%;background:#fff;color:#0b0c0c;border-color:#505a5f}
.detail{color:#505a5f}:focus{outline:3px solid #fd0;outline-offset:0;box-shadow:0 -2px #fd0,0 4px #0b0c0c}`

// StaticRoutes serves the broker's small static assets.
func (b *Broker) StaticRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/static/autosubmit.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write([]byte(autosubmitJS))
	})
	mux.HandleFunc("GET /login/static/broker.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write([]byte(brokerCSS))
	})
}
