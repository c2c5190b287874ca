package broker

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/binenc"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

func testSessionData() []sessionData {
	zero, one, seven := 0, 1, 7
	authn := time.Date(2026, 11, 27, 7, 59, 30, 123456789, time.UTC)
	return []sessionData{
		{AuthnInstant: authn},
		{
			User: &model.User{
				UID: "MPASSOID.0123456789abcdef0123456789abcdef01234567", GivenName: "Åsa", Surname: "Meikäläinen",
				Nickname: "Åsku", LearnerID: "1.2.246.562.98.12345678901", TestLearnerID: true,
				Roles: []model.UserRole{
					{ProviderOID: "1.2.246.562.10.1", ProviderName: "Esimerkkilä", SchoolCode: "00001", SchoolOID: "1.2.246.562.10.2",
						SchoolName: "Koulu", OfficeOID: "1.2.246.562.10.3", OfficeName: "Toimipiste", Group: "7A",
						RoleName: model.RoleNamePupil, RoleCode: 1, LearningMaterialsCharge: &zero},
					{SchoolCode: "00002", RoleName: model.RoleNameTeacher, RoleCode: model.RoleCodeUnmapped, LearningMaterialsCharge: &one},
					{},
				},
				ClassLevel: &seven, OriginalIssuer: "1.2.246.562.10.1", Source: "Testi",
			},
			SourceID: 4000001, Source: "Testi", AuthnInstant: authn,
			Participants: []Participant{
				{ServiceID: 5000001, Protocol: ProtocolOIDC, Data: []byte(`{"client_id":"c","sid":"s","sub":"x"}`)},
				{ServiceID: 5000002, Protocol: ProtocolSAML, Data: []byte{0, 1, 255}},
			},
		},
		{User: &model.User{UID: "MPASSOID.x"}, Source: "s"},
	}
}

// A session's record reads back as it was, and records of earlier
// versions (JSON) still read.
func TestSessionCodec(t *testing.T) {
	for _, want := range testSessionData() {
		got, asJSON, err := decodeSession(encodeSession(&want))
		if err != nil || asJSON {
			t.Fatalf("decode: %v, JSON %v", err, asJSON)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("round trip\n got %+v\nwant %+v", *got, want)
		}
		old, err := json.Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		got, asJSON, err = decodeSession(old)
		if err != nil || !asJSON || !got.AuthnInstant.Equal(want.AuthnInstant) || !reflect.DeepEqual(got.User, want.User) || len(got.Participants) != len(want.Participants) {
			t.Errorf("JSON of an earlier version: got %+v, %v, JSON %v", got, err, asJSON)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 0}, []byte(`{"user":`), {sessionVersion}, {sessionVersion, 1, 200}} {
		if _, _, err := decodeSession(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	full := encodeSession(&testSessionData()[1])
	if _, _, err := decodeSession(full[:len(full)-1]); !errors.Is(err, binenc.ErrMalformed) {
		t.Errorf("truncated record: %v", err)
	}
}

// A participant added to a session an earlier version wrote keeps the
// record JSON, so that version, rolled back to, still reads it.
func TestAddParticipantKeepsTheRecordsForm(t *testing.T) {
	e := newEnv(t, 1)
	ctx := context.Background()
	now := time.Now()
	for _, asJSON := range []bool{true, false} {
		d := testSessionData()[1]
		raw := encodeSession(&d)
		if asJSON {
			raw, _ = json.Marshal(&d)
		}
		id := "session-json"
		if !asJSON {
			id = "session-binenc"
		}
		if err := e.st.PutSession(ctx, store.Session{ID: id, SubjectHash: "h", Data: raw, CreatedAt: now, ExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := e.b.AddParticipant(ctx, id, Participant{ServiceID: 5000003, Protocol: ProtocolOIDC, Data: []byte("y")}); err != nil {
			t.Fatal(err)
		}
		rec, err := e.st.GetSession(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, gotJSON, err := decodeSession(rec.Data)
		if err != nil || gotJSON != asJSON || len(got.Participants) != 3 || got.Participants[2].ServiceID != 5000003 {
			t.Errorf("JSON %v: record %+v, JSON %v, %v", asJSON, got, gotJSON, err)
		}
	}
}

func FuzzDecodeSession(f *testing.F) {
	for _, d := range testSessionData() {
		f.Add(encodeSession(&d))
	}
	f.Add([]byte(`{"user":{"uid":"MPASSOID.x"},"sourceId":1,"source":"s","authnInstant":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		decode := func(data []byte) (*sessionData, error) {
			d, _, err := decodeSession(data)
			return d, err
		}
		if d, err := decode(data); err == nil {
			checkReencodes(t, data, d, encodeSession, decode, sessionEmptyAsNil)
		}
	})
}

// sessionEmptyAsNil is emptyAsNil for a session's record.
func sessionEmptyAsNil(d *sessionData) sessionData {
	c := *d
	c.AuthnInstant = c.AuthnInstant.UTC()
	if len(c.Participants) == 0 {
		c.Participants = nil
	}
	for i := range c.Participants {
		if len(c.Participants[i].Data) == 0 {
			c.Participants[i].Data = nil
		}
	}
	if c.User != nil && len(c.User.Roles) == 0 {
		u := *c.User
		u.Roles = nil
		c.User = &u
	}
	return c
}

// Every field of the user's record and its roles survives the record, so
// a field added to model.User without its line in encodeSession fails
// here rather than vanishing from sessions.
func TestSessionCodecKeepsEveryUserField(t *testing.T) {
	var role model.UserRole
	fillFields(t, reflect.ValueOf(&role).Elem())
	u := &model.User{}
	fillFields(t, reflect.ValueOf(u).Elem())
	u.Roles = []model.UserRole{role}
	d := sessionData{User: u, SourceID: 1, Source: "s", AuthnInstant: time.Unix(1, 0).UTC()}
	got, _, err := decodeSession(encodeSession(&d))
	if err != nil || !reflect.DeepEqual(got.User, u) {
		t.Errorf("user\n got %+v, %v\nwant %+v", got.User, err, u)
	}
}

// fillFields sets every field of the struct v to a value other than its
// zero value.
func fillFields(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.String:
			f.SetString("value " + v.Type().Field(i).Name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Int:
			f.SetInt(int64(i + 2))
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Int:
			n := i + 3
			f.Set(reflect.ValueOf(&n))
		case f.Kind() == reflect.Slice && f.Type().Elem() == reflect.TypeOf(model.UserRole{}):
			// set by the caller
		default:
			t.Fatalf("field %s of %s: a kind the session record does not write (%s); add it to encodeSession and here", v.Type().Field(i).Name, v.Type(), f.Kind())
		}
	}
}
