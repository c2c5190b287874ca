package broker

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/binenc"
)

func TestTransactionCodec(t *testing.T) {
	created := time.Date(2026, 11, 27, 7, 59, 30, 123000000, time.UTC)
	cases := []transaction{
		{CreatedAt: created},
		{
			Request: Request{
				Protocol: ProtocolSAML, ServiceID: 42, ForceAuthn: true, Passive: true,
				MaxAge: 90 * time.Second, HasMaxAge: true, Language: "sv",
				Sources: []string{"wilma-espoo", "testi"}, LoginHint: "oppilas@example.fi",
				State: []byte(`{"id":"_a","acs":"https://sp.example/acs"}`),
			},
			SourceID: 7, ConnectorState: []byte{0, 1, 2, 255}, Language: "fi", CreatedAt: created,
		},
	}
	for _, want := range cases {
		got, err := decodeTransaction(encodeTransaction(&want))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("round trip\n got %+v\nwant %+v", *got, want)
		}
		// A cookie sealed as JSON by an earlier version still opens.
		old, err := json.Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		got, err = decodeTransaction(old)
		if err != nil || !got.CreatedAt.Equal(want.CreatedAt) || got.Request.ServiceID != want.Request.ServiceID || string(got.Request.State) != string(want.Request.State) {
			t.Errorf("JSON of an earlier version: got %+v, %v", got, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 0}, []byte(`{"request":`)} {
		if _, err := decodeTransaction(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	if _, err := decodeTransaction([]byte{txVersion}); !errors.Is(err, binenc.ErrMalformed) {
		t.Errorf("truncated record: %v", err)
	}
}

func FuzzDecodeTransaction(f *testing.F) {
	f.Add(encodeTransaction(&transaction{Request: Request{Protocol: ProtocolOIDC, Sources: []string{"a"}}, CreatedAt: time.Unix(1, 0)}))
	f.Add([]byte(`{"request":{"Protocol":"oidc"},"createdAt":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tx, err := decodeTransaction(data); err == nil {
			checkReencodes(t, data, tx, encodeTransaction, decodeTransaction, emptyAsNil)
		}
	})
}

// checkReencodes checks that v, decoded from data, encodes and decodes
// again to the same value as normal sees it.
func checkReencodes[T any](t *testing.T, data []byte, v *T, encode func(*T) []byte, decode func([]byte) (*T, error), normal func(*T) T) {
	t.Helper()
	again, err := decode(encode(v))
	if err != nil {
		t.Fatalf("%x: decoded %+v, then %v", data, *v, err)
	}
	if !reflect.DeepEqual(normal(again), normal(v)) {
		t.Errorf("%x: decoded %+v, then %+v", data, *v, *again)
	}
}

// emptyAsNil makes empty lists nil, as JSON tells [] from null and binenc
// does not, and times UTC, as JSON keeps a zone and binenc does not:
// nothing reads either difference.
func emptyAsNil(tx *transaction) transaction {
	c := *tx
	c.CreatedAt = c.CreatedAt.UTC()
	if len(c.Request.Sources) == 0 {
		c.Request.Sources = nil
	}
	if len(c.Request.State) == 0 {
		c.Request.State = nil
	}
	if len(c.ConnectorState) == 0 {
		c.ConnectorState = nil
	}
	return c
}

// A cookie that opens but does not decode (a newer version's, met during
// a rollback) is no transaction: the user is sent to start again, not
// shown a technical error.
func TestUndecodableTransactionIsNone(t *testing.T) {
	b := &Broker{cfg: Config{TransactionLifetime: time.Minute, Now: time.Now}, sealer: testSealerF(t)}
	const id = "abcdefghijklmnop"
	sealed, err := b.sealer.SealString("\x09 a future format", txCookieName(id))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: txCookieName(id), Value: sealed})
	if tx, err := b.loadTransaction(r, id); !errors.Is(err, errNoTransaction) || tx != nil {
		t.Fatalf("got %+v, %v; want errNoTransaction", tx, err)
	}
}
