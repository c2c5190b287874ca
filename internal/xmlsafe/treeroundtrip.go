package xmlsafe

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// checkRoundTrip refuses a document with a token that encoding/xml would
// change if it encoded and decoded it again: the check of
// mattermost/xml-roundtrip-validator (CVE-2020-29509, -29510, -29511:
// namespace prefixes on elements and attributes that a round trip through
// encoding/xml rewrote, which enabled signature bypasses), made on the
// tokens etree kept instead of on a fresh tokenisation of the bytes.
//
// etree builds its tree from encoding/xml's RawToken, so each element holds
// the name and attributes of its start tag as the validator sees them
// (less a repeated attribute, of which etree keeps the last value, which is
// also what the signature check and everything after read), and etree has
// already refused an end tag that does not match its start tag. Each
// element's start and end tag are encoded with encoding/xml and read back
// with RawToken (unless plainNames shows that they cannot change), and what
// comes back must be exactly what the encoder's namespace rewriting
// (sameAfterRoundTrip) implies. The validator undoes that rewriting by
// heuristics instead, and so also refuses a few tags that do survive
// (TestRoundTripValidatorFalsePositive). Processing instructions (only the
// XML declaration gets this far) are round-tripped too. Character data is not: encoding/xml's decoder has already refused
// invalid UTF-8 and characters outside the XML range, and every other
// character escapes and unescapes to itself, so text (and attribute values,
// read by the same code) always survives; the validator's check of it can
// never fail on a document encoding/xml parsed. Comments and directives
// never reach here (ParseTree refuses them first).
func checkRoundTrip(doc *etree.Document) error {
	var rt roundTripper
	if err := rt.tokens(doc.Child); err != nil {
		return err
	}
	// Iterative, as ParseTree's walk.
	stack := []*etree.Element{doc.Root()}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := rt.element(el); err != nil {
			return err
		}
		if err := rt.tokens(el.Child); err != nil {
			return err
		}
		for _, t := range el.Child {
			if ch, ok := t.(*etree.Element); ok {
				stack = append(stack, ch)
			}
		}
	}
	return nil
}

// roundTripper encodes tokens and decodes them again, reusing one buffer,
// writer and decoder for every token of a document (a new encoder per
// token, so that no namespace state carries over). The zero value is
// ready; the buffers are made on first use.
type roundTripper struct {
	encoded bytes.Buffer
	w       *bufio.Writer
	feed    byteFeed
	dec     *xml.Decoder
}

// byteFeed is the decoder's input: one token's encoding at a time. It is an
// io.ByteReader, so the decoder reads it directly, without buffering
// ahead, and never sees its end: every token it is given ends in '>'.
type byteFeed struct{ b []byte }

func (f *byteFeed) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

func (f *byteFeed) ReadByte() (byte, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c, nil
}

var errRoundTrip = errors.New("token changed by an encoding/xml round trip")

// encode encodes toks with a fresh encoder and makes the result the
// decoder's input.
func (rt *roundTripper) encode(toks ...xml.Token) error {
	if rt.w == nil {
		// xml.NewEncoder uses a *bufio.Writer of the default size as it
		// is, so this one buffer serves every encoder.
		rt.w = bufio.NewWriter(&rt.encoded)
		rt.dec = xml.NewDecoder(&rt.feed)
	}
	rt.encoded.Reset()
	enc := xml.NewEncoder(rt.w)
	for _, t := range toks {
		if err := enc.EncodeToken(t); err != nil {
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	rt.feed.b = rt.encoded.Bytes()
	return nil
}

// element round-trips el's start and end tag, unless plainNames says the
// round trip cannot change them.
//
// Attribute values take no part: the encoder escapes them and the decoder
// unescapes them to themselves (see checkRoundTrip on character data), and
// nothing else the encoder writes depends on them. So they are left empty.
func (rt *roundTripper) element(el *etree.Element) error {
	if plainNames(el) {
		return nil
	}
	return rt.roundTrip(el)
}

// roundTrip encodes el's start and end tag and reads them back.
func (rt *roundTripper) roundTrip(el *etree.Element) error {
	start := xml.StartElement{Name: xml.Name{Space: el.Space, Local: el.Tag}}
	if len(el.Attr) > 0 {
		start.Attr = make([]xml.Attr, len(el.Attr))
		for i, a := range el.Attr {
			start.Attr[i] = xml.Attr{Name: xml.Name{Space: a.Space, Local: a.Key}}
		}
	}
	if err := rt.encode(start, xml.EndElement{Name: start.Name}); err != nil {
		return fmt.Errorf("<%s>: %v", el.FullTag(), err)
	}
	t1, err := rt.dec.RawToken()
	if err != nil {
		return fmt.Errorf("<%s>: %v", el.FullTag(), err)
	}
	t2, err := rt.dec.RawToken()
	if err != nil {
		return fmt.Errorf("<%s>: %v", el.FullTag(), err)
	}
	after, ok1 := t1.(xml.StartElement)
	end, ok2 := t2.(xml.EndElement)
	if !ok1 || !ok2 || len(rt.feed.b) != 0 || !sameAfterRoundTrip(start, after) ||
		end.Name != (xml.Name{Local: el.Tag}) {
		return fmt.Errorf("<%s>: %w", el.FullTag(), errRoundTrip)
	}
	return nil
}

// tokens round-trips the processing instructions among toks.
func (rt *roundTripper) tokens(toks []etree.Token) error {
	for _, t := range toks {
		pi, ok := t.(*etree.ProcInst)
		if !ok {
			continue
		}
		before := xml.ProcInst{Target: pi.Target, Inst: []byte(pi.Inst)}
		if err := rt.encode(before); err != nil {
			return fmt.Errorf("<?%s?>: %v", pi.Target, err)
		}
		t, err := rt.dec.RawToken()
		if err != nil {
			return fmt.Errorf("<?%s?>: %v", pi.Target, err)
		}
		after, ok := t.(xml.ProcInst)
		if !ok || len(rt.feed.b) != 0 || after.Target != before.Target || !bytes.Equal(after.Inst, before.Inst) {
			return fmt.Errorf("<?%s?>: %w", pi.Target, errRoundTrip)
		}
	}
	return nil
}

// sameAfterRoundTrip reports whether after, a start tag read back with
// RawToken, is before as encoding/xml's encoder writes it: the encoder
// takes a Name.Space for a namespace URI, so it writes the element's prefix
// as a default namespace declaration (xmlns="prefix") first, and for each
// attribute prefix declares a prefix of its own choosing
// (xmlns:chosen="prefix", on first use in the tag) just before the
// attribute, which then carries the chosen prefix. Anything else, in
// particular a name or prefix that reads back differently, is a change.
func sameAfterRoundTrip(before, after xml.StartElement) bool {
	if after.Name != (xml.Name{Local: before.Name.Local}) {
		return false
	}
	got := after.Attr
	if before.Name.Space != "" {
		if len(got) == 0 || got[0].Name != (xml.Name{Local: "xmlns"}) || got[0].Value != before.Name.Space {
			return false
		}
		got = got[1:]
	}
	// chosen[i] is the prefix the encoder chose for the prefix bound[i].
	var bound, chosen []string
	for _, a := range before.Attr {
		if a.Name.Local == "" {
			// Never produced by the decoder; the encoder skips it.
			return false
		}
		if a.Name.Space == "" {
			if len(got) == 0 || got[0] != a {
				return false
			}
			got = got[1:]
			continue
		}
		prefix := ""
		for i, b := range bound {
			if b == a.Name.Space {
				prefix = chosen[i]
			}
		}
		if prefix == "" {
			if len(got) == 0 || got[0].Name.Space != "xmlns" || got[0].Name.Local == "" || got[0].Value != a.Name.Space {
				return false
			}
			prefix = got[0].Name.Local
			for _, c := range chosen {
				if c == prefix {
					return false
				}
			}
			bound, chosen = append(bound, a.Name.Space), append(chosen, prefix)
			got = got[1:]
		}
		if len(got) == 0 || got[0].Name != (xml.Name{Space: prefix, Local: a.Name.Local}) || got[0].Value != a.Value {
			return false
		}
		got = got[1:]
	}
	return len(got) == 0
}

// plainNames reports whether el's prefix, name and attribute prefixes and
// names are all empty (prefixes only) or ASCII XML names without a colon,
// as in every SAML message. Such a start tag always survives the round
// trip, so element skips encoding it. The encoder writes
// <name xmlns="prefix" a="v" xmlns:p2="prefix2" p2:b="v">, where p2 is the
// attribute's prefix, or it with "_" before (if it starts with "xml") or
// "_<n>" after (if taken): ASCII names without a colon, each of which the
// decoder reads back as one name, split at the colon where there is one,
// which is what sameAfterRoundTrip wants; and </name>. A tag with any
// other name (non-ASCII, or a colon the decoder left in a name) gets the
// real round trip. TestPlainNamesRoundTrip and FuzzRoundTrip hold this to
// the real thing.
func plainNames(el *etree.Element) bool {
	if (el.Space != "" && !PlainName(el.Space)) || !PlainName(el.Tag) {
		return false
	}
	for _, a := range el.Attr {
		if (a.Space != "" && !PlainName(a.Space)) || !PlainName(a.Key) {
			return false
		}
	}
	return true
}
