package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mpassid/mpassid/internal/app"
)

// The demo city's schools the new Wilma source offers, and the title the
// selection page shows after each school's name.
const (
	wilmaTitle    = "Wilma"
	wilmaHost     = "esimerkkila.inschool.fi"
	schoolNorth   = "99001"
	schoolSauna   = "99002"
	saunaName     = "Saunalahden yhtenäiskoulu"
	wilmaRenamed  = "Wilma-kirjautuminen"
	adminAnyKind  = "TALLENTAJA"
	adminViewer   = "KATSELIJA"
	adminSPEditor = "PALVELU_TALLENTAJA"
)

// adminSignIn signs in with the development form as a demo user of the
// kind in the demo city, by mouse, in a fresh browser context.
func (s *suite) adminSignIn(t *testing.T, name, kind string) context.Context {
	t.Helper()
	ctx := s.tab(t, "fi")
	do(t, ctx, chromedp.Navigate(s.base+"/admin/"))
	onPage(t, ctx, "/admin/signin", "")
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#f-name"), name),
		chromedp.Click(chromedp.CSS("#kind-"+kind)),
		chromedp.SetValue(chromedp.CSS("#f-org"), app.DemoProviderOID),
		chromedp.Click(chromedp.CSS(`form[action="/admin/signin/dev"] button[type="submit"]`)),
	)
	onPage(t, ctx, "/admin/", name)
	return ctx
}

// click clicks the element and waits until a new page has loaded at path.
func click(t *testing.T, ctx context.Context, selector, path string) {
	t.Helper()
	do(t, ctx, markStale(), chromedp.Click(chromedp.CSS(selector)))
	waitFresh(t, ctx, path)
}

// markStale marks the current document, so that waitFresh can tell the
// next one from it (a form may post back to its own path).
func markStale() chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`window.__stale = true; undefined`)
}

// waitFresh waits until a document not marked by markStale has loaded at
// path ("" for any).
func waitFresh(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	cond := `!window.__stale && document.readyState === "complete"`
	if path != "" {
		cond += fmt.Sprintf(` && location.pathname === %q`, path)
	}
	waitFor(t, ctx, cond)
}

// fetchStatus makes a request from the page (with its cookies) and
// returns the response status. A POST sends the page's CSRF token (from
// the sign-out form) and the fields.
func fetchStatus(t *testing.T, ctx context.Context, method, path string, fields map[string]string) int {
	t.Helper()
	body := url.Values{}
	for k, v := range fields {
		body.Set(k, v)
	}
	expr := fmt.Sprintf(`(() => {
		const tok = document.querySelector('input[name="csrf_token"]');
		const body = new URLSearchParams(%q);
		if (tok) body.set("csrf_token", tok.value);
		return fetch(%q, {method: %q, body: %q === "GET" ? undefined : body, redirect: "manual"}).then(r => r.status);
	})()`, body.Encode(), path, method, method)
	st, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s %s: %v", method, path, err)
	}
	return st
}

func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.body.innerText`)
}

// pathID returns the integration id of the page the browser is at.
func pathID(t *testing.T, ctx context.Context) string {
	t.Helper()
	p := eval[string](t, ctx, `location.pathname`)
	id, ok := strings.CutPrefix(p, "/admin/integrations/")
	if !ok || id == "" || strings.Contains(id, "/") {
		t.Fatalf("not on an integration's page: %s", p)
	}
	return id
}

func screenshot(t *testing.T, ctx context.Context, file string) {
	t.Helper()
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
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes", filepath.Base(file), len(png))
}

// TestAdminUI walks through the management UI's acceptance (issue 9) in one
// dev instance and one browser: an education provider's editor creates a
// Wilma source, allows one service set and sees the source on the broker's
// selection page; edits it and restores the earlier version from the
// history; a service provider's editor creates an OIDC service and logs in
// with the secret shown once; a viewer sees but cannot change. Every role
// also meets a refused action, axe-core checks each kind of page, and the
// sign-in and a confirmation are done by keyboard only.
func TestAdminUI(t *testing.T) {
	s := start(t)
	var wilmaID string

	t.Run("education-provider editor: Wilma source with schools, one allowed set, on the selection page", func(t *testing.T) {
		ctx := s.tab(t, "fi")
		do(t, ctx, chromedp.Navigate(s.base+"/admin/"))
		onPage(t, ctx, "/admin/signin", "")
		s.checkAxe(t, ctx, "sign-in page")
		ctx = s.adminSignIn(t, "Eeva Editori", adminAnyKind)
		s.checkAxe(t, ctx, "integration list")

		// Organisation -> role -> type -> the type's form.
		click(t, ctx, `main a.button[href="/admin/new"]`, "/admin/new")
		s.checkAxe(t, ctx, "new: organisation step")
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		do(t, ctx, chromedp.Click(chromedp.CSS("#role-idp")))
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		do(t, ctx, chromedp.Click(chromedp.CSS("#type-wilma")))
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		waitFor(t, ctx, `!!document.querySelector('[name="configurationEntity.idp.hostname"]')`)

		// The first try lacks the Wilma's address: the error is next to
		// the field and in the summary, which takes the focus.
		do(t, ctx,
			chromedp.SetValue(chromedp.CSS(`[name="discoveryInformation.title"]`), wilmaTitle),
			chromedp.Click(chromedp.CSS("#inc-"+schoolNorth)),
			chromedp.Click(chromedp.CSS("#inc-"+schoolSauna)),
		)
		click(t, ctx, `form.integration-form button[type="submit"]`, "/admin/new")
		waitFor(t, ctx, `document.querySelector(".error-summary") && document.activeElement === document.querySelector(".error-summary")`)
		if !eval[bool](t, ctx, `(() => { const f = document.querySelector('[name="configurationEntity.idp.hostname"]');
			const err = document.getElementById(f.id.replace(/^/, "err-"));
			return f.getAttribute("aria-invalid") === "true" && !!err && (f.getAttribute("aria-describedby") || "").includes(err.id)
				&& !!document.querySelector('.error-summary a[href="#' + f.id + '"]'); })()`) {
			t.Errorf("the hostname's error is not next to the field: %s", where(ctx))
		}
		if !eval[bool](t, ctx, `document.getElementById("inc-`+schoolNorth+`").checked && document.getElementById("inc-`+schoolSauna+`").checked`) {
			t.Errorf("the school selection was lost when the form was shown again")
		}
		s.checkAxe(t, ctx, "create form with a validation error")

		do(t, ctx,
			chromedp.SetValue(chromedp.CSS(`[name="configurationEntity.idp.hostname"]`), wilmaHost),
			chromedp.SetValue(chromedp.CSS(`[name="configurationEntity.idp.sharedSecret"]`), "wilma-shared-secret-0123456789"),
			markStale(),
			chromedp.Click(chromedp.CSS(`form.integration-form button[type="submit"]`)),
		)
		waitFresh(t, ctx, "")
		waitFor(t, ctx, `location.pathname.startsWith("/admin/integrations/") && location.search.includes("saved=created")`)
		wilmaID = pathID(t, ctx)
		body := bodyText(t, ctx)
		for _, want := range []string{wilmaHost, schoolNorth, schoolSauna, saunaName} {
			if !strings.Contains(body, want) {
				t.Errorf("the new source's page lacks %q", want)
			}
		}
		if strings.Contains(body, "wilma-shared-secret") {
			t.Errorf("the shared secret is shown on the page")
		}
		s.checkAxe(t, ctx, "integration page (Wilma)")

		// Allow one service set, with confirmation.
		click(t, ctx, `a.button[href$="/services"]`, "/admin/integrations/"+wilmaID+"/services")
		s.checkAxe(t, ctx, "allowed services")
		do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf("#set-%d", app.DemoSetID))))
		if !eval[bool](t, ctx, `document.getElementById("mode-selected").checked`) {
			t.Errorf("choosing a set did not switch to the chosen sets")
		}
		click(t, ctx, `button[name="action"][value="save"]`, "/admin/integrations/"+wilmaID+"/services")
		waitFor(t, ctx, fmt.Sprintf(`document.body.innerText.includes("(%d)") && !!document.querySelector('input[name="action"][value="confirm"]')`, app.DemoSetID))
		s.checkAxe(t, ctx, "allowed services: confirmation")
		click(t, ctx, `main form button[type="submit"]`, "/admin/integrations/"+wilmaID)
		waitFor(t, ctx, `location.search.includes("saved=services")`)
		if got := eval[string](t, ctx, `document.getElementById("h-allowed").parentElement.innerText`); !strings.Contains(got, fmt.Sprint(app.DemoSetID)) {
			t.Errorf("allowed services after saving: %q", got)
		}

		// The broker reloads its configuration in the background: the new
		// source shows on the demo OIDC service's selection page (of set
		// 6000001) within a few seconds.
		choice := fmt.Sprintf(`[...document.querySelectorAll("button.choice")].some(b => b.innerText.includes(%q) && b.innerText.includes("(%s)"))`, saunaName, wilmaTitle)
		deadline := time.Now().Add(15 * time.Second)
		for {
			do(t, ctx, chromedp.Navigate(s.base+"/demo/oidc/login"))
			onPage(t, ctx, "/login/select", "")
			if eval[bool](t, ctx, choice) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the new source never showed on the selection page: %s", where(ctx))
			}
			time.Sleep(300 * time.Millisecond)
		}

		// Refused: an integration of another organisation (the second
		// source is the vocational college's) cannot be edited.
		do(t, ctx, chromedp.Navigate(s.base+"/admin/integrations/"+wilmaID))
		onPage(t, ctx, "/admin/integrations/"+wilmaID, "")
		if st := fetchStatus(t, ctx, "GET", fmt.Sprintf("/admin/integrations/%d/edit", secondSourceID), nil); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("editing another organisation's source: status %d", st)
		}
		if st := fetchStatus(t, ctx, "POST", fmt.Sprintf("/admin/integrations/%d/services", secondSourceID), map[string]string{"action": "confirm", "mode": "all", "version": "1"}); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("changing another organisation's allowed services: status %d", st)
		}
	})

	t.Run("history: edit, see who, when and the diff, restore by keyboard", func(t *testing.T) {
		if wilmaID == "" {
			t.Skip("no Wilma source")
		}
		ctx := s.adminSignIn(t, "Eeva Editori", adminAnyKind)
		do(t, ctx, chromedp.Navigate(s.base+"/admin/integrations/"+wilmaID+"/edit"))
		onPage(t, ctx, "/admin/integrations/"+wilmaID+"/edit", "")
		before := eval[string](t, ctx, `document.querySelector('input[name="version"]').value`)
		// An edit without the Wilma's address comes back with the error
		// next to the field; the stored shared secret is kept (its field
		// stays empty).
		do(t, ctx,
			chromedp.Evaluate[chromedp.Void](`document.querySelector('[name="configurationEntity.idp.hostname"]').value = ""; undefined`),
			markStale(),
			chromedp.Click(chromedp.CSS(`form.integration-form button[type="submit"]`)),
		)
		waitFresh(t, ctx, "/admin/integrations/"+wilmaID+"/edit")
		if !eval[bool](t, ctx, `document.querySelector('[name="configurationEntity.idp.hostname"]').getAttribute("aria-invalid") === "true"`) {
			t.Errorf("no error at the emptied hostname: %s", where(ctx))
		}
		s.checkAxe(t, ctx, "edit form with a validation error")
		do(t, ctx,
			chromedp.SetValue(chromedp.CSS(`[name="configurationEntity.idp.hostname"]`), wilmaHost),
			chromedp.SetValue(chromedp.CSS(`[name="discoveryInformation.title"]`), wilmaRenamed),
			markStale(),
			chromedp.Click(chromedp.CSS(`form.integration-form button[type="submit"]`)),
		)
		waitFresh(t, ctx, "/admin/integrations/"+wilmaID)
		waitFor(t, ctx, `location.search.includes("saved=1")`)
		if !strings.Contains(bodyText(t, ctx), wilmaRenamed) {
			t.Errorf("the edit did not show")
		}
		click(t, ctx, `a.button[href$="/history"]`, "/admin/integrations/"+wilmaID+"/history")
		s.checkAxe(t, ctx, "history")
		top := eval[string](t, ctx, `document.querySelector("section.revision").innerText`)
		if !strings.Contains(top, "Eeva Editori") || !strings.Contains(top, time.Now().UTC().Format("2006-01-02")) {
			t.Errorf("the latest revision does not say who and when: %q", top)
		}
		if !strings.Contains(top, "title") || !strings.Contains(top, wilmaTitle) || !strings.Contains(top, wilmaRenamed) {
			t.Errorf("the latest revision's diff: %q", top)
		}

		// Restore the version before the edit, by keyboard only.
		tabTo(t, ctx, fmt.Sprintf(`a[href="/admin/integrations/%s/history/%s/restore"]`, wilmaID, before))
		do(t, ctx, markStale(), chromedp.KeyEvent(kb.Enter))
		waitFresh(t, ctx, fmt.Sprintf("/admin/integrations/%s/history/%s/restore", wilmaID, before))
		s.checkAxe(t, ctx, "restore confirmation")
		tabTo(t, ctx, `main form button[type="submit"]`)
		do(t, ctx, markStale(), chromedp.KeyEvent(kb.Enter))
		waitFresh(t, ctx, "/admin/integrations/"+wilmaID+"/history")
		waitFor(t, ctx, `location.search.includes("saved=restored") && !!document.querySelector(".notice.success")`)
		do(t, ctx, chromedp.Navigate(s.base+"/admin/integrations/"+wilmaID))
		onPage(t, ctx, "/admin/integrations/"+wilmaID, "")
		if body := bodyText(t, ctx); strings.Contains(body, wilmaRenamed) {
			t.Errorf("the title is still %q after the restore", wilmaRenamed)
		}
	})

	t.Run("service-provider editor: OIDC service, the secret once, a login with it", func(t *testing.T) {
		ctx := s.adminSignIn(t, "Paula Palvelu", adminSPEditor)
		redirect := s.base + "/rp/callback"

		click(t, ctx, `main a.button[href="/admin/new"]`, "/admin/new")
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		if eval[bool](t, ctx, `!!document.getElementById("role-idp")`) {
			t.Errorf("a service provider's editor is offered identity providers")
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#role-sp")))
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		do(t, ctx, chromedp.Click(chromedp.CSS("#type-oidc")))
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf("#set-%d", app.DemoSetID))))
		click(t, ctx, `main form button[type="submit"]`, "/admin/new")
		waitFor(t, ctx, `!!document.querySelector('[name="configurationEntity.sp.metadata.redirect_uris"]')`)
		do(t, ctx,
			chromedp.SetValue(chromedp.CSS(`[name="configurationEntity.sp.name"]`), "Testipalvelu"),
			chromedp.SetValue(chromedp.CSS(`[name="configurationEntity.sp.metadata.redirect_uris"]`), redirect),
			markStale(),
			chromedp.Click(chromedp.CSS(`form.integration-form button[type="submit"]`)),
		)
		waitFresh(t, ctx, "/admin/new")
		if !eval[bool](t, ctx, `!!document.getElementById("client-secret")`) {
			t.Fatalf("no secret shown: %s", where(ctx))
		}
		clientID := eval[string](t, ctx, `document.getElementById("client-id").textContent.trim()`)
		secret := eval[string](t, ctx, `document.getElementById("client-secret").textContent.trim()`)
		if clientID == "" || len(secret) < 20 {
			t.Fatalf("client_id %q, secret %q", clientID, secret)
		}
		s.checkAxe(t, ctx, "the secret, shown once")

		// Not again: not on the service's page, its edit form or history.
		do(t, ctx, markStale(), chromedp.Click(chromedp.CSS(`main a.button[href^="/admin/integrations/"]`)))
		waitFresh(t, ctx, "")
		spID := pathID(t, ctx)
		for _, p := range []string{"", "/edit", "/history"} {
			do(t, ctx, chromedp.Navigate(s.base+"/admin/integrations/"+spID+p))
			onPage(t, ctx, "/admin/integrations/"+spID+p, clientID)
			if html := eval[string](t, ctx, `document.documentElement.outerHTML`); strings.Contains(html, secret) {
				t.Errorf("the secret is shown again on %s", p)
			}
		}

		// Refused: a service provider's editor creates no sources.
		if st := fetchStatus(t, ctx, "GET", "/admin/new?org="+url.QueryEscape(app.DemoProviderOID)+"&role=idp&type=wilma", nil); st != http.StatusForbidden {
			t.Errorf("a service provider's editor asked for a source form: status %d", st)
		}
		if st := fetchStatus(t, ctx, "POST", "/admin/new", map[string]string{"role": "idp", "type": "test", "organization.oid": app.DemoProviderOID,
			"configurationEntity.idp.idpId": "refused", "configurationEntity.idp.flowName": "refused"}); st != http.StatusForbidden {
			t.Errorf("a service provider's editor created a source: status %d", st)
		}

		// Log in with the new client through the broker and the test
		// source; the browser stops at the registered redirect URI.
		rctx := context.Background()
		provider, err := oidc.NewProvider(rctx, s.base)
		if err != nil {
			t.Fatal(err)
		}
		oc := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid", "profile"}}
		verifier := oauth2.GenerateVerifier()
		authURL := oc.AuthCodeURL("state-1", oidc.Nonce("nonce-1"), oauth2.S256ChallengeOption(verifier))
		deadline := time.Now().Add(15 * time.Second)
		for {
			do(t, ctx, chromedp.Navigate(authURL))
			waitFor(t, ctx, `document.readyState === "complete"`)
			if eval[string](t, ctx, `location.pathname`) == "/login/select" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the broker never knew the new client: %s", where(ctx))
			}
			time.Sleep(300 * time.Millisecond)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#q")), chromedp.KeyEvent("revon"))
		// The demo test source's school (the Wilma source offers it too).
		pick := `[...document.querySelectorAll("#results button.choice")].find(b => b.innerText.includes("Revontulten koulu") && !b.innerText.includes("(` + wilmaTitle + `)"))`
		waitFor(t, ctx, pick)
		do(t, ctx, markStale(), chromedp.Evaluate[chromedp.Void](pick+`.click()`))
		waitFresh(t, ctx, "")
		onPage(t, ctx, "/testidp/", "")
		do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="user"][value^="oppilas.revontuli."]`)), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		onPage(t, ctx, "/rp/callback", "")
		cb, err := url.Parse(eval[string](t, ctx, `location.href`))
		if err != nil || cb.Query().Get("state") != "state-1" || cb.Query().Get("code") == "" {
			t.Fatalf("callback %v: %v", cb, err)
		}
		tok, err := oc.Exchange(rctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("token with the secret shown once: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(rctx, raw)
		if err != nil || idt.Nonce != "nonce-1" || idt.Subject == "" {
			t.Fatalf("ID token: %v", err)
		}
		bad := *oc
		bad.ClientSecret = secret + "x"
		if _, err := bad.Exchange(rctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
			t.Errorf("a wrong secret was accepted")
		}
	})

	t.Run("viewer by keyboard: sees, cannot change", func(t *testing.T) {
		ctx := s.tab(t, "fi")
		do(t, ctx, chromedp.Navigate(s.base+"/admin/"))
		onPage(t, ctx, "/admin/signin", "")
		// Keyboard only: the skip link, the language links, the name,
		// the role (arrow keys along the radio group), the organisation
		// (arrow keys on the closed select) and Enter on the button.
		tabTo(t, ctx, "a.skip-link")
		tabTo(t, ctx, "#f-name")
		do(t, ctx, chromedp.KeyEvent(kb.End))
		for eval[string](t, ctx, `document.activeElement.value`) != "" {
			do(t, ctx, chromedp.KeyEvent(kb.Backspace))
		}
		do(t, ctx, chromedp.KeyEvent("Ville Viewer"))
		tabTo(t, ctx, `input[name="kind"]`)
		for i := 0; i < 8 && !eval[bool](t, ctx, `document.getElementById("kind-`+adminViewer+`").checked`); i++ {
			do(t, ctx, chromedp.KeyEvent(kb.ArrowDown))
		}
		tabTo(t, ctx, "#f-org")
		for i := 0; i < 40 && eval[string](t, ctx, `document.getElementById("f-org").value`) != app.DemoProviderOID; i++ {
			do(t, ctx, chromedp.KeyEvent(kb.ArrowDown))
		}
		if got := eval[string](t, ctx, `document.getElementById("f-org").value`); got != app.DemoProviderOID {
			t.Fatalf("the organisation could not be chosen by keyboard: %s", got)
		}
		tabTo(t, ctx, `form[action="/admin/signin/dev"] button[type="submit"]`)
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		onPage(t, ctx, "/admin/", "Ville Viewer")

		if n := eval[int](t, ctx, `document.querySelectorAll("main tbody tr").length`); n < 3 {
			t.Errorf("the viewer sees %d integrations", n)
		}
		if eval[bool](t, ctx, `!!document.querySelector('a[href="/admin/new"]')`) {
			t.Errorf("the viewer is offered to create an integration")
		}
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/integrations/%d", s.base, app.DemoTestSourceID)))
		onPage(t, ctx, fmt.Sprintf("/admin/integrations/%d", app.DemoTestSourceID), "")
		if eval[bool](t, ctx, `!!document.querySelector('main a[href$="/edit"], main a[href$="/inactivate"], main form[method="post"], main a[href*="/restore"]')`) {
			t.Errorf("the viewer sees edit controls on an integration's page")
		}
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/integrations/%d/services", s.base, app.DemoTestSourceID)))
		onPage(t, ctx, fmt.Sprintf("/admin/integrations/%d/services", app.DemoTestSourceID), "")
		if eval[bool](t, ctx, `!!document.querySelector('main button[type="submit"], input[name="set"]:not([disabled])')`) {
			t.Errorf("the viewer may change the allowed services")
		}
		s.checkAxe(t, ctx, "allowed services, read only")
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/integrations/%d/history", s.base, app.DemoTestSourceID)))
		onPage(t, ctx, fmt.Sprintf("/admin/integrations/%d/history", app.DemoTestSourceID), "")
		if eval[bool](t, ctx, `!!document.querySelector('main a[href*="/restore"]')`) {
			t.Errorf("the viewer is offered a restore")
		}

		// Refused: the edit form, and a post of it.
		if st := fetchStatus(t, ctx, "GET", fmt.Sprintf("/admin/integrations/%d/edit", app.DemoTestSourceID), nil); st != http.StatusForbidden {
			t.Errorf("the viewer's edit form: status %d", st)
		}
		for _, p := range []string{"/edit", "/services", "/inactivate"} {
			if st := fetchStatus(t, ctx, "POST", fmt.Sprintf("/admin/integrations/%d%s", app.DemoTestSourceID, p),
				map[string]string{"version": "1", "action": "confirm", "mode": "all", "discoveryInformation.title": "viewer"}); st != http.StatusForbidden {
				t.Errorf("the viewer's POST %s: status %d", p, st)
			}
		}
	})

	t.Run("screenshots", func(t *testing.T) {
		if wilmaID == "" {
			t.Skip("no Wilma source")
		}
		dir := t.TempDir()
		if *updateScreenshots {
			dir = filepath.Join("..", "..", "docs", "images")
		}
		ctx := s.adminSignIn(t, "Eeva Editori", adminAnyKind)
		do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(s.base+"/admin/"))
		onPage(t, ctx, "/admin/", "Eeva Editori")
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 1280 {
			t.Errorf("the list scrolls sideways (%d px wide)", w)
		}
		screenshot(t, ctx, filepath.Join(dir, "admin-list.png"))
		do(t, ctx, chromedp.Navigate(s.base+"/admin/integrations/"+wilmaID))
		onPage(t, ctx, "/admin/integrations/"+wilmaID, wilmaHost)
		// From the school selection on: the schools, the type data and
		// the allowed services.
		do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.getElementById("h-schools").offsetTop - 16); undefined`))
		screenshot(t, ctx, filepath.Join(dir, "admin-integration.png"))
		// The edit form of the same source.
		do(t, ctx, chromedp.Navigate(s.base+"/admin/integrations/"+wilmaID+"/edit"))
		onPage(t, ctx, "/admin/integrations/"+wilmaID+"/edit", "")
		screenshot(t, ctx, filepath.Join(dir, "admin-edit.png"))
	})
}
