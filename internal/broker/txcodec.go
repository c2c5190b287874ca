package broker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mpassid/mpassid/internal/binenc"
)

// txVersion starts a transaction sealed in the binenc form. Transactions
// sealed as JSON by earlier versions (they start with '{') still open, so
// that logins in flight during an upgrade finish; they live minutes.
const txVersion = 1

// encodeTransaction is the plaintext of a transaction cookie.
func encodeTransaction(tx *transaction) []byte {
	q := &tx.Request
	w := binenc.NewWriter(txVersion, 128+len(q.State)+len(tx.ConnectorState)+len(q.LoginHint))
	w.String(string(q.Protocol))
	w.Int(q.ServiceID)
	w.Bool(q.ForceAuthn)
	w.Bool(q.Passive)
	w.Int(int64(q.MaxAge))
	w.Bool(q.HasMaxAge)
	w.String(q.Language)
	w.Strings(q.Sources)
	w.String(q.LoginHint)
	w.ByteString(q.State)
	w.Int(tx.SourceID)
	w.ByteString(tx.ConnectorState)
	w.String(tx.Language)
	w.Time(tx.CreatedAt)
	return w.Bytes()
}

// decodeTransaction reads what encodeTransaction wrote, or the JSON of
// earlier versions.
func decodeTransaction(data []byte) (*transaction, error) {
	var tx transaction
	if binenc.WrittenAsJSON(data) {
		if err := json.Unmarshal(data, &tx); err != nil {
			return nil, fmt.Errorf("decode transaction: %w", err)
		}
		return &tx, nil
	}
	r := binenc.NewReader(data, txVersion)
	q := &tx.Request
	q.Protocol = Protocol(r.String())
	q.ServiceID = r.Int()
	q.ForceAuthn = r.Bool()
	q.Passive = r.Bool()
	q.MaxAge = time.Duration(r.Int())
	q.HasMaxAge = r.Bool()
	q.Language = r.String()
	q.Sources = r.Strings()
	q.LoginHint = r.String()
	q.State = r.ByteString()
	tx.SourceID = r.Int()
	tx.ConnectorState = r.ByteString()
	tx.Language = r.String()
	tx.CreatedAt = r.Time()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode transaction: %w", err)
	}
	return &tx, nil
}
