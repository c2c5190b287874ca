package ui

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// fieldArgs is what the field templates of fields.html get.
type fieldArgs struct {
	P                 *page
	Name, ID          string
	Label, Hint       string // message keys; Hint may be ""
	Value             string
	Checked, Required bool
}

// funcs are the template functions; constant-like, shared by every page.
var funcs = template.FuncMap{
	"fld": func(p *page, name, label, hint string, value any) fieldArgs {
		a := fieldArgs{P: p, Name: name, ID: fieldID(name), Label: label, Hint: hint}
		switch v := value.(type) {
		case bool:
			a.Checked = v
		case nil:
		default:
			a.Value = fmt.Sprint(v)
		}
		return a
	},
	"fid": fieldID,
	"date": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02")
			}
		}
		return ""
	},
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"hasID":    func(list []int64, id int64) bool { return slices.Contains(list, id) },
	"hasStr":   func(list []string, s string) bool { return slices.Contains(list, s) },
	"join":     strings.Join,
	"phaseKey": func(p model.DeploymentPhase) string { return fmt.Sprintf("phase.%d", int(p)) },
	"roleKey":  func(r model.Role) string { return "role." + string(r) },
	"shortBinding": func(b string) string {
		return strings.TrimPrefix(b, "urn:oasis:names:tc:SAML:2.0:bindings:")
	},
	"instType": func(lang string, code int) string { return institutionTypeName(lang, code) },
	"add":      func(a, b int) int { return a + b },
	"changesArgs": func(p *page, rows []changeRow, of ...string) changesArgs {
		return changesArgs{P: p, Rows: rows, Of: strings.Join(of, " ")}
	},
	"int":  func(p model.DeploymentPhase) int { return int(p) },
	"list": func(s ...string) []string { return s },
	"secretHint": func(stored bool) string {
		if stored {
			return "form.secret.keep"
		}
		return "form.secret.new"
	},
}

// fieldID is the HTML id of a form field.
func fieldID(name string) string { return "f-" + strings.NewReplacer(".", "-", "_", "-").Replace(name) }

// changesArgs is what the changes template of fields.html gets.
type changesArgs struct {
	P    *page
	Rows []changeRow
	// Of names whose changes they are ("version 3"), so that the tables
	// of a page are told apart; "" when there is one.
	Of string
}
