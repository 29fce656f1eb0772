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
	if out == nil {
		return http.Header{}
	}
	for _, name := range secretHeaders {
		for i := range out[name] {
			out[name][i] = Redacted
		}
	}
	for i, v := range out["Authorization"] {
		out["Authorization"][i] = redactAuthorization(v)
	}
	return out
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
