package saml

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/testenv"
)

// Environment of the SimpleSAMLphp interop test.
const (
	// InteropVar enables it (.ci/install-simplesamlphp.sh installs what it
	// needs).
	interopVar = "MPASSID_TEST_INTEROP"
	// sspDirVar overrides where SimpleSAMLphp is installed.
	sspDirVar     = "MPASSID_SIMPLESAMLPHP_DIR"
	defaultSSPDir = "/usr/share/simplesamlphp"
	sspEntityID   = "https://idp.interop.test/simplesamlphp"
)

// TestInteropSimpleSAMLphp logs in through a real SimpleSAMLphp IdP (the
// Debian package, run with php's built-in web server and a generated
// configuration): Start, SimpleSAMLphp's SSO service, its username/password
// form, its POST to the broker's ACS, Callback. Once with a signed
// assertion, once with an encrypted one (adfs preset).
func TestInteropSimpleSAMLphp(t *testing.T) {
	if os.Getenv(interopVar) == "" {
		testenv.Skip(t, "SimpleSAMLphp interop test skipped: set "+interopVar+"=1 (install with .ci/install-simplesamlphp.sh)")
	}
	php, err := exec.LookPath("php")
	if err != nil {
		t.Fatalf("%s is set but php is not installed: %v", interopVar, err)
	}
	sspDir := os.Getenv(sspDirVar)
	if sspDir == "" {
		sspDir = defaultSSPDir
	}
	if _, err := os.Stat(filepath.Join(sspDir, "www", "saml2", "idp", "SSOService.php")); err != nil {
		t.Fatalf("%s is set but SimpleSAMLphp is not in %s (set %s): %v", interopVar, sspDir, sspDirVar, err)
	}

	plain := startTestBroker(t)
	enc := startTestBroker(t)
	sps := []sspSP{
		{entityID: "https://mpass.example.fi/sp/ssp-plain", b: plain},
		{entityID: "https://mpass.example.fi/sp/ssp-encrypted", b: enc, encrypt: true},
	}
	base := startSimpleSAMLphp(t, php, sspDir, sps)
	mdURL := base + "saml2/idp/metadata.php"

	plain.connect(mdURL, sspEntityID, func(c *Config) { c.Preset = PresetGeneric; c.EntityID = sps[0].entityID })
	enc.connect(mdURL, sspEntityID, func(c *Config) { c.Preset = PresetADFS; c.EntityID = sps[1].entityID })
	// The SP metadata given to SimpleSAMLphp is the connector's own.
	for i := range sps {
		md, err := sps[i].b.c.SPMetadata()
		if err != nil {
			t.Fatal(err)
		}
		writeSPRemote(t, base, sps, i, md)
	}

	for i, sp := range sps {
		t.Run(strings.TrimPrefix(sp.entityID, "https://mpass.example.fi/sp/"), func(t *testing.T) {
			res := sspLogin(t, sp.b, "student", "studentpass")
			if res.err != nil {
				t.Fatalf("login through SimpleSAMLphp: %v", res.err)
			}
			id := res.id
			if id.NameID == "" || id.SessionIndex == "" || id.AuthnInstant.IsZero() {
				t.Errorf("identity = %+v", id)
			}
			if got := id.Attributes["uid"]; len(got) != 1 || got[0] != "student" {
				t.Errorf("uid = %q (attributes %v)", got, id.Attributes)
			}
			if got := id.Attributes["givenName"]; len(got) != 1 || got[0] != "Maija" {
				t.Errorf("givenName = %q", got)
			}
			if got := id.Attributes["eduPersonAffiliation"]; strings.Join(got, ",") != "student,member" {
				t.Errorf("eduPersonAffiliation = %q", got)
			}
			t.Logf("login %d ok: %d attributes", i, len(id.Attributes))
		})
	}
	t.Run("AuthnRequest with a bad signature is refused", func(t *testing.T) {
		_, _, started := plain.start(connector.LoginRequest{})
		u, _ := url.Parse(started.Redirect.URL)
		q := u.Query()
		sig := []byte(q.Get("Signature"))
		sig[10] ^= 1
		q.Set("Signature", string(sig))
		u.RawQuery = q.Encode()
		resp, err := newBrowser().Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// SimpleSAMLphp shows its error page (HTTP 200) naming the cause.
		if !strings.Contains(string(body), "Unable to validate signature on query string") {
			t.Fatalf("SimpleSAMLphp did not refuse the bad signature (HTTP %d)", resp.StatusCode)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		_, _, started := plain.start(connector.LoginRequest{})
		client := newBrowser()
		page, resp := browserGet(t, client, started.Redirect.URL)
		action, form := loginForm(t, page, resp)
		form.Set("username", "student")
		form.Set("password", "wrong")
		page, _ = browserPost(t, client, action, form)
		if strings.Contains(page, "SAMLResponse") {
			t.Fatal("SimpleSAMLphp issued a response for a wrong password")
		}
	})
}

type sspSP struct {
	entityID string
	b        *testBroker
	encrypt  bool
	php      string // its saml20-sp-remote.php entry
}

// startSimpleSAMLphp writes a SimpleSAMLphp configuration (IdP key and
// certificate, saml20-idp-hosted with exampleauth:UserPass users) and runs
// php -S on a free loopback port; it returns the base URL.
func startSimpleSAMLphp(t *testing.T, php, sspDir string, sps []sspSP) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)

	dir := t.TempDir()
	for _, d := range []string{"config", "metadata", "cert", "tmp", "data", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	idpKey := newTestKey(t, 3, "simplesamlphp-idp", now.Add(-time.Hour), now.Add(24*time.Hour))
	der, err := x509.MarshalPKCS8PrivateKey(idpKey.key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "cert", "idp.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	writeFile(t, filepath.Join(dir, "cert", "idp.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idpKey.cert.Raw}))

	writeFile(t, filepath.Join(dir, "config", "config.php"), []byte(fmt.Sprintf(`<?php
$config = [
    'baseurlpath' => %q,
    'certdir' => %q,
    'loggingdir' => %q,
    'datadir' => %q,
    'tempdir' => %q,
    'technicalcontact_name' => 'Test',
    'technicalcontact_email' => 'test@example.org',
    'timezone' => 'UTC',
    'secretsalt' => 'mpassid-interop-test-salt-0123456789',
    'auth.adminpassword' => 'not-used-admin-password',
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'logging.level' => SimpleSAML\Logger::DEBUG,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.savepath' => %q,
    'store.type' => 'phpsession',
    'language.default' => 'en',
    'metadata.sources' => [['type' => 'flatfile', 'directory' => %q]],
];
`, base, filepath.Join(dir, "cert")+"/", filepath.Join(dir, "log")+"/", filepath.Join(dir, "data")+"/",
		filepath.Join(dir, "tmp"), filepath.Join(dir, "tmp"), filepath.Join(dir, "metadata"))))

	writeFile(t, filepath.Join(dir, "config", "authsources.php"), []byte(`<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
        'student:studentpass' => [
            'uid' => ['student'],
            'givenName' => ['Maija'],
            'sn' => ['Meikäläinen'],
            'eduPersonAffiliation' => ['student', 'member'],
        ],
    ],
];
`))
	writeFile(t, filepath.Join(dir, "metadata", "saml20-idp-hosted.php"), []byte(fmt.Sprintf(`<?php
$metadata[%q] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.assertion' => true,
    'saml20.sign.response' => true,
];
`, sspEntityID)))
	// saml20-sp-remote.php is written once the SP metadata exists;
	// start with an empty one.
	writeFile(t, filepath.Join(dir, "metadata", "saml20-sp-remote.php"), []byte("<?php\n"))
	sspMetadataDirs.Store(base, filepath.Join(dir, "metadata"))
	sspLogDirs.Store(base, filepath.Join(dir, "log"))

	cmd := exec.Command(php, "-S", fmt.Sprintf("127.0.0.1:%d", port), "-t", filepath.Join(sspDir, "www"))
	cmd.Env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+filepath.Join(dir, "config"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("php -S output:\n%s", out.String())
			if b, err := os.ReadFile(filepath.Join(dir, "log", "simplesamlphp.log")); err == nil {
				t.Logf("SimpleSAMLphp log:\n%s", b)
			}
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "saml2/idp/metadata.php")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("SimpleSAMLphp metadata: HTTP %d: %s", resp.StatusCode, body)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("SimpleSAMLphp did not start: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base
}

// Per-server directories, for writeSPRemote and failure logs.
var sspMetadataDirs, sspLogDirs sync.Map

// writeSPRemote (re)writes saml20-sp-remote.php with the SPs known so far;
// sps[i] gets its entry from md, the connector's SP metadata.
func writeSPRemote(t *testing.T, base string, sps []sspSP, i int, md []byte) {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	root := d.Root()
	spd := childElem(root, nsMetadata, "SPSSODescriptor")
	acs := childElem(spd, nsMetadata, "AssertionConsumerService")
	var keys []string
	for _, kd := range spd.SelectElements("KeyDescriptor") {
		cert := strings.Join(strings.Fields(kd.FindElement(".//X509Certificate").Text()), "")
		use := attr(kd, "use")
		keys = append(keys, fmt.Sprintf("['type' => 'X509Certificate', 'signing' => %t, 'encryption' => %t, 'X509Certificate' => %q]",
			use == "signing", use == "encryption", cert))
	}
	sps[i].php = fmt.Sprintf(`$metadata[%q] = [
    'AssertionConsumerService' => [['Binding' => %q, 'Location' => %q, 'index' => 1]],
    'keys' => [%s],
    'validate.authnrequest' => %t,
    'assertion.encryption' => %t,
    'sharedkey_algorithm' => 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
];
`, attr(root, "entityID"), attr(acs, "Binding"), attr(acs, "Location"), strings.Join(keys, ", "),
		attr(spd, "AuthnRequestsSigned") == "true", sps[i].encrypt)
	var all strings.Builder
	all.WriteString("<?php\n")
	for _, sp := range sps {
		all.WriteString(sp.php)
	}
	dir, _ := sspMetadataDirs.Load(base)
	writeFile(t, filepath.Join(dir.(string), "saml20-sp-remote.php"), []byte(all.String()))
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func browserGet(t *testing.T, c *http.Client, u string) (string, *http.Response) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return string(b), resp
}

func browserPost(t *testing.T, c *http.Client, u string, form url.Values) (string, *http.Response) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return string(b), resp
}

// loginForm finds SimpleSAMLphp's username/password form in page and
// returns its absolute action URL and fields.
func loginForm(t *testing.T, page string, resp *http.Response) (string, url.Values) {
	t.Helper()
	action, form, err := parseHTMLForm(page)
	if err != nil {
		t.Fatalf("no login form: %v\n%s", err, page)
	}
	if _, ok := form["username"]; !ok {
		form.Set("username", "")
	}
	u, err := resp.Request.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), form
}

// sspLogin logs in as user through SimpleSAMLphp with a browser-like
// client: Start's redirect, the login form, the auto-POST form to the ACS.
func sspLogin(t *testing.T, b *testBroker, user, password string) result {
	t.Helper()
	_, _, started := b.start(connector.LoginRequest{})
	client := newBrowser()
	if started.Redirect.Form != nil {
		t.Fatal("SimpleSAMLphp offers HTTP-Redirect; expected a redirect")
	}
	page, resp := browserGet(t, client, started.Redirect.URL)
	action, form := loginForm(t, page, resp)
	form.Set("username", user)
	form.Set("password", password)
	page, _ = browserPost(t, client, action, form)
	acs, form, err := parseHTMLForm(page)
	if err != nil || form.Get("SAMLResponse") == "" {
		t.Fatalf("no SAMLResponse form after login: %v\n%s", err, page)
	}
	if acs != b.acsURL() {
		t.Fatalf("SimpleSAMLphp posts to %q, want %q", acs, b.acsURL())
	}
	return b.post(form)
}
