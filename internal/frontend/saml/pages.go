package saml

import (
	"bytes"
	"html/template"
	"net/http"
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

// postFormTemplate is the HTTP-POST binding form. It works without
// JavaScript: the button is visible until the script hides it.
var postFormTemplate = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="fi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>MPASSid</title>
<script src="{{.Script}}" defer></script>
</head>
<body>
<form method="post" action="{{.URL}}" data-autosubmit>
<input type="hidden" name="{{.Param}}" value="{{.Message}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>Jatka painamalla painiketta. / Fortsätt genom att trycka på knappen. / Press the button to continue.</p></noscript>
<button type="submit">Jatka / Fortsätt / Continue</button>
</form>
</body>
</html>
`))

type postForm struct {
	Script, URL, Param, Message, RelayState string
}

// writePOSTForm writes an HTTP-POST binding form that sends message (base64)
// as param to url.
func (idp *IdP) writePOSTForm(w http.ResponseWriter, url, param, message, relayState string) {
	var buf bytes.Buffer
	if err := postFormTemplate.Execute(&buf, postForm{Script: idp.script, URL: url, Param: param, Message: message, RelayState: relayState}); err != nil {
		idp.log.Error("render POST form", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	noCache(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
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
