package aksk_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/aksk"
)

func FuzzSignVerify(f *testing.F) {
	f.Add("GET", "/v2/servicerequest/cases/C1/relations", "", "X-Language", "en-us", []byte(nil))
	f.Add("POST", "/v2/servicerequest/cases/C1/relations", "a=1&a=0&b", "Content-Type", "application/json", []byte(postBody))
	f.Add("DELETE", "/v2/cases/a b/é%2F/", "k%7B=1&kk=", "X-Padded", "  v  ", []byte("{}\n"))
	f.Add("", "", "", "X_Under", "x", []byte("x"))
	f.Add("PUT", "/up", "", "Content-Type", "text/plain", []byte("raw"))
	f.Add("GET", "/", "", "X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD", []byte("b"))
	f.Add("GET", "/", "q=%zz", "Bad Name", "v", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, query, hname, hvalue string, body []byte) {
		req := &http.Request{
			Method: method,
			URL:    &url.URL{Scheme: "https", Host: "osm.example.com", Path: path, RawQuery: query},
			Host:   "osm.example.com",
			Header: http.Header{"X-Fixed": {"1"}},
		}
		if hname != "" {
			req.Header.Add(hname, hvalue)
		}
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		err := aksk.Sign(req, testAK, testSK, testNow)
		if errors.Is(err, aksk.ErrMalformed) {
			return // query or header name a server could not read either
		}
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}

		got := readBody(t, req)
		claimed, unsigned := req.Header[aksk.HeaderContentSha256]
		if !unsigned && !bytes.Equal(got, body) {
			t.Fatalf("body after Sign = %q, want %q", got, body)
		}
		err = aksk.Verify(req, got, testSK)
		if unsigned && strings.TrimSpace(claimed[0]) != aksk.UnsignedPayload && strings.TrimSpace(claimed[0]) != sha256Hex(got) {
			// A caller-supplied hash that is not the body's is refused.
			if !errors.Is(err, aksk.ErrBadSignature) {
				t.Fatalf("Verify with a false %s: %v", aksk.HeaderContentSha256, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Verify(Sign(req)): %v\nAuthorization: %s\ncanonical: %q", err,
				req.Header.Get(aksk.HeaderAuthorization), canonicalOf(req, got))
		}
		if err := aksk.Verify(req, got, testSK+"x"); !errors.Is(err, aksk.ErrBadSignature) {
			t.Fatalf("Verify with another SK: %v", err)
		}
		if !unsigned {
			if err := aksk.Verify(req, append(got, 'x'), testSK); !errors.Is(err, aksk.ErrBadSignature) {
				t.Fatalf("Verify with another body: %v", err)
			}
		}
	})
}

func canonicalOf(req *http.Request, body []byte) string {
	a, err := aksk.FromRequest(req)
	if err != nil {
		return err.Error()
	}
	return aksk.CanonicalRequest(req, a.SignedHeaders, sha256Hex(body))
}

func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("ab", 32)
	f.Add("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-a;x-sdk-date, Signature=" + sig)
	f.Add("SDK-HMAC-SHA256 Signature=" + sig + ",Access=A,SignedHeaders=h")
	f.Add("SDK-HMAC-SHA256 Access=, SignedHeaders=;, Signature=zz")
	f.Add("SDK-HMAC-SHA256")
	f.Add("Bearer x")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		a, err := aksk.ParseAuthorization(v)
		if err != nil {
			if !errors.Is(err, aksk.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Whatever parses must format back to something that parses the same.
		b, err := aksk.ParseAuthorization(a.String())
		if err != nil || b.Access != a.Access || b.Signature != a.Signature ||
			strings.Join(b.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", v, a, a.String(), b, err)
		}
	})
}
