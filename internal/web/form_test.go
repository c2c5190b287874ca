package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// ParseForm leaves a request as http.Request.ParseForm would: the same
// PostForm, Form and error, for the bodies it decodes itself and for
// those it hands on.
func TestParseFormAsNetHTTP(t *testing.T) {
	bigValue := strings.Repeat("QUJD%2B%2F%3D", 3000)
	for _, tc := range []struct {
		name, method, target, contentType, body string
		maxBytes                                int64 // wrap the body in an http.MaxBytesReader
	}{
		{"SAML response", "POST", "/acs", "application/x-www-form-urlencoded", "SAMLResponse=" + bigValue + "&RelayState=tx-1", 0},
		{"query merged into Form", "POST", "/acs?RelayState=q&x=1", "application/x-www-form-urlencoded", "RelayState=b&y=%20+2", 0},
		{"repeated keys", "POST", "/", "application/x-www-form-urlencoded", "a=1&a=2&&a=3&b", 0},
		{"charset parameter", "POST", "/", "application/x-www-form-urlencoded; charset=UTF-8", "a=%C3%A4", 0},
		{"PUT", "PUT", "/", "application/x-www-form-urlencoded", "a=1", 0},
		{"semicolon", "POST", "/", "application/x-www-form-urlencoded", "a=1;b=2&c=3", 0},
		{"bad escape in a value", "POST", "/", "application/x-www-form-urlencoded", "a=%zz&b=2&c=%4", 0},
		{"bad escape in a key", "POST", "/", "application/x-www-form-urlencoded", "%g1=1&b=2", 0},
		{"escape cut short", "POST", "/", "application/x-www-form-urlencoded", "a=%4", 0},
		{"empty body", "POST", "/?a=1", "application/x-www-form-urlencoded", "", 0},
		{"over the MaxBytesReader", "POST", "/?a=1", "application/x-www-form-urlencoded", "SAMLResponse=" + bigValue, 1024},
		{"under the MaxBytesReader", "POST", "/", "application/x-www-form-urlencoded", "a=1", 1024},
		{"too many parameters", "POST", "/", "application/x-www-form-urlencoded", strings.Repeat("a=1&", maxFormParams), 0},
		{"no content type", "POST", "/?a=1", "", "b=2", 0},
		{"multipart", "POST", "/", "multipart/form-data; boundary=x", "--x--", 0},
		{"bad content type", "POST", "/", "application/x-www-form-urlencoded; =", "a=1", 0},
		{"GET", "GET", "/?a=%41", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newRequest := func() *http.Request {
				r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
				if tc.contentType != "" {
					r.Header.Set("Content-Type", tc.contentType)
				}
				if tc.maxBytes > 0 {
					r.Body = http.MaxBytesReader(nil, r.Body, tc.maxBytes)
				}
				return r
			}
			want, got := newRequest(), newRequest()
			wantErr, gotErr := want.ParseForm(), ParseForm(got)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("error %v, net/http's %v", gotErr, wantErr)
			}
			var mbe *http.MaxBytesError
			if errors.As(gotErr, &mbe) != errors.As(wantErr, &mbe) {
				t.Errorf("error %v: MaxBytesError %v, net/http's %v", gotErr, errors.As(gotErr, &mbe), errors.As(wantErr, &mbe))
			}
			if !reflect.DeepEqual(got.PostForm, want.PostForm) {
				t.Errorf("PostForm %.200v, net/http's %.200v", got.PostForm, want.PostForm)
			}
			if !reflect.DeepEqual(got.Form, want.Form) {
				t.Errorf("Form %.200v, net/http's %.200v", got.Form, want.Form)
			}
		})
	}
}

// FuzzParseQuery holds parseQuery to url.ParseQuery.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=%41+b&a", "%zz=1", "a=%4", "a;b=1", "=&=x&%", "a=%e4%C3%A4+%2B", "&&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := parseQuery(s)
		want, wantErr := url.ParseQuery(s)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("parseQuery(%q): error %v, url's %v", s, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseQuery(%q) = %v, url's %v", s, got, want)
		}
	})
}

// FuzzParseForm holds ParseForm to http.Request.ParseForm for whole
// requests: the method, the content type, the query and the body.
func FuzzParseForm(f *testing.F) {
	f.Add("POST", "application/x-www-form-urlencoded", "a=1", "SAMLResponse=PHg%2B&RelayState=x", int64(0))
	f.Add("POST", "application/x-www-form-urlencoded; charset=utf-8", "", "a=%zz;b", int64(4))
	f.Add("PUT", "multipart/form-data; boundary=b", "q=%41", "--b--", int64(0))
	f.Add("GET", "", "a=1&a=2", "", int64(0))
	f.Fuzz(func(t *testing.T, method, contentType, query, body string, maxBytes int64) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			return
		}
		target := "/"
		if query != "" {
			u, err := url.Parse("/?" + query)
			if err != nil {
				return
			}
			target = u.String()
		}
		newRequest := func() *http.Request {
			r, err := http.NewRequest(method, "http://127.0.0.1"+target, strings.NewReader(body))
			if err != nil {
				return nil
			}
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			if maxBytes > 0 {
				r.Body = http.MaxBytesReader(nil, r.Body, maxBytes)
			}
			return r
		}
		want, got := newRequest(), newRequest()
		if want == nil {
			return
		}
		wantErr, gotErr := want.ParseForm(), ParseForm(got)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("error %v, net/http's %v", gotErr, wantErr)
		}
		if !reflect.DeepEqual(got.PostForm, want.PostForm) || !reflect.DeepEqual(got.Form, want.Form) {
			t.Fatalf("PostForm %v Form %v, net/http's %v and %v", got.PostForm, got.Form, want.PostForm, want.Form)
		}
	})
}

func BenchmarkParseForm(b *testing.B) {
	raw := make([]byte, 12000)
	_, _ = rand.Read(raw)
	body := "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString(raw)) + "&RelayState=tx-1"
	for _, parse := range []struct {
		name string
		f    func(*http.Request) error
	}{{"net/http", (*http.Request).ParseForm}, {"web", ParseForm}} {
		b.Run(parse.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/acs", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if err := parse.f(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
