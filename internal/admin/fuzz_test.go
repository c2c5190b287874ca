package admin

import (
	"testing"

	"github.com/mpassid/mpassid/internal/admin/exchange"
)

// FuzzDecodeRecord: the integration decoder and the conversion to model
// never panic, and what converts also validates structurally or says why.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"deploymentPhase":0,"organization":{"oid":"1.2"},"configurationEntity":{"set":{"name":"S"},"attributes":[]}}`,
		`{"configurationEntity":{"sp":{"type":"saml","name":"x","metadata":{"entityId":"e","assertionConsumerServiceUrls":[{"bindings":"HTTP-POST","location":"https://a"}]}},"attributes":[]},"integrationGroups":[{"id":"6000001"}]}`,
		`{"configurationEntity":{"idp":{"type":"wilma","idpId":"w"},"attributes":[{"name":"a","content":"b","type":"user"}]},"discoveryInformation":{"showSchools":"true","schools":["00001"]},"permissions":[1]}`,
		`{"configurationEntity":{"sp":{"type":"oidc","name":"x","metadata":{"client_id":"c","redirect_uris":["https://a"]}}}}`,
		`{"id":"x"}`, `[]`, `null`, `{"configurationEntity":{"idp":{},"sp":{}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := exchange.DecodeRecord(data)
		if err != nil {
			return
		}
		in, _, err := exchange.ToModel(rec, func(exchange.AllowedService) (int64, bool) { return 1, true })
		if err != nil {
			return
		}
		_ = in.Validate()
		back := exchange.FromModel(in, exchange.Options{})
		if back.ID != in.ID {
			t.Fatalf("id %d -> %d", in.ID, back.ID)
		}
	})
}

// FuzzDecodeStrict covers the decoder of the other JSON bodies (tokens,
// provisioning runs).
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"ci","groups":["APP_MPASSID_KATSELIJA_1.2"]}`, `{"deploymentPhase":1,"lastTime":"2024-01-01T00:00:00Z"}`, `{} {}`, `{"x":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr TokenRequest
		if decodeStrict(data, &tr) == nil {
			RolesFromGroups(tr.Groups)
		}
		var pr ProvisioningRun
		_ = decodeStrict(data, &pr)
	})
}
