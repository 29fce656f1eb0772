package aksk_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
)

var secrets = map[string]string{testAK: testSK, "AKOTHER": "another secret"}

var errUnknownAK = errors.New("unknown AK")

// serverVerify is what a server does: AK lookup, then Verify.
func serverVerify(req *http.Request, body []byte) error {
	a, err := aksk.FromRequest(req)
	if err != nil {
		return err
	}
	sk, ok := secrets[a.Access]
	if !ok {
		return errUnknownAK
	}
	return aksk.Verify(req, body, sk)
}

func signedPost(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	req := newReq(t, "POST", "https://osm.example.com/v2/servicerequest/cases/C1/relations?x=1", postBody)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Language", "en-us")
	if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
		t.Fatal(err)
	}
	return req, readBody(t, req)
}

func setAuth(req *http.Request, edit func(*aksk.Authorization)) {
	a, err := aksk.FromRequest(req)
	if err != nil {
		panic(err)
	}
	edit(&a)
	req.Header.Set(aksk.HeaderAuthorization, a.String())
}

func TestVerifyTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(req *http.Request, body []byte) []byte
		want   error
	}{
		{"untouched", func(r *http.Request, b []byte) []byte { return b }, nil},
		{"body", func(r *http.Request, b []byte) []byte { return append(b[:len(b)-1:len(b)-1], ' ', '\n') }, aksk.ErrBadSignature},
		{"body dropped", func(r *http.Request, b []byte) []byte { return nil }, aksk.ErrBadSignature},
		{"method", func(r *http.Request, b []byte) []byte { r.Method = "PUT"; return b }, aksk.ErrBadSignature},
		{"path", func(r *http.Request, b []byte) []byte {
			r.URL.Path = strings.Replace(r.URL.Path, "C1", "C2", 1)
			return b
		}, aksk.ErrBadSignature},
		{"query value", func(r *http.Request, b []byte) []byte { r.URL.RawQuery = "x=2"; return b }, aksk.ErrBadSignature},
		{"query added", func(r *http.Request, b []byte) []byte { r.URL.RawQuery += "&y=1"; return b }, aksk.ErrBadSignature},
		{"query unparseable", func(r *http.Request, b []byte) []byte { r.URL.RawQuery += "&y=%zz"; return b }, aksk.ErrMalformed},
		{"signed header value", func(r *http.Request, b []byte) []byte { r.Header.Set("X-Language", "zh-cn"); return b }, aksk.ErrBadSignature},
		{"signed header removed", func(r *http.Request, b []byte) []byte { r.Header.Del("X-Language"); return b }, aksk.ErrBadSignature},
		{"signed header value added", func(r *http.Request, b []byte) []byte { r.Header.Add("X-Language", "zh-cn"); return b }, aksk.ErrBadSignature},
		{"header unlisted from SignedHeaders", func(r *http.Request, b []byte) []byte {
			setAuth(r, func(a *aksk.Authorization) { a.SignedHeaders = []string{"x-sdk-date"} })
			return b
		}, aksk.ErrBadSignature},
		{"unsigned header added", func(r *http.Request, b []byte) []byte { r.Header.Set("X-Other", "1"); return b }, nil},
		{"UNSIGNED-PAYLOAD added", func(r *http.Request, b []byte) []byte {
			r.Header.Set(aksk.HeaderContentSha256, aksk.UnsignedPayload)
			return []byte("other body")
		}, aksk.ErrBadSignature},
		{"Access to another AK", func(r *http.Request, b []byte) []byte {
			setAuth(r, func(a *aksk.Authorization) { a.Access = "AKOTHER" })
			return b
		}, aksk.ErrBadSignature},
		{"Access to an unknown AK", func(r *http.Request, b []byte) []byte {
			setAuth(r, func(a *aksk.Authorization) { a.Access = "AKNOBODY" })
			return b
		}, errUnknownAK},
		{"date", func(r *http.Request, b []byte) []byte { r.Header.Set(aksk.HeaderDate, "20240102T030406Z"); return b }, aksk.ErrBadSignature},
		{"date removed", func(r *http.Request, b []byte) []byte { r.Header.Del(aksk.HeaderDate); return b }, aksk.ErrDate},
		{"date garbage", func(r *http.Request, b []byte) []byte { r.Header.Set(aksk.HeaderDate, "yesterday"); return b }, aksk.ErrDate},
		{"date with fraction", func(r *http.Request, b []byte) []byte { r.Header.Set(aksk.HeaderDate, "20240102T030405.0Z"); return b }, aksk.ErrDate},
		{"signature", func(r *http.Request, b []byte) []byte {
			setAuth(r, func(a *aksk.Authorization) { a.Signature = flipHex(a.Signature) })
			return b
		}, aksk.ErrBadSignature},
		{"signature not hex", func(r *http.Request, b []byte) []byte {
			setAuth(r, func(a *aksk.Authorization) { a.Signature = "z" + a.Signature[1:] })
			return b
		}, aksk.ErrMalformed},
		{"algorithm", func(r *http.Request, b []byte) []byte {
			r.Header.Set(aksk.HeaderAuthorization, strings.Replace(r.Header.Get(aksk.HeaderAuthorization), "SHA256", "SM3", 1))
			return b
		}, aksk.ErrMalformed},
		{"authorization removed", func(r *http.Request, b []byte) []byte { r.Header.Del(aksk.HeaderAuthorization); return b }, aksk.ErrMissing},
		{"authorization twice", func(r *http.Request, b []byte) []byte {
			r.Header.Add(aksk.HeaderAuthorization, r.Header.Get(aksk.HeaderAuthorization))
			return b
		}, aksk.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, body := signedPost(t)
			body = tt.tamper(req, body)
			err := serverVerify(req, body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want errors.Is %v", err, tt.want)
			}
			for _, other := range []error{aksk.ErrMissing, aksk.ErrMalformed, aksk.ErrBadSignature, aksk.ErrDate, aksk.ErrSkew} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
			t.Logf("%v", err)
		})
	}
}

func flipHex(s string) string {
	c := byte('0')
	if s[0] == '0' {
		c = '1'
	}
	return string(c) + s[1:]
}

func TestVerifyEmptySK(t *testing.T) {
	req, body := signedPost(t)
	if err := aksk.Verify(req, body, ""); err == nil {
		t.Fatal("Verify with an empty SK succeeded")
	}
}

// A signer other than the SDK may sign Host; a server has it in req.Host.
func TestVerifySignedHost(t *testing.T) {
	req := newReq(t, "GET", "https://osm.example.com/v2/x", "")
	req.Header.Set("Host", "osm.example.com")
	req.Header.Set(aksk.HeaderDate, testDate)
	signed := []string{"host", "x-sdk-date"}
	sts := aksk.StringToSign(aksk.CanonicalRequest(req, signed, emptyHash), testDate)
	req.Header.Del("Host") // as on a server
	req.Host = "osm.example.com"
	req.Header.Set(aksk.HeaderAuthorization, aksk.Authorization{Access: testAK, SignedHeaders: signed, Signature: hmacHex(testSK, sts)}.String())
	if err := aksk.Verify(req, nil, testSK); err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example.com"
	if err := aksk.Verify(req, nil, testSK); !errors.Is(err, aksk.ErrBadSignature) {
		t.Fatalf("other host: %v", err)
	}
}

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("0a", 32)
	good := "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-a;x-sdk-date, Signature=" + sig
	a, err := aksk.ParseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	if a.Access != "AK1" || strings.Join(a.SignedHeaders, ";") != "x-a;x-sdk-date" || a.Signature != sig {
		t.Fatalf("parsed %+v", a)
	}
	if a.String() != good {
		t.Fatalf("String() = %q", a.String())
	}
	if _, err := aksk.ParseAuthorization("SDK-HMAC-SHA256 Signature=" + sig + ",SignedHeaders=x-sdk-date,   Access=AK1"); err != nil {
		t.Errorf("reordered fields: %v", err)
	}

	bad := map[string]string{
		"empty":                 "",
		"algorithm only":        "SDK-HMAC-SHA256",
		"other algorithm":       "SDK-HMAC-SM3 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig,
		"bearer":                "Bearer abc",
		"lowercase algorithm":   "sdk-hmac-sha256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig,
		"missing Access":        "SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=" + sig,
		"missing SignedHeaders": "SDK-HMAC-SHA256 Access=AK1, Signature=" + sig,
		"missing Signature":     "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date",
		"empty Access":          "SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=" + sig,
		"space in Access":       "SDK-HMAC-SHA256 Access=A K, SignedHeaders=x-sdk-date, Signature=" + sig,
		"empty SignedHeaders":   "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=, Signature=" + sig,
		"empty signed header":   "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-a;;x-sdk-date, Signature=" + sig,
		"uppercase header":      "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=X-Sdk-Date, Signature=" + sig,
		"non-hex Signature":     "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + strings.Repeat("zz", 32),
		"uppercase Signature":   "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + strings.Repeat("0A", 32),
		"short Signature":       "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=abcd",
		"duplicate Access":      "SDK-HMAC-SHA256 Access=AK1, Access=AK2, SignedHeaders=x-sdk-date, Signature=" + sig,
		"unknown field":         "SDK-HMAC-SHA256 Access=AK1, Region=x, SignedHeaders=x-sdk-date, Signature=" + sig,
		"not key=value":         "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, " + sig,
		"trailing comma":        "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig + ",",
	}
	for name, v := range bad {
		_, err := aksk.ParseAuthorization(v)
		if !errors.Is(err, aksk.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestFromRequestMissing(t *testing.T) {
	req := newReq(t, "GET", "https://h/x", "")
	if _, err := aksk.FromRequest(req); !errors.Is(err, aksk.ErrMissing) {
		t.Fatalf("got %v", err)
	}
	if err := aksk.Verify(req, nil, testSK); !errors.Is(err, aksk.ErrMissing) {
		t.Fatalf("Verify: %v", err)
	}
}

func TestCheckDate(t *testing.T) {
	req := newReq(t, "GET", "https://h/x", "")
	if err := aksk.CheckDate(req, testNow, aksk.DefaultMaxSkew); !errors.Is(err, aksk.ErrDate) {
		t.Errorf("missing date: %v", err)
	}
	if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
		t.Fatal(err)
	}
	if got, err := aksk.RequestTime(req); err != nil || !got.Equal(testNow) {
		t.Errorf("RequestTime = %v, %v", got, err)
	}
	for _, c := range []struct {
		now  time.Time
		want error
	}{
		{testNow, nil},
		{testNow.Add(15 * time.Minute), nil},
		{testNow.Add(-15 * time.Minute), nil},
		{testNow.Add(15*time.Minute + time.Second), aksk.ErrSkew},  // too old
		{testNow.Add(-15*time.Minute - time.Second), aksk.ErrSkew}, // from the future
	} {
		err := aksk.CheckDate(req, c.now, aksk.DefaultMaxSkew)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("now %v: %v, want %v", c.now, err, c.want)
		}
		if err != nil {
			t.Logf("%v", err)
		}
	}
	// Far-away dates must not slip through a saturated Duration.
	for _, d := range []string{"99991231T235959Z", "00010101T000000Z"} {
		req.Header.Set(aksk.HeaderDate, d)
		if err := aksk.CheckDate(req, testNow, aksk.DefaultMaxSkew); !errors.Is(err, aksk.ErrSkew) {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// Errors quote what the caller sent, marked where it is not a header
// token's text: no format verbs, markup or control bytes reach a message
// (FuzzRequest found "%!" echoed as an algorithm).
func TestErrorsMarkUntrustedText(t *testing.T) {
	for _, v := range []string{"%! x", "<b>x</b> y", "map[a:1] y", "a\x00b y"} {
		_, err := aksk.ParseAuthorization(v)
		if err == nil {
			t.Fatalf("%q accepted", v)
		}
		for _, bad := range []string{"%", "<", "[", "\x00"} {
			if strings.Contains(err.Error(), bad) {
				t.Errorf("%q: error %q shows %q", v, err, bad)
			}
		}
	}
}
