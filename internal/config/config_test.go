package config

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// testKey is a valid master key: base64 of 32 bytes.
var testKey = base64.StdEncoding.EncodeToString(make([]byte, 32))

// required supplies the fields that have no production default.
func required() []string {
	return []string{
		"MPASSID_SERVER_PUBLIC_URL=https://mpass.example.fi",
		"MPASSID_DATABASE_DSN=postgres://mpassid:secret@db.example.fi/mpassid",
		"MPASSID_KEYS_MASTER_KEY=" + testKey,
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mpassid.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadYAML loads content as a config file with env.
func loadYAML(t *testing.T, content string, env []string) (*Config, error) {
	t.Helper()
	path := ""
	if content != "" {
		path = writeFile(t, content)
	}
	return Load(path, env)
}

// fieldErrors flattens a joined validation error.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	var out []*FieldError
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("not a *FieldError: %v", e)
		}
		out = append(out, fe)
	}
	return out
}

func TestDefaultsValidate(t *testing.T) {
	cfg, err := Load("", required())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Broker.Issuer != "https://mpass.example.fi" {
		t.Errorf("issuer = %q, want public_url", cfg.Broker.Issuer)
	}
	if cfg.Broker.SAMLEntityID != "https://mpass.example.fi/idp" {
		t.Errorf("saml_entity_id = %q", cfg.Broker.SAMLEntityID)
	}
	// Everything else is the default.
	want := Default()
	want.Server.PublicURL = "https://mpass.example.fi"
	want.Database.DSN = "postgres://mpassid:secret@db.example.fi/mpassid"
	want.Keys.MasterKey = testKey
	want.Broker.Issuer = cfg.Broker.Issuer
	want.Broker.SAMLEntityID = cfg.Broker.SAMLEntityID
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Load = %+v\nwant %+v", *cfg, want)
	}
}

func TestDefaultsNeedRequiredFields(t *testing.T) {
	c := Default()
	var fields []string
	for _, fe := range fieldErrors(t, c.Validate()) {
		fields = append(fields, fe.Field)
	}
	want := []string{"server.public_url", "database.dsn", "keys.master_key"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v, want %v", fields, want)
	}
}

func TestPublicURLTrailingSlashDerivation(t *testing.T) {
	env := append(required(), "MPASSID_SERVER_PUBLIC_URL=https://mpass.example.fi/")
	cfg, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Broker.Issuer != "https://mpass.example.fi" || cfg.Broker.SAMLEntityID != "https://mpass.example.fi/idp" {
		t.Errorf("derived %q %q", cfg.Broker.Issuer, cfg.Broker.SAMLEntityID)
	}
}

func TestIssuerHTTPMessage(t *testing.T) {
	_, err := loadYAML(t, "broker:\n  issuer: \"http://example.fi\"\n", required())
	if err == nil || err.Error() != "broker.issuer: must be an absolute https URL" {
		t.Fatalf("err = %v, want exactly %q", err, "broker.issuer: must be an absolute https URL")
	}
}

func TestInvalidValues(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   []string
		field string
		want  string
	}{
		{"no roles", "roles: []\n", nil, "roles", "at least one"},
		{"bad role", "roles: [broker, admn]\n", nil, "roles", `unknown role "admn"`},
		{"dup role", "roles: [admin, admin]\n", nil, "roles", "duplicate"},
		{"roles env", "", []string{"MPASSID_ROLES=,"}, "roles", "at least one"},
		{"listen no port", "server:\n  listen: localhost\n", nil, "server.listen", "host:port"},
		{"listen bad port", "server:\n  listen: \":99999\"\n", nil, "server.listen", "port between"},
		{"public_url relative", "", []string{"MPASSID_SERVER_PUBLIC_URL=/mpass"}, "server.public_url", "absolute https URL"},
		{"public_url http", "", []string{"MPASSID_SERVER_PUBLIC_URL=http://mpass.example.fi"}, "server.public_url", "absolute https URL"},
		{"public_url query", "", []string{"MPASSID_SERVER_PUBLIC_URL=https://mpass.example.fi/?a=b"}, "server.public_url", "query or fragment"},
		{"public_url user", "", []string{"MPASSID_SERVER_PUBLIC_URL=https://u:p@mpass.example.fi"}, "server.public_url", "user info"},
		{"public_url empty", "", []string{"MPASSID_SERVER_PUBLIC_URL="}, "server.public_url", "required"},
		{"shutdown zero", "server:\n  shutdown_timeout: 0s\n", nil, "server.shutdown_timeout", "greater than zero"},
		{"read header negative", "server:\n  read_header_timeout: -1s\n", nil, "server.read_header_timeout", "greater than zero"},
		{"driver", "database:\n  driver: mysql\n", nil, "database.driver", `must be one of postgres, sqlite (got "mysql")`},
		{"dsn missing", "", []string{"MPASSID_DATABASE_DSN="}, "database.dsn", "required for driver postgres"},
		{"dsn scheme", "", []string{"MPASSID_DATABASE_DSN=mysql://x/y"}, "database.dsn", "postgres:// URL"},
		{"sqlite url", "database:\n  driver: sqlite\n  dsn: http://x/y\n", nil, "database.dsn", "file path"},
		{"max conns", "database:\n  max_conns: 0\n", nil, "database.max_conns", "at least 1"},
		{"connect timeout", "database:\n  connect_timeout: 0s\n", nil, "database.connect_timeout", "greater than zero"},
		{"retry forever", "database:\n  start_retry_max: 0s\n", nil, "database.start_retry_max", "greater than zero"},
		{"no key", "", []string{"MPASSID_KEYS_MASTER_KEY="}, "keys.master_key", "required"},
		{"both keys", "keys:\n  master_key_file: /etc/mpassid/master.key\n", nil, "keys.master_key", "only one"},
		{"short key", "", []string{"MPASSID_KEYS_MASTER_KEY=" + base64.StdEncoding.EncodeToString(make([]byte, 16))}, "keys.master_key", "must be 32 bytes of base64 (got 16 bytes)"},
		{"not base64 key", "", []string{"MPASSID_KEYS_MASTER_KEY=!!!"}, "keys.master_key", "must be 32 bytes of base64"},
		{"rotation", "keys:\n  rotation_interval: 23h\n", nil, "keys.rotation_interval", "at least 24h"},
		{"rsa bits", "keys:\n  rsa_bits: 1024\n", nil, "keys.rsa_bits", "2048, 3072 or 4096"},
		{"issuer http", "broker:\n  issuer: http://example.fi\n", nil, "broker.issuer", "must be an absolute https URL"},
		{"issuer slash", "broker:\n  issuer: https://example.fi/\n", nil, "broker.issuer", "must not end with a slash"},
		{"issuer query", "broker:\n  issuer: https://example.fi?x=1\n", nil, "broker.issuer", "query or fragment"},
		{"issuer fragment", "broker:\n  issuer: https://example.fi#x\n", nil, "broker.issuer", "query or fragment"},
		{"entity id", "broker:\n  saml_entity_id: urn:x\n", nil, "broker.saml_entity_id", "absolute"},
		{"session lifetime", "broker:\n  session_lifetime: 0s\n  session_idle_timeout: 0s\n", []string{"MPASSID_BROKER_SESSION_IDLE_TIMEOUT=1s"}, "broker", ""},
		{"idle > lifetime", "broker:\n  session_idle_timeout: 9h\n", nil, "broker.session_idle_timeout", "must not exceed broker.session_lifetime"},
		{"transaction", "broker:\n  transaction_lifetime: 0s\n", nil, "broker.transaction_lifetime", "greater than zero"},
		{"code short", "broker:\n  code_lifetime: 5s\n", nil, "broker.code_lifetime", "between 10s and 10m"},
		{"code long", "broker:\n  code_lifetime: 11m\n", nil, "broker.code_lifetime", "between 10s and 10m"},
		{"access token", "broker:\n  access_token_lifetime: 0s\n", nil, "broker.access_token_lifetime", "greater than zero"},
		{"language", "broker:\n  default_language: de\n", nil, "broker.default_language", `must be one of fi, sv, en (got "de")`},
		{"poll", "broker:\n  config_poll_interval: 0s\n", nil, "broker.config_poll_interval", "greater than zero"},
		{"registry url", "registry:\n  base_url: ftp://x/\n", nil, "registry.base_url", "absolute http or https URL"},
		{"caller id", "registry:\n  caller_id: \"\"\n", nil, "registry.caller_id", "required"},
		{"sync time 24", "registry:\n  sync_time: \"24:00\"\n", nil, "registry.sync_time", "HH:MM"},
		{"sync time short", "registry:\n  sync_time: \"7:00\"\n", nil, "registry.sync_time", "HH:MM"},
		{"timezone", "registry:\n  timezone: Mars/Olympus\n", nil, "registry.timezone", `unknown time zone "Mars/Olympus"`},
		{"timezone empty", "registry:\n  timezone: \"\"\n", nil, "registry.timezone", "required"},
		{"registry timeout", "registry:\n  timeout: 0s\n", nil, "registry.timeout", "greater than zero"},
		{"removal share", "registry:\n  max_removal_share: 1.5\n", nil, "registry.max_removal_share", "between 0 and 1"},
		{"removal share negative", "", []string{"MPASSID_REGISTRY_MAX_REMOVAL_SHARE=-0.1"}, "registry.max_removal_share", "between 0 and 1"},
		{"removal share NaN", "", []string{"MPASSID_REGISTRY_MAX_REMOVAL_SHARE=NaN"}, "registry.max_removal_share", "between 0 and 1"},
		{"response bytes", "registry:\n  max_response_bytes: 0\n", nil, "registry.max_response_bytes", "greater than zero"},
		{"log level", "log:\n  level: verbose\n", nil, "log.level", "must be one of debug, info, warn, error"},
		{"log format", "log:\n  format: xml\n", nil, "log.format", "must be one of json, text"},
		{"dev data dir", "dev:\n  enabled: true\n  data_dir: \"\"\n", nil, "dev.data_dir", "required in dev mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml, append(required(), tt.env...))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			fes := fieldErrors(t, err)
			if tt.name == "session lifetime" {
				// Zero lifetime: both the lifetime and the idle bound fail.
				if len(fes) != 2 || fes[0].Field != "broker.session_lifetime" || fes[1].Field != "broker.session_idle_timeout" {
					t.Fatalf("errors = %v", err)
				}
				return
			}
			if len(fes) != 1 {
				t.Fatalf("want exactly one error, got %d:\n%v", len(fes), err)
			}
			if fes[0].Field != tt.field || !strings.Contains(fes[0].Message, tt.want) {
				t.Errorf("error = %q, want field %s with %q", err, tt.field, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("error %q does not start with the field", err)
			}
		})
	}
}

func TestAllErrorsReportedInOrder(t *testing.T) {
	_, err := loadYAML(t, "log:\n  level: x\nroles: [x]\nbroker:\n  code_lifetime: 1s\nserver:\n  listen: nope\n", required())
	var fields []string
	for _, fe := range fieldErrors(t, err) {
		fields = append(fields, fe.Field)
	}
	want := []string{"roles", "server.listen", "broker.code_lifetime", "log.level"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v, want %v", fields, want)
	}
}

func TestLocalAndDevAllowHTTP(t *testing.T) {
	for _, env := range [][]string{
		{"MPASSID_SERVER_PUBLIC_URL=http://localhost:8080"},
		{"MPASSID_SERVER_PUBLIC_URL=http://127.0.0.1:8080/"},
		{"MPASSID_SERVER_PUBLIC_URL=http://[::1]:8080"},
		{"MPASSID_SERVER_PUBLIC_URL=http://mpass.test", "MPASSID_DEV_ENABLED=true"},
	} {
		if _, err := Load("", append(required(), env...)); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}

func TestUnknownYAMLKey(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"server:\n  listen: \"127.0.0.1:1\"\n  lisen: x\n", `line 3: unknown key "server.lisen"`},
		{"colour: blue\n", `line 1: unknown key "colour"`},
		{"registry:\n  sync_time: \"07:00\"\n  caller: x\n", `unknown key "registry.caller"`},
	}
	for _, tt := range tests {
		path := writeFile(t, tt.yaml)
		_, err := Load(path, required())
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%q) = %v, want the file and %q", tt.yaml, err, tt.want)
		}
	}
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"server:\n  shutdown_timeout: soon\n", "line 2"},
		{"server:\n  shutdown_timeout: 15\n", "line 2"}, // a bare number is not a duration
		{"database:\n  max_conns: many\n", "line 2"},
		{"roles: broker\n", "line 1"},
		{"server: [\n", "yaml"},
		{"log:\n  level: info\n---\nlog:\n  level: debug\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		path := writeFile(t, tt.yaml)
		_, err := Load(path, required())
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%q) = %v, want the file and %q", tt.yaml, err, tt.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), required()); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "---\n"} {
		path := writeFile(t, content)
		if _, err := Load(path, required()); err != nil {
			t.Errorf("Load(%q): %v", content, err)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	env := append(required(),
		"MPASSID_SERVER_LISTEN=0.0.0.0:9000",          // string
		"MPASSID_DATABASE_MAX_CONNS=7",                // int
		"MPASSID_REGISTRY_MAX_RESPONSE_BYTES=1048576", // int64
		"MPASSID_METRICS_ENABLED=false",               // bool
		"MPASSID_SERVER_SHUTDOWN_TIMEOUT=90s",         // duration
		"MPASSID_ROLES= broker , orgsync",             // []string
		"MPASSID_REGISTRY_MAX_REMOVAL_SHARE=0.25",     // float64
		"MPASSID_REGISTRY_SYNC_TIME=23:30",            // string
		"MPASSID_TEST_POSTGRES_DSN=postgres://x/y",    // not config
		"MPASSID_REQUIRE_ALL=1",                       // not config
		"MPASSID_NO_SUCH_SETTING=whatever",            // unknown: ignored
		"OTHER_SERVER_LISTEN=1.2.3.4:1",               // not ours
		"MPASSID_DATABASE_MAX_CONNS_EXTRA",            // no "=": ignored
	)
	cfg, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "0.0.0.0:9000" || cfg.Database.MaxConns != 7 ||
		cfg.Registry.MaxResponseBytes != 1<<20 || cfg.Metrics.Enabled ||
		cfg.Server.ShutdownTimeout != 90*time.Second ||
		!slices.Equal(cfg.Roles, []string{"broker", "orgsync"}) ||
		cfg.Registry.MaxRemovalShare != 0.25 || cfg.Registry.SyncTime != "23:30" {
		t.Errorf("env not applied: %+v", cfg)
	}
	if got := UnknownEnv(env); !slices.Equal(got, []string{"MPASSID_NO_SUCH_SETTING"}) {
		t.Errorf("UnknownEnv = %v", got)
	}
}

func TestEnvLastWins(t *testing.T) {
	cfg, err := Load("", append(required(), "MPASSID_LOG_LEVEL=warn", "MPASSID_LOG_LEVEL=debug"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" {
		t.Errorf("level = %q", cfg.Log.Level)
	}
}

func TestEnvBeatsFile(t *testing.T) {
	path := writeFile(t, "log:\n  level: warn\n  format: text\nbroker:\n  code_lifetime: 30s\n")
	cfg, err := Load(path, append(required(), "MPASSID_LOG_LEVEL=error", "MPASSID_BROKER_CODE_LIFETIME=2m"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "error" || cfg.Broker.CodeLifetime != 2*time.Minute {
		t.Errorf("env did not win: %+v %+v", cfg.Log, cfg.Broker)
	}
	if cfg.Log.Format != "text" {
		t.Errorf("file value lost: format = %q", cfg.Log.Format)
	}
}

func TestBadEnvValue(t *testing.T) {
	tests := []struct{ env, want string }{
		{"MPASSID_SERVER_SHUTDOWN_TIMEOUT=x", `MPASSID_SERVER_SHUTDOWN_TIMEOUT (server.shutdown_timeout): invalid duration "x"`},
		{"MPASSID_DATABASE_MAX_CONNS=ten", `MPASSID_DATABASE_MAX_CONNS (database.max_conns): invalid integer "ten"`},
		{"MPASSID_METRICS_ENABLED=maybe", `MPASSID_METRICS_ENABLED (metrics.enabled): invalid boolean "maybe"`},
		{"MPASSID_REGISTRY_MAX_REMOVAL_SHARE=half", `MPASSID_REGISTRY_MAX_REMOVAL_SHARE (registry.max_removal_share): invalid number "half"`},
		{"MPASSID_KEYS_RSA_BITS=", `MPASSID_KEYS_RSA_BITS (keys.rsa_bits): invalid integer ""`},
	}
	for _, tt := range tests {
		_, err := Load("", append(required(), tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.env, err, tt.want)
		}
	}
}

func TestEnvNamesCoverEveryField(t *testing.T) {
	tab, err := fieldTable()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"MPASSID_DATABASE_DSN", "MPASSID_BROKER_ISSUER", "MPASSID_SERVER_LISTEN",
		"MPASSID_KEYS_MASTER_KEY", "MPASSID_REGISTRY_SYNC_TIME", "MPASSID_ROLES",
		"MPASSID_DEV_ENABLED", "MPASSID_METRICS_ENABLED",
	} {
		if _, ok := tab.byEnv[want]; !ok {
			t.Errorf("no field for %s", want)
		}
	}
	if len(tab.fields) != 45 {
		t.Errorf("%d fields; update this test and config.example.yaml when fields change", len(tab.fields))
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://mpassid:s3cret@db/mpassid?sslmode=require", "postgres://mpassid:REDACTED@db/mpassid?sslmode=require"},
		{"postgres://mpassid@db/mpassid?password=s3cret", "postgres://mpassid@db/mpassid?password=REDACTED"},
		{"postgres://mpassid@db/mpassid", "postgres://mpassid@db/mpassid"},
		{"host=db user=mpassid password=s3cret dbname=mpassid", "host=db user=mpassid password=REDACTED dbname=mpassid"},
		{"host=db password = 's3 cr\\'et' dbname=x", "host=db password = REDACTED dbname=x"},
		{"password=s3cret", "password=REDACTED"},
		{"/var/lib/mpassid/mpassid.db", "/var/lib/mpassid/mpassid.db"},
		{"", ""},
	}
	for _, tt := range tests {
		c := Default()
		c.Database.DSN = tt.dsn
		c.Keys.MasterKey = testKey
		r := c.Redacted()
		if r.Database.DSN != tt.want {
			t.Errorf("Redacted DSN(%q) = %q, want %q", tt.dsn, r.Database.DSN, tt.want)
		}
		if strings.Contains(r.Database.DSN, "s3") {
			t.Errorf("password leaked: %q", r.Database.DSN)
		}
		if r.Keys.MasterKey != "REDACTED" {
			t.Errorf("master key = %q", r.Keys.MasterKey)
		}
		if c.Keys.MasterKey != testKey || c.Database.DSN != tt.dsn {
			t.Error("Redacted modified the original")
		}
	}
	c := Default()
	r := c.Redacted()
	r.Roles[0] = "changed"
	if c.Roles[0] != RoleBroker {
		t.Error("Redacted shares Roles with the original")
	}
	if r.Keys.MasterKey != "" {
		t.Errorf("empty master key became %q", r.Keys.MasterKey)
	}
}

func TestDecodeMasterKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(250 - i) // produces +/ and -_ characters
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s := enc.EncodeToString(key)
		got, err := DecodeMasterKey(s + "\n")
		if err != nil || !slices.Equal(got, key) {
			t.Errorf("DecodeMasterKey(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := DecodeMasterKey(base64.StdEncoding.EncodeToString(make([]byte, 33))); err == nil || err.Error() != "must be 32 bytes of base64 (got 33 bytes)" {
		t.Errorf("33 bytes: %v", err)
	}
}

func TestDevDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadDev("", nil, dir, 8081)
	if err != nil {
		t.Fatalf("LoadDev: %v", err)
	}
	if !cfg.Dev.Enabled || cfg.Dev.DataDir != dir ||
		cfg.Database.Driver != "sqlite" || cfg.Database.DSN != filepath.Join(dir, "mpassid.db") ||
		cfg.Keys.MasterKeyFile != filepath.Join(dir, "master.key") ||
		cfg.Server.Listen != "127.0.0.1:8081" || cfg.Server.PublicURL != "http://127.0.0.1:8081" ||
		cfg.Broker.Issuer != "http://127.0.0.1:8081" || cfg.Log.Format != "text" {
		t.Errorf("LoadDev = %+v", cfg)
	}
}

func TestLoadDevOverlays(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, "log:\n  level: debug\nserver:\n  public_url: http://mpass.localtest.me:8081\n")
	cfg, err := LoadDev(path, []string{"MPASSID_KEYS_MASTER_KEY=" + testKey, "MPASSID_DEV_DEMO=false"}, dir, 8081)
	if err != nil {
		t.Fatalf("LoadDev: %v", err)
	}
	if cfg.Log.Level != "debug" || cfg.Dev.Demo || cfg.Server.PublicURL != "http://mpass.localtest.me:8081" {
		t.Errorf("overlay not applied: %+v", cfg)
	}
	// The given key replaces the dev default key file.
	if cfg.Keys.MasterKey != testKey || cfg.Keys.MasterKeyFile != "" {
		t.Errorf("keys = %+v", cfg.Keys)
	}
	// An explicit key file together with a key is still an error.
	_, err = LoadDev("", []string{"MPASSID_KEYS_MASTER_KEY=" + testKey, "MPASSID_KEYS_MASTER_KEY_FILE=/k"}, dir, 8081)
	if err == nil || !strings.Contains(err.Error(), "keys.master_key: only one") {
		t.Errorf("both keys: %v", err)
	}
}

const examplePath = "../../config.example.yaml"

func TestExampleFile(t *testing.T) {
	cfg, err := Load(examplePath, []string{"MPASSID_KEYS_MASTER_KEY=" + testKey})
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	// Apart from the required values, the example shows the defaults.
	want := Default()
	want.Server.PublicURL = cfg.Server.PublicURL
	want.Database.DSN = cfg.Database.DSN
	want.Keys.MasterKey = testKey
	want.Broker.Issuer = cfg.Server.PublicURL
	want.Broker.SAMLEntityID = cfg.Server.PublicURL + "/idp"
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("example differs from the defaults:\n got %+v\nwant %+v", *cfg, want)
	}
}

// TestExampleDocumentsEveryField checks that every field appears in the
// example with a comment that names its environment variable and default.
func TestExampleDocumentsEveryField(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	comments := map[string]string{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind == yaml.DocumentNode {
			walk(n.Content[0], prefix)
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			comments[path] = k.HeadComment
			walk(v, path)
		}
	}
	walk(&doc, "")
	tab, err := fieldTable()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tab.fields {
		c, ok := comments[f.path]
		if !ok {
			t.Errorf("%s missing from the example", f.path)
			continue
		}
		if !strings.Contains(c, "Env: "+f.env) {
			t.Errorf("%s: comment does not name %s", f.path, f.env)
		}
		if !strings.Contains(c, "Default:") && !strings.Contains(c, "No default") {
			t.Errorf("%s: comment does not give the default", f.path)
		}
	}
}

func FuzzLoad(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"", "roles: [broker]\n", "server: {listen: ':1'}\n", "broker:\n  issuer: http://x\n",
		"registry:\n  max_removal_share: .nan\n", "keys:\n  rsa_bits: 99999999999999999999\n",
		"a: &a [*a]\n", "server: !!binary aGk=\n", "dev: {enabled: yes}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := loadBytes(Default(), "fuzz.yaml", data, required())
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("Load succeeded but Validate fails: %v", verr)
			}
			_ = cfg.Redacted()
		}
	})
}
