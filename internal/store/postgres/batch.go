package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mpassid/mpassid/internal/store/internal/storeutil"
)

// batchTimeout bounds a batch's round trip, so that a database that stops
// answering fails the queued writes instead of holding them forever.
const batchTimeout = 30 * time.Second

// batcher sends the login path's writes (replay marks, sessions) of
// concurrent logins to PostgreSQL together, as one pipelined batch that
// the server runs as one implicit transaction: one round trip and one
// commit, and one WAL flush, for all of them. Alone, each write was a
// transaction of its own, three per OIDC login.
type batcher struct {
	*storeutil.Batcher
	pool *pgxpool.Pool
}

func newBatcher(pool *pgxpool.Pool) *batcher {
	b := &batcher{pool: pool}
	b.Batcher = storeutil.NewBatcher(b.writeTogether, b.writeAlone)
	return b
}

func (b *batcher) writeAlone(w *storeutil.Write) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.Ctx), batchTimeout)
	defer cancel()
	tag, err := b.pool.Exec(ctx, w.Query, w.Args...)
	if err != nil {
		w.Err = err
		return
	}
	w.Rows = tag.RowsAffected()
}

// writeTogether sends the writes as one batch. Without BEGIN in it, the
// server runs the batch up to its one Sync as a single implicit
// transaction: if any statement fails, none of them is committed. An error
// the server reports (a statement's) reruns the writes one by one; any
// other (the connection lost, the timeout) is every write's outcome.
func (b *batcher) writeTogether(writes []*storeutil.Write) error {
	err := b.sendTogether(writes)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("%w: %w", storeutil.ErrRerunAlone, err)
	}
	return err
}

func (b *batcher) sendTogether(writes []*storeutil.Write) error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	batch := &pgx.Batch{}
	for _, w := range writes {
		batch.Queue(w.Query, w.Args...)
	}
	res := b.pool.SendBatch(ctx, batch)
	for _, w := range writes {
		tag, err := res.Exec()
		if err != nil {
			_ = res.Close()
			return fmt.Errorf("batched write: %w", err)
		}
		w.Rows = tag.RowsAffected()
	}
	if err := res.Close(); err != nil {
		return fmt.Errorf("batch commit: %w", err)
	}
	return nil
}
