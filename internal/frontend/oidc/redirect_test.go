package oidc

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// A redirect to a registered URI keeps the URI's own query, adds the
// non-empty parameters, follows a POST with a GET (303), is never cached,
// and carries no body.
func TestRedirectWith(t *testing.T) {
	cases := []struct {
		method, base string
		status       int
		want         url.Values
	}{
		{http.MethodGet, "https://palvelu.example.fi/cb", http.StatusFound, url.Values{"code": {"c1"}, "state": {"s"}}},
		{http.MethodPost, "https://palvelu.example.fi/cb?tenant=mansikkala", http.StatusSeeOther, url.Values{"code": {"c1"}, "state": {"s"}, "tenant": {"mansikkala"}}},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			w := httptest.NewRecorder()
			redirectWith(w, httptest.NewRequest(tc.method, "/x", nil), tc.base, url.Values{"code": {"c1"}, "state": {"s"}, "empty": {""}})
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			loc, err := url.Parse(w.Header().Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := loc.Query(); got.Encode() != tc.want.Encode() {
				t.Errorf("query %v, want %v", got, tc.want)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Body.Len() != 0 {
				t.Errorf("Cache-Control %q, body %q", w.Header().Get("Cache-Control"), w.Body.String())
			}
		})
	}
	w := httptest.NewRecorder()
	redirectWith(w, httptest.NewRequest(http.MethodGet, "/x", nil), "https://bad host/%zz", nil)
	if w.Code != http.StatusInternalServerError || w.Header().Get("Location") != "" {
		t.Errorf("an unparsable URI: status %d, Location %q", w.Code, w.Header().Get("Location"))
	}
}
