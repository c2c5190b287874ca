package config

import (
	"net/url"
	"strings"
)

// Redacted returns a copy of c fit for logging: keys.master_key and the
// password in database.dsn (URL or key=value form) are replaced by
// "REDACTED". Empty secrets stay empty.
func (c *Config) Redacted() Config {
	r := *c
	r.Roles = append([]string(nil), c.Roles...)
	if r.Keys.MasterKey != "" {
		r.Keys.MasterKey = RedactedValue
	}
	r.Database.DSN = redactDSN(c.Database.DSN)
	if r.Admin.OIDCClientSecret != "" {
		r.Admin.OIDCClientSecret = RedactedValue
	}
	if r.Admin.ProvisioningPassword != "" {
		r.Admin.ProvisioningPassword = RedactedValue
	}
	return r
}

// redactDSN hides the password in a URL or key=value connection string.
func redactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return RedactedValue // cannot tell where the password is
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), RedactedValue)
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", RedactedValue)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if !strings.Contains(dsn, "=") {
		return dsn // a file path
	}
	return redactKeyValue(dsn)
}

// redactKeyValue rewrites a libpq key=value string with the value of the
// password key replaced. Values may be single-quoted with backslash escapes.
func redactKeyValue(s string) string {
	var b strings.Builder
	i := 0
	for i < len(s) {
		// Copy leading spaces.
		for i < len(s) && s[i] == ' ' {
			b.WriteByte(' ')
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			b.WriteString(s[i:])
			break
		}
		key := strings.TrimSpace(s[i : i+eq])
		b.WriteString(s[i : i+eq+1])
		i += eq + 1
		for i < len(s) && s[i] == ' ' {
			b.WriteByte(' ')
			i++
		}
		start := i
		if i < len(s) && s[i] == '\'' {
			i++
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			i++ // closing quote
		} else {
			for i < len(s) && s[i] != ' ' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
		}
		i = min(i, len(s))
		if key == "password" {
			b.WriteString(RedactedValue)
		} else {
			b.WriteString(s[start:i])
		}
	}
	return b.String()
}
