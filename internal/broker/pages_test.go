package broker

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/discovery"
	"github.com/mpassid/mpassid/internal/discovery/fixture"
)

// selectPage starts a login in browser c and returns the selection page's
// URL.
func selectPage(t *testing.T, e *env, c *http.Client) *url.URL {
	t.Helper()
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == SelectPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { c.CheckRedirect = nil }()
	resp, err := c.Get(e.srv.URL + "/begin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Path != SelectPath {
		t.Fatalf("no selection page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc
}

func TestSelectionPageLanguagesFragmentAndRecentChoices(t *testing.T) {
	e := newEnv(t, 2)
	c := browser(t)
	loc := selectPage(t, e, c)
	tx := loc.Query().Get("tx")
	_, page := get(t, c, e.srv.URL+loc.String())
	for _, want := range []string{`<html lang="fi">`, "Valitse koulusi", `href="#main"`, `hreflang="sv"`, `role="search"`, `<label for="q">`, `/login/static/select.js`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The switcher's link turns the page (and the transaction) Swedish.
	_, sv := get(t, c, e.srv.URL+SelectPath+"?tx="+tx+"&lang=sv")
	if !strings.Contains(sv, `<html lang="sv">`) || !strings.Contains(sv, "Välj din skola") || !strings.Contains(sv, `aria-current="true">På svenska`) {
		t.Errorf("Swedish page: %s", sv)
	}
	_, again := get(t, c, e.srv.URL+SelectPath+"?tx="+tx)
	if !strings.Contains(again, `<html lang="sv">`) {
		t.Error("the transaction did not keep the language")
	}
	// The fragment the script fetches is the results part only.
	_, frag := get(t, c, e.srv.URL+SelectPath+"?tx="+tx+"&q=lahde+a&fragment=1")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, "Lähde A") || strings.Contains(frag, "Lähde B") || !strings.Contains(frag, `data-status="Alternativ: 1"`) {
		t.Errorf("fragment: %s", frag)
	}
	// Choosing remembers the choice; the next login shows it first.
	resp, err := c.PostForm(e.srv.URL+SelectPath, url.Values{"tx": {tx}, "source": {"4000002"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var recent *http.Cookie
	for _, ck := range resp.Request.Response.Cookies() {
		if ck.Name == recentCookie {
			recent = ck
		}
	}
	if recent == nil || recent.Value != "4000002" || recent.MaxAge != int(recentMaxAge.Seconds()) || recent.SameSite != http.SameSiteLaxMode || !recent.HttpOnly {
		t.Fatalf("recent-choices cookie %+v", recent)
	}
	// A new login in the same browser, after its SSO session ended.
	c2 := browser(t)
	u, _ := url.Parse(e.srv.URL + SelectPath)
	c2.Jar.SetCookies(u, []*http.Cookie{{Name: recentCookie, Value: recent.Value}})
	loc = selectPage(t, e, c2)
	_, page = get(t, c2, e.srv.URL+loc.String())
	i, j := strings.Index(page, "recent-h"), strings.Index(page, "results-h")
	if i < 0 || j < i || !strings.Contains(page[i:j], "Lähde B") || strings.Contains(page[i:j], "Lähde A") {
		t.Errorf("recent choice not shown first: %s", page)
	}
}

func TestErrorPagesInThreeLanguages(t *testing.T) {
	e := newEnv(t, 2)
	req, _ := http.NewRequest("GET", e.srv.URL+SelectPath+"?tx=nope", nil)
	req.Header.Set("Accept-Language", "sv-FI,sv;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `<html lang="sv">`) || !strings.Contains(page, "Inloggningen misslyckades") || !strings.Contains(page, "Felkod") {
		t.Fatalf("error page %d: %s", resp.StatusCode, page)
	}
	ref := page[strings.Index(page, "<strong>")+8:]
	ref = ref[:strings.Index(ref, "<")]
	if !validReference(ref) {
		t.Fatalf("reference %q", ref)
	}
	// The switcher shows the same text and code in English.
	_, en := get(t, browser(t), e.srv.URL+ErrorPath+"?m=expired&lang=en&ref="+url.QueryEscape(ref))
	if !strings.Contains(en, `<html lang="en">`) || !strings.Contains(en, "The login expired") || !strings.Contains(en, ref) {
		t.Errorf("English error page: %s", en)
	}
	// A made-up code is not echoed.
	if _, p := get(t, browser(t), e.srv.URL+ErrorPath+"?m=expired&ref=%3Cscript%3E"); strings.Contains(p, "script&gt;") || strings.Contains(p, "<script>") {
		t.Errorf("reference echoed: %s", p)
	}
	for m := range texts {
		for l, s := range texts[m] {
			if s == "" {
				t.Errorf("message %d has no text in %s", m, discovery.Languages[l])
			}
		}
	}
}

// nationalView renders the page model at national scale.
func nationalView(b testing.TB, query, provider string) (*discovery.Index, *selectView) {
	reg, srcs := fixture.National(false)
	ix := discovery.Build(srcs, reg, discovery.Options{})
	ids := make([]int64, len(srcs))
	for i, s := range srcs {
		ids[i] = s.ID
	}
	return ix, buildSelectView(ix, ix.Mask(ids), "fi", "tx", query, provider, []string{srcs[0].IdP.Discovery.Title})
}

func TestSelectionPageWeightAtNationalScale(t *testing.T) {
	ix, v := nationalView(t, "", "")
	var buf bytes.Buffer
	if err := selectTemplate.Execute(&buf, v); err != nil {
		t.Fatal(err)
	}
	if len(v.Providers) == 0 {
		t.Fatal("too many schools to list, yet no provider list")
	}
	weight := buf.Len() + len(brokerCSS) + len(selectJS)
	t.Logf("national page: %d entries, %d providers listed, %d bytes with CSS and JS", ix.Len(), len(v.Providers), weight)
	if weight > 100<<10 {
		t.Errorf("page weighs %d bytes", weight)
	}
	// The biggest provider's own list, and a broad search, stay light too.
	biggest := ""
	most := 0
	for _, p := range ix.Providers("fi", v0mask(ix), nil) {
		if p.Count > most {
			biggest, most = p.ProviderOID, p.Count
		}
	}
	for _, tc := range []struct{ q, p string }{{"", biggest}, {"koulu", ""}} {
		buf.Reset()
		_, v := nationalView(t, tc.q, tc.p)
		if err := selectTemplate.Execute(&buf, v); err != nil {
			t.Fatal(err)
		}
		if w := buf.Len() + len(brokerCSS) + len(selectJS); w > 100<<10 || len(v.Groups) == 0 {
			t.Errorf("q=%q provider=%s: %d bytes, %d groups", tc.q, tc.p, w, len(v.Groups))
		}
	}
}

func v0mask(ix *discovery.Index) discovery.Mask {
	m := make(discovery.Mask, fixture.ShowSchools+fixture.Plain+10)
	for i := range m {
		m[i] = true
	}
	return m
}

// BenchmarkSelectionRender builds the page model and renders the whole
// page at national scale: the first page (providers), a search and one
// big provider's schools.
func BenchmarkSelectionRender(b *testing.B) {
	reg, srcs := fixture.National(false)
	ix := discovery.Build(srcs, reg, discovery.Options{})
	ids := make([]int64, len(srcs))
	for i, s := range srcs {
		ids[i] = s.ID
	}
	biggest := ix.Providers("fi", ix.Mask(ids), nil)[0].ProviderOID
	for _, tc := range []struct{ name, q, p string }{{"first-page", "", ""}, {"search-koulu", "koulu", ""}, {"one-provider", "", biggest}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				v := buildSelectView(ix, ix.Mask(ids), "fi", "tx", tc.q, tc.p, []string{"4100001.00100"})
				if err := selectTemplate.Execute(&buf, v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/page")
		})
	}
}
