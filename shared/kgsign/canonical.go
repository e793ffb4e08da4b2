package kgsign

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Huawei's SaaS sample project does not sign the raw body: it reads the JSON body
// into a map (Map<String,String> for the basic interfaces, Map<String,Object> for the
// Kit), copies it into a TreeMap (keys in String.compareTo order, i.e. UTF-16 code
// units), removes the null values and writes the map with a default Jackson
// ObjectMapper: compact, non-ASCII characters and '/' not escaped. CanonicalBasic and
// CanonicalKit produce that string, so a request signed the sample's way verifies
// whatever key order, spacing or escaping the marketplace sends.
//
// The canonical form only ever yields a candidate string to compare MACs over; the
// request is decoded from the raw bytes, by a decoder that reads values the same way
// (the last of repeated keys wins, null is absent, escapes mean their characters).

// ErrNoCanonicalForm is returned for a body that has no canonical form: not a JSON
// object, invalid JSON or UTF-8, trailing content, a lone surrogate escape, a number
// that does not fit a double, or nesting deeper than maxCanonicalDepth.
var ErrNoCanonicalForm = errors.New("kgsign: body has no canonical JSON form")

// maxCanonicalDepth bounds nesting, as the request decoder does.
const maxCanonicalDepth = 32

// CanonicalBasic returns the canonical form of a basic-interface body (V2 query
// signature): every scalar is read as the sample's Map<String,String> reads it, as a
// JSON string holding the value's text ("1" for 1, "1.50" for 1.50, "true" for true).
// A nested object or array, which the sample cannot read, is written as Jackson writes
// an untyped value (see CanonicalKit).
func CanonicalBasic(body []byte) ([]byte, error) { return canonical(body, true) }

// CanonicalKit returns the canonical form of a Kit body (x-sign): values are kept as
// Jackson reads them into Map<String,Object>. Integers keep their digits (-0 is 0);
// other numbers are doubles written as Java's Double.toString writes them (1.5, 100.0,
// 1.0E7, 1.0E-4); nested objects keep their key order (a repeated key keeps its first
// position and its last value) and their null values.
func CanonicalKit(body []byte) ([]byte, error) { return canonical(body, false) }

func canonical(body []byte, basic bool) ([]byte, error) {
	p := parser{b: body}
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return nil, ErrNoCanonicalForm
	}
	top, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, ErrNoCanonicalForm
	}
	members := make([]member, 0, len(top.members))
	for _, m := range top.members {
		if m.val.kind == kindNull {
			continue
		}
		if basic {
			m.val = m.val.asText()
		}
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b member) int { return compareUTF16(a.key, b.key) })
	out := make([]byte, 0, len(body))
	return appendValue(out, node{kind: kindObject, members: members}), nil
}

// compareUTF16 orders strings as Java's String.compareTo does: by UTF-16 code unit.
// It differs from byte (code-point) order only between a character above U+FFFF,
// whose first unit is a surrogate (D800–DBFF), and one in U+E000–U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			if ua, ub := firstUnit(ra), firstUnit(rb); ua != ub {
				return cmp.Compare(ua, ub)
			}
			// Two characters above U+FFFF with the same high surrogate: their low
			// surrogates order as the characters do.
			return cmp.Compare(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// firstUnit returns the first UTF-16 code unit of r.
func firstUnit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindInt   // an integer literal
	kindFloat // a number with a fraction or an exponent
	kindString
	kindObject
	kindArray
)

type node struct {
	kind    kind
	text    string // string value, number literal, "true" or "false"
	plain   bool   // a string that needs no escaping
	members []member
	elems   []node
}

type member struct {
	key      string
	keyPlain bool // the key needs no escaping
	val      node
}

// asText is the basic form of a top-level value: a scalar becomes the JSON string of
// its text, as Jackson's getValueAsString reads it.
func (n node) asText() node {
	switch n.kind {
	case kindBool, kindInt, kindFloat:
		return node{kind: kindString, text: n.text, plain: true}
	}
	return n
}

// parser is a small JSON parser that keeps what the canonical form needs: number
// literals as sent, member order, and strings decoded exactly (invalid UTF-8 and lone
// surrogates are refused rather than replaced).
type parser struct {
	b []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (node, error) {
	p.space()
	if p.i >= len(p.b) {
		return node{}, ErrNoCanonicalForm
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, plain, err := p.str()
		return node{kind: kindString, text: s, plain: plain}, err
	case c == 't':
		return p.literal("true", node{kind: kindBool, text: "true"})
	case c == 'f':
		return p.literal("false", node{kind: kindBool, text: "false"})
	case c == 'n':
		return p.literal("null", node{kind: kindNull})
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return node{}, ErrNoCanonicalForm
}

func (p *parser) literal(word string, n node) (node, error) {
	if !strings.HasPrefix(string(p.b[p.i:min(len(p.b), p.i+len(word))]), word) {
		return node{}, ErrNoCanonicalForm
	}
	p.i += len(word)
	return n, nil
}

func (p *parser) object(depth int) (node, error) {
	if depth > maxCanonicalDepth {
		return node{}, ErrNoCanonicalForm
	}
	p.i++ // {
	n := node{kind: kindObject}
	var index map[string]int // built only when an object has enough members to need it
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return n, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return node{}, ErrNoCanonicalForm
		}
		key, keyPlain, err := p.str()
		if err != nil {
			return node{}, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return node{}, ErrNoCanonicalForm
		}
		p.i++
		val, err := p.value(depth)
		if err != nil {
			return node{}, err
		}
		// A repeated key keeps its first position and takes the last value, as
		// LinkedHashMap.put does.
		at := -1
		if index != nil {
			if j, ok := index[key]; ok {
				at = j
			}
		} else {
			for j := range n.members {
				if n.members[j].key == key {
					at = j
					break
				}
			}
		}
		if at >= 0 {
			n.members[at].val = val
		} else {
			n.members = append(n.members, member{key, keyPlain, val})
			if index == nil && len(n.members) > 16 {
				index = make(map[string]int, 2*len(n.members))
				for j, m := range n.members {
					index[m.key] = j
				}
			} else if index != nil {
				index[key] = len(n.members) - 1
			}
		}
		if done, err := p.separator('}'); done || err != nil {
			return n, err
		}
	}
}

// separator reads the ',' between members or elements, or the closing bracket,
// which ends the object or array (done).
func (p *parser) separator(closing byte) (done bool, err error) {
	p.space()
	if p.i >= len(p.b) {
		return false, ErrNoCanonicalForm
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, ErrNoCanonicalForm
}

func (p *parser) array(depth int) (node, error) {
	if depth > maxCanonicalDepth {
		return node{}, ErrNoCanonicalForm
	}
	p.i++ // [
	n := node{kind: kindArray}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return node{}, err
		}
		n.elems = append(n.elems, v)
		if done, err := p.separator(']'); done || err != nil {
			return n, err
		}
	}
}

// number reads a number literal by the JSON grammar and keeps its text.
func (p *parser) number() (node, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return node{}, ErrNoCanonicalForm
	}
	k := kindInt
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return node{}, ErrNoCanonicalForm
		}
		k = kindFloat
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return node{}, ErrNoCanonicalForm
		}
		k = kindFloat
	}
	if p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		return node{}, ErrNoCanonicalForm // a leading zero followed by digits
	}
	text := string(p.b[start:p.i])
	if k == kindFloat {
		if f, err := strconv.ParseFloat(text, 64); err != nil || math.IsInf(f, 0) {
			return node{}, ErrNoCanonicalForm
		}
	}
	return node{kind: k, text: text}, nil
}

// str reads a string and decodes its escapes. plain reports that the string was
// sent without escapes, so it needs none when written again.
func (p *parser) str() (s string, plain bool, err error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: eight bytes at a time while none is a quote, a backslash or a
	// control character.
	for p.i+8 <= len(p.b) && !special8(binary.LittleEndian.Uint64(p.b[p.i:])) {
		p.i += 8
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			seg := p.b[start:p.i]
			p.i++
			if !utf8.Valid(seg) {
				return "", false, ErrNoCanonicalForm
			}
			return string(seg), true, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var sb strings.Builder
	sb.Write(p.b[start:p.i])
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			s := sb.String()
			if !utf8.ValidString(s) {
				return "", false, ErrNoCanonicalForm
			}
			return s, false, nil
		case c < 0x20:
			return "", false, ErrNoCanonicalForm
		case c != '\\':
			sb.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", false, ErrNoCanonicalForm
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false, ErrNoCanonicalForm
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one is a character.
				if r >= 0xdc00 || p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
					return "", false, ErrNoCanonicalForm
				}
				p.i += 2
				lo, ok := p.hex4()
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return "", false, ErrNoCanonicalForm
				}
				r = utf16.DecodeRune(r, lo)
			}
			sb.WriteRune(r)
		default:
			return "", false, ErrNoCanonicalForm
		}
	}
	return "", false, ErrNoCanonicalForm
}

// special8 reports whether any of the eight bytes in x is a quote, a backslash or
// below 0x20 (the usual "has a zero byte" and "has a byte less than n" word tricks).
func special8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	below20 := (x - 0x20*ones) & ^x & highs
	return below20|hasZero(x^('"'*ones))|hasZero(x^('\\'*ones)) != 0
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// appendValue writes a value as Jackson's default ObjectMapper does.
func appendValue(out []byte, n node) []byte {
	switch n.kind {
	case kindNull:
		return append(out, "null"...)
	case kindBool:
		return append(out, n.text...)
	case kindInt:
		if n.text == "-0" {
			return append(out, '0')
		}
		return append(out, n.text...)
	case kindFloat:
		f, _ := strconv.ParseFloat(n.text, 64)
		return appendJavaDouble(out, f)
	case kindString:
		return appendString(out, n.text, n.plain)
	case kindObject:
		out = append(out, '{')
		for i, m := range n.members {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendString(out, m.key, m.keyPlain)
			out = append(out, ':')
			out = appendValue(out, m.val)
		}
		return append(out, '}')
	default:
		out = append(out, '[')
		for i, e := range n.elems {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendValue(out, e)
		}
		return append(out, ']')
	}
}

// appendString escapes as Jackson does by default: the quote, the backslash and the
// control characters (short escapes where JSON has one, else \u00XX with upper-case
// hex digits); everything else, '/' and non-ASCII included, as it is. A plain string
// has none of those.
func appendString(out []byte, s string, plain bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	out = append(out, '"')
	if plain {
		out = append(out, s...)
		return append(out, '"')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c >= 0x20:
			out = append(out, c)
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	return append(out, '"')
}

// appendJavaDouble writes f as Java's Double.toString does (with the shortest digits
// that read back as f, as Java 19 and later choose them): plain notation with at least
// one fractional digit for 10^-3 <= |f| < 10^7, else d.dddE±n.
func appendJavaDouble(out []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(out, "-0.0"...)
		}
		return append(out, "0.0"...)
	}
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	// Shortest digits and decimal exponent: f = 0.d1d2… × 10^exp10.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expText) // f = d.ddd × 10^exp
	if f >= 1e-3 && f < 1e7 {
		if exp >= 0 {
			intLen := exp + 1
			if len(digits) <= intLen {
				out = append(out, digits...)
				for i := len(digits); i < intLen; i++ {
					out = append(out, '0')
				}
				return append(out, '.', '0')
			}
			out = append(out, digits[:intLen]...)
			out = append(out, '.')
			return append(out, digits[intLen:]...)
		}
		out = append(out, '0', '.')
		for i := 0; i < -exp-1; i++ {
			out = append(out, '0')
		}
		return append(out, digits...)
	}
	out = append(out, digits[0], '.')
	if len(digits) > 1 {
		out = append(out, digits[1:]...)
	} else {
		out = append(out, '0')
	}
	out = append(out, 'E')
	return strconv.AppendInt(out, int64(exp), 10)
}
