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
func RedactHeaders(h http.Header) http.Header { return toHeader(redactedPairs(h)) }

// redactedPairs is h redacted, as name, value pairs in one allocation:
// what the ring keeps, at a fraction of the cost of a map. The strings
// are h's own (Go strings never change) or Redacted.
func redactedPairs(h http.Header) []string {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	pairs := make([]string, 0, 2*n)
	for name, vs := range h {
		for _, v := range vs {
			pairs = append(pairs, name, redactValue(name, v))
		}
	}
	return pairs
}

func redactValue(name, v string) string {
	for _, secret := range secretHeaders {
		if name == secret {
			return Redacted
		}
	}
	if name == "Authorization" {
		return redactAuthorization(v)
	}
	return v
}

// toHeader turns pairs back into a header, for a reader of the journal.
func toHeader(pairs []string) http.Header {
	h := make(http.Header, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		h[pairs[i]] = append(h[pairs[i]], pairs[i+1])
	}
	return h
}

// redactAuthorization keeps the scheme of an Authorization value and, for
// an SDK-HMAC-SHA256 signature, every parameter but Signature.
func redactAuthorization(v string) string {
	scheme, params, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return Redacted
	}
	if !strings.EqualFold(scheme, "SDK-HMAC-SHA256") {
		return scheme + " " + Redacted
	}
	parts := strings.Split(params, ",")
	for i, p := range parts {
		key, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(key) {
		case "access", "signedheaders":
		default: // Signature, or anything the keeper cannot vouch for
			lead := p[:len(p)-len(strings.TrimLeft(p, " "))]
			parts[i] = lead + strings.TrimSpace(key) + "=" + Redacted
		}
	}
	return scheme + " " + strings.Join(parts, ",")
}
