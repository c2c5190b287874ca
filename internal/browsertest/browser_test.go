package browsertest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mpassid/mpassid/internal/app"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/testenv"
)

var updateScreenshots = flag.Bool("screenshots", false, "write the selection page's screenshots to docs/images")

// axePath is axe-core as .ci/install-axe-core.sh installs it.
const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

// The second source the tests add, so that the selection page shows: the
// demo's vocational college, shown by its own name.
const (
	secondSourceID   int64 = 4000002
	secondSourceName       = "Ammattiopisto Taitaja (testi)"
	taitajaOID             = "1.2.246.562.10.99900000011"
)

// logBuffer collects the instance's JSON logs for the audit checks.
type logBuffer struct{ testenv.Buffer }

// events returns the logged events of a kind, as maps.
func (l *logBuffer) events(kind string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["event"] == kind {
			out = append(out, m)
		}
	}
	return out
}

type suite struct {
	base    string
	axe     string
	browser context.Context
	logs    *logBuffer
}

// start runs a dev instance with two sources and a headless chromium.
func start(t *testing.T) *suite {
	t.Helper()
	chromium := testenv.Chromium(t)
	axe, err := os.ReadFile(axePath)
	if err != nil {
		testenv.Skip(t, "axe-core is not installed (run .ci/install-axe-core.sh): "+err.Error())
	}
	logs := &logBuffer{}
	_, base := app.StartForTest(t, app.TestOptions{
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Setup: func(ctx context.Context, a *app.App) error {
			src := &model.Integration{
				ID: secondSourceID, OrganisationOID: taitajaOID, Role: model.RoleIdP,
				DeploymentPhase: model.PhaseTest, Status: model.StatusActive,
				IdP: &model.IdP{Type: model.IdPTest, IdPID: "testi2", FlowName: "Testi2",
					Discovery: model.DiscoveryInformation{CustomDisplayName: secondSourceName}},
			}
			if _, err := a.Store().CreateIntegration(ctx, src, "browsertest"); err != nil {
				return fmt.Errorf("second source: %w", err)
			}
			return nil
		},
	})
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first Run starts the browser; it lives as long as browser.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium %s: %v", chromium, err)
	}
	return &suite{base: base, axe: string(axe), browser: browser, logs: logs}
}

// tab opens a fresh browser context (its own cookies, like a new private
// window) whose requests prefer the language.
func (s *suite) tab(t *testing.T, acceptLanguage string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": acceptLanguage}})
		return err
	}))
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(tcancel)
	return tctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v (at %s)", err, where(ctx))
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v (at %s)", expr, err, where(ctx))
	}
	return v
}

// where tells where the browser is, for failure messages.
func where(ctx context.Context) string {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(c, chromedp.Evaluate[string](`location.href + " — " + document.body.innerText.slice(0, 300)`))
	if err != nil {
		return "?"
	}
	return u
}

// waitFor waits until the JavaScript condition holds. It polls from Go
// rather than in the page, because the page may navigate meanwhile.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (at %s)", cond, ctx.Err(), where(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("waiting for %s: timed out (last error %v) at %s", cond, lastErr, where(ctx))
}

// onPage waits until the browser is at the path (and the page loaded).
func onPage(t *testing.T, ctx context.Context, path string, text string) {
	t.Helper()
	cond := fmt.Sprintf(`document.readyState === "complete" && location.pathname === %q`, path)
	if text != "" {
		cond += fmt.Sprintf(` && document.body.innerText.includes(%q)`, text)
	}
	waitFor(t, ctx, cond)
}

type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core on the page (WCAG 2.0/2.1 A and AA, and axe's
// best practices) and fails on any violation.
func (s *suite) checkAxe(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](s.axe+";\nundefined")); err != nil {
		t.Fatalf("inject axe-core on %s: %v", name, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Passes     int         `json:"passes"`
		Violations []violation `json:"violations"`
	}](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
		.then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.html.slice(0, 160))}))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", name, err)
	}
	if res.Passes < 10 {
		t.Errorf("axe on %s checked only %d rules", name, res.Passes)
	}
	t.Logf("axe: %s: %d rules passed, %d violated", name, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		t.Errorf("axe: %s: %s (%s): %s", name, v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			t.Logf("    %s", n)
		}
	}
}

// tabTo presses Tab until the focused element matches the CSS selector,
// and checks that the focus is visible.
func tabTo(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	for i := 0; i < 40; i++ {
		do(t, ctx, chromedp.KeyEvent(kb.Tab))
		if eval[bool](t, ctx, fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, selector)) {
			visible := eval[bool](t, ctx, `(() => { const e = document.activeElement, s = getComputedStyle(e);
				return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none"; })()`)
			if !visible {
				t.Errorf("focus on %s is not visible", selector)
			}
			return
		}
	}
	t.Fatalf("Tab never reached %s (at %s)", selector, where(ctx))
}

// checkPageBudget checks the selection page made no third-party requests
// and weighed under 100 KB.
func checkPageBudget(t *testing.T, ctx context.Context) {
	t.Helper()
	budget := eval[struct {
		Foreign []string `json:"foreign"`
		Bytes   float64  `json:"bytes"`
	}](t, ctx, `(() => { const all = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
		return {foreign: all.filter(e => !e.name.startsWith(location.origin)).map(e => e.name),
			bytes: all.reduce((n, e) => n + (e.decodedBodySize || 0), 0)}; })()`)
	if len(budget.Foreign) > 0 {
		t.Errorf("third-party requests: %v", budget.Foreign)
	}
	if budget.Bytes == 0 || budget.Bytes > 100<<10 {
		t.Errorf("selection page weighs %.0f bytes", budget.Bytes)
	}
}

func (s *suite) auditSince(kind string, n int) []map[string]any {
	return s.logs.events(kind)[n:]
}

// loginFlow is one login through the selection page and the test source.
type loginFlow struct {
	// service is "saml" or "oidc" (the demo service's path).
	service  string
	keyboard bool
	// lang is the language picked with the switcher ("" keeps Finnish).
	lang string
	// query is typed into the search; choice is the text of the one
	// choice expected to remain; user is the test user's username.
	query, choice, user string
	// done is a text of the service's page after the login.
	done string
}

// texts the flows expect on the selection page per language.
var chooseText = map[string]string{"fi": "Valitse koulusi", "sv": "Välj din skola", "en": "Choose your school"}

// run logs in as the flow says, using only the mouse (and typing in the
// search field) or only the keyboard.
func (f loginFlow) run(t *testing.T, s *suite, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(s.base+"/demo/"+f.service+"/login"))
	onPage(t, ctx, "/login/select", chooseText["fi"])
	lang := "fi"
	if f.lang != "" && f.lang != "fi" {
		lang = f.lang
		if f.keyboard {
			tabTo(t, ctx, fmt.Sprintf(`a[hreflang=%q]`, lang))
			do(t, ctx, chromedp.KeyEvent(kb.Enter))
		} else {
			do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[hreflang=%q]`, lang))))
		}
		onPage(t, ctx, "/login/select", chooseText[lang])
	}
	if got := eval[string](t, ctx, `document.documentElement.lang`); got != lang {
		t.Errorf("selection page language %q, want %q", got, lang)
	}
	if f.keyboard {
		tabTo(t, ctx, "#q")
	} else {
		do(t, ctx, chromedp.Click(chromedp.CSS("#q")))
	}
	do(t, ctx, chromedp.KeyEvent(f.query))
	waitFor(t, ctx, `document.querySelectorAll("#results button.choice").length === 1`)
	if got := eval[string](t, ctx, `document.querySelector("#results button.choice").innerText`); !strings.Contains(got, f.choice) {
		t.Fatalf("search %q kept %q", f.query, got)
	}
	if f.keyboard {
		tabTo(t, ctx, "#results button.choice")
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
	} else {
		do(t, ctx, chromedp.Click(chromedp.CSS("#results button.choice")))
	}
	onPage(t, ctx, "/testidp/", "")
	if got := eval[string](t, ctx, `document.documentElement.lang`); got != lang {
		t.Errorf("test login page language %q, want %q", got, lang)
	}
	radio := fmt.Sprintf(`input[name="user"][value^=%q]`, f.user+".")
	if f.keyboard {
		// Tab reaches the radio group; arrow keys move along it (and
		// check); Space checks the focused one.
		tabTo(t, ctx, `input[name="user"]`)
		for i := 0; i < 20 && !eval[bool](t, ctx, fmt.Sprintf(`document.activeElement.matches(%q)`, radio)); i++ {
			do(t, ctx, chromedp.KeyEvent(kb.ArrowDown))
		}
		do(t, ctx, chromedp.KeyEvent(" "))
		tabTo(t, ctx, `button[type="submit"]`)
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
	} else {
		do(t, ctx, chromedp.Click(chromedp.CSS(radio)), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	}
	onPage(t, ctx, "/demo/"+f.service+"/", f.done)
}

// TestEndUserFlow runs the login flows, SSO and logout in one instance and
// one browser (each flow in a fresh browser context).
func TestEndUserFlow(t *testing.T) {
	s := start(t)

	t.Run("SAML by mouse in Finnish, SSO to OIDC, logout", func(t *testing.T) {
		ctx := s.tab(t, "fi-FI,fi;q=0.9")
		logins := len(s.logs.events("login"))
		do(t, ctx, chromedp.Navigate(s.base+"/demo/saml/login"))
		onPage(t, ctx, "/login/select", "Valitse koulusi")
		if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "fi" {
			t.Errorf("page language %q", lang)
		}
		checkPageBudget(t, ctx)
		s.checkAxe(t, ctx, "selection page (fi)")

		// Search as you type: the script filters without a page load.
		do(t, ctx, chromedp.Click(chromedp.CSS("#q")), chromedp.KeyEvent("revon"))
		waitFor(t, ctx, `document.querySelectorAll("#results button.choice").length === 1 && document.getElementById("status").textContent.includes("1")`)
		if got := eval[string](t, ctx, `document.querySelector("#results button.choice").innerText`); !strings.Contains(got, "Revontulten koulu") {
			t.Fatalf("search kept %q", got)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#results button.choice")))

		onPage(t, ctx, "/testidp/", "Testikirjautuminen")
		s.checkAxe(t, ctx, "test login page (fi)")
		do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="user"][value^="oppilas.revontuli."]`)), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		onPage(t, ctx, "/demo/saml/", "urn:mpass.id:uid")
		if body := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(body, "Revontulten koulu") {
			t.Errorf("SAML service did not get the school: %s", body)
		}

		// The OIDC service gets the user from the SSO session: no page.
		do(t, ctx, chromedp.Navigate(s.base+"/demo/oidc/login"))
		onPage(t, ctx, "/demo/oidc/", "ID token claims")
		ev := s.auditSince("login", logins)
		if len(ev) != 2 || ev[0]["result"] != "upstream" || ev[1]["result"] != "sso" || ev[1]["service"] != float64(app.DemoOIDCID) || ev[0]["subject"] != ev[1]["subject"] {
			t.Errorf("audit login events %v", ev)
		}

		// Logout from the OIDC service ends the SSO session: both services
		// now send the user through the selection page again.
		logouts := len(s.logs.events("logout"))
		do(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/logout"] button`)))
		onPage(t, ctx, "/demo/oidc/", "Log in with MPASSid")
		if ev := s.auditSince("logout", logouts); len(ev) != 1 || ev[0]["participants"] != float64(2) {
			t.Errorf("audit logout events %v", ev)
		}
		do(t, ctx, chromedp.Navigate(s.base+"/demo/oidc/login"))
		onPage(t, ctx, "/login/select", "")
	})

	t.Run("OIDC by keyboard in Swedish, SSO to SAML, logout", func(t *testing.T) {
		ctx := s.tab(t, "fi")
		do(t, ctx, chromedp.Navigate(s.base+"/demo/oidc/login"))
		onPage(t, ctx, "/login/select", "Valitse koulusi")

		// Keyboard only from here: the skip link comes first, then the
		// language switcher.
		tabTo(t, ctx, "a.skip")
		tabTo(t, ctx, `a[hreflang="sv"]`)
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		onPage(t, ctx, "/login/select", "Välj din skola")
		if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "sv" {
			t.Errorf("page language %q", lang)
		}
		s.checkAxe(t, ctx, "selection page (sv)")
		tabTo(t, ctx, "#q")
		do(t, ctx, chromedp.KeyEvent("taitaja"))
		waitFor(t, ctx, `document.querySelectorAll("#results button.choice").length === 1`)
		tabTo(t, ctx, "#results button.choice")
		if got := eval[string](t, ctx, `document.activeElement.innerText`); !strings.Contains(got, secondSourceName) {
			t.Fatalf("focused choice %q", got)
		}
		do(t, ctx, chromedp.KeyEvent(kb.Enter))

		onPage(t, ctx, "/testidp/", "Testinloggning")
		if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "sv" {
			t.Errorf("test login page language %q", lang)
		}
		s.checkAxe(t, ctx, "test login page (sv)")
		tabTo(t, ctx, `input[name="user"]`)
		// Arrow keys move along the radio group; Space picks.
		do(t, ctx, chromedp.KeyEvent(kb.ArrowDown+kb.ArrowDown+kb.ArrowDown), chromedp.KeyEvent(" "))
		if v := eval[string](t, ctx, `document.querySelector('input[name="user"]:checked').value`); !strings.HasPrefix(v, "amis.opiskelija.") {
			t.Fatalf("picked %q", v)
		}
		tabTo(t, ctx, `button[type="submit"]`)
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		onPage(t, ctx, "/demo/oidc/", "urn:mpass.id:authnsource:Testi2")

		// The SAML service gets the user from the SSO session.
		do(t, ctx, chromedp.Navigate(s.base+"/demo/saml/login"))
		onPage(t, ctx, "/demo/saml/", "urn:mpass.id:uid")

		// Logout from the SAML service (single logout), by keyboard.
		logouts := len(s.logs.events("logout"))
		tabTo(t, ctx, `form[action$="/logout"] button`)
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		// The SAML logout chain ends at the service's start page.
		onPage(t, ctx, "/", "")
		do(t, ctx, chromedp.Navigate(s.base+"/demo/saml/"))
		onPage(t, ctx, "/demo/saml/", "Log in with MPASSid")
		if ev := s.auditSince("logout", logouts); len(ev) != 1 {
			t.Errorf("audit logout events %v", ev)
		}
		do(t, ctx, chromedp.Navigate(s.base+"/demo/oidc/login"))
		onPage(t, ctx, "/login/select", "")
	})

	// The rest of the matrix: each protocol by the other input and in the
	// other language.
	for name, f := range map[string]loginFlow{
		"SAML by keyboard in Swedish": {service: "saml", keyboard: true, lang: "sv", query: "Revontulten", choice: "Revontulten koulu", user: "oppilas.revontuli", done: "Revontulten koulu"},
		"OIDC by mouse in Finnish":    {service: "oidc", query: "esimerkkila taitaja", choice: secondSourceName, user: "amis.opiskelija", done: "urn:mpass.id:authnsource:Testi2"},
	} {
		t.Run(name, func(t *testing.T) {
			f.run(t, s, s.tab(t, "fi"))
		})
	}

	t.Run("error page", func(t *testing.T) {
		ctx := s.tab(t, "fi")
		failures := len(s.logs.events("login_failed"))
		do(t, ctx, chromedp.Navigate(s.base+"/login/select?tx=no-such-login"))
		onPage(t, ctx, "/login/select", "Kirjautuminen ei onnistunut")
		ref := eval[string](t, ctx, `document.querySelector(".reference strong").textContent`)
		s.checkAxe(t, ctx, "error page (fi)")
		if ev := s.auditSince("login_failed", failures); len(ev) != 1 || ev[0]["reference"] != ref {
			t.Errorf("audit event for reference %s: %v", ref, ev)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`a[hreflang="sv"]`)))
		onPage(t, ctx, "/login/error", "Inloggningen misslyckades")
		if got := eval[string](t, ctx, `document.querySelector(".reference strong").textContent`); got != ref {
			t.Errorf("reference %q in Swedish, %q in Finnish", got, ref)
		}
		s.checkAxe(t, ctx, "error page (sv)")
	})

	t.Run("screenshots", func(t *testing.T) {
		dir := t.TempDir()
		if *updateScreenshots {
			dir = filepath.Join("..", "..", "docs", "images")
		}
		for _, shot := range []struct {
			name          string
			width, height int64
		}{{"selection-desktop.png", 1280, 800}, {"selection-phone.png", 375, 740}} {
			ctx := s.tab(t, "fi")
			do(t, ctx, chromedp.EmulateViewport(shot.width, shot.height), chromedp.Navigate(s.base+"/demo/oidc/login"))
			onPage(t, ctx, "/login/select", "Valitse koulusi")
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > int(shot.width) {
				t.Errorf("%s: the page scrolls sideways (%d px wide)", shot.name, w)
			}
			png, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
				res, err := cdp.Call(ctx, tg, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
				if err != nil {
					return nil, err
				}
				return res.Data, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, shot.name), png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes", shot.name, len(png))
		}
	})
}
