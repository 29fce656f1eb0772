// Package jsonvalue decodes a JSON document into the generic value that
// kin-openapi validates (map[string]any, []any, string, json.Number, bool,
// nil), in one pass over bytes already in memory.
//
// It exists for the request path: encoding/json's Decoder with UseNumber,
// which kin-openapi's JSON body decoder uses, makes about a dozen
// allocations for a three-member object (a decoder, its buffer, a scanner
// stack, a boxed value per literal), and the stub decodes every body. The
// value Parse returns is the one encoding/json would return for the same
// bytes (FuzzParse holds it to that), and Parse accepts exactly what
// json.Valid accepts.
package jsonvalue

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// ErrInvalid is Parse's only error: the bytes are not one JSON value, or
// not UTF-8. It says nothing more: a caller that needs to tell the user
// where the problem is asks encoding/json, which words it.
var ErrInvalid = errors.New("jsonvalue: not a JSON document")

// maxDepth is encoding/json's nesting limit: json.Valid refuses deeper
// documents, so Parse does too.
const maxDepth = 10000

// Parse decodes b. Object member names found in names are shared with
// it instead of allocated (the contract's property names); names may be
// nil. When a name occurs twice the last member wins, as with
// encoding/json.
func Parse(b []byte, names map[string]string) (any, error) {
	p := parser{b: b, names: names}
	p.space()
	v, ok := p.value(0)
	if !ok {
		return nil, ErrInvalid
	}
	p.space()
	if p.i != len(p.b) {
		return nil, ErrInvalid
	}
	return v, nil
}

type parser struct {
	b     []byte
	i     int
	names map[string]string
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

func (p *parser) value(depth int) (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		return s, true
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

func (p *parser) literal(word string) bool {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return true
}

func (p *parser) object(depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	p.i++ // '{'
	m := make(map[string]any, 4)
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, true
	}
	for {
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.name()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		if done, ok := p.after('}'); !ok {
			return nil, false
		} else if done {
			return m, true
		}
	}
}

func (p *parser) array(depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	p.i++ // '['
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if done, ok := p.after(']'); !ok {
			return nil, false
		} else if done {
			return a, true
		}
	}
}

// after moves past what follows a member or element: a comma (done is
// false: another comes) or the closing bracket (done is true).
func (p *parser) after(closer byte) (done, ok bool) {
	p.space()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		p.space()
		return false, true
	case closer:
		p.i++
		return true, true
	}
	return false, false
}

// name is a member name, shared with p.names when it is one of them.
func (p *parser) name() (string, bool) {
	start := p.i + 1
	end, escaped, ok := p.scanString()
	if !ok {
		return "", false
	}
	if !escaped {
		if s, ok := p.names[string(p.b[start:end])]; ok {
			return s, true
		}
	}
	return p.finish(start, end, escaped)
}

func (p *parser) str() (string, bool) {
	start := p.i + 1
	end, escaped, ok := p.scanString()
	if !ok {
		return "", false
	}
	return p.finish(start, end, escaped)
}

// finish turns the string between start and end (the quotes excluded)
// into a Go string. With escapes, encoding/json decodes it: its handling
// of bad surrogates (U+FFFD) is the reference, and escapes are rare.
func (p *parser) finish(start, end int, escaped bool) (string, bool) {
	if !escaped {
		return string(p.b[start:end]), true
	}
	var s string
	if err := json.Unmarshal(p.b[start-1:end+1], &s); err != nil {
		return "", false
	}
	return s, true
}

// scanString moves past a string whose opening quote is at p.i and
// returns where its closing quote is. It checks what json.Valid checks:
// no control characters, only JSON's escapes; and that the text is
// UTF-8.
func (p *parser) scanString() (end int, escaped, ok bool) {
	i := p.i + 1
	ascii := true
	for i < len(p.b) {
		c := p.b[i]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(p.b[p.i+1:i]) {
				return 0, false, false
			}
			p.i = i + 1
			return i, escaped, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			escaped = true
			n, ok := escapeLen(p.b[i:])
			if !ok {
				return 0, false, false
			}
			i += n
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			i++
		}
	}
	return 0, false, false
}

// escapeLen is the length of the escape at the start of b ("\n", "\u00e9").
func escapeLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		if len(b) < 6 {
			return 0, false
		}
		for _, h := range b[2:6] {
			if !isHex(h) {
				return 0, false
			}
		}
		return 6, true
	}
	return 0, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number scans JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() (any, bool) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return nil, false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return nil, false
		}
	}
	return json.Number(p.b[start:p.i]), true
}

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}
