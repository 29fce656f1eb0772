package cassette

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Match says which parts of a request must equal a recorded one for the
// recorded answer to be served.
type Match struct {
	Method, Path, Query, Body bool
}

// DefaultMatch is method, path and body.
var DefaultMatch = Match{Method: true, Path: true, Body: true}

// ParseMatch reads a comma-separated list of method, path, query, body.
func ParseMatch(s string) (Match, error) {
	var m Match
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "method":
			m.Method = true
		case "path":
			m.Path = true
		case "query":
			m.Query = true
		case "body":
			m.Body = true
		case "":
		default:
			return m, fmt.Errorf("cassette: match %q: want a list of method, path, query, body", part)
		}
	}
	return m, nil
}

func (m Match) String() string {
	var parts []string
	for _, p := range []struct {
		on   bool
		name string
	}{{m.Method, "method"}, {m.Path, "path"}, {m.Query, "query"}, {m.Body, "body"}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, ",")
}

// Player serves a cassette's answers as an http.RoundTripper. Recorded
// exchanges that match a request are served in the order they were
// recorded, each once; once all have been served, the last is served
// again. It is safe for concurrent use.
type Player struct {
	match     Match
	exchanges []Exchange
	mu        sync.Mutex
	used      []bool
}

// NewPlayer plays exchanges, matched by m.
func NewPlayer(exchanges []Exchange, m Match) *Player {
	return &Player{match: m, exchanges: exchanges, used: make([]bool, len(exchanges))}
}

// NoMatchError is the answer to a request that no recorded exchange
// matches; it names the closest one.
type NoMatchError struct {
	Method, Path string
	Match        Match
	// Closest is the recorded exchange most like the request, and Differs
	// what sets it apart; Closest is nil for an empty cassette.
	Closest *Exchange
	Index   int // Closest's line, from 1
	Differs []string
}

func (e *NoMatchError) Error() string {
	msg := fmt.Sprintf("replay: no recorded exchange matches %s %s on %s", e.Method, e.Path, e.Match)
	if e.Closest != nil {
		msg += fmt.Sprintf("; closest is line %d, %s %s", e.Index, e.Closest.Request.Method, e.Closest.Request.Path)
		if len(e.Closest.Request.Body) > 0 {
			msg += " with body " + string(e.Closest.Request.Body)
		}
		msg += " (differs in " + strings.Join(e.Differs, ", ") + ")"
	}
	return msg
}

// RoundTrip implements http.RoundTripper.
func (p *Player) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	path := req.URL.EscapedPath()
	p.mu.Lock()
	i := p.pick(req.Method, path, req.URL.RawQuery, body)
	p.mu.Unlock()
	if i < 0 {
		return nil, p.noMatch(req.Method, path, req.URL.RawQuery, body)
	}
	r := p.exchanges[i].Response
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status)),
		StatusCode:    r.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.Header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(r.Body)),
		ContentLength: int64(len(r.Body)),
		Request:       req,
	}, nil
}

// pick returns the first unused matching exchange, else the last matching
// one, else -1. p.mu is held.
func (p *Player) pick(method, path, query string, body []byte) int {
	last := -1
	for i := range p.exchanges {
		if len(p.differs(&p.exchanges[i].Request, method, path, query, body)) > 0 {
			continue
		}
		if !p.used[i] {
			p.used[i] = true
			return i
		}
		last = i
	}
	return last
}

// differs names the matched parts of r that differ from the request.
func (p *Player) differs(r *Request, method, path, query string, body []byte) []string {
	var out []string
	if p.match.Method && r.Method != method {
		out = append(out, "method")
	}
	if p.match.Path && r.Path != path {
		out = append(out, "path")
	}
	if p.match.Query && r.Query != query {
		out = append(out, "query")
	}
	if p.match.Body && !sameBody(r.Body, body) {
		out = append(out, "body")
	}
	return out
}

// sameBody compares JSON bodies by value (spacing and key order do not
// matter) and other bodies byte for byte.
func sameBody(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// noMatch finds the closest exchange: the fewest differing parts, then
// the longest common path prefix.
func (p *Player) noMatch(method, path, query string, body []byte) *NoMatchError {
	e := &NoMatchError{Method: method, Path: path, Match: p.match}
	best, bestPrefix := -1, -1
	for i := range p.exchanges {
		r := &p.exchanges[i].Request
		all := (&Player{match: Match{Method: true, Path: true, Query: true, Body: true}}).differs(r, method, path, query, body)
		prefix := commonPrefix(r.Path, path)
		if e.Closest == nil || len(all) < best || len(all) == best && prefix > bestPrefix {
			e.Closest, e.Index, e.Differs = &p.exchanges[i], i+1, all
			best, bestPrefix = len(all), prefix
		}
	}
	return e
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
