package loadtest

import (
	"net/url"
	"testing"
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
