package ui

import (
	"fmt"
	"strings"
)

// messages are the texts of the pages: Finnish, Swedish, English.
var messages = map[string][3]string{
	"app.name":                {"MPASSid-hallinta", "MPASSid-administration", "MPASSid management"},
	"app.skip":                {"Siirry sisältöön", "Hoppa till innehållet", "Skip to content"},
	"app.language":            {"Kieli", "Språk", "Language"},
	"app.nav":                 {"Päävalikko", "Huvudmeny", "Main menu"},
	"app.signedin":            {"Kirjautuneena:", "Inloggad:", "Signed in:"},
	"app.signout":             {"Kirjaudu ulos", "Logga ut", "Sign out"},
	"app.dev":                 {"Kehitysympäristö: muutokset eivät koske tuotantoa.", "Utvecklingsmiljö: ändringarna gäller inte produktionen.", "Development installation: changes do not affect production."},
	"app.footer":              {"MPASSid – opetuksen ja koulutuksen tunnistuksenvälityspalvelu", "MPASSid – identifieringsförmedling för utbildningen", "MPASSid – the identity broker of Finnish education"},
	"yes":                     {"Kyllä", "Ja", "Yes"},
	"no":                      {"Ei", "Nej", "No"},
	"nav.list":                {"Integraatiot", "Integrationer", "Integrations"},
	"nav.new":                 {"Uusi integraatio", "Ny integration", "New integration"},
	"nav.expiring":            {"Vanhenevat", "Utgående", "Expiring"},
	"role.idp":                {"Tunnistuslähde", "Identifieringskälla", "Identity provider"},
	"role.sp":                 {"Palvelu", "Tjänst", "Service"},
	"role.set":                {"Palvelukokonaisuus", "Tjänstehelhet", "Service set"},
	"phase.0":                 {"Testi", "Test", "Test"},
	"phase.1":                 {"Tuotanto", "Produktion", "Production"},
	"phase.2":                 {"Esituotanto", "Förproduktion", "Pre-production"},
	"status.active":           {"Aktiivinen", "Aktiv", "Active"},
	"status.inactive":         {"Ei käytössä", "Inaktiv", "Inactive"},
	"idptype.wilma":           {"Wilma", "Wilma", "Wilma"},
	"idptype.opinsys":         {"Opinsys (Puavo)", "Opinsys (Puavo)", "Opinsys (Puavo)"},
	"idptype.azure":           {"Microsoft Entra ID (Azure AD)", "Microsoft Entra ID (Azure AD)", "Microsoft Entra ID (Azure AD)"},
	"idptype.adfs":            {"AD FS", "AD FS", "AD FS"},
	"idptype.gsuite":          {"Google Workspace", "Google Workspace", "Google Workspace"},
	"idptype.saml":            {"Muu SAML 2.0 -tunnistus", "Annan SAML 2.0-identifiering", "Other SAML 2.0 provider"},
	"idptype.oidc":            {"OpenID Connect -tunnistus", "OpenID Connect-identifiering", "OpenID Connect provider"},
	"idptype.test":            {"Testitunnistus (testioppilaat)", "Testidentifiering (testelever)", "Test source (test pupils)"},
	"sptype.saml":             {"SAML 2.0 -palvelu", "SAML 2.0-tjänst", "SAML 2.0 service"},
	"sptype.oidc":             {"OpenID Connect -palvelu", "OpenID Connect-tjänst", "OpenID Connect service"},
	"kind.TALLENTAJA":         {"Koulutuksen järjestäjän tallentaja", "Utbildningsanordnarens redigerare", "Education-provider editor"},
	"kind.KATSELIJA":          {"Katselija", "Läsare", "Viewer"},
	"kind.PALVELU_TALLENTAJA": {"Palveluntarjoajan tallentaja", "Tjänsteleverantörens redigerare", "Service-provider editor"},
	"kind.PALVELU_KATSELIJA":  {"Palveluntarjoajan katselija", "Tjänsteleverantörens läsare", "Service-provider viewer"},

	"col.id":           {"Tunniste", "Nummer", "Id"},
	"col.name":         {"Nimi", "Namn", "Name"},
	"col.role":         {"Rooli", "Roll", "Role"},
	"col.type":         {"Tyyppi", "Typ", "Type"},
	"col.organisation": {"Organisaatio", "Organisation", "Organisation"},
	"col.phase":        {"Ympäristö", "Miljö", "Environment"},
	"col.status":       {"Tila", "Status", "Status"},
	"col.updated":      {"Muokattu", "Ändrad", "Updated"},

	"list.title":       {"Integraatiot", "Integrationer", "Integrations"},
	"list.filters":     {"Hae integraatioita", "Sök integrationer", "Search integrations"},
	"list.search":      {"Hae", "Sök", "Search"},
	"list.search.hint": {"Nimi, organisaation OID, tunniste, entityID tai client_id", "Namn, organisationens OID, nummer, entityID eller client_id", "Name, organisation OID, id, entityID or client_id"},
	"list.role":        {"Rooli", "Roll", "Role"},
	"list.type":        {"Tyyppi", "Typ", "Type"},
	"list.phase":       {"Ympäristö", "Miljö", "Environment"},
	"list.status":      {"Tila", "Status", "Status"},
	"list.sort":        {"Järjestys", "Ordning", "Order"},
	"list.any":         {"Kaikki", "Alla", "Any"},
	"list.apply":       {"Hae", "Sök", "Search"},
	"list.reset":       {"Tyhjennä haku", "Töm sökningen", "Clear the search"},
	"list.count":       {"%d integraatiota.", "%d integrationer.", "%d integrations."},
	"list.showing":     {"Näytetään %d–%d.", "Visar %d–%d.", "Showing %d–%d."},
	"list.empty":       {"Haulla ei löytynyt integraatioita.", "Sökningen gav inga integrationer.", "No integrations match the search."},
	"list.pages":       {"Sivut", "Sidor", "Pages"},
	"list.prev":        {"Edellinen sivu", "Föregående sida", "Previous page"},
	"list.next":        {"Seuraava sivu", "Nästa sida", "Next page"},
	"list.page":        {"Sivu %d / %d", "Sida %d av %d", "Page %d of %d"},
	"sort.":            {"Tunnisteen mukaan", "Efter nummer", "By id"},
	"sort.id":          {"Tunnisteen mukaan", "Efter nummer", "By id"},
	"sort.-id":         {"Tunnisteen mukaan, laskeva", "Efter nummer, fallande", "By id, descending"},
	"sort.name":        {"Nimen mukaan", "Efter namn", "By name"},
	"sort.-name":       {"Nimen mukaan, laskeva", "Efter namn, fallande", "By name, descending"},
	"sort.updatedAt":   {"Vanhimmat muutokset ensin", "Äldsta ändringar först", "Oldest changes first"},
	"sort.-updatedAt":  {"Uusimmat muutokset ensin", "Senaste ändringar först", "Latest changes first"},

	"view.title":             {"Integraatio", "Integration", "Integration"},
	"view.inactive":          {"Integraatio ei ole käytössä: sillä ei voi kirjautua.", "Integrationen är inaktiv: den kan inte användas för inloggning.", "This integration is inactive: no one logs in through it."},
	"view.edit":              {"Muokkaa", "Redigera", "Edit"},
	"view.services":          {"Sallitut palvelut", "Tillåtna tjänster", "Allowed services"},
	"view.history":           {"Muutoshistoria", "Ändringshistorik", "History"},
	"view.inactivate":        {"Poista käytöstä", "Inaktivera", "Inactivate"},
	"view.basic":             {"Perustiedot", "Grunduppgifter", "Basic information"},
	"view.version":           {"Versio", "Version", "Version"},
	"view.updatedby":         {"muokannut", "ändrad av", "by"},
	"view.organisation":      {"Organisaatio", "Organisation", "Organisation"},
	"view.orgname":           {"Nimi", "Namn", "Name"},
	"view.unknownorg":        {"Ei löydy organisaatiopalvelusta", "Finns inte i organisationstjänsten", "Not in the organisation registry"},
	"view.businessid":        {"Y-tunnus", "FO-nummer", "Business ID"},
	"view.logo":              {"Logo", "Logotyp", "Logo"},
	"view.logo.alt":          {"Tunnistuslähteen logo", "Identifieringskällans logotyp", "Logo of the identity provider"},
	"view.nologo":            {"Ei logoa.", "Ingen logotyp.", "No logo."},
	"view.logo.upload":       {"Uusi logo", "Ny logotyp", "New logo"},
	"view.logo.hint":         {"PNG, JPEG, GIF tai WebP, enintään 256 kt. Näytetään koulun valintasivulla.", "PNG, JPEG, GIF eller WebP, högst 256 kB. Visas på sidan för val av skola.", "PNG, JPEG, GIF or WebP, at most 256 KB. Shown on the school-selection page."},
	"view.upload":            {"Lataa", "Ladda upp", "Upload"},
	"view.schools":           {"Koulujen valinta", "Val av skolor", "School selection"},
	"view.included":          {"Mukana olevat koulut", "Inkluderade skolor", "Included schools"},
	"view.excluded":          {"Pois jätetyt koulut", "Exkluderade skolor", "Excluded schools"},
	"view.noschools":         {"Ei erikseen valittuja kouluja: valinta tehdään oppilaitostyyppien mukaan.", "Inga särskilt valda skolor: valet görs enligt läroanstaltstyp.", "No schools chosen one by one: the institution types decide."},
	"view.unknownschool":     {"(ei löydy rekisteristä)", "(finns inte i registret)", "(not in the registry)"},
	"view.typedata":          {"Tyypin tiedot", "Typens uppgifter", "Type settings"},
	"view.secretset":         {"Tallennettu (ei näytetä)", "Sparad (visas inte)", "Stored (not shown)"},
	"view.redirecturi":       {"Paluuosoite (redirect URI)", "Återadress (redirect URI)", "Redirect URI"},
	"view.redirecturi.hint":  {"Rekisteröi tämä osoite välityspalvelun asiakkaalle kirjautumispalvelussasi.", "Registrera den här adressen för förmedlingstjänstens klient i din inloggningstjänst.", "Register this address for the broker's client at your login system."},
	"view.spmetadata":        {"Välityspalvelun SP-metatiedot", "Förmedlingstjänstens SP-metadata", "The broker's SP metadata"},
	"view.spmetadata.hint":   {"Anna nämä metatiedot IdP:llesi (esimerkiksi Entra ID:n yrityssovellukseksi).", "Ge denna metadata till din IdP (till exempel som ett företagsprogram i Entra ID).", "Give this metadata to your IdP (for example as an enterprise application in Entra ID)."},
	"view.secretonce":        {"Näytettiin kerran luotaessa; ei näytetä uudelleen.", "Visades en gång när den skapades; visas inte igen.", "Shown once on creation; never shown again."},
	"view.allowed":           {"Sallitut palvelut", "Tillåtna tjänster", "Allowed services"},
	"view.allowed.all":       {"Kaikki palvelut sallittu.", "Alla tjänster tillåtna.", "Every service is allowed."},
	"view.metadata":          {"Metatiedot ja varmenteiden voimassaolo", "Metadata och certifikatens giltighet", "Metadata and certificate expiry"},
	"view.nometadata":        {"Ei metatietoja.", "Ingen metadata.", "No metadata."},
	"view.metadata.update":   {"Päivitä metatiedot", "Uppdatera metadata", "Update the metadata"},
	"view.metadata.url.hint": {"Osoite, josta metatiedot haetaan ja jota seurataan. Tai lataa tiedosto alla.", "Adress som metadata hämtas från och följs. Eller ladda upp en fil nedan.", "The address to fetch the metadata from and follow. Or upload a file below."},
	"view.metadata.file":     {"Metatietotiedosto (XML)", "Metadatafil (XML)", "Metadata file (XML)"},
	"view.attributes":        {"Attribuutit", "Attribut", "Attributes"},
	"view.noattributes":      {"Ei attribuutteja.", "Inga attribut.", "No attributes."},
	"view.test":              {"Testikirjautuminen", "Testinloggning", "Test login"},
	"view.test.link":         {"Kokeile kirjautumista", "Prova att logga in", "Try a login"},
	"view.test.hint":         {"Kirjautuminen kulkee välityspalvelun kautta; lopuksi näet, mitä palvelu saisi.", "Inloggningen går via förmedlingstjänsten; till slut ser du vad tjänsten skulle få.", "The login runs through the broker; at the end you see what the service would receive."},
	"view.test.howto":        {"Kokeile kirjautumista jollakin palvelulla, jolle tämä integraatio on sallittu, tai testipalvelulla (mpassid dev: /demo/oidc/ ja /demo/saml/). Testiympäristön integraatiot näkyvät testivälityspalvelussa heti tallennuksen jälkeen.", "Prova att logga in i en tjänst som integrationen gäller eller i testtjänsten (mpassid dev: /demo/oidc/ och /demo/saml/). Integrationer i testmiljön syns i testförmedlingen direkt efter att de sparats.", "Log in to a service this integration concerns, or to the demo services (mpassid dev: /demo/oidc/ and /demo/saml/). Test integrations are live in the test broker as soon as they are saved."},

	"exp.what":       {"Kohde", "Objekt", "What"},
	"exp.until":      {"Voimassa asti", "Giltig till", "Valid until"},
	"exp.state":      {"Tila", "Status", "State"},
	"exp.metadata":   {"Metatiedot", "Metadata", "Metadata"},
	"exp.signing":    {"Allekirjoitusvarmenne", "Signeringscertifikat", "Signing certificate"},
	"exp.encryption": {"Salausvarmenne", "Krypteringscertifikat", "Encryption certificate"},
	"exp.expired":    {"Vanhentunut", "Utgången", "Expired"},
	"exp.soon":       {"Vanhenee pian", "Går snart ut", "Expires soon"},
	"exp.valid":      {"Voimassa", "Giltig", "Valid"},

	"form.create":             {"Uusi integraatio", "Ny integration", "New integration"},
	"form.edit":               {"Muokkaa integraatiota", "Redigera integrationen", "Edit integration"},
	"form.errors":             {"Korjaa seuraavat kohdat", "Rätta följande", "Correct the following"},
	"form.error":              {"Virhe", "Fel", "Error"},
	"form.row":                {"Rivi", "Rad", "Row"},
	"form.save":               {"Tallenna", "Spara", "Save"},
	"form.create.button":      {"Luo integraatio", "Skapa integrationen", "Create the integration"},
	"form.cancel":             {"Peruuta", "Avbryt", "Cancel"},
	"form.phase.hint":         {"Testi-integraatiot toimivat testivälityspalvelussa; tuotannossa vaaditaan https-osoitteet.", "Testintegrationer fungerar i testförmedlingen; i produktionen krävs https-adresser.", "Test integrations work in the test broker; production requires https addresses."},
	"form.contact":            {"Palvelun yhteysosoite", "Tjänstens kontaktadress", "Service contact address"},
	"form.contact.hint":       {"Sähköpostiosoite, johon ylläpito voi ottaa yhteyttä.", "E-postadress som driften kan kontakta.", "An e-mail address the operators can contact."},
	"form.idpid":              {"Tekninen tunniste (idpId)", "Teknisk identifierare (idpId)", "Technical id (idpId)"},
	"form.idpid.hint":         {"Osa jokaisen käyttäjän tunnistetta: ei voi muuttaa tallennuksen jälkeen.", "Del av varje användares identifierare: kan inte ändras efter att den sparats.", "Part of every user's identifier: it cannot change once saved."},
	"form.idpid.fixed":        {"(ei muutettavissa)", "(kan inte ändras)", "(cannot change)"},
	"form.flowname":           {"Kulun nimi (flowName)", "Flödets namn (flowName)", "Flow name (flowName)"},
	"form.flowname.hint":      {"Näkyy palveluille muodossa urn:mpass.id:authnsource:<nimi>.", "Syns för tjänsterna som urn:mpass.id:authnsource:<namn>.", "Services see it as urn:mpass.id:authnsource:<name>."},
	"form.hostname":           {"Wilman osoite (hostname)", "Wilmas adress (hostname)", "Wilma host name"},
	"form.hostname.hint":      {"Esimerkiksi kunta.inschool.fi", "Till exempel kommun.inschool.fi", "For example city.inschool.fi"},
	"form.tenantid":           {"Tenant", "Tenant", "Tenant"},
	"form.tenantid.hint":      {"Opinsysin organisaatio tai Entra ID:n tenantin tunniste.", "Opinsys organisation eller Entra ID-tenantens identifierare.", "The Opinsys organisation or the Entra ID tenant id."},
	"form.entityid":           {"EntityID", "EntityID", "EntityID"},
	"form.spentityid.hint":    {"Palvelun SAML-entityID, yksilöllinen kaikkien palveluiden kesken.", "Tjänstens SAML-entityID, unikt bland alla tjänster.", "The service's SAML entityID, unique among all services."},
	"form.metadataurl":        {"Metatietojen osoite", "Metadataadress", "Metadata URL"},
	"form.metadataurl.hint":   {"https-osoite, josta tunnistuslähteen SAML-metatiedot haetaan.", "https-adress som identifieringskällans SAML-metadata hämtas från.", "The https address of the identity provider's SAML metadata."},
	"form.issuer":             {"Issuer", "Issuer", "Issuer"},
	"form.clientid":           {"Client ID", "Client ID", "Client ID"},
	"form.clientsecret":       {"Client secret", "Client secret", "Client secret"},
	"form.sharedsecret":       {"Jaettu salaisuus", "Delad hemlighet", "Shared secret"},
	"form.secret.keep":        {"Tallennettu salaisuus säilyy, jos jätät kentän tyhjäksi.", "Den sparade hemligheten behålls om du lämnar fältet tomt.", "The stored secret is kept if you leave this empty."},
	"form.secret.new":         {"Tallennetaan salattuna; ei näytetä myöhemmin.", "Sparas krypterad; visas inte senare.", "Stored sealed; never shown later."},
	"form.logourl":            {"Logon osoite", "Logotypens adress", "Logo URL"},
	"form.logourl.hint":       {"Tai lataa logo integraation sivulla.", "Eller ladda upp en logotyp på integrationens sida.", "Or upload a logo on the integration's page."},
	"form.showschools":        {"Näytä koulut valintasivulla", "Visa skolorna på valsidan", "Show the schools on the selection page"},
	"form.showschools.hint":   {"Muuten näytetään yksi painike näyttönimellä.", "Annars visas en knapp med visningsnamnet.", "Otherwise one button with the display name is shown."},
	"form.displayname":        {"Näyttönimi", "Visningsnamn", "Display name"},
	"form.displayname.hint":   {"Näytetään, kun kouluja ei listata erikseen.", "Visas när skolorna inte listas var för sig.", "Shown when the schools are not listed one by one."},
	"form.title":              {"Tarkenne", "Precisering", "Title"},
	"form.title.hint":         {"Näytetään koulun nimen perässä, esim. Kirkonkylän koulu (Wilma).", "Visas efter skolans namn, t.ex. Centrumskolan (Wilma).", "Shown after the school name, e.g. Central School (Wilma)."},
	"form.early":              {"Varhaiskasvatuksen järjestäjä", "Anordnare av småbarnspedagogik", "Early-education provider"},
	"form.insttypes":          {"Oppilaitostyypit", "Läroanstaltstyper", "Institution types"},
	"form.insttypes.hint":     {"Organisaation koulut, joiden oppilaitostyyppi on valittu, kuuluvat tähän tunnistuslähteeseen, ellei niitä jätetä pois.", "Organisationens skolor av de valda läroanstaltstyperna hör till denna källa, om de inte exkluderas.", "The organisation's schools of the chosen types belong to this source unless excluded."},
	"form.schools":            {"Koulut", "Skolor", "Schools"},
	"form.schools.hint":       {"Valitse mukaan otettavat tai pois jätettävät koulut. Merkintä kertoo, jos organisaation toinen integraatio jo sisältää koulun.", "Välj skolor att inkludera eller exkludera. En markering visar om organisationens andra integration redan omfattar skolan.", "Choose schools to include or exclude. A mark tells when another integration of the organisation already includes the school."},
	"form.schoolcode":         {"Koulukoodi", "Skolkod", "School code"},
	"form.school":             {"Koulu", "Skola", "School"},
	"form.insttype":           {"Oppilaitostyyppi", "Läroanstaltstyp", "Institution type"},
	"form.include":            {"Mukana", "Inkludera", "Include"},
	"form.exclude":            {"Pois", "Exkludera", "Exclude"},
	"form.others":             {"Muut integraatiot", "Andra integrationer", "Other integrations"},
	"form.conflict.included":  {"Mukana toisessa", "Inkluderad i en annan", "Included in another"},
	"form.conflict.excluded":  {"Pois toisesta", "Exkluderad i en annan", "Excluded in another"},
	"form.passive":            {"lakkautettu", "nedlagd", "closed"},
	"form.noschools":          {"Organisaatiolla ei ole kouluja rekisterissä.", "Organisationen har inga skolor i registret.", "The organisation has no schools in the registry."},
	"form.unknownschools":     {"Koodit, joita ei löydy organisaation kouluista:", "Koder som inte finns bland organisationens skolor:", "Codes not among the organisation's schools:"},
	"form.spname":             {"Palvelun nimi", "Tjänstens namn", "Service name"},
	"form.spname.hint":        {"Näkyy käyttäjille kirjautumisen aikana.", "Visas för användarna under inloggningen.", "Users see it during the login."},
	"form.set":                {"Palvelukokonaisuus", "Tjänstehelhet", "Service set"},
	"form.set.hint":           {"Koulutuksen järjestäjät sallivat palveluita kokonaisuuksittain.", "Utbildningsanordnarna tillåter tjänster per helhet.", "Education providers allow services by set."},
	"form.legacy":             {"Vanhat attribuutit (tietomalli 1.3)", "Gamla attribut (datamodell 1.3)", "Legacy attributes (data model 1.3)"},
	"form.legacy.hint":        {"Vain palveluille, jotka eivät vielä käytä nykyistä tietomallia.", "Endast för tjänster som ännu inte använder den nuvarande datamodellen.", "Only for services that do not yet use the current data model."},
	"form.acs":                {"ACS-osoitteet", "ACS-adresser", "ACS URLs"},
	"form.acs.hint":           {"Osoitteet, joihin SAML-vastaus lähetetään: https, ei localhostia tuotannossa, ei #-osaa.", "Adresser som SAML-svaret skickas till: https, inte localhost i produktion, ingen #-del.", "Where the SAML response is sent: https, no localhost in production, no fragment."},
	"form.acs.location":       {"Osoite", "Adress", "Location"},
	"form.acs.binding":        {"Sidonta", "Bindning", "Binding"},
	"form.acs.default":        {"Oletus", "Standard", "Default"},
	"form.signing":            {"Allekirjoitusvarmenteet", "Signeringscertifikat", "Signing certificates"},
	"form.encryption":         {"Salausvarmenteet", "Krypteringscertifikat", "Encryption certificates"},
	"form.certs.hint":         {"PEM-muodossa (-----BEGIN CERTIFICATE-----) tai base64-muodossa tyhjällä rivillä erotettuina.", "I PEM-format (-----BEGIN CERTIFICATE-----) eller base64 åtskilda med en tom rad.", "As PEM (-----BEGIN CERTIFICATE-----) or base64 separated by an empty line."},
	"form.authnsigned":        {"Palvelu allekirjoittaa tunnistuspyynnöt", "Tjänsten signerar autentiseringsbegäran", "The service signs its authentication requests"},
	"form.wantassertions":     {"Väittämät allekirjoitetaan", "Påståenden signeras", "Assertions are signed"},
	"form.wantresponse":       {"Myös vastaus allekirjoitetaan", "Även svaret signeras", "The response is signed too"},
	"form.oidc.generated":     {"client_id ja salaisuus luodaan tallennettaessa; salaisuus näytetään vain kerran.", "client_id och hemligheten skapas när du sparar; hemligheten visas bara en gång.", "The client_id and secret are generated when you save; the secret is shown only once."},
	"form.redirects":          {"Paluuosoitteet (redirect_uris)", "Återadresser (redirect_uris)", "Redirect URIs"},
	"form.redirects.hint":     {"Yksi osoite riville; https tuotannossa, ei #-osaa.", "En adress per rad; https i produktion, ingen #-del.", "One address a line; https in production, no fragment."},
	"form.postlogout":         {"Uloskirjautumisen paluuosoitteet", "Återadresser efter utloggning", "Post-logout redirect URIs"},
	"form.scope":              {"Scope", "Scope", "Scope"},
	"form.scope.hint":         {"Esimerkiksi openid profile", "Till exempel openid profile", "For example openid profile"},
	"form.authmethod":         {"Asiakkaan tunnistustapa", "Klientens autentiseringssätt", "Client authentication"},
	"form.subject":            {"Käyttäjätunnisteen tyyppi (subject_type)", "Typ av användaridentifierare (subject_type)", "Subject type"},
	"form.idtokenalg":         {"ID-tokenin allekirjoitusalgoritmi", "ID-tokenens signeringsalgoritm", "ID token signing algorithm"},
	"form.idtokenalg.default": {"RS256 (oletus)", "RS256 (standard)", "RS256 (default)"},
	"form.grants":             {"Sallitut grant-tyypit", "Tillåtna grant-typer", "Grant types"},
	"form.jwksuri":            {"JWKS-osoite (private_key_jwt)", "JWKS-adress (private_key_jwt)", "JWKS URI (private_key_jwt)"},
	"form.backchannel":        {"Back-channel-uloskirjautumisen osoite", "Adress för back-channel-utloggning", "Back-channel logout URI"},
	"form.setname":            {"Palvelukokonaisuuden nimi", "Tjänstehelhetens namn", "Set name"},
	"form.testlearners":       {"Salli testioppijanumerot", "Tillåt testelevnummer", "Allow test learner ids"},
	"form.testlearners.hint":  {"Kokonaisuuden palvelut saavat testioppilaiden oppijanumerot (1.2.246.562.98.*).", "Helhetens tjänster får testelevernas elevnummer (1.2.246.562.98.*).", "The set's services receive the test pupils' learner ids (1.2.246.562.98.*)."},
	"form.attrs.hint":         {"Käyttäjäattribuutit kertovat, mistä tunnistuslähteen attribuutista kukin tieto luetaan (nimi = tietomallin lähdenimi, arvo = tunnistuslähteen attribuutti). Yhteysasetukset ovat tyyppiä ”yhteys”. Tyhjät rivit ohitetaan.", "Användarattributen anger från vilket attribut i källan varje uppgift läses (namn = datamodellens källnamn, värde = källans attribut). Anslutningsinställningar är av typen ”anslutning”. Tomma rader hoppas över.", "User attributes say which attribute of the identity provider each value is read from (name = the data model's source name, content = the provider's attribute). Connection settings have type \"connection\". Empty rows are skipped."},
	"form.attrs.explain":      {"Mitä lähdenimet tarkoittavat", "Vad källnamnen betyder", "What the source names mean"},
	"attr.type":               {"Tyyppi", "Typ", "Type"},
	"attr.name":               {"Nimi", "Namn", "Name"},
	"attr.content":            {"Arvo", "Värde", "Content"},
	"attr.type.user":          {"käyttäjä", "användare", "user"},
	"attr.type.data":          {"yhteys", "anslutning", "connection"},

	"attrsrc.username":                 {"Käyttäjätunnus lähteessä", "Användarnamn i källan", "User name in the source"},
	"attrsrc.firstName":                {"Etunimet", "Förnamn", "First names"},
	"attrsrc.surname":                  {"Sukunimi", "Efternamn", "Surname"},
	"attrsrc.nickname":                 {"Kutsumanimi", "Tilltalsnamn", "Nickname"},
	"attrsrc.learnerId":                {"Oppijanumero (1.2.246.562.24.*)", "Elevnummer (1.2.246.562.24.*)", "Learner id (1.2.246.562.24.*)"},
	"attrsrc.roles":                    {"Roolit (oppilas, opettaja, ...) kouluittain", "Roller (elev, lärare, ...) per skola", "Roles (pupil, teacher, ...) by school"},
	"attrsrc.groups":                   {"Ryhmät tai luokat", "Grupper eller klasser", "Groups or classes"},
	"attrsrc.groupLevels":              {"Luokka-asteet", "Årskurser", "Grade levels"},
	"attrsrc.schoolIds":                {"Koulujen koodit", "Skolornas koder", "School codes"},
	"attrsrc.schoolIdStatic":           {"Kiinteä koulukoodi kaikille käyttäjille", "Fast skolkod för alla användare", "A fixed school code for every user"},
	"attrsrc.learningMaterialsCharges": {"Oppimateriaalimaksut", "Läromedelsavgifter", "Learning-material charges"},
	"attrsrc.customStudentRole":        {"Lähteen oma oppilasroolin arvo", "Källans eget värde för elevroll", "The source's own value of the pupil role"},
	"attrsrc.customTeacherRole":        {"Lähteen oma opettajaroolin arvo", "Källans eget värde för lärarroll", "The source's own value of the teacher role"},
	"attrsrc.studentGroupGuid":         {"Oppilasryhmän tunniste", "Elevgruppens identifierare", "Pupil group id"},
	"attrsrc.teacherGroupGuid":         {"Opettajaryhmän tunniste", "Lärargruppens identifierare", "Teacher group id"},
	"attrsrc.legacyId":                 {"Vanha käyttäjätunniste (siirtymä)", "Gammal användaridentifierare (övergång)", "Legacy user id (migration)"},
	"attrdata.datasource":              {"Tietolähteen tunniste", "Datakällans identifierare", "Data source id"},
	"attrdata.hostname":                {"Palvelimen nimi", "Värdnamn", "Host name"},
	"attrdata.tenantId":                {"Tenantin tunniste", "Tenantens identifierare", "Tenant id"},
	"attrdata.clientId":                {"Sovelluksen client ID", "Applikationens client ID", "Application client ID"},
	"attrdata.clientKey":               {"Sovelluksen salainen avain (ei näytetä)", "Applikationens hemliga nyckel (visas inte)", "Application secret key (never shown)"},
	"attrdata.redirectUri":             {"Paluuosoite", "Återadress", "Redirect URI"},
	"attrdata.allowtestlearnerid":      {"Salli testioppijanumerot", "Tillåt testelevnummer", "Allow test learner ids"},

	"new.title":       {"Uusi integraatio", "Ny integration", "New integration"},
	"new.steps":       {"Vaiheet", "Steg", "Steps"},
	"new.org":         {"Organisaatio", "Organisation", "Organisation"},
	"new.org.hint":    {"Organisaatiot, joihin sinulla on tallentajan oikeus.", "Organisationer där du har redigeringsrätt.", "The organisations you may edit."},
	"new.org.any":     {"Kirjoita organisaation OID tai valitse ehdotuksista.", "Skriv organisationens OID eller välj bland förslagen.", "Type the organisation OID or choose a suggestion."},
	"new.role":        {"Rooli", "Roll", "Role"},
	"new.role.idp":    {"Koulujen oma kirjautuminen (Wilma, Entra ID, ...), jolla oppilaat ja opettajat tunnistautuvat.", "Skolornas egen inloggning (Wilma, Entra ID, ...) som elever och lärare identifieras med.", "The schools' own login (Wilma, Entra ID, ...) that pupils and teachers sign in with."},
	"new.role.sp":     {"Palvelu, johon käyttäjät kirjautuvat MPASSidillä.", "En tjänst som användarna loggar in i med MPASSid.", "A service users log in to with MPASSid."},
	"new.role.set":    {"Palveluntarjoajan palveluiden kokonaisuus, jonka koulutuksen järjestäjät sallivat.", "En helhet av tjänsteleverantörens tjänster som utbildningsanordnarna tillåter.", "A group of a provider's services that education providers allow."},
	"new.type":        {"Tyyppi", "Typ", "Type"},
	"new.set":         {"Palvelukokonaisuus", "Tjänstehelhet", "Service set"},
	"new.set.hint":    {"Palvelu kuuluu yhteen organisaation palvelukokonaisuuteen.", "Tjänsten hör till en av organisationens tjänstehelheter.", "The service belongs to one of the organisation's sets."},
	"new.noset":       {"Organisaatiolla ei ole vielä palvelukokonaisuutta.", "Organisationen har ännu ingen tjänstehelhet.", "The organisation has no service set yet."},
	"new.createset":   {"Luo ensin palvelukokonaisuus", "Skapa först en tjänstehelhet", "Create a set first"},
	"new.change":      {"Muuta", "Ändra", "Change"},
	"new.continue":    {"Jatka", "Fortsätt", "Continue"},
	"secret.title":    {"Palvelu luotu", "Tjänsten har skapats", "Service created"},
	"secret.once":     {"Kopioi salaisuus nyt: sitä ei näytetä uudelleen. Vain sen salattu muoto tallennetaan.", "Kopiera hemligheten nu: den visas inte igen. Endast dess krypterade form sparas.", "Copy the secret now: it is not shown again. Only its sealed form is stored."},
	"secret.copy":     {"Kopioi", "Kopiera", "Copy"},
	"secret.copied":   {"Kopioitu leikepöydälle.", "Kopierat till urklipp.", "Copied to the clipboard."},
	"secret.continue": {"Olen tallentanut salaisuuden – jatka", "Jag har sparat hemligheten – fortsätt", "I have saved the secret – continue"},

	"services.title":            {"Sallitut palvelut", "Tillåtna tjänster", "Allowed services"},
	"services.intro":            {"Valitse, mihin palvelukokonaisuuksiin tämän tunnistuslähteen käyttäjät voivat kirjautua.", "Välj vilka tjänstehelheter denna källas användare kan logga in i.", "Choose the service sets this identity provider's users may log in to."},
	"services.mode":             {"Sallitut", "Tillåtna", "Allowed"},
	"services.mode.all":         {"Kaikki palvelut, myös tulevat", "Alla tjänster, även framtida", "Every service, also future ones"},
	"services.mode.selected":    {"Vain valitut palvelukokonaisuudet", "Endast valda tjänstehelheter", "Only the chosen service sets"},
	"services.allow":            {"Sallittu", "Tillåten", "Allowed"},
	"services.save":             {"Tallenna valinnat", "Spara valen", "Save the choice"},
	"services.allowall":         {"Salli kaikki", "Tillåt alla", "Allow all"},
	"services.clear":            {"Tyhjennä valinnat", "Töm valen", "Clear"},
	"services.nosets":           {"Palvelukokonaisuuksia ei ole.", "Det finns inga tjänstehelheter.", "There are no service sets."},
	"services.readonly":         {"Sinulla on vain lukuoikeus.", "Du har endast läsrätt.", "You may only view this."},
	"services.none":             {"Valitse vähintään yksi palvelukokonaisuus tai salli kaikki.", "Välj minst en tjänstehelhet eller tillåt alla.", "Choose at least one set, or allow all."},
	"services.confirm":          {"Vahvista", "Bekräfta", "Confirm"},
	"services.confirm.all":      {"Tämän tunnistuslähteen käyttäjät voivat kirjautua kaikkiin palveluihin, myös myöhemmin lisättäviin. Muutos tulee voimaan heti.", "Källans användare kan logga in i alla tjänster, även sådana som läggs till senare. Ändringen gäller genast.", "This provider's users may log in to every service, also ones added later. The change is live at once."},
	"services.confirm.selected": {"Tämän tunnistuslähteen käyttäjät voivat kirjautua vain näihin palvelukokonaisuuksiin. Muutos tulee voimaan heti.", "Källans användare kan endast logga in i dessa tjänstehelheter. Ändringen gäller genast.", "This provider's users may log in to these sets only. The change is live at once."},

	"inactivate.title":   {"Poista integraatio käytöstä", "Inaktivera integrationen", "Inactivate the integration"},
	"inactivate.confirm": {"Integraatiolla ei voi enää kirjautua. Sen historia säilyy, ja sen voi palauttaa historiasta.", "Integrationen kan inte längre användas för inloggning. Historiken finns kvar och den kan återställas därifrån.", "No one can log in through it any more. Its history is kept, and it can be restored from there."},
	"inactivate.button":  {"Poista käytöstä", "Inaktivera", "Inactivate"},
	"restore.title":      {"Palauta aiempi versio", "Återställ en tidigare version", "Restore an earlier version"},
	"restore.confirm":    {"Palautus tallentaa version uusimmaksi. Se muuttaa nämä kohdat:", "Återställningen sparar versionen som den senaste. Den ändrar följande:", "Restoring saves the version as the newest one. It changes these values:"},
	"restore.button":     {"Palauta", "Återställ", "Restore"},
	"history.title":      {"Muutoshistoria", "Ändringshistorik", "History"},
	"history.intro":      {"Jokainen tallennus on versio: kuka, milloin ja mitä muuttui. Salaisuuksia ei näytetä.", "Varje sparning är en version: vem, när och vad som ändrades. Hemligheter visas inte.", "Every save is a version: who, when and what changed. Secrets are never shown."},
	"history.version":    {"Versio", "Version", "Version"},
	"history.current":    {"nykyinen", "nuvarande", "current"},
	"history.changes":    {"Muutokset", "Ändringar", "Changes"},
	"history.field":      {"Kohta", "Fält", "Field"},
	"history.from":       {"Ennen", "Före", "Before"},
	"history.to":         {"Jälkeen", "Efter", "After"},
	"history.nochanges":  {"Ei muutoksia.", "Inga ändringar.", "No changes."},
	"history.restore":    {"Palauta versio", "Återställ version", "Restore version"},
	"expiring.title":     {"Vanhenevat metatiedot ja varmenteet", "Utgående metadata och certifikat", "Expiring metadata and certificates"},
	"expiring.days":      {"Seuraavien päivien aikana", "Inom dagar", "Within days"},
	"expiring.none":      {"Mikään ei vanhene %d päivän kuluessa.", "Inget går ut inom %d dagar.", "Nothing expires within %d days."},

	"flash.saved":       {"Muutokset tallennettiin ja ovat voimassa.", "Ändringarna har sparats och gäller.", "The changes are saved and live."},
	"flash.created":     {"Integraatio luotiin.", "Integrationen har skapats.", "The integration was created."},
	"flash.metadata":    {"Metatiedot tallennettiin; alla niiden tiedot.", "Metadata har sparats; uppgifterna nedan.", "The metadata is saved; what it says is below."},
	"flash.logo":        {"Logo tallennettiin.", "Logotypen har sparats.", "The logo is saved."},
	"flash.services":    {"Sallitut palvelut tallennettiin.", "De tillåtna tjänsterna har sparats.", "The allowed services are saved."},
	"flash.inactivated": {"Integraatio poistettiin käytöstä.", "Integrationen har inaktiverats.", "The integration is inactive."},
	"flash.restored":    {"Versio palautettiin.", "Versionen har återställts.", "The version is restored."},

	"signin.title":         {"Kirjaudu", "Logga in", "Sign in"},
	"signin.intro":         {"Hallintaan kirjaudutaan organisaatiosi käyttäjätunnuksella. Oikeutesi tulevat käyttöoikeusryhmistä.", "Du loggar in med din organisations användarnamn. Dina rättigheter kommer från behörighetsgrupperna.", "Sign in with your organisation's account. Your rights come from your access groups."},
	"signin.oidc":          {"Kirjaudu sisään", "Logga in", "Sign in"},
	"signin.notconfigured": {"Kirjautumista ei ole määritetty tähän asennukseen.", "Inloggning har inte konfigurerats i denna installation.", "Sign-in is not configured in this installation."},
	"signin.dev":           {"Kirjaudu demokäyttäjänä", "Logga in som demoanvändare", "Sign in as a demo user"},
	"signin.dev.intro":     {"Vain kehitysympäristössä: valitse rooli ja organisaatio.", "Endast i utvecklingsmiljön: välj roll och organisation.", "Development only: choose a role and an organisation."},
	"signin.name":          {"Nimi", "Namn", "Name"},
	"signin.kind":          {"Rooli", "Roll", "Role"},
	"signin.dev.button":    {"Kirjaudu demokäyttäjänä", "Logga in som demoanvändare", "Sign in as a demo user"},

	"err.title":      {"Toimintoa ei voitu tehdä", "Åtgärden kunde inte utföras", "That did not work"},
	"err.notfound":   {"Sivua tai integraatiota ei löydy, tai sinulla ei ole oikeutta nähdä sitä.", "Sidan eller integrationen finns inte, eller så har du inte rätt att se den.", "The page or integration does not exist, or you may not see it."},
	"err.forbidden":  {"Sinulla ei ole oikeutta tähän toimintoon.", "Du har inte rätt till denna åtgärd.", "You may not do this."},
	"err.conflict":   {"Joku muu muutti integraatiota samaan aikaan. Avaa se uudelleen ja tee muutoksesi uudestaan.", "Någon annan ändrade integrationen samtidigt. Öppna den igen och gör om ändringen.", "Someone else changed the integration meanwhile. Open it again and redo your change."},
	"err.badrequest": {"Pyyntö oli virheellinen.", "Begäran var felaktig.", "The request was not valid."},
	"err.signin":     {"Kirjaudu ensin sisään.", "Logga in först.", "Sign in first."},
	"err.csrf":       {"Lomake oli vanhentunut tai tuli toiselta sivustolta. Lataa sivu uudelleen ja yritä uudestaan.", "Formuläret var föråldrat eller kom från en annan webbplats. Ladda om sidan och försök igen.", "The form was stale or came from another site. Reload the page and try again."},
	"err.internal":   {"Palvelussa tapahtui virhe. Yritä myöhemmin uudelleen.", "Ett fel inträffade i tjänsten. Försök senare igen.", "Something went wrong in the service. Try again later."},
}

// translate returns the text of key in lang; an unknown key is an error,
// so that a template never shows a key by mistake.
func translate(lang, key string) (string, error) {
	m, ok := messages[key]
	if !ok {
		return "", fmt.Errorf("admin ui: no text %q", key)
	}
	switch lang {
	case "sv":
		return m[1], nil
	case "en":
		return m[2], nil
	}
	return m[0], nil
}

// mustT is translate for keys known to exist.
func mustT(lang, key string) string {
	s, err := translate(lang, key)
	if err != nil {
		return key
	}
	return s
}

// apiMessages translate the API's field-error messages, matched by their
// beginning; the rest of a matched message (a value) follows in brackets.
var apiMessages = []struct {
	prefix string
	text   [3]string
}{
	{"required: a file or a URL", [3]string{"Anna tiedosto tai osoite", "Ange en fil eller en adress", "Give a file or a URL"}},
	{"required for type", [3]string{"Pakollinen tälle tyypille", "Obligatorisk för denna typ", "Required for this type"}},
	{"required", [3]string{"Pakollinen tieto", "Obligatorisk uppgift", "Required"}},
	{"must be an absolute http(s) URL", [3]string{"Anna täydellinen http(s)-osoite", "Ange en fullständig http(s)-adress", "Must be an absolute http(s) URL"}},
	{"must not have a fragment", [3]string{"Osoitteessa ei saa olla #-osaa", "Adressen får inte ha en #-del", "Must not have a fragment"}},
	{"must use https in production", [3]string{"Tuotannossa osoitteen on oltava https", "I produktion måste adressen vara https", "Must use https in production"}},
	{"must not point to localhost in production", [3]string{"Tuotannossa osoite ei voi olla localhost", "I produktion får adressen inte vara localhost", "Must not point to localhost in production"}},
	{"at least one is required", [3]string{"Vähintään yksi tarvitaan", "Minst en behövs", "At least one is required"}},
	{"must be a base64 DER certificate", [3]string{"Anna varmenne PEM- tai base64-muodossa", "Ange certifikatet i PEM- eller base64-format", "Must be a PEM or base64 DER certificate"}},
	{"must be PEM certificates or base64 DER", [3]string{"Anna varmenteet PEM- tai base64-muodossa", "Ange certifikaten i PEM- eller base64-format", "Must be PEM or base64 DER certificates"}},
	{"is not a valid certificate", [3]string{"Varmenne ei kelpaa", "Certifikatet är inte giltigt", "Is not a valid certificate"}},
	{"unknown school code", [3]string{"Tuntematon koulukoodi", "Okänd skolkod", "Unknown school code"}},
	{"a service belongs to a set", [3]string{"Valitse palvelukokonaisuus", "Välj en tjänstehelhet", "Choose the service set"}},
	{"no set", [3]string{"Palvelukokonaisuutta ei ole", "Tjänstehelheten finns inte", "No such service set"}},
	{"must be a PNG, JPEG, GIF or WebP image", [3]string{"Kuvan on oltava PNG, JPEG, GIF tai WebP", "Bilden måste vara PNG, JPEG, GIF eller WebP", "Must be a PNG, JPEG, GIF or WebP image"}},
	{"unsupported grant type", [3]string{"Grant-tyyppiä ei tueta", "Grant-typen stöds inte", "Unsupported grant type"}},
}

// translateMessage translates an API field-error message where it can;
// others stay as the API wrote them.
func translateMessage(lang, msg string) string {
	i := 0
	switch lang {
	case "sv":
		i = 1
	case "en":
		i = 2
	}
	for _, m := range apiMessages {
		rest, ok := strings.CutPrefix(msg, m.prefix)
		if !ok {
			continue
		}
		if rest = strings.TrimSpace(rest); rest != "" {
			return m.text[i] + " (" + strings.TrimPrefix(rest, ": ") + ")"
		}
		return m.text[i]
	}
	// "%q is already used by ..." and "school x is both ..." start with
	// a value.
	switch {
	case strings.Contains(msg, "is already used by"):
		return [3]string{"Arvo on jo toisen integraation käytössä", "Värdet används redan av en annan integration", "Already used by another integration"}[i] + " (" + msg + ")"
	case strings.Contains(msg, "is both included and excluded"):
		return [3]string{"Koulu ei voi olla sekä mukana että pois", "Skolan kan inte vara både inkluderad och exkluderad", "A school cannot be both included and excluded"}[i] + " (" + msg + ")"
	}
	return msg
}

// institutionTypeNames are the common oppilaitostyyppi codes.
var institutionTypeNames = map[int][3]string{
	11: {"Peruskoulut", "Grundskolor", "Basic education schools"},
	12: {"Peruskouluasteen erityiskoulut", "Specialskolor på grundskolenivå", "Special-needs basic education schools"},
	15: {"Lukiot", "Gymnasier", "Upper secondary schools"},
	19: {"Perus- ja lukioasteen koulut", "Grundskolor och gymnasier", "Basic and upper secondary schools"},
	21: {"Ammatilliset oppilaitokset", "Yrkesläroanstalter", "Vocational institutions"},
	22: {"Ammatilliset erityisoppilaitokset", "Yrkesinriktade specialläroanstalter", "Special vocational institutions"},
	23: {"Ammatilliset erikoisoppilaitokset", "Yrkesinriktade specialiserade läroanstalter", "Specialised vocational institutions"},
	24: {"Ammatilliset aikuiskoulutuskeskukset", "Yrkesinriktade vuxenutbildningscenter", "Vocational adult education centres"},
	63: {"Kansanopistot", "Folkhögskolor", "Folk high schools"},
	64: {"Kansalaisopistot", "Medborgarinstitut", "Adult education centres"},
}

func institutionTypeName(lang string, code int) string {
	n, ok := institutionTypeNames[code]
	if !ok {
		return ""
	}
	switch lang {
	case "sv":
		return n[1]
	case "en":
		return n[2]
	}
	return n[0]
}
