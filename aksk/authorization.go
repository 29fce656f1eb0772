package aksk

import (
	"fmt"
	"net/http"
	"strings"
)

// Authorization is the parsed value of an SDK-HMAC-SHA256 Authorization
// header.
type Authorization struct {
	Access        string   // the AK
	SignedHeaders []string // lowercase header names, in header order
	Signature     string   // 64 lowercase hex digits
}

// String formats a the way the SDK does.
func (a Authorization) String() string {
	return Algorithm + " Access=" + a.Access +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + a.Signature
}

// FromRequest parses the Authorization header of req, so that a server can
// look up the SK for the Access field before calling Verify. It fails with
// ErrMissing when there is no such header and with ErrMalformed otherwise.
func FromRequest(req *http.Request) (Authorization, error) {
	vs := req.Header.Values(HeaderAuthorization)
	switch {
	case len(vs) == 0 || len(vs) == 1 && vs[0] == "":
		return Authorization{}, ErrMissing
	case len(vs) > 1:
		return Authorization{}, malformed("%d values, want one", len(vs))
	}
	return ParseAuthorization(vs[0])
}

// ParseAuthorization parses
//
//	SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>
//
// strictly: the value is untrusted. The three fields must each appear once,
// in any order, separated by "," and optional spaces. Access must be
// printable ASCII without spaces; every signed header a lowercase HTTP token;
// Signature 64 lowercase hex digits. Errors wrap ErrMalformed.
func ParseAuthorization(v string) (Authorization, error) {
	alg, rest, _ := strings.Cut(v, " ")
	if alg != Algorithm {
		if alg == "" {
			return Authorization{}, malformed("no algorithm")
		}
		return Authorization{}, malformed("unsupported algorithm %q, want %s", clip(alg), Algorithm)
	}
	if rest == "" {
		return Authorization{}, malformed("no fields after %s", Algorithm)
	}
	var a Authorization
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimLeft(part, " ")
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return Authorization{}, malformed("%q is not key=value", clip(part))
		}
		var i int
		var err error
		switch key {
		case "Access":
			i, a.Access, err = 0, val, checkAccess(val)
		case "SignedHeaders":
			i = 1
			a.SignedHeaders, err = parseSignedHeaders(val)
		case "Signature":
			i, a.Signature, err = 2, val, checkSignature(val)
		default:
			return Authorization{}, malformed("unknown field %q", clip(key))
		}
		if seen[i] {
			return Authorization{}, malformed("duplicate %s", key)
		}
		seen[i] = true
		if err != nil {
			return Authorization{}, err
		}
	}
	for i, name := range [...]string{"Access", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return Authorization{}, malformed("missing %s", name)
		}
	}
	return a, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w Authorization header: "+format, append([]any{ErrMalformed}, args...)...)
}

// checkAccess accepts what can round-trip through the header: printable
// ASCII, no space, no "," (the field separator).
func checkAccess(ak string) error {
	if ak == "" {
		return malformed("empty Access")
	}
	for i := 0; i < len(ak); i++ {
		if c := ak[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return malformed("Access %q contains byte %#x", clip(ak), c)
		}
	}
	return nil
}

func parseSignedHeaders(v string) ([]string, error) {
	if v == "" {
		return nil, malformed("empty SignedHeaders")
	}
	names := strings.Split(v, ";")
	for _, n := range names {
		if !isLowerToken(n) {
			return nil, malformed("signed header %q is not a lowercase HTTP token", clip(n))
		}
	}
	return names, nil
}

func checkSignature(sig string) error {
	if len(sig) != 2*32 {
		return malformed("Signature has %d characters, want 64 hex digits", len(sig))
	}
	for i := 0; i < len(sig); i++ {
		if c := sig[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return malformed("Signature is not lowercase hex (%q at %d)", c, i)
		}
	}
	return nil
}

// isLowerToken reports whether s is a non-empty RFC 9110 token without
// uppercase letters, i.e. what the SDK emits for a header name.
func isLowerToken(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
	})
}
