package ui_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/ui"
	"github.com/mpassid/mpassid/internal/model"
)

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	anon := e.browser("", "")
	r := anon.want(anon.get("/admin/?role=sp"), 303)
	if loc := r.Header.Get("Location"); loc != "/admin/signin?return="+url.QueryEscape("/admin/?role=sp") {
		t.Errorf("redirect to %q", loc)
	}
	p := anon.want(anon.get("/admin/signin?return=/admin/%3Frole%3Dsp"), 200)
	p.has(t, "Kirjaudu demokäyttäjänä", `name="kind"`, "Oma kunta")
	// Only local pages are places to return to.
	r = anon.post("/admin/signin/dev", url.Values{"kind": {"KATSELIJA"}, "org": {ownOrg}, "return": {"https://evil.example/"}}, "")
	if loc := r.Header.Get("Location"); loc != "/admin/" {
		t.Errorf("return to %q", loc)
	}
	// A post without a session is refused.
	anon2 := e.browser("", "")
	anon2.want(anon2.post("/admin/integrations/1/edit", url.Values{}, ""), 401)
	// Sign-out ends the session.
	u := e.browser(admin.KindViewer, ownOrg)
	u.want(u.post("/admin/signout", url.Values{}, "auto"), 303)
	u.want(u.get("/admin/"), 303)

	// Without Dev there is no demo sign-in.
	e2 := newEnv(t, func(c *ui.Config) { c.Dev = false })
	anon = e2.browser("", "")
	anon.want(anon.get("/admin/signin"), 200).lacks(t, "demokäyttäjä")
	anon.want(anon.post("/admin/signin/dev", url.Values{"kind": {"TALLENTAJA"}, "org": {adminOrg}}, ""), 404)
}

func TestListFiltersInURL(t *testing.T) {
	e := newEnv(t)
	e.fixtures()
	u := e.browser(admin.KindEditor, adminOrg)
	p := u.want(u.get("/admin/"), 200)
	p.has(t, "4 integraatiota", "Seuraava sivu")
	// Filters: role, type, search by name and by entityID, phase, status.
	p = u.want(u.get("/admin/?role=sp&sort=name"), 200)
	p.has(t, "2 integraatiota", "Kirjasto", "Peli")
	p.lacks(t, "Oppimateriaalit")
	if i, j := strings.Index(p.Body, "Kirjasto"), strings.Index(p.Body, ">Peli<"); i > j {
		t.Error("not sorted by name")
	}
	// Sort links and paging keep the filters.
	if !strings.Contains(p.Body, `href="/admin/?role=sp&amp;sort=-name"`) {
		t.Errorf("sort link does not keep the filter:\n%s", p.Body)
	}
	p = u.want(u.get("/admin/?search=kirjasto.example.fi"), 200)
	p.has(t, "1 integraatiota", "Kirjasto")
	p = u.want(u.get("/admin/?type=oidc&status=active&phase=0"), 200)
	p.has(t, "1 integraatiota", "Peli")
	p.has(t, `<option value="oidc" selected>`)
	p = u.want(u.get("/admin/?status=inactive"), 200)
	p.has(t, "0 integraatiota")
	p = u.want(u.get("/admin/?role=set&page=0"), 200)
	p.has(t, "2 integraatiota")
	p = u.want(u.get("/admin/?sort=id"), 200)
	if !strings.Contains(p.Body, `href="/admin/?page=1&amp;sort=id"`) {
		t.Errorf("next page link does not keep the sort:\n%s", p.Body)
	}
	p = u.want(u.get("/admin/?page=1&sort=id"), 200)
	p.has(t, "Näytetään 3–4", "Edellinen sivu")
	u.want(u.get("/admin/?phase=9"), 400)
	u.want(u.get("/admin/?sort=bogus"), 400)

	// A scoped user sees only their organisation's.
	o := e.browser(admin.KindEditor, otherOrg)
	p = o.want(o.get("/admin/"), 200)
	p.has(t, "1 integraatiota", "Toisen palvelut")
}

func TestCreateWilmaWithSchools(t *testing.T) {
	e := newEnv(t)
	u := e.browser(admin.KindEditor, ownOrg)
	// organisation -> role -> type, then the type's form.
	p := u.want(u.get("/admin/new"), 200)
	p.has(t, `<select id="f-org" name="org"`, "Oma kunta")
	p = u.want(u.get("/admin/new?org="+ownOrg), 200)
	p.has(t, `value="idp"`, `value="sp"`, `value="set"`)
	p = u.want(u.get("/admin/new?org="+ownOrg+"&role=idp"), 200)
	p.has(t, `value="wilma"`, `value="azure"`)
	p = u.want(u.get("/admin/new?org="+ownOrg+"&role=idp&type=wilma"), 200)
	p.has(t, "Wilman osoite", "Ykköskoulu", "Kakkoslukio", "Jaettu salaisuus", `name="configurationEntity.idp.institutionTypes" value="11"`)

	form := url.Values{
		"role": {"idp"}, "type": {"wilma"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"},
		"configurationEntity.idp.idpId":               {"wilma_oma"},
		"configurationEntity.idp.flowName":            {"wilmaoma"},
		"configurationEntity.idp.hostname":            {"oma.inschool.fi"},
		"configurationEntity.idp.sharedSecret":        {"wilman-jaettu-salaisuus"},
		"configurationEntity.idp.institutionTypes":    {"11"},
		"discoveryInformation.showSchools":            {"true"},
		"discoveryInformation.title":                  {"Wilma"},
		"discoveryInformation.schools":                {"00001"},
		"configurationEntity.attributes.type":         {"user", "user"},
		"configurationEntity.attributes.name":         {"learnerId", ""},
		"configurationEntity.attributes.content":      {"oppijanumero", ""},
		"configurationEntity.idp.logoUrl":             {""},
		"discoveryInformation.customDisplayName":      {""},
		"discoveryInformation.excludedSchools":        {},
		"serviceContactAddress":                       {"it@oma.fi"},
		"discoveryInformation.earlyEducationProvider": {},
	}
	r := u.want(u.post("/admin/new", form, "auto"), 303)
	id := createdID(t, r)
	p = u.want(u.get(r.Header.Get("Location")), 200)
	p.has(t, "Integraatio luotiin", "Ykköskoulu", "oma.inschool.fi", "Tallennettu (ei näytetä)", "learnerId", "oppijanumero", "11 Peruskoulut")
	p.lacks(t, "wilman-jaettu-salaisuus")
	stored, _ := e.st.GetIntegration(t.Context(), mustInt(t, id))
	if stored.IdP.SharedSecret == "" || strings.Contains(stored.IdP.SharedSecret, "wilman") {
		t.Errorf("shared secret stored as %q", stored.IdP.SharedSecret)
	}
	if got := stored.IdP.Discovery.Schools; len(got) != 1 || got[0] != "00001" {
		t.Errorf("schools %v", got)
	}

	// A second source of the organisation shows the first one's school
	// as a conflict hint.
	p = u.want(u.get("/admin/new?org="+ownOrg+"&role=idp&type=wilma"), 200)
	p.has(t, "Mukana toisessa")
	// The same idpId is refused next to its field; the form keeps what
	// was typed.
	form.Set("configurationEntity.idp.hostname", "toinen.inschool.fi")
	p = u.want(u.post("/admin/new", form, "auto"), 400)
	p.has(t, `id="err-f-configurationEntity-idp-idpId"`, `aria-describedby="hint-f-configurationEntity-idp-idpId err-f-configurationEntity-idp-idpId"`,
		"is already used by", `value="toinen.inschool.fi"`, `href="#f-configurationEntity-idp-idpId"`)
	// An unknown school code is refused in the school section.
	form.Set("configurationEntity.idp.idpId", "wilma_kolmas")
	form["discoveryInformation.schools"] = []string{"99999"}
	p = u.want(u.post("/admin/new", form, "auto"), 400)
	p.has(t, "Tuntematon koulukoodi (99999)", `id="f-discoveryInformation-schools"`)
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var secretRe = regexp.MustCompile(`id="client-secret" class="secret">([^<]+)<`)

func TestCreateOIDCSecretShownOnce(t *testing.T) {
	e := newEnv(t)
	u := e.browser(admin.KindServiceEditor, ownOrg)
	// A set first: the service step offers to create one.
	p := u.want(u.get("/admin/new?org="+ownOrg+"&role=sp&type=oidc"), 200)
	p.has(t, "Luo ensin palvelukokonaisuus")
	r := u.want(u.post("/admin/new", url.Values{"role": {"set"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"},
		"configurationEntity.set.name": {"Pelit"}}, "auto"), 303)
	setID := createdID(t, r)
	p = u.want(u.get("/admin/new?org="+ownOrg+"&role=sp&type=oidc"), 200)
	p.has(t, "Pelit ("+setID+")")
	p = u.want(u.get("/admin/new?org="+ownOrg+"&role=sp&type=oidc&set="+setID), 200)
	p.has(t, "Paluuosoitteet", "client_id ja salaisuus luodaan")

	r = u.want(u.post("/admin/new", url.Values{"role": {"sp"}, "type": {"oidc"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"},
		"integrationGroups": {setID}, "configurationEntity.sp.name": {"Matikkapeli"},
		"configurationEntity.sp.metadata.redirect_uris":              {"https://peli.example.fi/cb\nhttps://peli.example.fi/cb2"},
		"configurationEntity.sp.metadata.scope":                      {"openid profile"},
		"configurationEntity.sp.metadata.token_endpoint_auth_method": {"client_secret_basic"},
		"configurationEntity.sp.metadata.grant_types":                {"authorization_code"},
	}, "auto"), 201)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	m := secretRe.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no secret shown: %s", r.Body)
	}
	secret := m[1]
	id := createdID(t, r)
	stored, err := e.st.GetIntegration(t.Context(), mustInt(t, id))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.sealer.OpenString(stored.SP.OIDC.ClientSecret, stored.SP.OIDC.ClientID); err != nil || got != secret {
		t.Errorf("the shown secret is not the stored one: %v", err)
	}
	r.has(t, stored.SP.OIDC.ClientID, "Kopioi salaisuus nyt")
	// Never again: not on the page, the edit form or the history.
	for _, path := range []string{"", "/edit", "/history"} {
		p := u.want(u.get("/admin/integrations/"+id+path), 200)
		p.lacks(t, secret)
	}
	u.want(u.get("/admin/integrations/"+id), 200).has(t, "Näytettiin kerran luotaessa", "https://peli.example.fi/cb2")
}

func TestEditErrorNextToField(t *testing.T) {
	e := newEnv(t)
	_, oidcID, samlID, _ := e.fixtures()
	u := e.browser(admin.KindServiceEditor, ownOrg)
	path := fmt.Sprintf("/admin/integrations/%d/edit", oidcID)
	p := u.want(u.get(path), 200)
	p.has(t, `name="version" value="1"`, "https://peli.example.fi/cb")
	form := url.Values{"version": {"1"}, "deploymentPhase": {"0"}, "integrationGroups": {p.selectedSet(t)},
		"configurationEntity.sp.name":                   {"Peli 2"},
		"configurationEntity.sp.metadata.redirect_uris": {"https://peli.example.fi/cb\nftp://peli.example.fi/x#frag"},
		"configurationEntity.sp.metadata.scope":         {"openid"},
	}
	p = u.want(u.post(path, form, "auto"), 400)
	p.has(t, "Korjaa seuraavat kohdat",
		`id="err-f-configurationEntity-sp-metadata-redirect-uris"`,
		`aria-describedby="hint-f-configurationEntity-sp-metadata-redirect-uris err-f-configurationEntity-sp-metadata-redirect-uris"`,
		"Rivi 2: Anna täydellinen http(s)-osoite", `value="Peli 2"`)
	// Production needs https.
	form.Set("deploymentPhase", "1")
	form.Set("configurationEntity.sp.metadata.redirect_uris", "http://peli.example.fi/cb")
	u.want(u.post(path, form, "auto"), 400).has(t, "Rivi 1: Tuotannossa osoitteen on oltava https")
	// A good change is saved and shown.
	form.Set("deploymentPhase", "0")
	form.Set("configurationEntity.sp.metadata.redirect_uris", "https://peli.example.fi/uusi")
	r := u.want(u.post(path, form, "auto"), 303)
	u.want(u.get(r.Header.Get("Location")), 200).has(t, "Muutokset tallennettiin", "Peli 2", "https://peli.example.fi/uusi")
	// A stale version is a conflict.
	u.want(u.post(path, form, "auto"), 409).has(t, "Joku muu muutti")

	// SAML: a bad certificate and a missing ACS are errors of their fields.
	path = fmt.Sprintf("/admin/integrations/%d/edit", samlID)
	p = u.want(u.get(path), 200)
	p.has(t, "-----BEGIN CERTIFICATE-----", "https://kirjasto.example.fi/acs")
	p = u.want(u.post(path, url.Values{"version": {"1"}, "deploymentPhase": {"0"}, "integrationGroups": {p.selectedSet(t)},
		"configurationEntity.sp.name":                                           {"Kirjasto"},
		"configurationEntity.sp.metadata.entityId":                              {"https://kirjasto.example.fi/sp"},
		"configurationEntity.sp.metadata.signingCertificates":                   {"bm90IGEgY2VydA=="},
		"configurationEntity.sp.metadata.assertionConsumerServiceUrls.location": {""},
	}, "auto"), 400)
	p.has(t, `id="err-f-configurationEntity-sp-metadata-signingCertificates"`, "Varmenne ei kelpaa", `id="err-acs"`, "Vähintään yksi tarvitaan")
}

var setSelRe = regexp.MustCompile(`name="integrationGroups"[\s\S]*?<option value="(\d+)" selected>`)

// selectedSet is the set chosen in an SP form.
func (p page) selectedSet(t *testing.T) string {
	t.Helper()
	m := setSelRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no set selected")
	}
	return m[1]
}

func TestHistoryAndRestore(t *testing.T) {
	e := newEnv(t)
	setID, _, _, _ := e.fixtures()
	u := e.browser(admin.KindServiceEditor, ownOrg)
	path := fmt.Sprintf("/admin/integrations/%d", setID)
	u.want(u.post(path+"/edit", url.Values{"version": {"1"}, "deploymentPhase": {"0"}, "configurationEntity.set.name": {"Uusi nimi"}}, "auto"), 303)
	p := u.want(u.get(path+"/history"), 200)
	p.has(t, "Versio 2", "Versio 1", "nykyinen", "Testi PALVELU_TALLENTAJA", "configurationEntity.set.name", "Oppimateriaalit", "Uusi nimi", "Palauta versio 1")
	p.lacks(t, "Palauta versio 2")
	// The restore asks first, showing what it changes.
	p = u.want(u.get(path+"/history/1/restore"), 200)
	p.has(t, "Palautus tallentaa version uusimmaksi", "Uusi nimi", "Oppimateriaalit", `name="basedOn" value="2"`)
	u.want(u.post(path+"/history/1/restore", url.Values{"basedOn": {"2"}}, "auto"), 303)
	p = u.want(u.get(path+"/history?saved=restored"), 200)
	p.has(t, "Versio palautettiin", "Versio 3")
	u.want(u.get(path), 200).has(t, "Oppimateriaalit")
	// A restore based on a stale version is a conflict.
	u.want(u.post(path+"/history/2/restore", url.Values{"basedOn": {"2"}}, "auto"), 409)
	u.want(u.get(path+"/history/99/restore"), 404)
}

func TestPermissions(t *testing.T) {
	e := newEnv(t)
	setID, oidcID, _, otherSetID := e.fixtures()
	path := fmt.Sprintf("/admin/integrations/%d", oidcID)

	// A viewer sees but cannot change.
	v := e.browser(admin.KindViewer, ownOrg)
	p := v.want(v.get(path), 200)
	p.has(t, "Peli")
	p.lacks(t, path+"/edit", "Poista käytöstä")
	v.want(v.get(path+"/edit"), 403)
	v.want(v.post(path+"/edit", url.Values{"version": {"1"}, "configurationEntity.sp.name": {"X"}}, "auto"), 403)
	v.want(v.post(path+"/inactivate", url.Values{}, "auto"), 403)
	v.want(v.post(fmt.Sprintf("/admin/integrations/%d/history/1/restore", setID), url.Values{}, "auto"), 403)
	v.want(v.get(path+"/history"), 200).lacks(t, "Palauta versio")
	v.want(v.get("/admin/new?org="+ownOrg), 403)
	v.want(v.post("/admin/new", url.Values{"role": {"set"}, "organization.oid": {ownOrg}, "configurationEntity.set.name": {"X"}}, "auto"), 403)
	if strings.Contains(v.get("/admin/").Body, `class="button" href="/admin/new"`) {
		t.Error("a viewer is offered to create")
	}

	// A service-provider editor cannot create identity providers.
	s := e.browser(admin.KindServiceEditor, ownOrg)
	p = s.want(s.get("/admin/new?org="+ownOrg), 200)
	p.has(t, `value="sp"`, `value="set"`)
	p.lacks(t, `value="idp"`)
	s.want(s.get("/admin/new?org="+ownOrg+"&role=idp&type=wilma"), 403)
	s.want(s.post("/admin/new", url.Values{"role": {"idp"}, "type": {"wilma"}, "organization.oid": {ownOrg},
		"configurationEntity.idp.idpId": {"wilma_x"}, "configurationEntity.idp.hostname": {"x.inschool.fi"}}, "auto"), 403)
	s.want(s.get(path), 200).has(t, path+"/edit")

	// Another organisation's integrations do not exist for them.
	s.want(s.get(fmt.Sprintf("/admin/integrations/%d", otherSetID)), 404)
	s.want(s.post(fmt.Sprintf("/admin/integrations/%d/inactivate", otherSetID), url.Values{}, "auto"), 404)

	// The editor may inactivate, after a confirmation.
	s.want(s.get(path+"/inactivate"), 200).has(t, "Integraatiolla ei voi enää kirjautua")
	s.want(s.post(path+"/inactivate", url.Values{}, "auto"), 303)
	s.want(s.get(path), 200).has(t, "Integraatio ei ole käytössä")
}

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t)
	setID, _, _, _ := e.fixtures()
	u := e.browser(admin.KindEditor, ownOrg)
	path := fmt.Sprintf("/admin/integrations/%d/edit", setID)
	form := url.Values{"version": {"1"}, "deploymentPhase": {"0"}, "configurationEntity.set.name": {"Hyökkäys"}}
	u.want(u.post(path, form, ""), 403).has(t, "Lomake oli vanhentunut")
	u.want(u.post(path, form, "wrong-token"), 403)
	u.want(u.post(path, form, "auto", "Origin", "https://evil.example"), 403)
	u.want(u.post("/admin/signout", url.Values{}, ""), 403)
	// Another session's token is no good either.
	other := e.browser(admin.KindEditor, ownOrg)
	u.want(u.post(path, form, other.csrf()), 403)
	in, _ := e.st.GetIntegration(t.Context(), setID)
	if in.Version != 1 {
		t.Errorf("a refused post changed the integration to version %d", in.Version)
	}
	u.want(u.post(path, form, "auto", "Origin", publicURL), 303)
}

func TestAllowedServices(t *testing.T) {
	e := newEnv(t)
	setID, _, _, otherSetID := e.fixtures()
	u := e.browser(admin.KindEditor, ownOrg)
	r := u.want(u.post("/admin/new", url.Values{"role": {"idp"}, "type": {"test"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"},
		"configurationEntity.idp.idpId": {"test_oma"}, "configurationEntity.idp.flowName": {"test"}}, "auto"), 303)
	id := createdID(t, r)
	path := "/admin/integrations/" + id + "/services"
	p := u.want(u.get(path), 200)
	p.has(t, "Oppimateriaalit", "Toisen palvelut", `id="mode-all" name="mode" value="all" checked`, `role="switch"`)
	// Nothing chosen is refused next to the table.
	p = u.want(u.post(path, url.Values{"version": {"1"}, "mode": {"selected"}, "action": {"save"}}, "auto"), 400)
	p.has(t, `id="err-set"`, "Valitse vähintään yksi")
	// "Clear" without JavaScript shows the form with nothing chosen.
	p = u.want(u.post(path, url.Values{"version": {"1"}, "mode": {"all"}, "set": {fmt.Sprint(setID)}, "action": {"clear"}}, "auto"), 200)
	p.has(t, `id="mode-selected" name="mode" value="selected" checked`)
	p.lacks(t, "checked aria-labelledby")
	// Saving a choice asks for confirmation; nothing is saved yet.
	p = u.want(u.post(path, url.Values{"version": {"1"}, "mode": {"selected"}, "set": {fmt.Sprint(otherSetID)}, "action": {"save"}}, "auto"), 200)
	p.has(t, "voivat kirjautua vain näihin", "Toisen palvelut", `name="action" value="confirm"`)
	p.lacks(t, "Oppimateriaalit")
	if in, _ := e.st.GetIntegration(t.Context(), mustInt(t, id)); len(in.IdP.Permissions) != 0 {
		t.Fatal("saved before the confirmation")
	}
	r = u.want(u.post(path, url.Values{"version": {"1"}, "mode": {"selected"}, "set": {fmt.Sprint(otherSetID)}, "action": {"confirm"}}, "auto"), 303)
	u.want(u.get(r.Header.Get("Location")), 200).has(t, "Sallitut palvelut tallennettiin", "Toisen palvelut")
	in, _ := e.st.GetIntegration(t.Context(), mustInt(t, id))
	if len(in.IdP.Permissions) != 1 || in.IdP.Permissions[0] != otherSetID {
		t.Errorf("permissions %v", in.IdP.Permissions)
	}
	// "Allow all" confirms and clears the list (empty = every set).
	u.want(u.post(path, url.Values{"version": {"2"}, "action": {"all"}}, "auto"), 200).has(t, "myös myöhemmin lisättäviin")
	u.want(u.post(path, url.Values{"version": {"2"}, "mode": {"all"}, "action": {"confirm"}}, "auto"), 303)
	in, _ = e.st.GetIntegration(t.Context(), mustInt(t, id))
	if len(in.IdP.Permissions) != 0 {
		t.Errorf("permissions after allow all %v", in.IdP.Permissions)
	}
	// A viewer sees the table without switches to change.
	v := e.browser(admin.KindViewer, ownOrg)
	v.want(v.get(path), 200).has(t, "Sinulla on vain lukuoikeus", "disabled")
	v.want(v.post(path, url.Values{"version": {"3"}, "mode": {"all"}, "action": {"confirm"}}, "auto"), 403)
}

func TestExpiryAndMetadata(t *testing.T) {
	e := newEnv(t)
	_, _, samlID, _ := e.fixtures()
	u := e.browser(admin.KindEditor, adminOrg)
	p := u.want(u.get("/admin/expiring"), 200)
	p.has(t, "Kirjasto", "Vanhenee pian", "Allekirjoitusvarmenne", "Oma kunta")
	u.want(u.get("/admin/expiring?days=1"), 200).has(t, "Mikään ei vanhene 1 päivän kuluessa")
	u.want(u.get("/admin/expiring?days=x"), 400)
	u.want(u.get(fmt.Sprintf("/admin/integrations/%d", samlID)), 200).has(t, "Vanhenee pian", "Metatiedot ja varmenteiden voimassaolo")

	// A SAML identity provider: metadata by upload, with a parsed summary.
	ed := e.browser(admin.KindEditor, ownOrg)
	r := ed.want(ed.post("/admin/new", url.Values{"role": {"idp"}, "type": {"adfs"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"},
		"configurationEntity.idp.idpId": {"adfs_oma"}, "configurationEntity.idp.flowName": {"adfs"},
		"configurationEntity.idp.entityId":    {"https://adfs.oma.fi/adfs/services/trust"},
		"configurationEntity.idp.metadataUrl": {"https://adfs.oma.fi/FederationMetadata/2007-06/FederationMetadata.xml"}}, "auto"), 303)
	id := createdID(t, r)
	path := "/admin/integrations/" + id
	ed.want(ed.upload(path+"/metadata", url.Values{"version": {"1"}}, "metadata.file", "md.xml", []byte("<nonsense")), 400).
		has(t, `id="err-metadata"`)
	until := time.Now().Add(5 * 24 * time.Hour).UTC()
	md := fmt.Sprintf(`<?xml version="1.0"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://adfs.oma.fi/adfs/services/trust" validUntil="%s">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.oma.fi/sso"/>
</IDPSSODescriptor></EntityDescriptor>`, until.Format(time.RFC3339), certB64(t, time.Now().AddDate(1, 0, 0)))
	r = ed.want(ed.upload(path+"/metadata", url.Values{"version": {"1"}}, "metadata.file", "md.xml", []byte(md)), 303)
	ed.want(ed.get(r.Header.Get("Location")), 200).has(t, "Metatiedot tallennettiin", until.Format("2006-01-02"), "Vanhenee pian")
	// A logo that is not an image is refused next to the logo field.
	ed.want(ed.upload(path+"/logo", url.Values{}, "file", "logo.svg", []byte("<svg/>")), 400).has(t, "Kuvan on oltava PNG")
}

func TestAllLanguagesRender(t *testing.T) {
	e := newEnv(t, func(c *ui.Config) {
		c.TestLoginURL = func(in *model.Integration) string {
			if in.SP != nil && in.SP.Type == model.SPTypeOIDC {
				return "/demo/oidc/"
			}
			return ""
		}
	})
	setID, oidcID, samlID, _ := e.fixtures()
	u := e.browser(admin.KindEditor, adminOrg)
	r := u.want(u.post("/admin/new", url.Values{"role": {"idp"}, "type": {"wilma"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"},
		"configurationEntity.idp.idpId": {"wilma_kielet"}, "configurationEntity.idp.hostname": {"k.inschool.fi"},
		"discoveryInformation.schools": {"00002"}}, "auto"), 303)
	idp := createdID(t, r)
	pages := []string{"/admin/", "/admin/?role=idp", "/admin/new", "/admin/new?org=" + ownOrg, "/admin/new?org=" + ownOrg + "&role=idp",
		"/admin/new?org=" + ownOrg + "&role=sp&type=saml&set=" + fmt.Sprint(setID), "/admin/expiring", "/admin/signin?return=/admin/x"}
	for _, id := range []string{fmt.Sprint(setID), fmt.Sprint(oidcID), fmt.Sprint(samlID), idp} {
		for _, sub := range []string{"", "/edit", "/history", "/inactivate"} {
			pages = append(pages, "/admin/integrations/"+id+sub)
		}
	}
	pages = append(pages, "/admin/integrations/"+idp+"/services", "/admin/integrations/"+idp+"/history/1/restore")
	want := map[string]string{"fi": "Integraatiot", "sv": "Integrationer", "en": "Integrations"}
	for _, lang := range []string{"sv", "en", "fi"} {
		r := u.want(u.get("/admin/lang?to="+lang+"&return="+url.QueryEscape("/admin/?role=sp")), 303)
		if loc := r.Header.Get("Location"); loc != "/admin/?role=sp" {
			t.Errorf("language switch went to %q", loc)
		}
		for _, path := range pages {
			p := u.get(path)
			if p.Code != 200 && p.Code != 303 {
				t.Errorf("%s %s: %d %s", lang, path, p.Code, p.Body)
				continue
			}
			if p.Code == 200 && !strings.Contains(p.Body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: not in the language", lang, path)
			}
			if strings.Contains(p.Body, " style=") || strings.Contains(p.Body, "<style") || regexp.MustCompile(`<script>`).MatchString(p.Body) {
				t.Errorf("%s %s: inline style or script", lang, path)
			}
		}
		u.want(u.get("/admin/"), 200).has(t, want[lang])
	}
	u.want(u.get(fmt.Sprintf("/admin/integrations/%d", oidcID)), 200).has(t, `href="/demo/oidc/"`)
	// The assets are served.
	u.want(u.get("/admin/assets/admin.css"), 200)
	u.want(u.get("/admin/assets/admin.js"), 200)
	// A language switch only returns to these pages.
	if loc := u.get("/admin/lang?to=sv&return=//evil.example").Header.Get("Location"); loc != "/admin/" {
		t.Errorf("language switch to %q", loc)
	}
}

// An identity provider's page shows what its login system must be given
// of the broker: an OpenID provider the redirect URI, a SAML IdP the
// broker's SP metadata.
func TestBrokerURLsOfASource(t *testing.T) {
	e := newEnv(t, func(c *ui.Config) {
		c.BrokerURLs = func(in *model.Integration) (string, string) {
			if in.IdP.Type == model.IdPOIDC {
				return fmt.Sprintf("%s/login/callback/%d", publicURL, in.ID), ""
			}
			return "", fmt.Sprintf("%s/login/saml/%d/metadata", publicURL, in.ID)
		}
	})
	ed := e.browser(admin.KindEditor, ownOrg)
	cases := []struct {
		name   string
		form   url.Values
		want   func(id string) []string
		absent string
	}{
		{"OpenID provider", url.Values{"type": {"oidc"}, "configurationEntity.idp.idpId": {"oidc_oma"}, "configurationEntity.idp.flowName": {"oidcoma"},
			"configurationEntity.idp.issuer": {"https://login.oma.fi"}, "configurationEntity.idp.clientId": {"mpassid"},
			"configurationEntity.idp.clientSecret": {"s3cret"}},
			func(id string) []string {
				return []string{"Paluuosoite (redirect URI)", publicURL + "/login/callback/" + id}
			}, "SP-metatiedot"},
		{"SAML IdP", url.Values{"type": {"adfs"}, "configurationEntity.idp.idpId": {"adfs_oma2"}, "configurationEntity.idp.flowName": {"adfs2"},
			"configurationEntity.idp.entityId":    {"https://adfs2.oma.fi/adfs/services/trust"},
			"configurationEntity.idp.metadataUrl": {"https://adfs2.oma.fi/FederationMetadata/2007-06/FederationMetadata.xml"}},
			func(id string) []string {
				return []string{"Välityspalvelun SP-metatiedot", `href="` + publicURL + "/login/saml/" + id + `/metadata"`}
			}, "redirect URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"role": {"idp"}, "organization.oid": {ownOrg}, "deploymentPhase": {"0"}}
			for k, v := range tc.form {
				form[k] = v
			}
			id := createdID(t, ed.want(ed.post("/admin/new", form, "auto"), 303))
			p := ed.want(ed.get("/admin/integrations/"+id), 200)
			p.has(t, tc.want(id)...)
			if strings.Contains(p.Body, tc.absent) {
				t.Errorf("the page shows %q", tc.absent)
			}
		})
	}
}
