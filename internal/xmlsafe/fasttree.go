package xmlsafe

import (
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// fastTree parses the strict, common subset of XML that SAML messages are
// written in straight from the bytes into the tree that parseTree would
// build, without encoding/xml's byte-at-a-time tokenizer, which made
// parsing the largest cost of a login after the signatures.
//
// It never decides that a document is bad: whatever it does not accept,
// because it is malformed, outside the subset or merely unusual, it
// leaves to parseTree (ok false), which then accepts it or gives its own
// error. When ok is true, the tree is exactly parseTree's (field by field,
// held to it by FuzzFastTree) and parseTree would have accepted the
// document. So the subset is chosen for being easy to get exactly right:
//
//   - an optional XML declaration at the very start: version 1.0, with
//     optionally encoding UTF-8 (or utf-8) and standalone, no spaces around
//     '=';
//   - otherwise only whitespace (space, tab, newline) around one root
//     element;
//   - element and attribute names of ASCII NCName characters, with at most
//     one prefix, and no name character or non-ASCII byte right after
//     them (encoding/xml would read those into the name);
//   - quoted attribute values without '<', tab or newline (encoding/xml
//     does not normalise them as XML says it should), no repeated
//     attribute (etree merges those);
//   - character references: the five predefined entities and numeric
//     references to XML characters;
//   - text and values of valid UTF-8 in the XML character range, without
//     control characters other than tab and newline (in text) or the C1
//     controls, and text without "]]>";
//   - no carriage return anywhere (line-end normalisation), no comment,
//     CDATA section, processing instruction or directive;
//   - at most maxDepth deep and maxElements elements, as parseTree counts,
//     and at most maxFastAttrs attributes on an element.
//
// The tree's names and plain text are substrings of one copy of doc, so
// the tree holds on to that copy; only text with references is built
// separately.
func fastTree(doc []byte, maxDepth, maxElements int) (*etree.Document, bool) {
	p := fastParser{s: string(doc), maxDepth: maxDepth, maxElements: maxElements}
	if strings.IndexByte(p.s, '\r') >= 0 {
		return nil, false
	}
	tree := newTree(maxDepth)
	if !p.prolog(tree) || !p.element(tree) || !p.epilog(tree) {
		return nil, false
	}
	return tree, true
}

// fastParser reads s from pos on. Every method reports false when the
// input is outside the subset; the tree it was building is then dropped.
type fastParser struct {
	s                     string
	pos                   int
	maxDepth, maxElements int
}

// maxFastAttrs bounds the attributes of an element on the fast path:
// CreateAttr, which also finds repeated ones, takes time quadratic in
// their number; etree's reader uses a map. SAML elements have a few.
const maxFastAttrs = 64

// openElement is an element whose end tag is still to come, with its
// name as written, which the end tag must repeat.
type openElement struct {
	el   *etree.Element
	name string
}

// prolog reads what comes before the root: the XML declaration, if any,
// and whitespace, each a token of the document as encoding/xml makes them.
func (p *fastParser) prolog(tree *etree.Document) bool {
	if strings.HasPrefix(p.s, "<?xml") {
		inst, ok := p.declaration()
		if !ok {
			return false
		}
		tree.CreateProcInst("xml", inst)
	}
	p.whitespace(&tree.Element)
	return true
}

// epilog reads the whitespace after the root, which must end the document.
func (p *fastParser) epilog(tree *etree.Document) bool {
	p.whitespace(&tree.Element)
	return p.pos == len(p.s)
}

// declaration reads the XML declaration at the start of s and returns its
// instruction as encoding/xml does: what follows the target and the
// whitespace after it, up to "?>".
func (p *fastParser) declaration() (string, bool) {
	const open = "<?xml"
	rest := p.s[len(open):]
	end := strings.Index(rest, "?>")
	if end < 0 {
		return "", false
	}
	body := rest[:end]
	inst := strings.TrimLeft(body, " \t\n")
	// No whitespace: "<?xml-foo" is another target, "<?xml?>" is empty.
	if len(inst) == len(body) || !plainDeclaration(inst) {
		return "", false
	}
	p.pos = len(open) + end + len("?>")
	return inst, true
}

// plainDeclaration reports an instruction of exactly version="1.0",
// optionally followed by encoding="UTF-8" and standalone="yes|no", in
// either quotes. encoding/xml looks for `version=` and `encoding=` by a
// plain string search; in this form it finds exactly these values, so it
// accepts the declaration and calls no CharsetReader.
func plainDeclaration(inst string) bool {
	rest, ok := pseudoAttr(inst, "version", "1.0")
	if !ok {
		return false
	}
	if r, ok := spacedPseudoAttr(rest, "encoding", "UTF-8", "utf-8"); ok {
		rest = r
	}
	if r, ok := spacedPseudoAttr(rest, "standalone", "yes", "no"); ok {
		rest = r
	}
	return strings.Trim(rest, " \t\n") == ""
}

// spacedPseudoAttr is pseudoAttr after at least one whitespace character.
func spacedPseudoAttr(s, name string, values ...string) (string, bool) {
	t := strings.TrimLeft(s, " \t\n")
	if len(t) == len(s) {
		return s, false
	}
	return pseudoAttr(t, name, values...)
}

// pseudoAttr reads name="value" or name='value' at the start of s, value
// being one of values, and returns the rest of s.
func pseudoAttr(s, name string, values ...string) (string, bool) {
	rest, ok := strings.CutPrefix(s, name+"=")
	if !ok || rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return s, false
	}
	quote := rest[:1]
	for _, v := range values {
		if after, ok := strings.CutPrefix(rest[1:], v+quote); ok {
			return after, true
		}
	}
	return s, false
}

// whitespace reads a run of whitespace into a text token of parent, as
// encoding/xml and etree make it between the tokens outside the root.
func (p *fastParser) whitespace(parent *etree.Element) {
	start := p.pos
	for p.pos < len(p.s) && isTagSpace(p.s[p.pos]) {
		p.pos++
	}
	if p.pos > start {
		addText(parent, p.s[start:p.pos])
	}
}

// element reads the root element and everything in it. The open elements
// are kept on a stack of their own, so that a deep document needs no deep
// Go stack.
func (p *fastParser) element(tree *etree.Document) bool {
	var stack []openElement
	parent := &tree.Element
	elements := 0
	for {
		if !p.at("<") {
			// The document ended inside an element, or before the root.
			return false
		}
		if p.at("</") {
			name, ok := p.endTag()
			if !ok || len(stack) == 0 || stack[len(stack)-1].name != name {
				return false
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return true
			}
			parent = stack[len(stack)-1].el
		} else {
			// etree refuses an element below maxDepth open ones;
			// parseTree counts every element, the root included.
			elements++
			if len(stack) >= p.maxDepth || elements > p.maxElements {
				return false
			}
			el, name, empty, ok := p.startTag(parent)
			if !ok {
				return false
			}
			if empty && len(stack) == 0 {
				return true
			}
			if !empty {
				stack = append(stack, openElement{el, name})
				parent = el
			}
		}
		text, ok := p.chars('<')
		if !ok {
			return false
		}
		if text != "" {
			addText(parent, text)
		}
	}
}

// startTag reads a start tag or an empty-element tag at p.pos into a new
// child of parent.
func (p *fastParser) startTag(parent *etree.Element) (el *etree.Element, name string, empty, ok bool) {
	p.pos++ // '<'
	if name = p.name(); name == "" {
		// Also '!' and '?': comments, CDATA, directives, instructions.
		return nil, "", false, false
	}
	el = parent.CreateElement(name)
	for {
		if len(el.Attr) > maxFastAttrs {
			return nil, "", false, false
		}
		spaced := p.skipSpace()
		switch {
		case p.at(">"):
			p.pos++
			return el, name, false, true
		case p.at("/>"):
			p.pos += 2
			return el, name, true, true
		case !spaced:
			// Attributes run together, or something else entirely.
			return nil, "", false, false
		}
		if !p.attribute(el) {
			return nil, "", false, false
		}
	}
}

// attribute reads name="value" (or 'value') into an attribute of el.
func (p *fastParser) attribute(el *etree.Element) bool {
	key := p.name()
	if key == "" {
		return false
	}
	p.skipSpace()
	if !p.at("=") {
		return false
	}
	p.pos++
	p.skipSpace()
	if !p.at(`"`) && !p.at("'") {
		return false
	}
	quote := p.s[p.pos]
	p.pos++
	value, ok := p.chars(quote)
	if !ok || !p.at(string(quote)) {
		return false
	}
	p.pos++
	n := len(el.Attr)
	el.CreateAttr(key, value)
	// CreateAttr overwrote an attribute of the same name: etree's reader
	// would have too, but keeping its first place; not worth copying.
	return len(el.Attr) > n
}

// endTag reads an end tag at p.pos and returns its name.
func (p *fastParser) endTag() (string, bool) {
	p.pos += len("</")
	name := p.name()
	if name == "" {
		return "", false
	}
	p.skipSpace()
	if !p.at(">") {
		return "", false
	}
	p.pos++
	return name, true
}

// name reads an element or attribute name: an ASCII NCName, optionally
// with a prefix (an NCName and a colon). encoding/xml splits such a name
// at its colon into Space and Local and etree's Create functions split it
// at the same place. encoding/xml's name goes on over every name byte and
// non-ASCII byte, so if one follows, it is a name this one cannot read.
func (p *fastParser) name() string {
	start := p.pos
	if !p.ncName() {
		return ""
	}
	if p.at(":") {
		p.pos++
		if !p.ncName() {
			return ""
		}
	}
	if p.pos < len(p.s) && (isNameByte(p.s[p.pos]) || p.s[p.pos] >= utf8.RuneSelf) {
		return ""
	}
	return p.s[start:p.pos]
}

// ncName reads [A-Za-z_][A-Za-z0-9._-]*.
func (p *fastParser) ncName() bool {
	if p.pos >= len(p.s) || !isNameStart(p.s[p.pos]) {
		return false
	}
	p.pos++
	for p.pos < len(p.s) && isNameByte(p.s[p.pos]) && p.s[p.pos] != ':' {
		p.pos++
	}
	return true
}

// chars reads character data up to (not including) the byte end, '<' for
// text or the quote of an attribute value, or the end of the document, and
// returns it with its references replaced. Plain data is returned as a
// substring of the document.
func (p *fastParser) chars(end byte) (string, bool) {
	inValue := end != '<'
	start := p.pos
	var decoded []byte // made at the first reference
	copied := start    // the plain data before copied is in decoded
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == end:
			return finish(p.s, start, copied, p.pos, decoded), true
		case c == '&':
			r, n := reference(p.s[p.pos:])
			if n == 0 {
				return "", false
			}
			decoded = append(decoded, p.s[copied:p.pos]...)
			decoded = utf8.AppendRune(decoded, r)
			p.pos += n
			copied = p.pos
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(p.s[p.pos:])
			if (r == utf8.RuneError && n == 1) || !isPlainRune(r) {
				return "", false
			}
			p.pos += n
		case c == '<':
			// In a value: encoding/xml refuses it.
			return "", false
		case c == ']' && !inValue && strings.HasPrefix(p.s[p.pos:], "]]>"):
			// encoding/xml refuses "]]>" in text.
			return "", false
		case c < ' ' || c == 0x7f:
			// Tab and newline in text are kept as they are; in a value
			// XML would normalise them and encoding/xml does not.
			if inValue || (c != '\t' && c != '\n') {
				return "", false
			}
			p.pos++
		default:
			p.pos++
		}
	}
	if inValue {
		return "", false
	}
	return finish(p.s, start, copied, p.pos, decoded), true
}

// finish returns s[start:pos] with its references replaced: decoded holds
// the data up to copied, if there was a reference.
func finish(s string, start, copied, pos int, decoded []byte) string {
	if decoded == nil {
		return s[start:pos]
	}
	return string(append(decoded, s[copied:pos]...))
}

// reference reads the character reference at the start of s ('&') and
// returns its character and length, or length 0 for one outside the
// subset: the predefined entities, and decimal and hexadecimal ('x', as
// encoding/xml wants it lower case) references to XML characters.
func reference(s string) (rune, int) {
	for _, e := range [...]struct {
		ref string
		r   rune
	}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&apos;", '\''}, {"&quot;", '"'}} {
		if strings.HasPrefix(s, e.ref) {
			return e.r, len(e.ref)
		}
	}
	var digits string
	base := 10
	switch {
	case strings.HasPrefix(s, "&#x"):
		digits, base = s[len("&#x"):], 16
	case strings.HasPrefix(s, "&#"):
		digits = s[len("&#"):]
	default:
		return 0, 0
	}
	// Seven digits are more than any character needs, however written,
	// and keep the value far from overflowing.
	const maxDigits = 7
	var r rune
	n := 0
	for n < len(digits) && n <= maxDigits {
		d := digitValue(digits[n], base)
		if d < 0 {
			break
		}
		r = r*rune(base) + rune(d)
		n++
	}
	if n == 0 || n > maxDigits || n >= len(digits) || digits[n] != ';' || !isInCharacterRange(r) {
		return 0, 0
	}
	return r, len(s) - len(digits) + n + 1
}

// digitValue is the value of the digit c in base 10 or 16, or -1.
func digitValue(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isPlainRune reports a non-ASCII character that encoding/xml accepts and
// that is not a C1 control character.
func isPlainRune(r rune) bool {
	return r > 0x9f && isInCharacterRange(r)
}

// isInCharacterRange is XML's Char production, which encoding/xml checks
// every character of text and attribute values against.
func isInCharacterRange(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		0x20 <= r && r <= 0xd7ff ||
		0xe000 <= r && r <= 0xfffd ||
		0x10000 <= r && r <= 0x10ffff
}

// addText adds a text token to parent with etree's whitespace flag, which
// CreateText leaves unset and SetData sets as etree's reader does.
func addText(parent *etree.Element, data string) {
	parent.CreateText(data).SetData(data)
}

// skipSpace skips the whitespace allowed in tags (carriage returns never
// get this far) and reports whether there was any.
func (p *fastParser) skipSpace() bool {
	start := p.pos
	for p.pos < len(p.s) && isTagSpace(p.s[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

// at reports whether s continues with prefix at p.pos.
func (p *fastParser) at(prefix string) bool {
	return strings.HasPrefix(p.s[p.pos:], prefix)
}

func isTagSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_'
}

// isNameByte is encoding/xml's set of ASCII name bytes (colon included).
func isNameByte(c byte) bool {
	return isNameStart(c) || '0' <= c && c <= '9' || c == ':' || c == '.' || c == '-'
}
