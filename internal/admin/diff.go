package admin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/model"
)

// bookkeeping fields are left out of diffs: they change with every save.
var bookkeeping = []string{"version", "lastUpdatedOn", "createdAt", "updatedBy"}

// diffIntegrations lists the values that differ between two saved states,
// by JSON path in the record's terms (configurationEntity.sp.name,
// discoveryInformation.schools[1]). before nil lists everything as new.
// Secrets show as masks: a diff never reveals one.
func diffIntegrations(before, after *model.Integration) ([]Change, error) {
	flat := func(in *model.Integration) (map[string]any, error) {
		out := map[string]any{}
		if in == nil {
			return out, nil
		}
		data, err := json.Marshal(exchange.FromModel(in, exchange.Options{}))
		if err != nil {
			return nil, fmt.Errorf("diff: %w", err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("diff: %w", err)
		}
		for _, k := range bookkeeping {
			delete(v, k)
		}
		flatten("", v, out)
		return out, nil
	}
	a, err := flat(before)
	if err != nil {
		return nil, err
	}
	b, err := flat(after)
	if err != nil {
		return nil, err
	}
	var paths []string
	for k := range a {
		paths = append(paths, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			paths = append(paths, k)
		}
	}
	slices.Sort(paths)
	changes := []Change{}
	for _, p := range paths {
		if !reflect.DeepEqual(a[p], b[p]) {
			changes = append(changes, Change{Path: p, From: a[p], To: b[p]})
		}
	}
	// A secret that changed looks the same masked; say that it changed.
	if before != nil && secretsDiffer(before, after) {
		changes = append(changes, Change{Path: "secret", From: exchange.Mask, To: exchange.Mask})
	}
	return changes, nil
}

func secretsDiffer(a, b *model.Integration) bool {
	switch {
	case a.IdP != nil && b.IdP != nil:
		return a.IdP.SharedSecret != b.IdP.SharedSecret || a.IdP.ClientSecret != b.IdP.ClientSecret
	case a.SP != nil && b.SP != nil && a.SP.OIDC != nil && b.SP.OIDC != nil:
		return a.SP.OIDC.ClientSecret != b.SP.OIDC.ClientSecret
	}
	return false
}

func flatten(prefix string, v any, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	default:
		out[prefix] = v
	}
}
