package journal

import (
	"net/http"
	"strings"
)

// secretHeaders carry nothing but a secret: their values are replaced
// whole.
var secretHeaders = []string{"X-Auth-Token", "X-Security-Token", "Cookie", "Proxy-Authorization"}

// RedactHeaders returns a copy of h fit to keep: the values of the secret
// headers replaced by Redacted, and of Authorization only the secret part
// (an AK/SK signature keeps its algorithm, access key and signed headers,
// which help to debug a refusal; a bearer or other credential keeps its
// scheme).
func RedactHeaders(h http.Header) http.Header {
	out := h.Clone()
	for name, vs := range out {
		for i, v := range vs {
			vs[i] = redactValue(name, v)
		}
	}
	return out
}

func redactValue(name, v string) string {
	for _, secret := range secretHeaders {
		if strings.EqualFold(name, secret) {
			return Redacted
		}
	}
	if strings.EqualFold(name, "Authorization") {
		return redactAuthorization(v)
	}
	return v
}

// redactAuthorization keeps of an Authorization value what helps to debug
// a refusal and cannot be a secret: the scheme and, of an SDK-* signature
// (SDK-HMAC-SHA256, SDK-HMAC-SM3, ...), the Access and SignedHeaders
// parameters when their values look like an access key and a list of
// header names. Everything else, Signature first, is Redacted: what the
// keeper cannot read for sure, it does not keep.
func redactAuthorization(v string) string {
	v = strings.TrimSpace(v)
	sp := strings.IndexAny(v, " \t")
	if sp < 0 || !isToken(v[:sp], 64) {
		return Redacted
	}
	scheme, params := v[:sp], v[sp:]
	if len(scheme) < 4 || !strings.EqualFold(scheme[:4], "SDK-") {
		return scheme + " " + Redacted
	}
	parts := strings.Split(params, ",")
	for i, p := range parts {
		key, val, _ := strings.Cut(p, "=")
		lead := key[:len(key)-len(strings.TrimLeft(key, " \t"))]
		key = strings.TrimLeft(key, " \t")
		switch {
		case strings.EqualFold(key, "Access") && isToken(val, 128):
		case strings.EqualFold(key, "SignedHeaders") && isHeaderList(val):
		case strings.EqualFold(key, "Access"), strings.EqualFold(key, "SignedHeaders"), strings.EqualFold(key, "Signature"):
			parts[i] = lead + key + "=" + Redacted
		default: // a name the keeper does not know may be part of a value
			parts[i] = lead + Redacted
		}
	}
	return scheme + strings.Join(parts, ",")
}

// isToken reports whether s is 1 to max letters, digits, '-', '_' or '.':
// an auth scheme or an access key, nothing that holds a separator.
func isToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// isHeaderList reports whether s is header names joined by ';', as
// SignedHeaders carries them.
func isHeaderList(s string) bool {
	for name := range strings.SplitSeq(s, ";") {
		if !isToken(name, 128) {
			return false
		}
	}
	return len(s) <= 2048
}
