package aksk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// CanonicalRequest returns the canonical request of req for the given
// signed-header names (lowercase, in the order they are listed in the
// Authorization header) and body hash. It is the building block behind Sign
// and Verify, exported so that tests and logs can show it. Malformed query
// pairs are left out, as url.URL.Query does; Sign and Verify reject such
// queries instead.
func CanonicalRequest(req *http.Request, signedHeaders []string, bodyHash string) string {
	cr, _ := canonicalRequest(req, signedHeaders, bodyHash)
	return cr
}

// StringToSign returns the string whose HMAC is the signature.
func StringToSign(canonicalRequest, date string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
}

// signature is the lowercase hex HMAC-SHA256 of stringToSign keyed with sk.
func signature(sk, stringToSign string) []byte {
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(stringToSign))
	return mac.Sum(nil)
}

// hashHex is the body hash of the canonical request.
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalRequest builds the whole canonical request even when it reports
// an error, so that CanonicalRequest can show it. Errors: an unparseable query
// (ErrMalformed) and a signed header absent from req (ErrBadSignature).
func canonicalRequest(req *http.Request, signedHeaders []string, bodyHash string) (string, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet // net/http sends "" as GET
	}
	var b strings.Builder
	b.Grow(256 + len(req.URL.Path) + len(req.URL.RawQuery) + len(bodyHash))
	b.WriteString(method)
	b.WriteByte('\n')
	writeURI(&b, req.URL.Path)
	b.WriteByte('\n')
	qerr := writeQuery(&b, req.URL.RawQuery)
	b.WriteByte('\n')
	herr := writeHeaders(&b, req, signedHeaders)
	b.WriteByte('\n')
	for i, name := range signedHeaders {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(bodyHash)
	if qerr != nil {
		return b.String(), qerr
	}
	return b.String(), herr
}

// writeURI writes the decoded path escaped segment by segment. The SDK splits
// on "/", escapes each segment and joins with "/"; since escape never keeps
// "/", escaping the bytes around the slashes is the same thing.
func writeURI(b *strings.Builder, path string) {
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' {
			b.WriteByte('/')
		} else {
			writeEscapedByte(b, c)
		}
	}
	if path == "" || path[len(path)-1] != '/' {
		b.WriteByte('/')
	}
}

// writeQuery writes the canonical query. Keys and values are sorted before
// escaping because that is what the SDK does, and the order can differ from
// the escaped order (e.g. "a{" vs "aa").
func writeQuery(b *strings.Builder, rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(rawQuery)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first := true
	for _, k := range keys {
		vs := q[k]
		slices.Sort(vs)
		for _, v := range vs {
			if !first {
				b.WriteByte('&')
			}
			first = false
			writeEscaped(b, k)
			b.WriteByte('=')
			writeEscaped(b, v)
		}
	}
	if err != nil {
		return fmt.Errorf("%w query string: %v", ErrMalformed, err)
	}
	return nil
}

// writeHeaders writes one "name:value\n" line per value of each signed
// header, values trimmed and then sorted. (The SDK sorts before trimming, but
// it only ever has one value per header, and net/http trims values when
// sending, so sorting trimmed values is what a server can reproduce.) With no
// lines at all the SDK still writes the final "\n".
func writeHeaders(b *strings.Builder, req *http.Request, signedHeaders []string) error {
	var err error
	lines := 0
	for _, name := range signedHeaders {
		vs := headerValues(req, name)
		if len(vs) == 0 && err == nil {
			err = fmt.Errorf("%w: signed header %q is absent from the request", ErrBadSignature, clip(name))
		}
		if len(vs) > 1 {
			vs = trimmedSorted(vs)
		}
		for _, v := range vs {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
			lines++
		}
	}
	if lines == 0 {
		b.WriteByte('\n')
	}
	return err
}

// trimmedSorted returns a sorted copy of the trimmed values; the caller's
// header is never modified.
func trimmedSorted(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.TrimSpace(v)
	}
	slices.Sort(out)
	return out
}

// headerValues returns the values of the header whose lowercased name is
// lname. It matches every key that lowercases to lname, like the SDK's
// lowercasing map, so hand-built headers with non-canonical keys work too.
// A server never has Host in req.Header, so a signed "host" (which other
// Huawei signers send) falls back to req.Host.
func headerValues(req *http.Request, lname string) []string {
	var out []string
	merged := false
	for k, vs := range req.Header {
		if len(vs) == 0 || !lowerEqual(k, lname) {
			continue
		}
		if out == nil {
			out = vs
		} else {
			if !merged {
				out = slices.Clone(out)
				merged = true
			}
			out = append(out, vs...)
		}
	}
	if out == nil && lname == "host" {
		if h := hostOf(req); h != "" {
			out = []string{h}
		}
	}
	return out
}

func hostOf(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	if req.URL != nil {
		return req.URL.Host
	}
	return ""
}

// lowerEqual reports strings.ToLower(k) == lname without allocating for ASCII
// keys, which is every key a real request has.
func lowerEqual(k, lname string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(k) == lname
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if i >= len(lname) || lname[i] != c {
			return false
		}
	}
	return len(k) == len(lname)
}

// unreserved are the bytes the SDK does not escape.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		writeEscapedByte(b, s[i])
	}
}

func writeEscapedByte(b *strings.Builder, c byte) {
	const upperHex = "0123456789ABCDEF"
	if unreserved(c) {
		b.WriteByte(c)
		return
	}
	b.WriteByte('%')
	b.WriteByte(upperHex[c>>4])
	b.WriteByte(upperHex[c&15])
}

// clip shortens untrusted input quoted in error messages.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	// The text is the caller's: keep what a header token is made of and
	// mark the rest, so that a message never carries markup, format verbs
	// or control bytes someone sent.
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.;=/:+ ", r):
			return r
		}
		return '?'
	}, s)
}
