package aksk

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	method := cmp.Or(req.Method, http.MethodGet) // net/http sends "" as GET
	query, qerr := canonicalQuery(req.URL.RawQuery)
	headers, herr := canonicalHeaders(req, signedHeaders)
	cr := strings.Join([]string{method, canonicalURI(req.URL.Path), query, headers, strings.Join(signedHeaders, ";"), bodyHash}, "\n")
	return cr, cmp.Or(qerr, herr)
}

// canonicalURI is the decoded path escaped segment by segment, with a
// trailing "/", as the SDK builds it.
func canonicalURI(path string) string {
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = escape(s)
	}
	uri := strings.Join(segments, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri
}

// canonicalQuery is the canonical query. Keys and values are sorted before
// escaping because that is what the SDK does, and the order can differ from
// the escaped order (e.g. "a{" vs "aa").
func canonicalQuery(rawQuery string) (string, error) {
	q, err := url.ParseQuery(rawQuery)
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := q[k]
		slices.Sort(vs)
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	if err != nil {
		err = fmt.Errorf("%w query string: %v", ErrMalformed, err)
	}
	return strings.Join(pairs, "&"), err
}

// canonicalHeaders is one "name:value\n" line per value of each signed
// header, values trimmed and then sorted. (The SDK sorts before trimming, but
// it only ever has one value per header, and net/http trims values when
// sending, so sorting trimmed values is what a server can reproduce.) With no
// lines at all the SDK still writes the final "\n".
func canonicalHeaders(req *http.Request, signedHeaders []string) (string, error) {
	var err error
	var b strings.Builder
	for _, name := range signedHeaders {
		vs := headerValues(req, name)
		if len(vs) == 0 && err == nil {
			err = fmt.Errorf("%w: signed header %q is absent from the request", ErrBadSignature, clip(name))
		}
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(name + ":" + v + "\n")
		}
	}
	if b.Len() == 0 {
		return "\n", err
	}
	return b.String(), err
}

// headerValues returns the trimmed values of the header whose lowercased name
// is lname. It matches every key that lowercases to lname, like the SDK's
// lowercasing map, so hand-built headers with non-canonical keys work too.
// A server never has Host in req.Header, so a signed "host" (which other
// Huawei signers send) falls back to req.Host.
func headerValues(req *http.Request, lname string) []string {
	var out []string
	for k, vs := range req.Header {
		if strings.EqualFold(k, lname) {
			for _, v := range vs {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	if out == nil && lname == "host" {
		if h := cmp.Or(req.Host, req.URL.Host); h != "" {
			out = []string{strings.TrimSpace(h)}
		}
	}
	return out
}

// escape percent-encodes every byte but the ones the SDK leaves alone.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
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
