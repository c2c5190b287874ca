package exchange_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	return sqlite.OpenTemp(t)
}

func sealer(t *testing.T) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer(make([]byte, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var files = []string{"sets.json", "services.json", "identityproviders.json"}

func readBundle(t *testing.T) (*exchange.Bundle, map[string]any) {
	t.Helper()
	all := &exchange.Bundle{}
	raw := map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := exchange.DecodeBundle(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all.IdentityProviders = append(all.IdentityProviders, b.IdentityProviders...)
		all.Services = append(all.Services, b.Services...)
		all.IntegrationGroups = append(all.IntegrationGroups, b.IntegrationGroups...)
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			raw[k] = v
		}
	}
	return all, raw
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// canonical normalises what the national files write in several ways:
// "true" and true, "6000001" and 6000001 as an id, absent and empty values,
// secrets (masked on export, whatever they were on import), and the order
// of records and allowed services.
func canonical(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		secretAttr := false
		if n, ok := x["name"].(string); ok && exchange.IsSecretAttribute(n) {
			secretAttr = true
		}
		for k, e := range x {
			c := canonical(e, k)
			if secretAttr && k == "content" {
				c = secret(c)
			}
			if isEmpty(c) {
				continue
			}
			out[k] = c
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			out = append(out, canonical(e, ""))
		}
		switch key {
		case "identityProviders", "services", "serviceProviders", "integrationGroups":
			sort.Slice(out, func(i, j int) bool {
				return fmt.Sprint(out[i].(map[string]any)["id"]) < fmt.Sprint(out[j].(map[string]any)["id"])
			})
		case "allowedServiceProviders":
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		}
		return out
	case string:
		switch {
		case key == "client_secret" || key == "clientSecret" || key == "sharedSecret":
			return secret(x)
		case x == "true":
			return true
		case x == "false":
			return false
		case key == "id" && digits.MatchString(x):
			var f float64
			fmt.Sscan(x, &f)
			return f
		}
		return x
	}
	return v
}

func secret(v any) any {
	if s, _ := v.(string); s == "" {
		return ""
	}
	return "<secret>"
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func TestImportExportRoundTrip(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	b, raw := readBundle(t)
	seal := sealer(t)

	// A dry run reports and changes nothing.
	v0, _ := st.ConfigVersion(ctx)
	rep, err := exchange.Import(ctx, st, b, exchange.ImportOptions{DryRun: true, Actor: "import", Sealer: seal})
	if err != nil {
		t.Fatal(err)
	}
	if c, u, n := rep.Counts(); c != 8 || u != 0 || n != 0 || !rep.DryRun {
		t.Fatalf("dry run counts %d/%d/%d: %+v", c, u, n, rep)
	}
	if v1, _ := st.ConfigVersion(ctx); v1 != v0 {
		t.Errorf("dry run moved the config version %d -> %d", v0, v1)
	}
	if _, n, _ := st.ListIntegrations(ctx, store.IntegrationFilter{}); n != 0 {
		t.Errorf("dry run stored %d integrations", n)
	}

	rep, err = exchange.Import(ctx, st, b, exchange.ImportOptions{Actor: "import", Sealer: seal})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := rep.Counts(); c != 8 {
		t.Fatalf("import created %d: %+v", c, rep)
	}

	// The clear OIDC secret is stored sealed with the client_id.
	peli, err := st.GetIntegration(ctx, 5000102)
	if err != nil {
		t.Fatal(err)
	}
	if !keys.IsSealedString(peli.SP.OIDC.ClientSecret) {
		t.Fatalf("client secret stored as %q", peli.SP.OIDC.ClientSecret)
	}
	if s, err := seal.OpenString(peli.SP.OIDC.ClientSecret, "peli-client"); err != nil || s != "a-secret-in-clear" {
		t.Errorf("open client secret = %q, %v", s, err)
	}
	// Allowed services became set permissions.
	ky, _ := st.GetIntegration(ctx, 4000102)
	if !slices.Equal(ky.IdP.Permissions, []int64{6000102}) {
		t.Errorf("permissions = %v", ky.IdP.Permissions)
	}
	set, _ := st.GetIntegration(ctx, 6000101)
	if !set.Set.AllowTestLearnerID {
		t.Error("allowtestlearnerid not read")
	}

	// Export gives equivalent JSON, with no secret in clear.
	out, err := exchange.Export(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "a-secret-in-clear") || strings.Contains(string(data), "v1:") {
		t.Fatalf("export leaks a secret: %s", data)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := canonical(raw, "")
	if g := canonical(got, ""); !reflect.DeepEqual(g, want) {
		gj, _ := json.MarshalIndent(g, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("export differs\n got: %s\nwant: %s", gj, wj)
	}

	// Importing the export again changes nothing, nor does the original.
	for _, in := range []*exchange.Bundle{out, b} {
		v1, _ := st.ConfigVersion(ctx)
		rep, err = exchange.Import(ctx, st, in, exchange.ImportOptions{Actor: "import", Sealer: seal})
		if err != nil {
			t.Fatal(err)
		}
		if c, u, n := rep.Counts(); c != 0 || u != 0 || n != 8 {
			t.Errorf("re-import counts %d/%d/%d: %+v", c, u, n, rep.Changes)
		}
		if v2, _ := st.ConfigVersion(ctx); v2 != v1 {
			t.Errorf("re-import moved the config version")
		}
	}

	// A changed record is an update, reported by the dry run first.
	b.Services[1].ConfigurationEntity.SP.Name = "Peli uusi"
	rep, err = exchange.Import(ctx, st, b, exchange.ImportOptions{DryRun: true, Sealer: seal})
	if err != nil {
		t.Fatal(err)
	}
	if _, u, _ := rep.Counts(); u != 1 {
		t.Errorf("dry run of a change: %+v", rep.Changes)
	}
	if peli, _ := st.GetIntegration(ctx, 5000102); peli.SP.Name != "Peli" {
		t.Error("dry run changed the service")
	}
}

func TestImportInvalidWritesNothing(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	b, _ := readBundle(t)
	b.IdentityProviders[2].ConfigurationEntity.IdP.Type = "bogus"
	_, err := exchange.Import(ctx, st, b, exchange.ImportOptions{Sealer: sealer(t)})
	if !errors.Is(err, exchange.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	if _, n, _ := st.ListIntegrations(ctx, store.IntegrationFilter{}); n != 0 {
		t.Errorf("an invalid import stored %d integrations", n)
	}
	// A secret in clear needs the master key.
	b, _ = readBundle(t)
	if _, err := exchange.Import(ctx, st, b, exchange.ImportOptions{}); !errors.Is(err, exchange.ErrInvalid) {
		t.Errorf("import of a clear secret without a sealer: %v", err)
	}
}

func TestClearSecretAttributeIsMasked(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	b, _ := readBundle(t)
	attrs := b.IdentityProviders[1].ConfigurationEntity.Attributes
	for i := range attrs {
		if attrs[i].Name == "clientKey" {
			attrs[i].Content = "clear-key"
		}
	}
	rep, err := exchange.Import(ctx, st, b, exchange.ImportOptions{Sealer: sealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "clientKey") {
		t.Errorf("warnings = %v", rep.Warnings)
	}
	in, _ := st.GetIntegration(ctx, 4000102)
	if v, _ := in.Attribute(model.AttributeData, "clientKey"); v != exchange.AttributeMask {
		t.Errorf("clientKey stored as %q", v)
	}
}

func TestFlexTypes(t *testing.T) {
	var d exchange.DiscoveryInformation
	for in, want := range map[string]bool{`{"showSchools":"true"}`: true, `{"showSchools":false}`: false, `{"showSchools":"false"}`: false, `{"showSchools":true}`: true} {
		if err := json.Unmarshal([]byte(in), &d); err != nil || bool(d.ShowSchools) != want {
			t.Errorf("%s: %v %v", in, d.ShowSchools, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"showSchools":"maybe"}`), &d); err == nil {
		t.Error("showSchools maybe accepted")
	}
	var g exchange.GroupRef
	if err := json.Unmarshal([]byte(`{"id":"6000001"}`), &g); err != nil || g.ID != 6000001 {
		t.Errorf("string id: %v %v", g.ID, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"x"}`), &g); err == nil {
		t.Error("id x accepted")
	}
}
