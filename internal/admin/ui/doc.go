// Package ui is the management service's web user interface, served under
// /admin/: server-rendered pages over the same operations as the REST API
// of package admin.
//
// It exists because the people who manage integrations — school IT
// administrators and service providers' developers — do it alone and
// occasionally: they need pages that explain themselves, in Finnish,
// Swedish or English, that work in any browser without JavaScript, and that
// refuse exactly what the API refuses. So the pages keep no rules of their
// own: every read and write goes through the API's Go methods (admin.API
// Search, Create, Update, Restore, ...), which decide authorization with
// admin.Allowed and validate with the API's validator; the pages only turn
// forms into integrations and field errors back into messages next to the
// fields they concern.
//
// Sign-in is the API's browser session (its sealed cookie); forms carry the
// session's CSRF token in a hidden field, checked with the API's CSRF check.
// In development (Config.Dev) a form signs in as a demo user of a chosen
// role, so that the pages can be tried without an OpenID Connect provider.
//
// The pages obey the broker's content security policy (no inline script or
// style): the stylesheet and the small script that enhances some forms are
// embedded files served from /admin/assets/.
package ui
