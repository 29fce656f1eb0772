// Package violation checks exchanges of the OSM API against the contract
// (openapi.yaml) and describes every broken rule as one Violation: where
// it is (status, a header, the body at a JSON pointer), the rule, and the
// value, capped and never a secret. It is the module's one checker: the
// tests, conform, the proxy and -validate-responses use it, so they agree.
package violation

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Direction says which half of an exchange broke the contract.
type Direction string

// The two directions.
const (
	Request  Direction = "request"
	Response Direction = "response"
)

// Where a Violation is.
const (
	InStatus = "status"
	InHeader = "header"
	InBody   = "body"
	InPath   = "path"
	InQuery  = "query"
)

// Violation is one broken rule of the contract in one exchange.
type Violation struct {
	Time time.Time `json:"time"`
	// Operation is the contract's operationId, such as ListRelation.
	Operation string    `json:"operation"`
	Direction Direction `json:"direction"`
	// In is status, header, body, path or query; Pointer is a JSON pointer
	// into the body ("/case_relation_list/0/user_name", "" for the whole
	// body), or "/" and the name of a header or parameter.
	In      string `json:"in"`
	Pointer string `json:"pointer"`
	Rule    string `json:"rule"`
	// Value is the offending value as JSON, at most MaxValue bytes, and
	// never the value of a credential header.
	Value string `json:"value,omitempty"`
	// RequestID is the id the stub gave the exchange (its X-Request-Id,
	// or the id in its access log when the upstream's answer is passed on).
	RequestID string `json:"request_id,omitempty"`
	// UpstreamRequestID is the X-Request-Id of the upstream's answer, if any.
	UpstreamRequestID string `json:"upstream_request_id,omitempty"`
}

// String is the violation in one line, for messages.
func (v Violation) String() string {
	s := string(v.Direction) + " " + v.In + v.Pointer + ": " + v.Rule
	if v.Value != "" {
		s += " (got " + v.Value + ")"
	}
	return s
}

// MaxValue caps Violation.Value, in bytes.
const MaxValue = 64

// secretHeaders are never quoted: their values are credentials.
var secretHeaders = map[string]bool{
	"x-auth-token": true, "authorization": true, "x-security-token": true,
	"cookie": true, "set-cookie": true, "proxy-authorization": true,
}

// value renders v as JSON, capped at MaxValue bytes (on a rune boundary,
// with "..." marking the cut).
func value(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return capped(string(b))
}

func capped(s string) string {
	if len(s) <= MaxValue {
		return s
	}
	cut := MaxValue - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// headerValue is a header's value for a Violation: quoted, capped, and
// left out for a credential.
func headerValue(name, v string) string {
	if secretHeaders[strings.ToLower(name)] {
		return ""
	}
	return capped(strconv.Quote(v))
}

// MaxKept bounds the violations a Log keeps; older ones are dropped but
// still counted.
const MaxKept = 1000

// Log keeps the violations seen, counts them, and writes each as one
// structured log line. It is safe for concurrent use.
type Log struct {
	log   *slog.Logger // nil: no log lines
	mu    sync.Mutex
	kept  []Violation // the newest MaxKept, oldest first
	total int
}

// NewLog returns an empty Log that writes to log (nil: nowhere).
func NewLog(log *slog.Logger) *Log { return &Log{log: log} }

// Add records vs, stamping those without a time.
func (l *Log) Add(vs ...Violation) {
	if len(vs) == 0 {
		return
	}
	now := time.Now().UTC()
	for i := range vs {
		if vs[i].Time.IsZero() {
			vs[i].Time = now
		}
		if l.log != nil {
			l.write(vs[i])
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += len(vs)
	l.kept = append(l.kept, vs...)
	if over := len(l.kept) - MaxKept; over > 0 {
		l.kept = append(l.kept[:0:0], l.kept[over:]...)
	}
}

// write logs v as one line; the upstream's request id only when there is one.
func (l *Log) write(v Violation) {
	attrs := []slog.Attr{
		slog.String("operation", v.Operation), slog.String("direction", string(v.Direction)),
		slog.String("in", v.In), slog.String("pointer", v.Pointer), slog.String("rule", v.Rule),
		slog.String("value", v.Value), slog.String("request_id", v.RequestID),
	}
	if v.UpstreamRequestID != "" {
		attrs = append(attrs, slog.String("upstream_request_id", v.UpstreamRequestID))
	}
	l.log.LogAttrs(context.Background(), slog.LevelWarn, "contract violation", attrs...)
}

// List returns the kept violations, oldest first, and how many were seen
// in all.
func (l *Log) List() ([]Violation, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Violation(nil), l.kept...), l.total
}

// Clear forgets every violation and resets the count.
func (l *Log) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kept, l.total = nil, 0
}
