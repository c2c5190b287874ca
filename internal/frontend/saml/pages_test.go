package saml

import (
	"crypto/x509"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestPOSTFormEscapesAndRefusesOddEndpoints(t *testing.T) {
	env := newEnv(t)
	field := regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	tests := []struct {
		name, url, relay string
		status           int
	}{
		{"plain", "https://sp.example/acs", "", http.StatusOK},
		{"relay state with markup", "https://sp.example/acs?a=1&b=2", `"><script>x</script>&`, http.StatusOK},
		{"javascript endpoint", "javascript:alert(1)", "", http.StatusInternalServerError},
		{"relative endpoint", "/acs", "", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			env.idp.writePOSTForm(rec, tt.url, "SAMLResponse", "PHNhbWxwOlJlc3BvbnNlLz4=", tt.relay)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != http.StatusOK {
				if strings.Contains(rec.Body.String(), tt.url) {
					t.Errorf("refused endpoint written out: %s", rec.Body)
				}
				return
			}
			body := rec.Body.String()
			if strings.Contains(body, "<script>") {
				t.Fatalf("markup reached the page: %s", body)
			}
			if !strings.Contains(body, `action="`+html.EscapeString(tt.url)+`"`) {
				t.Errorf("form action missing: %s", body)
			}
			got := map[string]string{}
			for _, m := range field.FindAllStringSubmatch(body, -1) {
				got[m[1]] = html.UnescapeString(m[2])
			}
			if got["SAMLResponse"] != "PHNhbWxwOlJlc3BvbnNlLz4=" || got["RelayState"] != tt.relay {
				t.Errorf("fields %q", got)
			}
			if _, has := got["RelayState"]; has != (tt.relay != "") {
				t.Errorf("RelayState field present %v with relay %q", has, tt.relay)
			}
		})
	}
}

func TestCertCache(t *testing.T) {
	sp := newSPKey(t)
	var c certCache
	first, err := c.certificates([]string{sp.b64()})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.certificates([]string{sp.b64()})
	if err != nil || len(again) != 1 || again[0] != first[0] {
		t.Fatalf("second lookup: %v %v", again, err)
	}
	if _, err := c.certificates([]string{sp.b64(), "not base64!"}); err == nil {
		t.Fatal("a malformed certificate was accepted")
	}
	c.m = make(map[string]*x509.Certificate, maxCachedCerts)
	for i := range maxCachedCerts {
		c.m[strconv.Itoa(i)] = first[0]
	}
	if _, err := c.certificates([]string{sp.b64()}); err != nil || len(c.m) != 1 {
		t.Fatalf("a full cache did not start over: %d entries, %v", len(c.m), err)
	}
}
