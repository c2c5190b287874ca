package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// testAdmin checks the management service's own persistence: logos, API
// tokens and provisioning runs.
func testAdmin(t *testing.T, s store.Store) {
	a, ok := s.(store.Admin)
	if !ok {
		t.Fatalf("%T does not implement store.Admin", s)
	}
	ctx := t.Context()
	now := ms(time.Now())

	t.Run("Logos", func(t *testing.T) {
		_, err := a.GetLogo(ctx, 4000001)
		wantErr(t, err, store.ErrNotFound)
		check(t, a.PutLogo(ctx, store.Logo{IntegrationID: 4000001, ContentType: "image/png", Data: []byte{1, 2, 3}, UpdatedAt: now}))
		check(t, a.PutLogo(ctx, store.Logo{IntegrationID: 4000001, ContentType: "image/jpeg", Data: []byte{4, 5}, UpdatedAt: now.Add(time.Second)}))
		l := must(a.GetLogo(ctx, 4000001))(t)
		if l.ContentType != "image/jpeg" || !bytes.Equal(l.Data, []byte{4, 5}) || !ms(l.UpdatedAt).Equal(now.Add(time.Second)) {
			t.Errorf("logo = %+v", l)
		}
	})

	t.Run("APITokens", func(t *testing.T) {
		past := now.Add(-time.Hour)
		check(t, a.InsertAPIToken(ctx, store.APIToken{ID: "t1", Name: "ci", Hash: "h1", Groups: []string{"APP_MPASSID_KATSELIJA_1.2.3"}, CreatedBy: "alice", CreatedAt: now}))
		check(t, a.InsertAPIToken(ctx, store.APIToken{ID: "t2", Name: "old", Hash: "h2", CreatedBy: "alice", CreatedAt: now.Add(time.Second), ExpiresAt: &past}))
		wantErr(t, a.InsertAPIToken(ctx, store.APIToken{ID: "t3", Hash: "h1", CreatedAt: now}), store.ErrDuplicate)
		wantErr(t, a.InsertAPIToken(ctx, store.APIToken{ID: "t1", Hash: "h9", CreatedAt: now}), store.ErrDuplicate)

		tok := must(a.APITokenByHash(ctx, "h1", now))(t)
		if tok.ID != "t1" || tok.Name != "ci" || tok.CreatedBy != "alice" || !slices.Equal(tok.Groups, []string{"APP_MPASSID_KATSELIJA_1.2.3"}) ||
			!ms(tok.CreatedAt).Equal(now) || tok.ExpiresAt != nil {
			t.Errorf("token = %+v", tok)
		}
		_, err := a.APITokenByHash(ctx, "h2", now)
		wantErr(t, err, store.ErrNotFound) // expired
		_, err = a.APITokenByHash(ctx, "nope", now)
		wantErr(t, err, store.ErrNotFound)

		list := must(a.ListAPITokens(ctx))(t)
		if len(list) != 2 || list[0].ID != "t2" || list[1].ID != "t1" || list[0].ExpiresAt == nil || !ms(*list[0].ExpiresAt).Equal(past) {
			t.Errorf("tokens = %+v", list)
		}
		check(t, a.DeleteAPIToken(ctx, "t1"))
		wantErr(t, a.DeleteAPIToken(ctx, "t1"), store.ErrNotFound)
		_, err = a.APITokenByHash(ctx, "h1", now)
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("Provisioning", func(t *testing.T) {
		runs := must(a.LastProvisioning(ctx))(t)
		if len(runs) != 0 {
			t.Errorf("runs = %v", runs)
		}
		check(t, a.RecordProvisioning(ctx, model.PhaseProduction, now))
		check(t, a.RecordProvisioning(ctx, model.PhaseProduction, now.Add(time.Minute)))
		check(t, a.RecordProvisioning(ctx, model.PhaseTest, now))
		runs = must(a.LastProvisioning(ctx))(t)
		if len(runs) != 2 || !ms(runs[model.PhaseProduction]).Equal(now.Add(time.Minute)) || !ms(runs[model.PhaseTest]).Equal(now) {
			t.Errorf("runs = %v", runs)
		}
	})
}
