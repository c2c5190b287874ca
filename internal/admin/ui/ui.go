package ui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

// Base is where the pages are mounted.
const Base = "/admin"

// langCookie keeps the chosen language.
const langCookie = "mpassid_admin_lang"

// maxForm bounds a posted form (metadata uploads are the largest).
const maxForm = 8 << 20

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Config configures the pages.
type Config struct {
	// Dev offers a sign-in form for a demo user of a chosen role and
	// organisation, for `mpassid dev` only.
	Dev bool
	// TestLoginURL returns where a test login through the broker starts for
	// an integration ("" when there is none); nil shows instructions only.
	// `mpassid dev` links its demo services here.
	TestLoginURL func(in *model.Integration) string
	// BrokerURLs returns what an identity-provider integration's login
	// system must be given of the broker: the redirect URI to register at
	// an OpenID provider, or the SP metadata of the broker towards a SAML
	// IdP ("" for none); nil shows neither.
	BrokerURLs func(in *model.Integration) (redirectURI, spMetadataURL string)
	// PageSize is the default number of integrations per page (20).
	PageSize int
}

// Deps are the pages' collaborators.
type Deps struct {
	// API is the management API whose operations the pages call.
	API *admin.API
	// Registry lists organisations for the organisation choice (optional).
	Registry *registry.Registry
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// UI serves the management pages. It is safe for concurrent use.
type UI struct {
	cfg   Config
	api   *admin.API
	reg   *registry.Registry
	log   *slog.Logger
	now   func() time.Time
	pages map[string]*template.Template
}

// pageNames are the page templates; each is parsed with layout.html.
var pageNames = []string{"list", "new", "form", "secret", "view", "services", "confirm", "history", "expiring", "signin", "error"}

// New parses the templates and returns the pages.
func New(cfg Config, deps Deps) (*UI, error) {
	if deps.API == nil {
		return nil, errors.New("admin ui: no API")
	}
	if deps.Registry == nil {
		deps.Registry = registry.NewRegistry(nil)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 20
	}
	u := &UI{cfg: cfg, api: deps.API, reg: deps.Registry, log: deps.Logger, now: deps.Now, pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/fields.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("admin ui: parse %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

// Routes registers the pages on mux under Base.
func (u *UI) Routes(mux *http.ServeMux) {
	assets, _ := fs.Sub(assetFS, "assets")
	static := http.StripPrefix(Base+"/assets/", http.FileServerFS(assets))
	mux.Handle("GET "+Base+"/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		static.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET "+Base, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Base+"/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET "+Base+"/lang", u.setLang)
	mux.HandleFunc("GET "+Base+"/signin", u.signIn)
	mux.HandleFunc("POST "+Base+"/signin/dev", u.devSignIn)
	mux.Handle("POST "+Base+"/signout", u.post(u.signOut))

	mux.Handle("GET "+Base+"/{$}", u.get(u.list))
	mux.Handle("GET "+Base+"/new", u.get(u.newIntegration))
	mux.Handle("POST "+Base+"/new", u.post(u.create))
	mux.Handle("GET "+Base+"/expiring", u.get(u.expiring))
	i := Base + "/integrations/{id}"
	mux.Handle("GET "+i, u.get(u.view))
	mux.Handle("GET "+i+"/edit", u.get(u.edit))
	mux.Handle("POST "+i+"/edit", u.post(u.update))
	mux.Handle("POST "+i+"/metadata", u.post(u.metadata))
	mux.Handle("POST "+i+"/logo", u.post(u.logo))
	mux.Handle("GET "+i+"/services", u.get(u.servicesForm))
	mux.Handle("POST "+i+"/services", u.post(u.services))
	mux.Handle("GET "+i+"/inactivate", u.get(u.inactivateForm))
	mux.Handle("POST "+i+"/inactivate", u.post(u.inactivate))
	mux.Handle("GET "+i+"/history", u.get(u.history))
	mux.Handle("GET "+i+"/history/{version}/restore", u.get(u.restoreForm))
	mux.Handle("POST "+i+"/history/{version}/restore", u.post(u.restore))
}

// ServeHTTP serves the pages on their own mux, for tests and simple
// mounting.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	u.Routes(mux)
	mux.ServeHTTP(w, r)
}

// reqCtx is one request of a signed-in user.
type reqCtx struct {
	w    http.ResponseWriter
	r    *http.Request
	p    *admin.Principal
	csrf string
	lang string
}

// get wraps a page that needs a session; without one it sends the browser
// to the sign-in page, which comes back here.
func (u *UI) get(h func(c *reqCtx)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p, csrf, err := u.api.BrowserSession(r)
		if err != nil {
			http.Redirect(w, r, Base+"/signin?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(&reqCtx{w: w, r: r, p: p, csrf: csrf, lang: langOf(r)})
	})
}

// post wraps a form post: a session and its CSRF token are required.
func (u *UI) post(h func(c *reqCtx)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		c := &reqCtx{w: w, r: r, lang: langOf(r)}
		p, csrf, err := u.api.BrowserSession(r)
		if err != nil {
			u.fail(c, &statusError{http.StatusUnauthorized, "err.signin"})
			return
		}
		c.p, c.csrf = p, csrf
		if err := u.api.CheckFormCSRF(r); err != nil {
			u.fail(c, &statusError{http.StatusForbidden, "err.csrf"})
			return
		}
		h(c)
	})
}

// statusError is a failure to show with a translated message.
type statusError struct {
	status int
	key    string
}

func (e *statusError) Error() string { return e.key }

// langs are the languages of the pages, Finnish first (the default).
var langs = []string{"fi", "sv", "en"}

func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		for _, l := range langs {
			if c.Value == l {
				return l
			}
		}
	}
	return "fi"
}

// setLang remembers the chosen language and goes back.
func (u *UI) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("to")
	ok := false
	for _, x := range langs {
		ok = ok || x == l
	}
	if ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: Base, MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, localPath(r.URL.Query().Get("return")), http.StatusSeeOther)
}

// localPath accepts only a path of these pages as a place to go back to.
func localPath(s string) string {
	if !strings.HasPrefix(s, Base+"/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return Base + "/"
	}
	return s
}

// page is what every template gets.
type page struct {
	Lang   string
	Title  string // a message key
	TitleX string // appended to the title as is
	User   *admin.Principal
	CSRF   string
	Return string // the current request URI, for the language switcher
	Dev    bool
	Nav    string
	Flash  string // a message key
	Errors []fieldError
	Data   any
}

// T translates a message key into the page's language.
func (p *page) T(key string) (string, error) { return translate(p.Lang, key) }

// TF translates a message key with fmt arguments.
func (p *page) TF(key string, args ...any) (string, error) {
	s, err := translate(p.Lang, key)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(s, args...), nil
}

// Err returns the error message of a field, "" if none.
func (p *page) Err(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Described returns the aria-describedby value of a field: its hint and
// its error, when there are.
func (p *page) Described(field string, hint bool) string {
	var ids []string
	if hint {
		ids = append(ids, "hint-"+field)
	}
	if p.Err(field) != "" {
		ids = append(ids, "err-"+field)
	}
	return strings.Join(ids, " ")
}

// Can reports whether the user may do op ("update", "create", ...) on an
// integration of role in org, by admin.Allowed.
func (p *page) Can(op string, role model.Role, org string) bool {
	return admin.Allowed(p.User, admin.Operation(op), role, org)
}

// CanCreate reports whether the user may create an integration somewhere
// (the navigation offers "new" only then).
func (p *page) CanCreate() bool { return p.User != nil && canCreateSome(p.User) }

// Name localises an organisation name.
func (p *page) Name(n model.LocalizedName) string { return n.In(p.Lang) }

func (u *UI) newPage(c *reqCtx, title string, data any) *page {
	return &page{Lang: c.lang, Title: title, User: c.p, CSRF: c.csrf, Return: c.r.URL.RequestURI(), Dev: u.cfg.Dev, Data: data}
}

// render writes page name with status.
func (u *UI) render(c *reqCtx, status int, name string, pg *page) {
	t, ok := u.pages[name]
	if !ok {
		u.log.Error("admin ui: no template", "name", name)
		http.Error(c.w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		u.log.ErrorContext(c.r.Context(), "admin ui: render", "page", name, "error", err)
		http.Error(c.w, "internal error", http.StatusInternalServerError)
		return
	}
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.w.Header().Set("Content-Language", c.lang)
	// The site's "no-referrer" makes a browser send "Origin: null" with
	// every form post, which the API's CSRF check refuses as cross-origin:
	// these pages send the referrer (and so their origin) to themselves
	// only.
	c.w.Header().Set("Referrer-Policy", "same-origin")
	c.w.WriteHeader(status)
	c.w.Write(buf.Bytes())
}

// fail shows an error page: the API's status for its errors, a logged 500
// without details for anything else.
func (u *UI) fail(c *reqCtx, err error) {
	var se *statusError
	status, key := admin.ErrorStatus(err), ""
	switch {
	case errors.As(err, &se):
		status, key = se.status, se.key
	case status == http.StatusNotFound:
		key = "err.notfound"
	case status == http.StatusForbidden:
		key = "err.forbidden"
	case status == http.StatusConflict:
		key = "err.conflict"
	case status == http.StatusBadRequest:
		key = "err.badrequest"
	case status == http.StatusUnauthorized:
		key = "err.signin"
	default:
		u.log.ErrorContext(c.r.Context(), "admin ui", "path", c.r.URL.Path, "error", err)
		status, key = http.StatusInternalServerError, "err.internal"
	}
	pg := u.newPage(c, "err.title", struct{ Key, Detail string }{key, detail(err, status)})
	u.render(c, status, "error", pg)
}

// detail is the API's own message of a client error, shown under the
// translated one.
func detail(err error, status int) string {
	var se *statusError
	if status >= 500 || errors.As(err, &se) {
		return ""
	}
	return err.Error()
}

// seeOther redirects after a successful post.
func (c *reqCtx) seeOther(path string) { http.Redirect(c.w, c.r, path, http.StatusSeeOther) }

func pathInt(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, &statusError{http.StatusNotFound, "err.notfound"}
	}
	return n, nil
}

func integrationPath(id int64) string { return Base + "/integrations/" + strconv.FormatInt(id, 10) }
