package broker

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The hand-written Set-Cookie header must be exactly what http.SetCookie
// writes for the same cookie, on both the https and the plain-http form.
func TestSetCookieMatchesNetHTTP(t *testing.T) {
	cases := []struct {
		name, base, value string
		maxAge            time.Duration
	}{
		{"sealed value over https", "https://mpass.example", "AbC-_09" + strings.Repeat("x", 900), 10 * time.Minute},
		{"sealed value over http", "http://127.0.0.1:8080", "AbC-_09", time.Hour},
		{"sealed string", "https://mpass.example", "v1:AbC-_09", time.Minute},
		{"every plain byte", "http://127.0.0.1:8080", plainBytes(), time.Minute},
		{"value with a comma", "https://mpass.example", "a,b", time.Minute},
		{"value with a backslash", "https://mpass.example", "a\\b", time.Minute},
		{"value with a control byte", "https://mpass.example", "a\x01b", time.Minute},
		{"value with a non-ASCII byte", "https://mpass.example", "aä", time.Minute},
		{"value needing quotes", "https://mpass.example", "a b", time.Minute},
		{"value net/http drops bytes of", "http://127.0.0.1:8080", "a;b\"c", time.Minute},
		{"empty value", "https://mpass.example", "", time.Minute},
		{"under a second left", "https://mpass.example", "abc", 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "sealed") && !plainCookieValue(tc.value) {
				t.Errorf("%q does not take the direct path", tc.value)
			}
			b := &Broker{cfg: Config{BaseURL: tc.base}}
			got := httptest.NewRecorder()
			b.setCookie(got, httptest.NewRequest(http.MethodGet, "/", nil), "mpassid_tx", tc.value, tc.maxAge)

			want := httptest.NewRecorder()
			c := &http.Cookie{Name: "mpassid_tx", Value: tc.value, Path: "/", HttpOnly: true, MaxAge: int(tc.maxAge.Seconds())}
			if strings.HasPrefix(tc.base, "https://") {
				c.Secure, c.SameSite = true, http.SameSiteNoneMode
			} else {
				c.SameSite = http.SameSiteLaxMode
			}
			http.SetCookie(want, c)
			if g, w := got.Header().Values("Set-Cookie"), want.Header().Values("Set-Cookie"); strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("Set-Cookie\n got %q\nwant %q", g, w)
			}
		})
	}
}

func plainBytes() string {
	var b []byte
	for c := byte(0x21); c < 0x7f; c++ {
		if c != '"' && c != ',' && c != ';' && c != '\\' {
			b = append(b, c)
		}
	}
	return string(b)
}
