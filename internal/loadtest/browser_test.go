package loadtest

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPostForm(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8080/login/select?tx=1")
	p := &page{url: u, body: `<form method="get" action="/login/select"><input type="hidden" name="tx" value="no"></form>
<formx><form method="post" action="/login/callback/4?a=1&amp;b=2" data-autosubmit>
<input type="hidden" name="SAMLResponse" value="PHNhbWw&#43;Zm9v/w==">
<input type="radio" name="user" id="u1" value="oppilas.abc">
<input	type="hidden" name="RelayState" value="">
<button type="submit" name="source" value="4000001.99001" class="choice">Testi</button>
</form>`}
	f, ok := postForm(p)
	if !ok {
		t.Fatal("no form")
	}
	if f.action != "http://127.0.0.1:8080/login/callback/4?a=1&b=2" {
		t.Errorf("action %q", f.action)
	}
	if f.fields.Get("SAMLResponse") != "PHNhbWw+Zm9v/w==" || !f.fields.Has("RelayState") || f.fields.Has("tx") || f.fields.Has("user") {
		t.Errorf("fields %v", f.fields)
	}
	if v, ok := testUserValue(f.body, "oppilas"); !ok || v != "oppilas.abc" {
		t.Errorf("user %q %v", v, ok)
	}
	if _, ok := testUserValue(f.body, "opettaja"); ok {
		t.Error("found a user not offered")
	}
	if v, ok := sourceChoice(f.body, "4000001"); !ok || v != "4000001.99001" {
		t.Errorf("sourceChoice %q %v", v, ok)
	}
	if _, ok := sourceChoice(f.body, "400000"); ok {
		t.Error("sourceChoice matched a prefix of the id")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// A broker answer's latency is recorded once, when its body is read to
// the end or closed unread; an answer whose body fails records nothing.
func TestTimedBodyRecordsOnce(t *testing.T) {
	cases := []struct {
		name string
		body io.Reader
		read bool
		want int
	}{
		{"read to the end, then closed", strings.NewReader("<html>"), true, 1},
		{"closed unread", strings.NewReader("<html>"), false, 1},
		{"empty body", strings.NewReader(""), true, 1},
		{"failing body", failingReader{}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := &router{}
			b := &timedBody{ReadCloser: io.NopCloser(tc.body), start: time.Now(), rt: rt}
			if tc.read {
				_, _ = io.Copy(io.Discard, b)
				_, _ = b.Read(make([]byte, 1)) // reading past the end records nothing more
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if len(rt.answered) != tc.want {
				t.Errorf("recorded %d latencies, want %d", len(rt.answered), tc.want)
			}
		})
	}
}

// Endpoints are named by method and path, integration ids folded, and
// nothing else changed.
func TestEndpoint(t *testing.T) {
	cases := []struct{ method, path, want string }{
		{"GET", "/idp/profile/oidc/authorize", "GET /idp/profile/oidc/authorize"},
		{"POST", "/login/callback/4", "POST /login/callback/{id}"},
		{"POST", "/login/callback/4001/", "POST /login/callback/{id}/"},
		{"GET", "/idp/profile/SAML2/Redirect/SSO", "GET /idp/profile/SAML2/Redirect/SSO"},
		{"GET", "/", "GET /"},
	}
	for _, tc := range cases {
		if got := endpoint(tc.method, tc.path); got != tc.want {
			t.Errorf("endpoint(%q, %q) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
