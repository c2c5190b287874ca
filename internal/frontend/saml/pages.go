package saml

import (
	"bytes"
	"html"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// autoSubmitJS submits the first form marked data-autosubmit and hides its
// button. It is served as a same-origin file: the Content-Security-Policy
// forbids inline script.
const autoSubmitJS = `(function () {
  "use strict";
  function go() {
    var f = document.querySelector("form[data-autosubmit]");
    if (!f) { return; }
    var b = f.querySelector("button");
    if (b) { b.style.visibility = "hidden"; }
    f.submit();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", go);
  } else {
    go();
  }
})();
`

func serveAutoSubmit(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(autoSubmitJS))
}

// The HTTP-POST binding form, cut where the values go. It works without
// JavaScript: the button is visible until the script hides it. It is
// written piece by piece rather than through html/template: escaping a
// five-kilobyte base64 Response through the template engine was a tenth
// of the IdP's own work per login.
const (
	postFormHead = `<!DOCTYPE html>
<html lang="fi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>MPASSid</title>
<script src="`
	postFormAction = `" defer></script>
</head>
<body>
<form method="post" action="`
	postFormParam = `" data-autosubmit>
<input type="hidden" name="`
	postFormRelayState = `">
<input type="hidden" name="RelayState" value="`
	postFormTail = `">
<noscript><p>Jatka painamalla painiketta. / Fortsätt genom att trycka på knappen. / Press the button to continue.</p></noscript>
<button type="submit">Jatka / Fortsätt / Continue</button>
</form>
</body>
</html>
`
)

// writePOSTForm writes an HTTP-POST binding form that sends message (base64)
// as param to url. Every value is HTML-escaped; a URL that is not http(s)
// is never put in the form (endpoints are checked when registered; this is
// the last line).
func (idp *IdP) writePOSTForm(w http.ResponseWriter, url, param, message, relayState string) {
	lower := strings.ToLower(url)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		idp.log.Error("render POST form: endpoint is not an http(s) URL", "url", url)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	b.Grow(len(postFormHead) + len(postFormAction) + len(postFormParam) + len(postFormRelayState) + len(postFormTail) +
		len(idp.script) + len(url) + len(param) + len(message) + len(relayState) + 64)
	b.WriteString(postFormHead)
	b.WriteString(html.EscapeString(idp.script))
	b.WriteString(postFormAction)
	b.WriteString(html.EscapeString(url))
	b.WriteString(postFormParam)
	b.WriteString(html.EscapeString(param))
	b.WriteString(`" value="`)
	b.WriteString(html.EscapeString(message))
	if relayState != "" {
		b.WriteString(postFormRelayState)
		b.WriteString(html.EscapeString(relayState))
	}
	b.WriteString(postFormTail)
	noCache(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = io.WriteString(w, b.String())
}

// errorPageTemplate is the plain error page for requests that cannot be
// answered to a service: no script, nothing from the request echoed but
// the reference.
var errorPageTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="fi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MPASSid – virhe / fel / error</title>
</head>
<body>
<h1>Kirjautuminen ei onnistunut</h1>
<p>Palvelu lähetti kirjautumispyynnön, jota MPASSid ei voi käsitellä. Palaa palveluun ja yritä uudelleen.</p>
<h1 lang="sv">Inloggningen misslyckades</h1>
<p lang="sv">Tjänsten skickade en inloggningsbegäran som MPASSid inte kan behandla. Gå tillbaka till tjänsten och försök igen.</p>
<h1 lang="en">Login failed</h1>
<p lang="en">The service sent a request MPASSid cannot process. Return to the service and try again.</p>
<p lang="en">{{.Message}}</p>
<p>Viite / Referens / Reference: <code>{{.Reference}}</code></p>
</body>
</html>
`))

// writeErrorPage answers a request that cannot be answered to a service.
// message is a short fixed English text (never request content).
func (idp *IdP) writeErrorPage(w http.ResponseWriter, r *http.Request, status int, message string, err error) {
	ref := newID()[1:13]
	idp.log.WarnContext(logCtx(r), "saml request refused", "reference", ref, "status", status, "reason", message, "err", err)
	var buf bytes.Buffer
	_ = errorPageTemplate.Execute(&buf, struct{ Message, Reference string }{message, ref})
	noCache(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func noCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
