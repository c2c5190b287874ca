package ui_test

import (
	"net/http"
	"testing"

	"github.com/mpassid/mpassid/internal/admin"
)

// A page's form posts must carry the page's origin: the site-wide
// "no-referrer" makes browsers send "Origin: null", which the CSRF check
// refuses. The pages narrow the policy to "same-origin".
func TestPagesSendTheirOriginToThemselves(t *testing.T) {
	e := newEnv(t)
	u := e.browser(admin.KindViewer, admin.AdminOrganisationOID)
	for _, p := range []string{"/admin/", "/admin/signin"} {
		r := u.get(p)
		if r.Code == http.StatusOK && r.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q", p, r.Header.Get("Referrer-Policy"))
		}
	}
}

// A viewer is not offered to create anything, in the navigation either.
func TestViewerNavigationOffersNoNew(t *testing.T) {
	e := newEnv(t)
	u := e.browser(admin.KindViewer, admin.AdminOrganisationOID)
	u.want(u.get("/admin/"), http.StatusOK).lacks(t, `href="/admin/new"`)
	ed := e.browser(admin.KindEditor, admin.AdminOrganisationOID)
	ed.want(ed.get("/admin/"), http.StatusOK).has(t, `href="/admin/new"`)
}
