package aksk_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
)

const (
	testAK   = "AKEXAMPLE"
	testSK   = "SKEXAMPLE/secret+key="
	testDate = "20240102T030405Z"
	// emptyHash is sha256("") (python3: hashlib.sha256(b"").hexdigest()).
	emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

var testNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func newReq(t testing.TB, method, rawURL, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// signingVector is worked out by hand: the canonical request is written out
// below, and its SHA-256 and the signature were computed outside Go with
// python3 hashlib/hmac (key testSK, date testDate).
type signingVector struct {
	name      string
	req       func(t testing.TB) *http.Request
	body      string   // the body Sign must put back
	signed    []string // expected SignedHeaders
	bodyHash  string   // last line of the canonical request
	canonical string
	crHash    string // hex sha256(canonical)
	signature string
}

const postBody = `{"related_id_list":["C2","C3"],"group_id":"g1"}` + "\n"

var signingVectors = []signingVector{
	{
		name: "GET with empty body",
		req: func(t testing.TB) *http.Request {
			r := newReq(t, "GET", "https://osm.example.com/v2/servicerequest/cases/C1/relations", "")
			r.Header.Set("Content-Type", "application/json") // never signed
			r.Header.Set("X-Language", "en-us")
			return r
		},
		signed:   []string{"x-language", "x-sdk-date"},
		bodyHash: emptyHash,
		canonical: "GET\n/v2/servicerequest/cases/C1/relations/\n\n" +
			"x-language:en-us\nx-sdk-date:20240102T030405Z\n\n" +
			"x-language;x-sdk-date\n" + emptyHash,
		crHash:    "8b01cb85feaa4bb3cf4c9d000ee95d4ddbb2cc312257740fe9fc2c46b39fd7b5",
		signature: "bc6ac2abb37a38f0b34b2f176896437227c74c272e7e798344af4f946a5aca97",
	},
	{
		name: "POST with JSON body ending in newline",
		req: func(t testing.TB) *http.Request {
			r := newReq(t, "POST", "https://osm.example.com/v2/servicerequest/cases/C1/relations", postBody)
			r.Header.Set("Content-Type", "application/json;charset=UTF-8")
			r.Header.Set("X-Site", "1")
			r.Header.Set("X-Domain-Id", "dom1")
			return r
		},
		body:     postBody,
		signed:   []string{"x-domain-id", "x-sdk-date", "x-site"},
		bodyHash: "bb866c0d790ae35164786e96ce870c7dc5b157664c9157e66c19f2b18a38b62c",
		canonical: "POST\n/v2/servicerequest/cases/C1/relations/\n\n" +
			"x-domain-id:dom1\nx-sdk-date:20240102T030405Z\nx-site:1\n\n" +
			"x-domain-id;x-sdk-date;x-site\n" +
			"bb866c0d790ae35164786e96ce870c7dc5b157664c9157e66c19f2b18a38b62c",
		crHash:    "4b2145dade31ab91bbfd5098ca847d7b70d4c96d06c5c9e848276abedf417a42",
		signature: "c5d3e8d6fddedf34aaf1b4b11b5341c656e825c111f75e629d5bc7b69409df96",
	},
	{
		// The SDK puts the raw case ID in URL.Path; a literal "%2F" is
		// therefore sent as %252F and signed as %252F.
		name: "case ID needing percent-encoding",
		req: func(t testing.TB) *http.Request {
			return &http.Request{Method: "DELETE", Header: http.Header{}, Host: "osm.example.com",
				URL: &url.URL{Scheme: "https", Host: "osm.example.com", Path: "/v2/servicerequest/cases/a b+é%2F~/relations"}}
		},
		signed:   []string{"x-sdk-date"},
		bodyHash: emptyHash,
		canonical: "DELETE\n/v2/servicerequest/cases/a%20b%2B%C3%A9%252F~/relations/\n\n" +
			"x-sdk-date:20240102T030405Z\n\nx-sdk-date\n" + emptyHash,
		crHash:    "41854b25310da57732b72d0b0febed82edda5239fdd96eb1d99bff43b414ad42",
		signature: "c86ef9147709b470c05f642bf272cef99c48b3f689a6ba487f8215dfb301b678",
	},
	{
		// The decoded path is signed, so an encoded slash signs as a slash.
		name: "encoded slash in the wire path",
		req: func(t testing.TB) *http.Request {
			return newReq(t, "GET", "https://osm.example.com/v2/cases/a%2Fb", "")
		},
		signed:   []string{"x-sdk-date"},
		bodyHash: emptyHash,
		canonical: "GET\n/v2/cases/a/b/\n\n" +
			"x-sdk-date:20240102T030405Z\n\nx-sdk-date\n" + emptyHash,
		crHash:    "3234512d517d670dce89d6566ab0324644b052878545670fa1554b9948f46cce",
		signature: "678f9a0261acd5f03d39b4eb2b39010bd56533402eacba2ae8aced19ac155ed9",
	},
	{
		name: "empty path",
		req: func(t testing.TB) *http.Request {
			return newReq(t, "GET", "https://osm.example.com", "")
		},
		signed:   []string{"x-sdk-date"},
		bodyHash: emptyHash,
		canonical: "GET\n/\n\n" +
			"x-sdk-date:20240102T030405Z\n\nx-sdk-date\n" + emptyHash,
		crHash:    "9686ca5714fa151a6f8c28916edeae19bcd6de00275c6a622a45045341f22fce",
		signature: "3a1bf699051f1f0c97fa4dd7fc610e4234ba51f54f418e7965da79c39db4ad9e",
	},
	{
		// Keys and values sort before escaping: "kk" < "k{" although
		// "k%7B" < "kk". A key without "=" signs as "c=".
		name: "query with repeated keys",
		req: func(t testing.TB) *http.Request {
			return newReq(t, "GET", "https://osm.example.com/v2/q?b=2&a=z&a=&a=y%20y&c&k%7B=1&kk=2", "")
		},
		signed:   []string{"x-sdk-date"},
		bodyHash: emptyHash,
		canonical: "GET\n/v2/q/\na=&a=y%20y&a=z&b=2&c=&kk=2&k%7B=1\n" +
			"x-sdk-date:20240102T030405Z\n\nx-sdk-date\n" + emptyHash,
		crHash:    "349c856bd458448e20df06f9309f99149ec98d994f79ec7682814e08fd0b1a9d",
		signature: "fdb9b8dcc20f397143769f6d62b40fb9045456ce8cb905cca19d487eae209c1c",
	},
	{
		name: "header spaces, underscore, multiple values, transport headers",
		req: func(t testing.TB) *http.Request {
			r := newReq(t, "GET", "https://osm.example.com/v2/h", "")
			r.Header.Set("X-Padded", "  two  words \t")
			r.Header["X_Under"] = []string{"not signed"}
			r.Header.Add("X-Multi", "b")
			r.Header.Add("X-Multi", " c")
			r.Header.Add("X-Multi", "a")
			r.Header.Set("Host", "other.example.com")
			r.Header.Set("Content-Length", "0")
			r.Header.Set("Accept-Encoding", "gzip")
			r.Header.Set("Content-Type", "application/json")
			return r
		},
		signed:   []string{"x-multi", "x-padded", "x-sdk-date"},
		bodyHash: emptyHash,
		canonical: "GET\n/v2/h/\n\n" +
			"x-multi:a\nx-multi:b\nx-multi:c\nx-padded:two  words\nx-sdk-date:20240102T030405Z\n\n" +
			"x-multi;x-padded;x-sdk-date\n" + emptyHash,
		crHash:    "33b7380ee70d908e7c56b4e25e582d593358d6ea8a00727c7d3d2ac6876a4276",
		signature: "847f86123981d4a7b01c71638c507c12cf30ef0e71958584ccc15fb3fc07fd65",
	},
	{
		// A non-JSON Content-Type makes Sign add UNSIGNED-PAYLOAD, as the SDK.
		name: "X-Sdk-Content-Sha256 UNSIGNED-PAYLOAD",
		req: func(t testing.TB) *http.Request {
			r := newReq(t, "POST", "https://osm.example.com/v2/upload", "raw text\n")
			r.Header.Set("Content-Type", "text/plain")
			return r
		},
		body:     "raw text\n",
		signed:   []string{"x-sdk-content-sha256", "x-sdk-date"},
		bodyHash: "UNSIGNED-PAYLOAD",
		canonical: "POST\n/v2/upload/\n\n" +
			"x-sdk-content-sha256:UNSIGNED-PAYLOAD\nx-sdk-date:20240102T030405Z\n\n" +
			"x-sdk-content-sha256;x-sdk-date\nUNSIGNED-PAYLOAD",
		crHash:    "eaf80a9c6d630e50ebfe7f0cfaa5960a3d4616373ff8406f0b85d2d948a87c08",
		signature: "416736090ac78580818117eedae353f24c404530b33e5e6c384e05ab82dcaddf",
	},
}

func TestSigningVectors(t *testing.T) {
	for _, v := range signingVectors {
		t.Run(v.name, func(t *testing.T) {
			req := v.req(t)
			if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got := req.Header.Get(aksk.HeaderDate); got != testDate {
				t.Errorf("X-Sdk-Date = %q, want %q", got, testDate)
			}
			if got := aksk.CanonicalRequest(req, v.signed, v.bodyHash); got != v.canonical {
				t.Errorf("canonical request:\n got %q\nwant %q", got, v.canonical)
			}
			wantSTS := "SDK-HMAC-SHA256\n" + testDate + "\n" + v.crHash
			if got := aksk.StringToSign(v.canonical, testDate); got != wantSTS {
				t.Errorf("string to sign:\n got %q\nwant %q", got, wantSTS)
			}
			wantAuth := "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=" +
				strings.Join(v.signed, ";") + ", Signature=" + v.signature
			if got := req.Header.Get(aksk.HeaderAuthorization); got != wantAuth {
				t.Errorf("Authorization:\n got %s\nwant %s", got, wantAuth)
			}

			body := readBody(t, req)
			if string(body) != v.body {
				t.Errorf("body after Sign = %q, want %q", body, v.body)
			}
			if err := aksk.Verify(req, body, testSK); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func readBody(t testing.TB, req *http.Request) []byte {
	t.Helper()
	if req.Body == nil {
		return nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		again, _ := io.ReadAll(rc)
		if !bytes.Equal(again, b) {
			t.Errorf("GetBody gives %q, Body gave %q", again, b)
		}
	}
	if req.ContentLength != int64(len(b)) && len(req.Header.Values(aksk.HeaderContentSha256)) == 0 {
		t.Errorf("ContentLength = %d, body has %d bytes", req.ContentLength, len(b))
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// TestSDKVectors reuses the expectations of the official SDK's own test
// (core/auth/signer/signer_test.go in huaweicloud-sdk-go-v3 v0.1.207).
func TestSDKVectors(t *testing.T) {
	now := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		req  func(t testing.TB) *http.Request
		want string
	}{
		{"test1", func(t testing.TB) *http.Request {
			r := newReq(t, "GET", "https://example.huaweicloud.com/path?limit=1", "")
			r.Header.Set("TEST_UNDERSCORE", "TEST_VALUE")
			return r
		}, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
			"Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"},
		{"test2", func(t testing.TB) *http.Request {
			r := newReq(t, "POST", "https://example.huaweicloud.com/path?key=value", `{"Name":"test","Id":1}`+"\n")
			r.Header.Set("TEST_UNDERSCORE", "TEST_VALUE")
			r.Header.Set("Content-Type", "application/json")
			return r
		}, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
			"Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req(t)
			if err := aksk.Sign(req, "AccessKey", "SecretKey", now); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSignDetails(t *testing.T) {
	t.Run("re-signing replaces date and authorization", func(t *testing.T) {
		req := newReq(t, "GET", "https://osm.example.com/v2/x", "")
		if err := aksk.Sign(req, testAK, testSK, testNow.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		req.Header["authorization"] = []string{"stale"} // non-canonical duplicate
		if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
			t.Fatal(err)
		}
		if n := len(req.Header.Values("Authorization")) + len(req.Header["authorization"]); n != 1 {
			t.Errorf("%d Authorization values, want 1", n)
		}
		if got := req.Header.Values(aksk.HeaderDate); !slices.Equal(got, []string{testDate}) {
			t.Errorf("X-Sdk-Date = %q", got)
		}
		if err := aksk.Verify(req, nil, testSK); err != nil {
			t.Error(err)
		}
	})
	t.Run("non-UTC now", func(t *testing.T) {
		req := newReq(t, "GET", "https://osm.example.com/v2/x", "")
		cst := time.FixedZone("CST", 8*3600)
		if err := aksk.Sign(req, testAK, testSK, testNow.In(cst)); err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get(aksk.HeaderDate); got != testDate {
			t.Errorf("X-Sdk-Date = %q, want %q", got, testDate)
		}
	})
	t.Run("existing X-Sdk-Content-Sha256 leaves the body unread", func(t *testing.T) {
		req := newReq(t, "PUT", "https://osm.example.com/v2/x", "stream")
		req.Header.Set(aksk.HeaderContentSha256, aksk.UnsignedPayload)
		body := req.Body
		if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
			t.Fatal(err)
		}
		if req.Body != body {
			t.Error("Sign replaced the body although it is not signed")
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, c := range []struct{ ak, sk, url, header string }{
			{"", testSK, "https://h/x", ""},
			{"A K", testSK, "https://h/x", ""},
			{"A,K", testSK, "https://h/x", ""},
			{testAK, "", "https://h/x", ""},
			{testAK, testSK, "https://h/x?a=1;b=2", ""},
			{testAK, testSK, "https://h/x", "Bad Name"},
		} {
			req := newReq(t, "GET", c.url, "")
			if c.header != "" {
				req.Header[c.header] = []string{"v"}
			}
			if err := aksk.Sign(req, c.ak, c.sk, testNow); err == nil {
				t.Errorf("Sign(%+v) succeeded", c)
			}
		}
	})
}
