package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FieldError is one problem with one field, named by its YAML path.
type FieldError struct {
	Field   string // YAML path, e.g. "broker.issuer"
	Message string // what is wrong, e.g. "must be an absolute https URL"
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// validator collects field errors in the order they are found.
type validator struct{ errs []error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(field, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		v.add(field, "must be one of %s (got %q)", strings.Join(allowed, ", "), value)
	}
}

func (v *validator) positive(field string, d time.Duration) {
	if d <= 0 {
		v.add(field, "must be greater than zero (got %s)", d)
	}
}

// Validate checks the whole configuration and returns every problem found,
// as *FieldError values joined with errors.Join, in the order of the fields
// in Config; nil when all is well. Empty broker.issuer and
// broker.saml_entity_id are checked as the values [Load] derives for them.
func (c *Config) Validate() error {
	v := &validator{}
	dev := c.Dev.Enabled

	// roles
	if len(c.Roles) == 0 {
		v.add("roles", "at least one role is required (broker, admin, orgsync)")
	}
	for i, r := range c.Roles {
		switch {
		case r != RoleBroker && r != RoleAdmin && r != RoleOrgSync:
			v.add("roles", "unknown role %q (want broker, admin or orgsync)", r)
		case slices.Contains(c.Roles[:i], r):
			v.add("roles", "duplicate role %q", r)
		}
	}

	// server
	if msg := checkHostPort(c.Server.Listen); msg != "" {
		v.add("server.listen", "%s", msg)
	}
	publicOK := false
	if c.Server.PublicURL == "" {
		v.add("server.public_url", "required: the external base URL, e.g. https://mpass.example.fi")
	} else if msg := checkWebURL(c.Server.PublicURL, dev); msg != "" {
		v.add("server.public_url", "%s", msg)
	} else {
		publicOK = true
	}
	v.positive("server.shutdown_timeout", c.Server.ShutdownTimeout)
	v.positive("server.read_header_timeout", c.Server.ReadHeaderTimeout)

	// database
	switch c.Database.Driver {
	case DriverPostgres:
		switch {
		case c.Database.DSN == "":
			v.add("database.dsn", "required for driver postgres (set MPASSID_DATABASE_DSN)")
		case strings.Contains(c.Database.DSN, "://"):
			if u, err := url.Parse(c.Database.DSN); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				v.add("database.dsn", "must be a postgres:// URL or a key=value connection string")
			}
		}
	case DriverSQLite:
		switch {
		case c.Database.DSN == "":
			v.add("database.dsn", "required: the SQLite database file path")
		case strings.Contains(c.Database.DSN, "://"):
			v.add("database.dsn", "must be a file path for driver sqlite")
		}
	default:
		v.add("database.driver", "must be one of postgres, sqlite (got %q)", c.Database.Driver)
	}
	if c.Database.MaxConns < 1 {
		v.add("database.max_conns", "must be at least 1 (got %d)", c.Database.MaxConns)
	}
	v.positive("database.connect_timeout", c.Database.ConnectTimeout)
	v.positive("database.start_retry_max", c.Database.StartRetryMax)

	// keys
	switch {
	case c.Keys.MasterKey != "" && c.Keys.MasterKeyFile != "":
		v.add("keys.master_key", "only one of keys.master_key and keys.master_key_file may be set")
	case c.Keys.MasterKey == "" && c.Keys.MasterKeyFile == "" && !dev:
		v.add("keys.master_key", "required: set keys.master_key_file or MPASSID_KEYS_MASTER_KEY")
	}
	if c.Keys.MasterKey != "" {
		if _, err := DecodeMasterKey(c.Keys.MasterKey); err != nil {
			v.add("keys.master_key", "%s", err.Error())
		}
	}
	if c.Keys.RotationInterval < 24*time.Hour {
		v.add("keys.rotation_interval", "must be at least 24h (got %s)", c.Keys.RotationInterval)
	}
	if c.Keys.RSABits != 2048 && c.Keys.RSABits != 3072 && c.Keys.RSABits != 4096 {
		v.add("keys.rsa_bits", "must be 2048, 3072 or 4096 (got %d)", c.Keys.RSABits)
	}

	// broker
	base := strings.TrimRight(c.Server.PublicURL, "/")
	issuer := c.Broker.Issuer
	if issuer == "" {
		issuer = base
	}
	if issuer != "" && (publicOK || c.Broker.Issuer != "") {
		if msg := checkIssuer(issuer, dev); msg != "" {
			v.add("broker.issuer", "%s", msg)
		}
	}
	entityID := c.Broker.SAMLEntityID
	if entityID == "" && base != "" {
		entityID = base + "/idp"
	}
	if entityID != "" && (publicOK || c.Broker.SAMLEntityID != "") {
		if _, ok := absoluteURL(entityID); !ok {
			v.add("broker.saml_entity_id", "must be an absolute http or https URL")
		}
	}
	v.positive("broker.session_lifetime", c.Broker.SessionLifetime)
	v.positive("broker.session_idle_timeout", c.Broker.SessionIdleTimeout)
	if c.Broker.SessionIdleTimeout > c.Broker.SessionLifetime {
		v.add("broker.session_idle_timeout", "must not exceed broker.session_lifetime (%s > %s)", c.Broker.SessionIdleTimeout, c.Broker.SessionLifetime)
	}
	v.positive("broker.transaction_lifetime", c.Broker.TransactionLifetime)
	if c.Broker.CodeLifetime < 10*time.Second || c.Broker.CodeLifetime > 10*time.Minute {
		v.add("broker.code_lifetime", "must be between 10s and 10m (got %s)", c.Broker.CodeLifetime)
	}
	v.positive("broker.access_token_lifetime", c.Broker.AccessTokenLifetime)
	v.oneOf("broker.default_language", c.Broker.DefaultLanguage, "fi", "sv", "en")
	v.positive("broker.config_poll_interval", c.Broker.ConfigPollInterval)

	// registry
	if _, ok := absoluteURL(c.Registry.BaseURL); !ok {
		v.add("registry.base_url", "must be an absolute http or https URL (got %q)", c.Registry.BaseURL)
	}
	if strings.TrimSpace(c.Registry.CallerID) == "" {
		v.add("registry.caller_id", "required: the Caller-Id sent to the registry")
	}
	if !regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`).MatchString(c.Registry.SyncTime) {
		v.add("registry.sync_time", "must be HH:MM in 24-hour time, e.g. 07:00 (got %q)", c.Registry.SyncTime)
	}
	if c.Registry.Timezone == "" {
		v.add("registry.timezone", "required: an IANA time zone, e.g. Europe/Helsinki")
	} else if _, err := time.LoadLocation(c.Registry.Timezone); err != nil {
		v.add("registry.timezone", "unknown time zone %q", c.Registry.Timezone)
	}
	v.positive("registry.timeout", c.Registry.Timeout)
	if s := c.Registry.MaxRemovalShare; math.IsNaN(s) || s < 0 || s > 1 {
		v.add("registry.max_removal_share", "must be between 0 and 1 (got %v)", s)
	}
	if c.Registry.MaxResponseBytes <= 0 {
		v.add("registry.max_response_bytes", "must be greater than zero (got %d)", c.Registry.MaxResponseBytes)
	}

	// log
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")

	// dev
	if dev && c.Dev.DataDir == "" {
		v.add("dev.data_dir", "required in dev mode")
	}

	// admin
	if c.Admin.OIDCIssuer != "" {
		if msg := checkWebURL(c.Admin.OIDCIssuer, dev); msg != "" {
			v.add("admin.oidc_issuer", "%s", msg)
		}
		if c.Admin.OIDCClientID == "" {
			v.add("admin.oidc_client_id", "required with admin.oidc_issuer")
		}
	}
	if c.Admin.CASURL != "" {
		if msg := checkWebURL(c.Admin.CASURL, dev); msg != "" {
			v.add("admin.cas_url", "%s", msg)
		}
	}
	if c.Admin.GroupsClaim == "" {
		v.add("admin.groups_claim", "must not be empty")
	}
	v.positive("admin.expiry_window", c.Admin.ExpiryWindow)

	return errors.Join(v.errs...)
}

// DecodeMasterKey decodes a master key given as standard or URL-safe base64,
// padded or not, and checks that it is 32 bytes long.
func DecodeMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("must be 32 bytes of base64 (got %d bytes)", len(b))
		}
		return b, nil
	}
	return nil, errors.New("must be 32 bytes of base64 (not valid base64)")
}

// checkHostPort returns what is wrong with a listen address, or "".
func checkHostPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080 (got %q)", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("must be host:port with a port between 1 and 65535 (got %q)", addr)
	}
	return ""
}

// absoluteURL parses raw and reports whether it is an absolute http(s) URL
// with a host.
func absoluteURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, false
	}
	return u, true
}

func isLocalHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// checkWebURL returns what is wrong with an external base URL, or "": it must
// be absolute, https unless dev or on the local host, without user info,
// query or fragment.
func checkWebURL(raw string, dev bool) string {
	u, ok := absoluteURL(raw)
	if ok && u.Scheme != "https" && !dev && !isLocalHost(u.Hostname()) {
		ok = false
	}
	if !ok {
		if dev {
			return "must be an absolute http or https URL"
		}
		return "must be an absolute https URL"
	}
	switch {
	case u.User != nil:
		return "must not contain user info"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a query or fragment"
	}
	return ""
}

// checkIssuer is checkWebURL plus the OIDC rule against a trailing slash.
func checkIssuer(raw string, dev bool) string {
	if msg := checkWebURL(raw, dev); msg != "" {
		return msg
	}
	if strings.HasSuffix(raw, "/") {
		return "must not end with a slash"
	}
	return ""
}
