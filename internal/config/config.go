// Package config loads and validates the configuration of the mpassid binary.
//
// A configuration is built in three layers, each overriding the one before:
//
//  1. defaults: [Default] for production, [DevDefaults] for `mpassid dev`;
//  2. the YAML file, if one is given (unknown keys are rejected);
//  3. the environment: every field can be set with a variable named
//     MPASSID_ followed by its YAML path upper-cased and joined with "_",
//     e.g. MPASSID_DATABASE_DSN for database.dsn or MPASSID_KEYS_MASTER_KEY
//     for keys.master_key.
//
// So defaults < file < environment. After the layers are applied, values
// derived from others are filled in (broker.issuer and broker.saml_entity_id
// from server.public_url) and the result is validated: [Load] reports every
// problem at once, each naming the field by its YAML path, for example
// "broker.issuer: must be an absolute https URL".
//
// Environment values are parsed by the type of the field: strings as is,
// booleans with strconv.ParseBool, numbers in decimal, durations with
// time.ParseDuration ("90s", "8h") and lists as comma-separated items.
// Variables starting with MPASSID_ that match no field are ignored (tests and
// CI use some, such as MPASSID_TEST_* and MPASSID_REQUIRE_ALL); [UnknownEnv]
// lists the unexpected ones so that the caller can warn about typos.
//
// The package never reads the process environment itself: callers pass
// os.Environ() (or, in tests, their own slice).
package config

import (
	"path/filepath"
	"strconv"
	"time"

	// Embedded zone data, so that registry.timezone loads on hosts without
	// a zoneinfo database (such as minimal containers).
	_ "time/tzdata"
)

// Roles that the binary can run.
const (
	RoleBroker  = "broker"
	RoleAdmin   = "admin"
	RoleOrgSync = "orgsync"
)

// Database drivers.
const (
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"
)

// EnvPrefix starts the name of every environment variable that sets a field.
const EnvPrefix = "MPASSID_"

// RedactedValue replaces secrets in [Config.Redacted].
const RedactedValue = "REDACTED"

// Config is the whole configuration of the mpassid binary.
type Config struct {
	// Roles to run in this process: broker, admin and/or orgsync.
	Roles    []string       `yaml:"roles"`
	Server   ServerConfig   `yaml:"server"`
	Database DatabaseConfig `yaml:"database"`
	Keys     KeysConfig     `yaml:"keys"`
	Broker   BrokerConfig   `yaml:"broker"`
	Registry RegistryConfig `yaml:"registry"`
	Log      LogConfig      `yaml:"log"`
	Dev      DevConfig      `yaml:"dev"`
	Metrics  MetricsConfig  `yaml:"metrics"`
	Admin    AdminConfig    `yaml:"admin"`
}

// AdminConfig is the management service: how its users sign in and how the
// national provisioning interface is protected.
type AdminConfig struct {
	// OIDCIssuer is the OpenID provider administrators sign in with; its
	// groups claim carries the APP_MPASSID_* roles. Empty turns browser
	// sign-in off (API tokens still work).
	OIDCIssuer       string `yaml:"oidc_issuer"`
	OIDCClientID     string `yaml:"oidc_client_id"`
	OIDCClientSecret string `yaml:"oidc_client_secret"`
	// GroupsClaim names the claim with the role groups.
	GroupsClaim string `yaml:"groups_claim"`
	// CASURL is a CAS 3.0 server (the national staff login) offered as an
	// alternative sign-in; empty turns it off.
	CASURL string `yaml:"cas_url"`
	// CASGroupsAttribute is the CAS attribute listing the role groups.
	CASGroupsAttribute string `yaml:"cas_groups_attribute"`
	// ProvisioningUser and ProvisioningPassword protect the national
	// provisioning interface with HTTP Basic; an empty password turns it off.
	ProvisioningUser     string `yaml:"provisioning_user"`
	ProvisioningPassword string `yaml:"provisioning_password"`
	// ExpiryWindow is how far ahead certificate and metadata expiries are
	// reported.
	ExpiryWindow time.Duration `yaml:"expiry_window"`
}

// ServerConfig is the HTTP server.
type ServerConfig struct {
	// Listen is the host:port to listen on.
	Listen string `yaml:"listen"`
	// PublicURL is the external base URL of the service, as seen by browsers
	// and relying parties.
	PublicURL string `yaml:"public_url"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout is http.Server.ReadHeaderTimeout.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
}

// DatabaseConfig is the database connection.
type DatabaseConfig struct {
	// Driver is "postgres" or "sqlite".
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string, or the SQLite file path.
	DSN string `yaml:"dsn"`
	// MaxConns is the size of the connection pool.
	MaxConns int `yaml:"max_conns"`
	// ConnectTimeout bounds one connection attempt.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// StartRetryMax is how long `serve` keeps retrying an unreachable
	// database at start before giving up.
	StartRetryMax time.Duration `yaml:"start_retry_max"`
}

// KeysConfig is the key material. Exactly one of MasterKeyFile and MasterKey
// is required outside dev mode.
type KeysConfig struct {
	// MasterKeyFile is the path of a file holding the master key.
	MasterKeyFile string `yaml:"master_key_file"`
	// MasterKey is the master key itself, base64 of 32 bytes (normally from
	// MPASSID_KEYS_MASTER_KEY). See [DecodeMasterKey].
	MasterKey string `yaml:"master_key"`
	// RotationInterval is how often signing keys are rotated.
	RotationInterval time.Duration `yaml:"rotation_interval"`
	// RSABits is the size of generated RSA signing keys.
	RSABits int `yaml:"rsa_bits"`
}

// BrokerConfig is the identity broker (OIDC provider and SAML IdP).
type BrokerConfig struct {
	// Issuer is the OIDC issuer; [Load] sets it to server.public_url when
	// empty.
	Issuer string `yaml:"issuer"`
	// SAMLEntityID is the SAML IdP entity ID; [Load] sets it to
	// server.public_url + "/idp" when empty.
	SAMLEntityID string `yaml:"saml_entity_id"`
	// SessionLifetime is the absolute lifetime of a login session.
	SessionLifetime time.Duration `yaml:"session_lifetime"`
	// SessionIdleTimeout ends a session that has not been used for this long.
	SessionIdleTimeout time.Duration `yaml:"session_idle_timeout"`
	// TransactionLifetime bounds one login transaction.
	TransactionLifetime time.Duration `yaml:"transaction_lifetime"`
	// CodeLifetime is the lifetime of an OIDC authorization code.
	CodeLifetime time.Duration `yaml:"code_lifetime"`
	// AccessTokenLifetime is the lifetime of an OIDC access token.
	AccessTokenLifetime time.Duration `yaml:"access_token_lifetime"`
	// DefaultLanguage is the user interface language when the browser does
	// not choose one: fi, sv or en.
	DefaultLanguage string `yaml:"default_language"`
	// ConfigPollInterval is how often the broker reloads integration
	// configuration from the database.
	ConfigPollInterval time.Duration `yaml:"config_poll_interval"`
}

// RegistryConfig is the organisation registry (Opintopolku) synchronisation.
type RegistryConfig struct {
	// BaseURL is the base URL of the organisation service API.
	BaseURL string `yaml:"base_url"`
	// CallerID is sent as the Caller-Id header.
	CallerID string `yaml:"caller_id"`
	// SyncTime is the daily time of the synchronisation, HH:MM (24h) in
	// Timezone.
	SyncTime string `yaml:"sync_time"`
	// Timezone is the IANA time zone of SyncTime.
	Timezone string `yaml:"timezone"`
	// Timeout bounds one synchronisation request.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRemovalShare is the largest share (0..1) of organisations one
	// synchronisation may remove; a larger removal is refused as suspicious.
	MaxRemovalShare float64 `yaml:"max_removal_share"`
	// MaxResponseBytes limits the size of a registry response.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
}

// LogConfig is logging.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// DevConfig is the local development mode.
type DevConfig struct {
	// Enabled is set by the `mpassid dev` command; it is not meant as a user
	// setting. It relaxes the https and key requirements.
	Enabled bool `yaml:"enabled"`
	// DataDir holds the development database and keys.
	DataDir string `yaml:"data_dir"`
	// Demo seeds demonstration data in dev mode.
	Demo bool `yaml:"demo"`
}

// MetricsConfig is the Prometheus metrics endpoint.
type MetricsConfig struct {
	// Enabled serves /metrics.
	Enabled bool `yaml:"enabled"`
}

// Default returns the production defaults. They do not validate on their own:
// server.public_url, database.dsn and a master key must be supplied.
func Default() Config {
	return Config{
		Roles: []string{RoleBroker, RoleAdmin, RoleOrgSync},
		Server: ServerConfig{
			Listen:            "127.0.0.1:8080",
			ShutdownTimeout:   15 * time.Second,
			ReadHeaderTimeout: 10 * time.Second,
		},
		Database: DatabaseConfig{
			Driver:         DriverPostgres,
			MaxConns:       20,
			ConnectTimeout: 5 * time.Second,
			StartRetryMax:  2 * time.Minute,
		},
		Keys: KeysConfig{
			RotationInterval: 2160 * time.Hour,
			RSABits:          2048,
		},
		Broker: BrokerConfig{
			SessionLifetime:     8 * time.Hour,
			SessionIdleTimeout:  2 * time.Hour,
			TransactionLifetime: 15 * time.Minute,
			CodeLifetime:        60 * time.Second,
			AccessTokenLifetime: time.Hour,
			DefaultLanguage:     "fi",
			ConfigPollInterval:  2 * time.Second,
		},
		Registry: RegistryConfig{
			BaseURL:          "https://virkailija.opintopolku.fi/organisaatio-service/api/",
			CallerID:         "mpassid",
			SyncTime:         "07:00",
			Timezone:         "Europe/Helsinki",
			Timeout:          60 * time.Second,
			MaxRemovalShare:  0.05,
			MaxResponseBytes: 256 << 20,
		},
		Log: LogConfig{
			Level:  "info",
			Format: "json",
		},
		Dev: DevConfig{
			DataDir: "./mpassid-data",
			Demo:    true,
		},
		Metrics: MetricsConfig{
			Enabled: true,
		},
		Admin: AdminConfig{
			GroupsClaim:        "groups",
			CASGroupsAttribute: "roles",
			ProvisioningUser:   "mpassid-provisioning",
			ExpiryWindow:       30 * 24 * time.Hour,
		},
	}
}

// DevDefaults returns the defaults of `mpassid dev`: dev mode on, an SQLite
// database and a master key file in dataDir, listening on 127.0.0.1:port and
// logging as text.
func DevDefaults(dataDir string, port int) Config {
	c := Default()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c.Dev.Enabled = true
	c.Dev.DataDir = dataDir
	c.Database.Driver = DriverSQLite
	c.Database.DSN = filepath.Join(dataDir, "mpassid.db")
	c.Keys.MasterKeyFile = filepath.Join(dataDir, "master.key")
	c.Server.Listen = addr
	c.Server.PublicURL = "http://" + addr
	c.Log.Format = "text"
	return c
}
