// Package cassette records exchanges with the OSM API to a file, one JSON
// object a line, and plays them back: the stub's -record and -replay. A
// cassette never holds a secret: X-Auth-Token, X-Security-Token, cookies
// and the signature in Authorization are redacted before a line is
// written.
package cassette

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Exchange is one request and the answer it got: a line of a cassette.
type Exchange struct {
	Time time.Time `json:"time"`
	// Operation is the contract's operationId.
	Operation string   `json:"operation,omitempty"`
	Request   Request  `json:"request"`
	Response  Response `json:"response"`
}

// Request is the request as it was sent upstream, secrets redacted.
type Request struct {
	Method string      `json:"method"`
	Path   string      `json:"path"` // escaped, as sent
	Query  string      `json:"query,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Body   Body        `json:"body,omitempty"`
}

// Response is the answer, byte for byte (its headers less the hop-by-hop
// ones).
type Response struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	Body   Body        `json:"body,omitempty"`
}

// Body is bytes written as a JSON string when they are UTF-8 (a JSON body
// stays readable), else as {"base64": "..."}.
type Body []byte

// MarshalJSON implements json.Marshaler.
func (b Body) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	return json.Marshal(struct {
		Base64 string `json:"base64"`
	}{base64.StdEncoding.EncodeToString(b)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Body) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*b = Body(s)
		return nil
	}
	var enc struct {
		Base64 string `json:"base64"`
	}
	if err := json.Unmarshal(data, &enc); err != nil {
		return fmt.Errorf("cassette: body: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(enc.Base64)
	*b = raw
	return err
}

// Redacted is what a secret is replaced with.
const Redacted = "REDACTED"

// secretHeaders are replaced whole.
var secretHeaders = []string{"X-Auth-Token", "X-Security-Token", "Cookie", "Set-Cookie", "Proxy-Authorization"}

// signature is the part of an SDK-HMAC-SHA256 Authorization value that
// proves the secret key; the access key and the signed headers stay.
var signature = regexp.MustCompile(`(?i)(signature=)[^,\s]*`)

// RedactHeader returns a copy of h without secrets.
func RedactHeader(h http.Header) http.Header {
	out := h.Clone()
	for k, vs := range out {
		secret := slices.ContainsFunc(secretHeaders, func(s string) bool { return strings.EqualFold(k, s) })
		auth := strings.EqualFold(k, "Authorization")
		for i, v := range vs {
			switch {
			case auth && signature.MatchString(v):
				vs[i] = signature.ReplaceAllString(v, "${1}"+Redacted)
			case secret || auth: // auth: a bearer or basic credential
				vs[i] = Redacted
			}
		}
	}
	return out
}

// Recorder writes exchanges to a cassette. It is safe for concurrent use.
type Recorder struct {
	mu sync.Mutex
	w  io.Writer
}

// NewRecorder writes to w.
func NewRecorder(w io.Writer) *Recorder { return &Recorder{w: w} }

// Record writes x as one line, with the request's and response's secrets
// redacted.
func (r *Recorder) Record(x Exchange) error {
	x.Request.Header = RedactHeader(x.Request.Header)
	x.Response.Header = RedactHeader(x.Response.Header)
	line, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("cassette: %w", err)
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(line); err != nil {
		return fmt.Errorf("cassette: write: %w", err)
	}
	return nil
}

// Read reads a whole cassette.
func Read(r io.Reader) ([]Exchange, error) {
	var out []Exchange
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var x Exchange
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			return nil, fmt.Errorf("cassette: line %d: %w", n, err)
		}
		if x.Request.Method == "" || x.Request.Path == "" || x.Response.Status == 0 {
			return nil, fmt.Errorf("cassette: line %d: want request.method, request.path and response.status", n)
		}
		out = append(out, x)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cassette: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("cassette: no exchange in it")
	}
	return out, nil
}
