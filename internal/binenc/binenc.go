// Package binenc is the compact encoding of the state the broker seals
// into cookies, codes and tokens: fields one after another, integers as
// varints, strings and byte strings length-prefixed, with no names.
//
// That state is read on every step of every login. As JSON it cost a
// validating scan and a decoding scan of every byte, and its nested byte
// strings went through base64 as well; here a field costs a length and a
// copy. The encoding is for data this program wrote and sealed (the seal
// authenticates it), but a Reader still checks every length against what
// is left, so that a damaged or hostile input is an error and never a
// panic or a large allocation.
//
// A record starts with a version byte chosen by its owner, never '{', so
// that records sealed as JSON by earlier versions stay readable.
package binenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrMalformed is the error of every Reader that ran past its input or
// found bytes left over.
var ErrMalformed = errors.New("binenc: malformed record")

// Writer appends fields to a record.
type Writer struct{ b []byte }

// NewWriter starts a record with the given version byte, with room for
// about size bytes.
func NewWriter(version byte, size int) *Writer {
	w := &Writer{b: make([]byte, 0, size)}
	w.b = append(w.b, version)
	return w
}

// WrittenAsJSON reports whether data is one of the records that earlier
// versions sealed as a JSON object rather than in binenc: a binenc record
// starts with its version byte, never '{'. Owners read those with
// encoding/json, so that logins in flight during an upgrade finish.
func WrittenAsJSON(data []byte) bool { return len(data) > 0 && data[0] == '{' }

// Bytes returns the record.
func (w *Writer) Bytes() []byte { return w.b }

// Int appends a signed integer.
func (w *Writer) Int(v int64) { w.b = binary.AppendVarint(w.b, v) }

// Bool appends a boolean.
func (w *Writer) Bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// String appends a string.
func (w *Writer) String(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

// ByteString appends a byte string; nil and empty read back as nil.
func (w *Writer) ByteString(p []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(p)))
	w.b = append(w.b, p...)
}

// Strings appends a list of strings; nil and empty read back as nil.
func (w *Writer) Strings(ss []string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(ss)))
	for _, s := range ss {
		w.String(s)
	}
}

// Count appends the number of elements of a list whose elements the
// owner writes next.
func (w *Writer) Count(n int) { w.b = binary.AppendUvarint(w.b, uint64(n)) }

// Time appends an instant with nanoseconds, in UTC.
func (w *Writer) Time(t time.Time) {
	if t.IsZero() {
		w.Bool(false)
		return
	}
	w.Bool(true)
	w.Int(t.Unix())
	w.Int(int64(t.Nanosecond()))
}

// Reader reads the fields of a record in the order they were written.
// After the first failure every read returns a zero value, and Err (or
// Done) reports the failure.
type Reader struct {
	b   []byte
	err error
}

// NewReader starts reading rec, whose version byte must be version.
func NewReader(rec []byte, version byte) *Reader {
	if len(rec) == 0 || rec[0] != version {
		return &Reader{err: fmt.Errorf("%w: not version %d", ErrMalformed, version)}
	}
	return &Reader{b: rec[1:]}
}

func (r *Reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	r.b = nil
}

// Int reads a signed integer.
func (r *Reader) Int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad integer")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bool reads a boolean.
func (r *Reader) Bool() bool {
	if r.err != nil {
		return false
	}
	if len(r.b) == 0 || r.b[0] > 1 {
		r.fail("bad boolean")
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

// length reads a length or count that cannot exceed what is left, each
// element taking at least min bytes.
func (r *Reader) length(min int) int {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b)-n)/uint64(min) {
		r.fail("length beyond the record")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// Count reads the number of elements of a list, each of which takes at
// least min bytes: a count that what is left cannot hold is a failure, so
// that a damaged record never makes its owner allocate for it.
func (r *Reader) Count(min int) int { return r.length(max(min, 1)) }

// String reads a string.
func (r *Reader) String() string {
	n := r.length(1)
	if r.err != nil || n == 0 {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// ByteString reads a byte string, nil when empty. It is a copy.
func (r *Reader) ByteString() []byte {
	n := r.length(1)
	if r.err != nil || n == 0 {
		return nil
	}
	p := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return p
}

// Strings reads a list of strings, nil when empty.
func (r *Reader) Strings() []string {
	n := r.length(1) // every string takes at least its length byte
	if r.err != nil || n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.String()
	}
	if r.err != nil {
		return nil
	}
	return ss
}

// Time reads an instant, in UTC; the zero time when it was zero.
func (r *Reader) Time() time.Time {
	if !r.Bool() {
		return time.Time{}
	}
	sec, nsec := r.Int(), r.Int()
	if r.err == nil && (nsec < 0 || nsec >= int64(time.Second)) {
		r.fail("bad nanoseconds")
	}
	if r.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, nsec).UTC()
}

// Rest returns what is left unread, for a record whose last part is kept
// as it is.
func (r *Reader) Rest() []byte {
	if r.err != nil {
		return nil
	}
	rest := r.b
	r.b = nil
	return rest
}

// Done reports the first failure, or ErrMalformed if bytes are left over.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) > 0 {
		r.fail("bytes left over")
	}
	return r.err
}
