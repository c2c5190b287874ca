// Package testidp is a built-in identity source for development and test
// deployments: instead of a school's login system it shows a page listing
// configured test users, and whoever opens it may log in as any of them.
// That lets services, the data model and the whole login flow be tried
// without a real school, with users whose attributes exercise the edge
// cases (several schools, a test learner id, a closed school).
//
// Because it authenticates nobody, New refuses to build it when
// Config.Production is set.
//
// The flow stays inside the broker:
//
//  1. Start redirects to the page the broker mounts Handler at
//     (Config.PagePath on the callback URL's origin, default "/testidp/"),
//     with the transaction id, the callback URL, the language and an expiry,
//     all covered by an HMAC under Config.Key. The page renders only for
//     such a signed link, so nobody can get a page (and its MACs) for
//     someone else's transaction.
//  2. The page is a plain HTML form (no JavaScript, no inline scripts or
//     styles; Finnish, Swedish or English) with one radio button per user.
//     It is POSTed to the callback URL with fields tx and user, where user
//     is "<username>.<mac>" and mac = HMAC(key, tx). The MAC binds the
//     choice to the transaction the page was made for; it need not bind the
//     user, because every page offers every configured user, and Callback
//     accepts only configured ones. One MAC a page, not one per user: a
//     page with many users would otherwise cost an HMAC each.
//  3. Callback checks the MAC in constant time (a login cannot be forged for
//     another transaction), that the user is configured, that the
//     transaction has not expired, and records the transaction in the
//     ReplayCache: each transaction logs in once.
//
// There is no password by design. The attributes are named after the data
// model's source names (username, firstName, surname, nickname, learnerId,
// roles, groups, schoolIds, groupLevels, learningMaterialsCharges), so an
// integration of this source needs an identity user-attribute mapping.
package testidp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
)

// ErrProduction is returned by New when Config.Production is set.
var ErrProduction = errors.New("the test identity source is not allowed in production")

// Form and query parameter names.
const (
	ParamTransaction = "tx"
	ParamUser        = "user"
	ParamCallback    = "cb"
	ParamLanguage    = "lang"
	ParamExpires     = "exp"
	ParamSignature   = "sig"
)

// Defaults.
const (
	DefaultPagePath = "/testidp/"
	DefaultLinkTTL  = 30 * time.Minute
	// ReplayNamespace is the ReplayCache namespace of completed transactions.
	ReplayNamespace = "testidp-login"
	// MinKeyLength is the shortest Config.Key accepted.
	MinKeyLength = 32
)

// User is one test user. Empty fields are not released as attributes.
type User struct {
	Username  string
	FirstName string
	Surname   string
	Nickname  string
	// LearnerID is the national learner number (1.2.246.562.24.*) or a
	// test one (1.2.246.562.98.*).
	LearnerID string
	// Roles, one per school or one for all (Oppilas, Opettaja, Rehtori, ...).
	Roles []string
	// Groups, classes such as 7A.
	Groups []string
	// SchoolIDs are school codes (oppilaitosnumero).
	SchoolIDs []string
	// ClassLevel is the grade 0-10 of a comprehensive-school pupil.
	ClassLevel string
	// LearningMaterialsCharges are "0" (free) or "1" (chargeable), one for
	// all schools or one per school.
	LearningMaterialsCharges []string
}

// Attributes returns the user's attributes under the data model's source
// names.
func (u User) Attributes() map[string][]string {
	a := map[string][]string{}
	one := func(k, v string) {
		if v != "" {
			a[k] = []string{v}
		}
	}
	many := func(k string, v []string) {
		if len(v) > 0 {
			a[k] = append([]string(nil), v...)
		}
	}
	one("username", u.Username)
	one("firstName", u.FirstName)
	one("surname", u.Surname)
	one("nickname", u.Nickname)
	one("learnerId", u.LearnerID)
	many("roles", u.Roles)
	many("groups", u.Groups)
	many("schoolIds", u.SchoolIDs)
	one("groupLevels", u.ClassLevel)
	many("learningMaterialsCharges", u.LearningMaterialsCharges)
	return a
}

// DefaultUsers are the users offered when Config.Users is empty: pupils and
// teachers at the demo registry's schools (fakeopas: 99001 and 99002
// comprehensive schools, 99003 upper secondary, 99005 closed, 99006
// vocational).
func DefaultUsers() []User {
	return []User{
		{Username: "oppilas.revontuli", FirstName: "Aino", Surname: "Aaltonen", Nickname: "Aino",
			LearnerID: "1.2.246.562.24.10000000001", Roles: []string{"Oppilas"}, Groups: []string{"7A"},
			SchoolIDs: []string{"99001"}, ClassLevel: "7", LearningMaterialsCharges: []string{"0"}},
		{Username: "oppilas.testilearner", FirstName: "Eero", Surname: "Esimerkki", Nickname: "Eppu",
			LearnerID: "1.2.246.562.98.10000000002", Roles: []string{"Oppilas"}, Groups: []string{"3B"},
			SchoolIDs: []string{"99002"}, ClassLevel: "3", LearningMaterialsCharges: []string{"0"}},
		{Username: "lukiolainen", FirstName: "Lotta", Surname: "Lukkarinen",
			LearnerID: "1.2.246.562.24.10000000003", Roles: []string{"Oppilas"}, Groups: []string{"LUK2A"},
			SchoolIDs: []string{"99003"}, LearningMaterialsCharges: []string{"1"}},
		{Username: "amis.opiskelija", FirstName: "Ville", Surname: "Virtanen",
			LearnerID: "1.2.246.562.24.10000000004", Roles: []string{"Oppilas"}, Groups: []string{"SÄH23"},
			SchoolIDs: []string{"99006"}},
		{Username: "oppilas.suljettu", FirstName: "Siiri", Surname: "Sulkava",
			LearnerID: "1.2.246.562.24.10000000005", Roles: []string{"Oppilas"}, Groups: []string{"5C"},
			SchoolIDs: []string{"99005"}, ClassLevel: "5"},
		{Username: "opettaja.revontuli", FirstName: "Outi", Surname: "Opettaja",
			Roles: []string{"Opettaja"}, Groups: []string{"7A"}, SchoolIDs: []string{"99001"}},
		{Username: "opettaja.monikoulu", FirstName: "Mikko", Surname: "Moilanen",
			Roles: []string{"Opettaja"}, SchoolIDs: []string{"99001", "99002", "99003"}},
		{Username: "rehtori.saunalahti", FirstName: "Riitta", Surname: "Rehtori",
			Roles: []string{"Rehtori"}, SchoolIDs: []string{"99002"}},
	}
}

// Config configures the test identity source.
type Config struct {
	// Users are the selectable users; empty means DefaultUsers.
	Users []User
	// Key is the HMAC key for page links and logins, at least MinKeyLength
	// bytes, the same on every broker instance. Empty means a random key
	// for this process, which works only with a single broker instance.
	Key []byte
	// PagePath is where the broker mounts Handler, on the callback URL's
	// origin; "" means DefaultPagePath.
	PagePath string
	// LinkTTL is how long a started login can be completed; 0 means
	// DefaultLinkTTL.
	LinkTTL time.Duration
	// Production must be true in production deployments: New then refuses.
	Production bool
	// Logger receives diagnostics (never keys or user names); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Connector is the test identity source.
type Connector struct {
	users    []User
	byName   map[string]int
	macKey   *macKey
	pagePath string
	ttl      time.Duration
	log      *slog.Logger
	replay   connector.ReplayCache
	now      func() time.Time
	// pages are the users page pre-rendered per language, cut where the
	// per-request values go: rendering a template per request was a tenth of
	// the broker's CPU in a load test through this source.
	pages map[string]*renderedPage
}

var _ connector.Connector = (*Connector)(nil)

// New builds the test identity source, or fails with ErrProduction.
func New(cfg Config, replay connector.ReplayCache, now func() time.Time) (*Connector, error) {
	if cfg.Production {
		return nil, ErrProduction
	}
	if replay == nil {
		return nil, errors.New("testidp: a replay cache is required")
	}
	c := &Connector{
		users:    cfg.Users,
		byName:   map[string]int{},
		pagePath: cfg.PagePath,
		ttl:      cfg.LinkTTL,
		log:      cfg.Logger,
		replay:   replay,
		now:      now,
	}
	if len(c.users) == 0 {
		c.users = DefaultUsers()
	}
	for i, u := range c.users {
		if u.Username == "" {
			return nil, fmt.Errorf("testidp: user %d has no username", i+1)
		}
		if _, dup := c.byName[u.Username]; dup {
			return nil, fmt.Errorf("testidp: user %d repeats a username", i+1)
		}
		c.byName[u.Username] = i
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("connector", "testidp")
	key := cfg.Key
	switch {
	case len(key) == 0:
		key = make([]byte, MinKeyLength)
		rand.Read(key)
		c.log.Warn("test identity source has no configured key; using a random one, which works with one broker instance only")
	case len(key) < MinKeyLength:
		return nil, fmt.Errorf("testidp: key must be at least %d bytes", MinKeyLength)
	}
	c.macKey = newMACKey(key)
	if c.pagePath == "" {
		c.pagePath = DefaultPagePath
	}
	if !strings.HasPrefix(c.pagePath, "/") || strings.ContainsAny(c.pagePath, "?#") {
		return nil, fmt.Errorf("testidp: page path %q must start with / and have no query", c.pagePath)
	}
	if c.ttl <= 0 {
		c.ttl = DefaultLinkTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	page, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("testidp: page template: %w", err)
	}
	c.pages = map[string]*renderedPage{}
	for _, lang := range []string{"fi", "sv", "en"} {
		if c.pages[lang], err = c.prerender(page, lang); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Capabilities: the page always asks, so a fresh login is always honoured;
// it cannot work without interaction.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{ForceAuthn: true}
}

// mac is HMAC-SHA256 under the key of a purpose and length-prefixed fields.
func (c *Connector) mac(purpose string, fields ...string) []byte {
	return c.macKey.sum(purpose, fields...)
}

type state struct {
	Expires int64 `json:"exp"`
}

// encode writes the state as encoding/json writes it, {"exp":N}, without
// its reflection on every login.
func (s state) encode() []byte {
	return append(strconv.AppendInt([]byte(`{"exp":`), s.Expires, 10), '}')
}

// decodeState reads a state. What encode writes, a positive number
// without a leading zero, is read directly; anything else goes to
// encoding/json (FuzzDecodeState holds the two to the same answer).
func decodeState(raw []byte) (state, error) {
	if d, ok := bytes.CutPrefix(raw, []byte(`{"exp":`)); ok {
		if d, ok = bytes.CutSuffix(d, []byte("}")); ok && len(d) > 0 && len(d) <= 18 && d[0] != '0' {
			var n int64
			for _, c := range d {
				if c < '0' || c > '9' {
					n = -1
					break
				}
				n = n*10 + int64(c-'0')
			}
			if n > 0 {
				return state{Expires: n}, nil
			}
		}
	}
	var st state
	err := json.Unmarshal(raw, &st)
	return st, err
}

// Start redirects to the test users page. Passive logins are refused with
// connector.ErrCancelled.
func (c *Connector) Start(ctx context.Context, req connector.LoginRequest) (*connector.Started, error) {
	if req.TransactionID == "" {
		return nil, fmt.Errorf("testidp: %w", connector.ErrNoTransaction)
	}
	if req.Passive {
		return nil, fmt.Errorf("testidp: passive login is not possible: %w", connector.ErrCancelled)
	}
	cb, err := url.Parse(req.CallbackURL)
	if err != nil || !cb.IsAbs() || cb.Host == "" || cb.Fragment != "" {
		return nil, fmt.Errorf("testidp: callback URL %q is not an absolute URL without fragment", req.CallbackURL)
	}
	exp := strconv.FormatInt(c.now().Add(c.ttl).Unix(), 10)
	lang := language(req.Language)
	q := url.Values{
		ParamTransaction: {req.TransactionID},
		ParamCallback:    {req.CallbackURL},
		ParamLanguage:    {lang},
		ParamExpires:     {exp},
		ParamSignature:   {b64(c.mac("page", req.TransactionID, req.CallbackURL, exp))},
	}
	page := url.URL{Scheme: cb.Scheme, Host: cb.Host, Path: c.pagePath, RawQuery: q.Encode()}
	st := state{Expires: c.now().Add(c.ttl).Unix()}
	return &connector.Started{Redirect: connector.Redirect{URL: page.String()}, State: st.encode()}, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TransactionID returns the tx field of the posted form.
func (c *Connector) TransactionID(r *http.Request) (string, error) {
	if r.Method != http.MethodPost {
		return "", fmt.Errorf("testidp: callback is not a POST: %w", connector.ErrNoTransaction)
	}
	tx := r.PostFormValue(ParamTransaction)
	if tx == "" {
		return "", fmt.Errorf("testidp: %w", connector.ErrNoTransaction)
	}
	return tx, nil
}

// Login is a parsed login form post.
type Login struct {
	Transaction, Username string
	MAC                   []byte
}

// ParseLogin parses the form fields of a login post: exactly one tx and one
// user, user being "<username>.<base64url MAC>". Errors wrap
// connector.ErrInvalidResponse.
func ParseLogin(form url.Values) (*Login, error) {
	bad := func(why string) error { return fmt.Errorf("testidp: %s: %w", why, connector.ErrInvalidResponse) }
	tx, user := form[ParamTransaction], form[ParamUser]
	if len(tx) != 1 || tx[0] == "" {
		return nil, bad("login needs exactly one transaction")
	}
	if len(user) != 1 {
		return nil, bad("login needs exactly one user")
	}
	i := strings.LastIndexByte(user[0], '.')
	if i <= 0 {
		return nil, bad("malformed user")
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(user[0][i+1:])
	if err != nil || len(mac) != sha256.Size {
		return nil, bad("malformed user MAC")
	}
	return &Login{Transaction: tx[0], Username: user[0][:i], MAC: mac}, nil
}

// Callback verifies the posted choice and returns the chosen test user.
func (c *Connector) Callback(ctx context.Context, r *http.Request, req connector.LoginRequest, rawState []byte) (*connector.Identity, error) {
	st, err := decodeState(rawState)
	if err != nil || st.Expires == 0 {
		return nil, fmt.Errorf("testidp: unusable transaction state: %w", connector.ErrInvalidResponse)
	}
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("testidp: callback is not a POST: %w", connector.ErrInvalidResponse)
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("testidp: unreadable form: %w", connector.ErrInvalidResponse)
	}
	l, err := ParseLogin(r.PostForm)
	if err != nil {
		c.log.InfoContext(ctx, "test login rejected", "reason", err.Error())
		return nil, err
	}
	if l.Transaction != req.TransactionID {
		c.log.InfoContext(ctx, "test login rejected", "reason", "transaction mismatch")
		return nil, fmt.Errorf("testidp: login for another transaction: %w", connector.ErrInvalidResponse)
	}
	if !hmac.Equal(l.MAC, c.mac("login", l.Transaction)) {
		c.log.WarnContext(ctx, "test login rejected", "reason", "bad MAC")
		return nil, fmt.Errorf("testidp: login MAC does not match: %w", connector.ErrInvalidResponse)
	}
	exp := time.Unix(st.Expires, 0)
	if c.now().After(exp) {
		return nil, fmt.Errorf("testidp: login took too long: %w", connector.ErrExpired)
	}
	i, ok := c.byName[l.Username]
	if !ok {
		return nil, fmt.Errorf("testidp: user no longer configured: %w", connector.ErrInvalidResponse)
	}
	fresh, err := c.replay.MarkUsed(ctx, ReplayNamespace, l.Transaction, exp.Add(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("testidp: record login: %w", err)
	}
	if !fresh {
		c.log.WarnContext(ctx, "test login rejected", "reason", "transaction logged in before")
		return nil, fmt.Errorf("testidp: transaction logged in before: %w", connector.ErrReplay)
	}
	c.log.DebugContext(ctx, "test login", "user", i+1)
	return &connector.Identity{Attributes: c.users[i].Attributes(), AuthnInstant: c.now()}, nil
}

// Handler serves the test users page (GET; the path is not looked at, the
// broker mounts it at Config.PagePath). The page renders only for a link
// made by Start that has not expired.
func (c *Connector) Handler() http.Handler {
	return http.HandlerFunc(c.servePage)
}

func (c *Connector) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	lang := language(q.Get(ParamLanguage))
	t := pageTexts(lang)
	tx, cb, exp := q.Get(ParamTransaction), q.Get(ParamCallback), q.Get(ParamExpires)
	sig, err := base64.RawURLEncoding.Strict().DecodeString(q.Get(ParamSignature))
	expires, perr := strconv.ParseInt(exp, 10, 64)
	cbu, uerr := url.Parse(cb)
	if err != nil || perr != nil || uerr != nil || !hmac.Equal(sig, c.mac("page", tx, cb, exp)) || c.now().Unix() > expires {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, t.BadLink)
		return
	}
	if cbu.Scheme != "https" && cbu.Scheme != "http" {
		// The link is the broker's own (its MAC holds), so this is a
		// misconfigured callback, not an attack; still never render it.
		http.Error(w, t.BadLink, http.StatusBadRequest)
		return
	}
	page := c.pages[lang]
	var b strings.Builder
	b.Grow(page.size + len(cb) + len(tx) + 80*len(c.users))
	b.WriteString(page.beforeAction)
	b.WriteString(html.EscapeString(cb))
	b.WriteString(page.beforeTx)
	b.WriteString(html.EscapeString(tx))
	suffix := "." + b64(c.mac("login", tx))
	for i, u := range c.users {
		b.WriteString(page.beforeUser[i])
		b.WriteString(html.EscapeString(u.Username + suffix))
	}
	b.WriteString(page.tail)
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action "+cbu.Scheme+"://"+cbu.Host)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	if _, err := io.WriteString(w, b.String()); err != nil {
		c.log.DebugContext(r.Context(), "test users page", "err", err)
	}
}

// renderedPage is the users page of one language with the per-request
// values cut out: the form's action, the transaction, and each user's
// signed value, in that order.
type renderedPage struct {
	beforeAction, beforeTx string
	beforeUser             []string // text before user i's value
	tail                   string
	size                   int
}

// Placeholders that html/template passes through unchanged in every
// context they appear in (an URL attribute and plain attributes).
const (
	placeholderAction = "mpassidplaceholderaction"
	placeholderTx     = "mpassidplaceholdertx"
	placeholderUser   = "mpassidplaceholderuser"
)

// prerender executes the page template once for lang with placeholders and
// cuts the result at them. The labels and texts are escaped by the
// template as before; only the cut-out values are escaped per request.
func (c *Connector) prerender(page *template.Template, lang string) (*renderedPage, error) {
	type option struct{ ID, Value, Label string }
	t := pageTexts(lang)
	data := struct {
		Lang, Action, Tx string
		T                texts
		Users            []option
	}{Lang: lang, Action: placeholderAction, Tx: placeholderTx, T: t}
	for i, u := range c.users {
		data.Users = append(data.Users, option{
			ID:    "user-" + strconv.Itoa(i+1),
			Value: placeholderUser + strconv.Itoa(i+1) + "x",
			Label: t.describe(u),
		})
	}
	var out strings.Builder
	if err := page.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("testidp: page %s: %w", lang, err)
	}
	rest := out.String()
	cut := func(placeholder string) (string, error) {
		before, after, ok := strings.Cut(rest, placeholder)
		if !ok || strings.Contains(after, placeholder) {
			return "", fmt.Errorf("testidp: page %s: placeholder %q not found exactly once", lang, placeholder)
		}
		rest = after
		return before, nil
	}
	rp := &renderedPage{size: out.Len()}
	var err error
	if rp.beforeAction, err = cut(placeholderAction); err != nil {
		return nil, err
	}
	if rp.beforeTx, err = cut(placeholderTx); err != nil {
		return nil, err
	}
	for i := range c.users {
		before, err := cut(placeholderUser + strconv.Itoa(i+1) + "x")
		if err != nil {
			return nil, err
		}
		rp.beforeUser = append(rp.beforeUser, before)
	}
	rp.tail = rest
	return rp, nil
}

// language returns fi, sv or en.
func language(l string) string {
	switch l {
	case "sv", "en":
		return l
	}
	return "fi"
}

type texts struct {
	Title, Intro, Legend, Submit, BadLink  string
	Schools, Groups, ClassLevel, TestLearn string
}

func pageTexts(lang string) texts {
	switch lang {
	case "sv":
		return texts{
			Title:      "Testinloggning",
			Intro:      "Detta är en testidentitetskälla. Välj den testanvändare du vill logga in som; inget lösenord behövs.",
			Legend:     "Testanvändare",
			Submit:     "Logga in",
			BadLink:    "Länken är ogiltig eller har gått ut. Börja inloggningen på nytt.",
			Schools:    "skolor",
			Groups:     "grupper",
			ClassLevel: "årskurs",
			TestLearn:  "testelevnummer",
		}
	case "en":
		return texts{
			Title:      "Test login",
			Intro:      "This is a test identity source. Choose the test user to log in as; no password is needed.",
			Legend:     "Test users",
			Submit:     "Log in",
			BadLink:    "The link is invalid or has expired. Please start the login again.",
			Schools:    "schools",
			Groups:     "groups",
			ClassLevel: "grade",
			TestLearn:  "test learner id",
		}
	}
	return texts{
		Title:      "Testikirjautuminen",
		Intro:      "Tämä on testitunnistuslähde. Valitse testikäyttäjä, jona haluat kirjautua; salasanaa ei tarvita.",
		Legend:     "Testikäyttäjät",
		Submit:     "Kirjaudu",
		BadLink:    "Linkki on virheellinen tai vanhentunut. Aloita kirjautuminen uudelleen.",
		Schools:    "koulut",
		Groups:     "ryhmät",
		ClassLevel: "luokka-aste",
		TestLearn:  "testioppijanumero",
	}
}

// describe is a user's label on the page.
func (t texts) describe(u User) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(u.FirstName + " " + u.Surname))
	if b.Len() == 0 {
		b.WriteString(u.Username)
	} else {
		b.WriteString(" (" + u.Username + ")")
	}
	if len(u.Roles) > 0 {
		b.WriteString(": " + strings.Join(u.Roles, ", "))
	}
	if len(u.SchoolIDs) > 0 {
		b.WriteString("; " + t.Schools + " " + strings.Join(u.SchoolIDs, ", "))
	}
	if len(u.Groups) > 0 {
		b.WriteString("; " + t.Groups + " " + strings.Join(u.Groups, ", "))
	}
	if u.ClassLevel != "" {
		b.WriteString("; " + t.ClassLevel + " " + u.ClassLevel)
	}
	if strings.HasPrefix(u.LearnerID, "1.2.246.562.98.") {
		b.WriteString("; " + t.TestLearn)
	}
	return b.String()
}

const pageTemplate = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.T.Title}}</title>
</head>
<body>
<main>
<h1>{{.T.Title}}</h1>
<p>{{.T.Intro}}</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Tx}}">
<fieldset>
<legend>{{.T.Legend}}</legend>
{{range $i, $u := .Users}}<div>
<input type="radio" name="user" id="{{$u.ID}}" value="{{$u.Value}}"{{if eq $i 0}} required{{end}}>
<label for="{{$u.ID}}">{{$u.Label}}</label>
</div>
{{end}}</fieldset>
<button type="submit">{{.T.Submit}}</button>
</form>
</main>
</body>
</html>
`
