package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPI keeps the OpenAPI document true: every registered route is
// documented with its path parameters, and every documented operation is a
// registered route.
func TestOpenAPI(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string            `json:"operationId"`
			Parameters  []json.RawMessage `json:"parameters"`
			Responses   map[string]any    `json:"responses"`
		} `json:"paths"`
		Components struct {
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	a := &API{}
	seen := map[string]bool{}
	wild := regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`)
	for _, rt := range a.routes() {
		p := wild.ReplaceAllString(strings.TrimPrefix(rt.pattern, BasePath), "{$1}")
		m := strings.ToLower(rt.method)
		op, ok := doc.Paths[p][m]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json (as %s %s)", rt.method, rt.pattern, m, p)
			continue
		}
		seen[m+" "+p] = true
		if op.OperationID == "" || len(op.Responses) == 0 {
			t.Errorf("%s %s: no operationId or responses", m, p)
		}
		// Every path wildcard is a declared path parameter.
		declared := map[string]bool{}
		for _, raw := range op.Parameters {
			var prm struct {
				Ref  string `json:"$ref"`
				Name string `json:"name"`
				In   string `json:"in"`
			}
			json.Unmarshal(raw, &prm)
			if prm.Ref != "" {
				c := doc.Components.Parameters[strings.TrimPrefix(prm.Ref, "#/components/parameters/")]
				prm.Name, prm.In = c.Name, c.In
			}
			if prm.In == "path" {
				declared[prm.Name] = true
			}
		}
		for _, w := range wild.FindAllStringSubmatch(rt.pattern, -1) {
			if !declared[w[1]] {
				t.Errorf("%s %s: path parameter %s not declared", m, p, w[1])
			}
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !seen[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not a route", m, p)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	a := &API{}
	rec := httptest.NewRecorder()
	a.handleOpenAPI(rec, httptest.NewRequest("GET", BasePath+"/openapi.json", nil), nil)
	if rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("openapi.json served as %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}
