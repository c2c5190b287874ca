package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load builds the production configuration: [Default], overlaid with the YAML
// file at path (skipped when path is ""), overlaid with the MPASSID_*
// variables in environ (pass os.Environ()), then validated.
func Load(path string, environ []string) (*Config, error) {
	return load(Default(), path, environ)
}

// LoadDev is [Load] for `mpassid dev`: it starts from
// [DevDefaults](dataDir, port) instead of [Default]. When the file or the
// environment sets keys.master_key and leaves keys.master_key_file at its dev
// default, the default file is dropped so that the given key is used.
func LoadDev(path string, environ []string, dataDir string, port int) (*Config, error) {
	return load(DevDefaults(dataDir, port), path, environ)
}

func load(base Config, path string, environ []string) (*Config, error) {
	var data []byte
	if path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading config file: %w", err)
		}
	}
	return loadBytes(base, path, data, environ)
}

// loadBytes is load with the file already read; name is the file name for
// messages.
func loadBytes(base Config, name string, data []byte, environ []string) (*Config, error) {
	cfg := base
	cfg.Roles = append([]string(nil), base.Roles...)
	fields, err := fieldTable()
	if err != nil {
		return nil, err
	}
	if name != "" {
		if err := decodeYAML(&cfg, data, name, fields); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(&cfg, environ, fields); err != nil {
		return nil, err
	}
	if base.Dev.Enabled && cfg.Keys.MasterKey != "" && cfg.Keys.MasterKeyFile == base.Keys.MasterKeyFile {
		cfg.Keys.MasterKeyFile = ""
	}
	cfg.derive()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// derive fills in the fields whose defaults depend on other fields.
func (c *Config) derive() {
	if checkWebURL(c.Server.PublicURL, c.Dev.Enabled) != "" {
		return // reported as a server.public_url problem only
	}
	base := strings.TrimRight(c.Server.PublicURL, "/")
	if c.Broker.Issuer == "" {
		c.Broker.Issuer = base
	}
	if c.Broker.SAMLEntityID == "" {
		c.Broker.SAMLEntityID = base + "/idp"
	}
}

// notFoundPattern matches yaml.v3's message for an unknown key.
const notFoundPattern = `^line (\d+): field (.*) not found in type (\S+)$`

func decodeYAML(cfg *Config, data []byte, name string, fields *table) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if errors.Is(err, io.EOF) {
		return nil // empty file
	}
	if err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("config file %s: %s", name, strings.Join(fields.rewriteYAMLErrors(te.Errors), "; "))
		}
		return fmt.Errorf("config file %s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: more than one YAML document", name)
	}
	return nil
}

// rewriteYAMLErrors turns yaml.v3's "field x not found in type config.T"
// into a message naming the key by its YAML path.
func (t *table) rewriteYAMLErrors(msgs []string) []string {
	re := regexp.MustCompile(notFoundPattern)
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m
		sm := re.FindStringSubmatch(m)
		if sm == nil {
			continue
		}
		section, ok := t.sections[sm[3]]
		if !ok {
			continue
		}
		key := sm[2]
		if section != "" {
			key = section + "." + key
		}
		out[i] = fmt.Sprintf("line %s: unknown key %q", sm[1], key)
	}
	return out
}

// field is one leaf of Config.
type field struct {
	path  string // YAML path, e.g. "server.listen"
	env   string // environment variable, e.g. "MPASSID_SERVER_LISTEN"
	index []int  // reflect field index path from Config
	typ   reflect.Type
}

// table describes Config as found by reflection over its yaml tags.
type table struct {
	fields   []field
	byEnv    map[string]*field
	sections map[string]string // Go type name ("config.ServerConfig") -> YAML path ("server")
}

func isDuration(t reflect.Type) bool    { return t == reflect.TypeFor[time.Duration]() }
func isStringSlice(t reflect.Type) bool { return t == reflect.TypeFor[[]string]() }

// fieldTable walks Config once per call.
func fieldTable() (*table, error) {
	t := &table{byEnv: map[string]*field{}, sections: map[string]string{}}
	if err := t.walk(reflect.TypeFor[Config](), "", nil); err != nil {
		return nil, err
	}
	for i := range t.fields {
		f := &t.fields[i]
		if prev, dup := t.byEnv[f.env]; dup {
			return nil, fmt.Errorf("config: %s and %s share the environment variable %s", prev.path, f.path, f.env)
		}
		t.byEnv[f.env] = f
	}
	return t, nil
}

func (t *table) walk(typ reflect.Type, prefix string, index []int) error {
	t.sections[typ.String()] = prefix
	for i := range typ.NumField() {
		sf := typ.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			return fmt.Errorf("config: field %s.%s has no yaml tag", typ, sf.Name)
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		idx := append(append([]int(nil), index...), i)
		ft := sf.Type
		switch {
		case isDuration(ft), isStringSlice(ft):
		case ft.Kind() == reflect.Struct:
			if err := t.walk(ft, path, idx); err != nil {
				return err
			}
			continue
		default:
			switch ft.Kind() {
			case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float64:
			default:
				return fmt.Errorf("config: field %s has unsupported type %s", path, ft)
			}
		}
		t.fields = append(t.fields, field{
			path:  path,
			env:   EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_")),
			index: idx,
			typ:   ft,
		})
	}
	return nil
}

// UnknownEnv returns the names of the MPASSID_* variables in environ that set
// no field, in order, leaving out those used by tests and CI (MPASSID_TEST_*
// and MPASSID_REQUIRE_ALL). [Load] ignores them; callers may warn about them
// as likely typos.
func UnknownEnv(environ []string) []string {
	t, err := fieldTable()
	if err != nil {
		return nil
	}
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || isNonConfigEnv(name) {
			continue
		}
		if _, ok := t.byEnv[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

func isNonConfigEnv(name string) bool {
	return strings.HasPrefix(name, EnvPrefix+"TEST_") || name == EnvPrefix+"REQUIRE_ALL"
}

// applyEnv overlays the variables in environ onto cfg. When a variable is
// given more than once, the last one wins (as with exec.Cmd.Env).
func applyEnv(cfg *Config, environ []string, t *table) error {
	root := reflect.ValueOf(cfg).Elem()
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		f, ok := t.byEnv[name]
		if !ok {
			continue
		}
		if err := setFromString(root.FieldByIndex(f.index), f.typ, value); err != nil {
			return fmt.Errorf("%s (%s): %w", f.env, f.path, err)
		}
	}
	return nil
}

func setFromString(v reflect.Value, typ reflect.Type, s string) error {
	switch {
	case isDuration(typ):
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid duration %q", s)
		}
		v.SetInt(int64(d))
		return nil
	case isStringSlice(typ):
		list := []string{}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
		return nil
	}
	switch typ.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid boolean %q (want true or false)", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, typ.Bits())
		if err != nil {
			return fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", s)
		}
		v.SetFloat(x)
	default:
		return fmt.Errorf("unsupported type %s", typ)
	}
	return nil
}
