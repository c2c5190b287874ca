package binenc

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

type record struct {
	I   int64
	B   bool
	S   string
	P   []byte
	SS  []string
	T   time.Time
	End string
}

func (v record) encode() []byte {
	w := NewWriter(7, 16)
	w.Int(v.I)
	w.Bool(v.B)
	w.String(v.S)
	w.ByteString(v.P)
	w.Strings(v.SS)
	w.Time(v.T)
	w.String(v.End)
	return w.Bytes()
}

func decode(rec []byte) (record, error) {
	r := NewReader(rec, 7)
	v := record{I: r.Int(), B: r.Bool(), S: r.String(), P: r.ByteString(), SS: r.Strings(), T: r.Time(), End: r.String()}
	return v, r.Done()
}

func TestRoundTrip(t *testing.T) {
	cases := []record{
		{},
		{I: -1, B: true, S: "ä\x00\"", P: []byte{0, 255}, SS: []string{"", "a", "bc"}, T: time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC), End: "end"},
		{I: math.MaxInt64, T: time.Unix(0, 0).UTC()},
		{I: math.MinInt64, T: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
	for _, want := range cases {
		got, err := decode(want.encode())
		if err != nil {
			t.Fatalf("%+v: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
}

// A time in another zone reads back as the same instant, in UTC.
func TestTimeZone(t *testing.T) {
	in := time.Date(2026, 11, 27, 10, 0, 0, 5, time.FixedZone("EET", 2*3600))
	got, err := decode(record{T: in}.encode())
	if err != nil || !got.T.Equal(in) || got.T.Location() != time.UTC {
		t.Fatalf("got %v %v, want %v in UTC", got.T, err, in)
	}
}

func TestMalformed(t *testing.T) {
	full := record{I: 300, B: true, S: "string", P: []byte("bytes"), SS: []string{"x", "y"}, T: time.Unix(1e9, 5).UTC(), End: "end"}.encode()
	// Every cut short of the whole record fails.
	for n := 0; n < len(full); n++ {
		if _, err := decode(full[:n]); !errors.Is(err, ErrMalformed) {
			t.Errorf("cut at %d of %d: %v", n, len(full), err)
		}
	}
	cases := []struct {
		name string
		rec  []byte
	}{
		{"other version", append([]byte{8}, full[1:]...)},
		{"bytes left over", append(append([]byte(nil), full...), 0)},
		{"boolean 2", []byte{7, 0, 2}},
		{"string longer than the record", []byte{7, 0, 0, 100, 'a'}},
		{"huge list", []byte{7, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"bad nanoseconds", []byte{7, 0, 0, 0, 0, 0, 1, 0, 0x80, 0xa8, 0xd6, 0xb9, 0x07, 0}},
		{"overlong varint", []byte{7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tc := range cases {
		if _, err := decode(tc.rec); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestRest(t *testing.T) {
	w := NewWriter(1, 8)
	w.String("head")
	rec := append(w.Bytes(), "tail"...)
	r := NewReader(rec, 1)
	if h, rest := r.String(), r.Rest(); h != "head" || string(rest) != "tail" || r.Done() != nil {
		t.Fatalf("got %q %q %v", h, rest, r.Done())
	}
}

func FuzzReader(f *testing.F) {
	f.Add(record{I: 1, S: "s", SS: []string{"a"}, T: time.Unix(5, 6)}.encode())
	f.Add([]byte{7})
	f.Fuzz(func(t *testing.T, rec []byte) {
		v, err := decode(rec)
		if err != nil {
			return
		}
		// What reads without error writes and reads back the same.
		again, err := decode(v.encode())
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Errorf("%x: read %+v, then %+v, %v", rec, v, again, err)
		}
	})
}

// Records of earlier versions sealed as JSON objects are told from binenc
// records by their first byte alone.
func TestWrittenAsJSON(t *testing.T) {
	w := NewWriter(1, 8)
	w.String("{")
	cases := []struct {
		data []byte
		want bool
	}{
		{[]byte(`{"v":1}`), true},
		{w.Bytes(), false},
		{nil, false},
		{[]byte("["), false},
	}
	for _, tc := range cases {
		if got := WrittenAsJSON(tc.data); got != tc.want {
			t.Errorf("WrittenAsJSON(%q) = %v, want %v", tc.data, got, tc.want)
		}
	}
}

// A count reads back, and one that what is left cannot hold, at the
// least size the owner gives per element, is a failure before anything
// is allocated for it.
func TestCount(t *testing.T) {
	w := NewWriter(3, 8)
	w.Count(2)
	w.Int(5)
	w.Int(6)
	r := NewReader(w.Bytes(), 3)
	if n := r.Count(1); n != 2 || r.Int() != 5 || r.Int() != 6 || r.Done() != nil {
		t.Errorf("count %d, %v", n, r.Done())
	}
	for _, min := range []int{2, 3} {
		r := NewReader(w.Bytes(), 3)
		if n := r.Count(min); n != 0 || !errors.Is(r.Done(), ErrMalformed) {
			t.Errorf("elements of at least %d bytes: count %d, %v", min, n, r.Done())
		}
	}
	w = NewWriter(3, 8)
	w.Count(math.MaxInt32)
	if r := NewReader(w.Bytes(), 3); r.Count(0) != 0 || !errors.Is(r.Done(), ErrMalformed) {
		t.Error("a count beyond the record read")
	}
}
