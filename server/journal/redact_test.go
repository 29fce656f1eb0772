package journal

import (
	"net/http"
	"strings"
	"testing"
)

// sig stands for a signature in the cases: nothing else in them holds it.
const sig = "5ig5ig5ig5ig0f1e2d3c4b5a6978"

var authorizationCases = []struct{ in, want string }{
	{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=" + sig, "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=[redacted]"},
	{"sdk-hmac-sha256 Signature=" + sig + ",Access=AK1", "sdk-hmac-sha256 Signature=[redacted],Access=AK1"},
	{"  SDK-HMAC-SHA256   Access=AK1,Signature=" + sig + "  ", "SDK-HMAC-SHA256   Access=AK1,Signature=[redacted]"},
	{"SDK-HMAC-SHA256\tAccess=AK1,\tSignature=" + sig, "SDK-HMAC-SHA256\tAccess=AK1,\tSignature=[redacted]"},
	{"SDK-HMAC-SHA256 Access=AK1, signature =" + sig, "SDK-HMAC-SHA256 Access=AK1, [redacted]"},
	{"SDK-HMAC-SHA256 Access=AK1, Signature = " + sig, "SDK-HMAC-SHA256 Access=AK1, [redacted]"},
	{"SDK-HMAC-SHA256 Access=AK1, SIGNATURE=" + sig, "SDK-HMAC-SHA256 Access=AK1, SIGNATURE=[redacted]"},
	// Another parameter's value that runs into the signature.
	{"SDK-HMAC-SHA256 Access=AK1 Signature=" + sig, "SDK-HMAC-SHA256 Access=[redacted]"},
	{"SDK-HMAC-SHA256 Access=AK1;Signature=" + sig, "SDK-HMAC-SHA256 Access=[redacted]"},
	{"SDK-HMAC-SHA256 Access=AK1\tSignature=" + sig, "SDK-HMAC-SHA256 Access=[redacted]"},
	{"SDK-HMAC-SHA256 SignedHeaders=host;Signature=" + sig, "SDK-HMAC-SHA256 SignedHeaders=[redacted]"},
	{"SDK-HMAC-SHA256 SignedHeaders=host Signature=" + sig, "SDK-HMAC-SHA256 SignedHeaders=[redacted]"},
	{"SDK-HMAC-SHA256 Access=Signature=" + sig, "SDK-HMAC-SHA256 Access=[redacted]"},
	{`SDK-HMAC-SHA256 Access="AK1", Signature="` + sig + `"`, "SDK-HMAC-SHA256 Access=[redacted], Signature=[redacted]"},
	// A signature cut by a comma: the piece after it is no parameter.
	{"SDK-HMAC-SHA256 Access=AK1, Signature=5ig5ig,5ig5ig0f1e2d3c4b5a6978", "SDK-HMAC-SHA256 Access=AK1, Signature=[redacted],[redacted]"},
	// Other algorithms of the family keep their parameters too.
	{"SDK-HMAC-SM3 Access=AK1, SignedHeaders=host, Signature=" + sig, "SDK-HMAC-SM3 Access=AK1, SignedHeaders=host, Signature=[redacted]"},
	{"SDK-ECDSA-P256-SHA256 Access=AK1, SignedHeaders=host, Signature=" + sig, "SDK-ECDSA-P256-SHA256 Access=AK1, SignedHeaders=host, Signature=[redacted]"},
	{"AWS4-HMAC-SHA256 Credential=AK1/x, Signature=" + sig, "AWS4-HMAC-SHA256 [redacted]"},
	// No scheme to keep.
	{"SDK-HMAC-SHA256,Signature=" + sig, "[redacted]"},
	{"Signature=" + sig, "[redacted]"},
	{"Signature=" + sig + " Access=AK1", "[redacted]"},
	{sig, "[redacted]"},
	{"", "[redacted]"},
	{"Bearer " + sig, "Bearer [redacted]"},
	{"Basic " + sig, "Basic [redacted]"},
}

func TestRedactAuthorization(t *testing.T) {
	for _, c := range authorizationCases {
		got := redactAuthorization(c.in)
		if got != c.want {
			t.Errorf("redactAuthorization(%q) = %q; want %q", c.in, got, c.want)
		}
		if strings.Contains(got, sig) || strings.Contains(got, "5ig5ig") {
			t.Errorf("redactAuthorization(%q) = %q: the signature survives", c.in, got)
		}
	}
	// Every value of the header, whatever the case of its name.
	h := http.Header{"Authorization": {"Bearer x", "SDK-HMAC-SHA256 Access=AK1, Signature=" + sig}, "authorization": {"SDK-HMAC-SM3 Signature=" + sig}}
	for name, vs := range RedactHeaders(h) {
		for _, v := range vs {
			if strings.Contains(v, sig) {
				t.Errorf("%s: %q: the signature survives", name, v)
			}
		}
	}
}

// FuzzRedactAuthorization: a signature after "Signature=" (any case,
// any spaces around the key) never survives, whatever comes before and
// after it; and no "signature=" in the result is followed by anything
// but the mark. Fast: one call a run.
func FuzzRedactAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, ", "Signature", sig, "")
	f.Add("SDK-HMAC-SHA256 Access=AK1 ", "signature ", sig, ", x=y")
	f.Add("SDK-HMAC-SM3\tAccess=AK1;", "\tSIGNATURE", sig, "\t")
	f.Add("", "Signature", sig, " Bearer")
	f.Add("Bearer ", "Signature", sig, "")
	for _, c := range authorizationCases {
		f.Add(c.in, "Signature", sig, "")
	}
	f.Fuzz(func(t *testing.T, prefix, key, signature, suffix string) {
		got := redactAuthorization(prefix + key + "=" + signature + suffix)
		lower := strings.ToLower(got)
		for i := strings.Index(lower, "signature"); i >= 0; {
			rest := strings.TrimLeft(lower[i+len("signature"):], " \t")
			if strings.HasPrefix(rest, "=") && !strings.HasPrefix(strings.TrimLeft(rest[1:], " \t"), Redacted) {
				t.Fatalf("a signature value survives in %q", got)
			}
			j := strings.Index(lower[i+1:], "signature")
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if !strings.EqualFold(strings.Trim(key, " \t"), "Signature") || !isSignatureLike(signature) ||
			strings.Contains(prefix, signature) || strings.Contains(suffix, signature) {
			return
		}
		if strings.Contains(got, signature) {
			t.Fatalf("redactAuthorization(%q) = %q: the signature survives", prefix+key+"="+signature+suffix, got)
		}
	})
}

// isSignatureLike: 8 or more characters of a hex or base64 signature, so
// that it cannot be formed by the keeper's own marks.
func isSignatureLike(s string) bool {
	if len(s) < 8 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
