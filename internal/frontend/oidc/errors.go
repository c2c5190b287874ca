package oidc

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
)

// OAuth 2.0 and OpenID Connect error codes.
const (
	errInvalidRequest          = "invalid_request"
	errUnauthorizedClient      = "unauthorized_client"
	errAccessDenied            = "access_denied"
	errUnsupportedResponseType = "unsupported_response_type"
	errInvalidScope            = "invalid_scope"
	errServerError             = "server_error"
	errLoginRequired           = "login_required"
	errRequestNotSupported     = "request_not_supported"
	errRequestURINotSupported  = "request_uri_not_supported"
	errInvalidClient           = "invalid_client"
	errInvalidGrant            = "invalid_grant"
	errUnsupportedGrantType    = "unsupported_grant_type"
	errInvalidToken            = "invalid_token"
)

// oauthError is a protocol error with a description safe to show the
// client (no personal data, no secrets).
type oauthError struct {
	Code        string
	Description string
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func newErr(code, desc string) *oauthError { return &oauthError{Code: code, Description: desc} }

func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }

// errorPage is shown when the client cannot be trusted with a redirect.
// Plain HTML, no script, no style, in the three languages.
var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="fi"><head><meta charset="utf-8"><title>MPASSid</title></head>
<body>
<h1>Kirjautuminen epäonnistui / Inloggningen misslyckades / Login failed</h1>
<p>Palvelu lähetti virheellisen kirjautumispyynnön. / Tjänsten skickade en felaktig inloggningsbegäran. / The service sent an invalid login request.</p>
<p><code>{{.Code}}</code>: {{.Description}}</p>
</body></html>
`))

var loggedOutPage = template.Must(template.New("loggedout").Parse(`<!DOCTYPE html>
<html lang="fi"><head><meta charset="utf-8"><title>MPASSid</title></head>
<body>
<h1>Olet kirjautunut ulos / Du har loggat ut / You have logged out</h1>
<p>Voit sulkea selaimen ikkunan. / Du kan stänga webbläsarfönstret. / You may close the browser window.</p>
</body></html>
`))

func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
}

// showError renders the error page: for requests whose client_id or
// redirect_uri cannot be trusted, and logout requests that cannot redirect.
func (p *Provider) showError(w http.ResponseWriter, r *http.Request, status int, e *oauthError) {
	p.log.InfoContext(r.Context(), "request refused with an error page",
		slog.String("path", r.URL.Path), slog.String("error", e.Code), slog.String("description", e.Description))
	pageHeaders(w)
	w.WriteHeader(status)
	_ = errorPage.Execute(w, e)
}

// redirectStatus is 302 for GET and 303 otherwise, so that the browser
// follows a redirect after a POST with a GET.
func redirectStatus(r *http.Request) int {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return http.StatusFound
	}
	return http.StatusSeeOther
}

// withQuery adds the non-empty params to base's query; base is a
// registered URI, parsed at registration.
func withQuery(base string, params url.Values) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Set(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redirectWith sends the browser to base (a registered URI) with params
// added to its query. The answer has no body: the Location is the whole
// of it, and http.Redirect's HTML link would only repeat the code.
func redirectWith(w http.ResponseWriter, r *http.Request, base string, params url.Values) {
	loc, err := withQuery(base, params)
	if err != nil { // registered URIs were parsed at registration
		http.Error(w, "bad redirect URI", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h["Location"] = []string{loc}
	h["Cache-Control"] = []string{"no-store"}
	h["Referrer-Policy"] = []string{"no-referrer"}
	w.WriteHeader(redirectStatus(r))
}

// redirectError returns an authorization error to the client per RFC 6749
// 4.1.2.1, with iss per RFC 9207.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, clientID, redirectURI, state string, e *oauthError) {
	p.log.InfoContext(r.Context(), "authorization error", slog.String("client_id", clientID),
		slog.String("error", e.Code), slog.String("description", e.Description))
	redirectWith(w, r, redirectURI, url.Values{
		"error":             {e.Code},
		"error_description": {e.Description},
		"state":             {state},
		"iss":               {p.cfg.Issuer},
	})
}

// writeJSON writes a no-store JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only the provider's own types come here; none fails to encode.
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	writeRawJSON(w, status, body)
}

// writeRawJSON writes body, already JSON, as an answer no cache may keep.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	// Canonical keys, so the map is written without Header.Set's
	// canonicalising of each name.
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	h["Content-Length"] = []string{strconv.Itoa(len(body) + 1)}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// tokenError answers the token endpoint with an RFC 6749 5.2 error.
func (p *Provider) tokenError(w http.ResponseWriter, r *http.Request, clientID string, basic bool, e *oauthError) {
	p.log.InfoContext(r.Context(), "token request refused", slog.String("client_id", clientID),
		slog.String("error", e.Code), slog.String("description", e.Description))
	status := http.StatusBadRequest
	if e.Code == errInvalidClient {
		status = http.StatusUnauthorized
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="mpassid"`)
		}
	}
	writeJSON(w, status, errorBody{Error: e.Code, Description: e.Description})
}
