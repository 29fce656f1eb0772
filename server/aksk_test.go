package server_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// sdkBody is a JSON body as the official SDK sends it: compact, ending in
// a newline.
func sdkBody(s string) string { return s + "\n" }

func TestSignedRequests(t *testing.T) {
	srv := demoServer(t)
	expectOK(t, srv, signed(t, "POST", "DEMO-1", sdkBody(createBody("team", "DEMO-2", "DEMO-3"))))

	// A list as the SDK sends it: Content-Type and no body.
	req := signed(t, "GET", "DEMO-1", "", "Content-Type", "application/json")
	status, _, body := do(t, srv, req)
	want := `{"case_relation_list":[{"case_id":"DEMO-2","simple_description":"SSH port 22 blocked by security group","user_name":"demo"},` +
		`{"case_id":"DEMO-3","simple_description":"Elastic IP unbound after resize","user_name":"demo"}]}`
	if got := string(bytes.TrimSpace(body)); status != http.StatusOK || got != want {
		t.Errorf("signed list: %d %s, want 200 %s", status, got, want)
	}

	expectOK(t, srv, signed(t, "DELETE", "DEMO-1", sdkBody(deleteBody("", "DEMO-2")), "X-Language", "en-us"))
	if got := ids(list(t, srv, demoTok, "DEMO-1")); !slices.Equal(got, []string{"DEMO-3"}) {
		t.Errorf("after signed delete, DEMO-1 relations = %q", got)
	}

	t.Run("all contract headers signed", func(t *testing.T) {
		expectOK(t, srv, signed(t, "POST", "DEMO-4", sdkBody(createBody("team", "DEMO-5")),
			"X-Language", "en-us", "X-Time-Zone", "GMT+8", "X-Site", "1", "X-Domain-Id", "demo-domain"))
	})
	t.Run("date 14 minutes old is accepted", func(t *testing.T) {
		req := signedWith(t, demoAK, demoSK, clock.Add(-14*time.Minute), "GET", "DEMO-1", "")
		if status, _, body := do(t, srv, req); status != http.StatusOK {
			t.Errorf("got %d %s", status, body)
		}
	})
	t.Run("date 14 minutes in the future is accepted", func(t *testing.T) {
		req := signedWith(t, demoAK, demoSK, clock.Add(14*time.Minute), "GET", "DEMO-1", "")
		if status, _, body := do(t, srv, req); status != http.StatusOK {
			t.Errorf("got %d %s", status, body)
		}
	})
	t.Run("escaped case ID", func(t *testing.T) {
		req := signed(t, "GET", "DEMO%201", "")
		expectRefusal(t, srv, req, refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."})
	})
	t.Run("signed by the outsider on demo's ticket", func(t *testing.T) {
		req := signedWith(t, "OUTAK0000000000000001", "outsider-secret-key", clock, "POST", "DEMO-1", sdkBody(createBody("team", "OUT-1")))
		expectRefusal(t, srv, req, noPermission("DEMO-1"))
	})
}

// tampered copies the signed request's headers onto a different request.
func tampered(signed *http.Request, method, target, body string) *http.Request {
	req := newReq(method, target, body)
	req.Header = signed.Header.Clone()
	return req
}

func TestSignatureRefused(t *testing.T) {
	srv := demoServer(t)
	create := sdkBody(createBody("team", "DEMO-2"))
	mismatch := []string{"Incorrect IAM authentication information: verify aksk signature fail", "signature mismatch"}
	tests := []struct {
		name  string
		req   func() *http.Request
		parts []string
	}{
		{"wrong SK", func() *http.Request {
			return signedWith(t, demoAK, "not-the-secret", clock, "POST", "DEMO-1", create)
		}, mismatch},
		{"tampered body", func() *http.Request {
			s := signed(t, "POST", "DEMO-1", create)
			return tampered(s, "POST", relationsPath("DEMO-1"), sdkBody(createBody("team", "DEMO-3")))
		}, mismatch},
		{"body without the signed trailing newline", func() *http.Request {
			s := signed(t, "POST", "DEMO-1", create)
			return tampered(s, "POST", relationsPath("DEMO-1"), strings.TrimSpace(create))
		}, mismatch},
		{"tampered path", func() *http.Request {
			s := signed(t, "POST", "DEMO-1", create)
			return tampered(s, "POST", relationsPath("DEMO-4"), create)
		}, mismatch},
		{"tampered method", func() *http.Request {
			s := signed(t, "POST", "DEMO-1", create)
			return tampered(s, "DELETE", relationsPath("DEMO-1"), sdkBody(deleteBody("", "DEMO-2")))
		}, mismatch},
		{"tampered signed header", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create, "X-Language", "en-us")
			req.Header.Set("X-Language", "zh-cn")
			return req
		}, mismatch},
		{"signed header removed", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create, "X-Language", "en-us")
			req.Header.Del("X-Language")
			return req
		}, mismatch},
		{"tampered X-Sdk-Date", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create)
			req.Header.Set("X-Sdk-Date", clock.Add(time.Minute).Format("20060102T150405Z"))
			return req
		}, mismatch},
		{"unknown AK", func() *http.Request {
			return signedWith(t, "NOSUCHAK00000000000001", demoSK, clock, "POST", "DEMO-1", create)
		}, []string{"ak not exist: NOSUCHAK00000000000001"}},
		{"Authorization without Signature", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create)
			req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+demoAK+", SignedHeaders=x-sdk-date")
			return req
		}, []string{"malformed", "Signature"}},
		{"Authorization with a short signature", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create)
			req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+demoAK+", SignedHeaders=x-sdk-date, Signature=abc")
			return req
		}, []string{"malformed", "Signature"}},
		{"other algorithm", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
			return req
		}, []string{"malformed", "unsupported algorithm"}},
		{"Bearer", func() *http.Request {
			return tokenReq("", "POST", "DEMO-1", create, "Authorization", "Bearer abc")
		}, []string{"malformed", "unsupported algorithm"}},
		{"no X-Sdk-Date", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create)
			req.Header.Del("X-Sdk-Date")
			return req
		}, []string{"X-Sdk-Date", "missing"}},
		{"X-Sdk-Date in another layout", func() *http.Request {
			req := signed(t, "POST", "DEMO-1", create)
			req.Header.Set("X-Sdk-Date", clock.Format(time.RFC3339))
			return req
		}, []string{"X-Sdk-Date", "layout"}},
		{"date 16 minutes old", func() *http.Request {
			return signedWith(t, demoAK, demoSK, clock.Add(-16*time.Minute), "POST", "DEMO-1", create)
		}, []string{"X-Sdk-Date", "16m0s ago"}},
		{"date 16 minutes in the future", func() *http.Request {
			return signedWith(t, demoAK, demoSK, clock.Add(16*time.Minute), "POST", "DEMO-1", create)
		}, []string{"X-Sdk-Date", "16m0s in the future"}},
		{"X-Security-Token with a permanent key", func() *http.Request {
			return signed(t, "POST", "DEMO-1", create, "X-Security-Token", "sts-token")
		}, []string{"X-Security-Token", "permanent"}},
		{"a bad signature and an unknown token", func() *http.Request {
			req := signedWith(t, demoAK, "not-the-secret", clock, "POST", "DEMO-1", create)
			req.Header.Set("X-Auth-Token", "no-such-token")
			return req
		}, mismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req(), refusal{status: http.StatusUnauthorized, code: codeUnauthorized, parts: tt.parts})
		})
	}
	t.Run("no secret in any message", func(t *testing.T) {
		for _, req := range []*http.Request{
			signedWith(t, demoAK, "not-the-secret", clock, "POST", "DEMO-1", create),
			signed(t, "POST", "DEMO-1", create, "X-Security-Token", "sts-token"),
		} {
			_, _, body := do(t, srv, req)
			for _, secret := range []string{demoSK, "not-the-secret", "sts-token"} {
				if bytes.Contains(body, []byte(secret)) {
					t.Errorf("body shows %q: %s", secret, body)
				}
			}
		}
	})
}

// The two schemes are alternatives: a valid X-Auth-Token authenticates
// the request whatever else it carries, as the contract's security says.
func TestTokenAndSignature(t *testing.T) {
	srv := demoServer(t)
	req := signedWith(t, "OUTAK0000000000000001", "not-the-secret", clock, "POST", "DEMO-1", sdkBody(createBody("team", "DEMO-2")))
	req.Header.Set("X-Auth-Token", demoTok)
	expectOK(t, srv, req)
}

func TestDomainID(t *testing.T) {
	srv := demoServer(t)
	expectOK(t, srv, signed(t, "POST", "DEMO-1", sdkBody(createBody("team", "DEMO-2")), "X-Domain-Id", "demo-domain"))
	for _, method := range []string{"POST", "GET", "DELETE"} {
		t.Run(method, func(t *testing.T) {
			body := ""
			switch method {
			case "POST":
				body = sdkBody(createBody("team", "DEMO-3"))
			case "DELETE":
				body = sdkBody(deleteBody("", "DEMO-2"))
			}
			expectRefusal(t, srv, signed(t, method, "DEMO-1", body, "X-Domain-Id", "other"),
				refusal{status: http.StatusForbidden, code: codeForbidden, parts: []string{"X-Domain-Id"}})
		})
	}
	if got := ids(list(t, srv, demoTok, "DEMO-1")); !slices.Equal(got, []string{"DEMO-2"}) {
		t.Errorf("DEMO-1 relations = %q", got)
	}
}

// tempData is the demo data plus a user with a temporary credential.
func tempData() *store.Dataset {
	d := fixtures.Demo()
	d.Users = append(d.Users, store.User{
		Name: "temp", DomainID: "temp-domain",
		Keys: []store.AccessKey{{AK: "TEMPAK0000000000000001", SK: "temp-secret-key", SecurityToken: "sts-token-of-temp"}},
	})
	d.Tickets = append(d.Tickets,
		store.Ticket{ID: "TMP-1", Owner: "temp", Description: "temporary one"},
		store.Ticket{ID: "TMP-2", Owner: "temp", Description: "temporary two"},
	)
	return &d
}

func TestTemporaryCredential(t *testing.T) {
	srv := newServer(t, server.Options{Fixtures: tempData(), Now: fixedNow})
	const ak, sk = "TEMPAK0000000000000001", "temp-secret-key"
	create := sdkBody(createBody("g", "TMP-2"))
	sign := func(headers ...string) *http.Request {
		return signedWith(t, ak, sk, clock, "POST", "TMP-1", create, headers...)
	}
	tests := []struct {
		name string
		req  *http.Request
	}{
		{"without X-Security-Token", sign()},
		{"with another security token", sign("X-Security-Token", "sts-token-of-someone-else")},
		{"with an empty-looking security token", sign("X-Security-Token", " ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req, refusal{status: http.StatusUnauthorized, code: codeUnauthorized,
				msg: "Incorrect IAM authentication information: X-Security-Token does not match the temporary access key"})
		})
	}
	t.Run("a token added after signing still must match", func(t *testing.T) {
		req := sign()
		req.Header.Set("X-Security-Token", "sts-token-of-someone-else")
		expectRefusal(t, srv, req, refusal{status: http.StatusUnauthorized, code: codeUnauthorized, parts: []string{"X-Security-Token"}})
	})
	t.Run("with the matching X-Security-Token", func(t *testing.T) {
		expectOK(t, srv, sign("X-Security-Token", "sts-token-of-temp", "X-Domain-Id", "temp-domain"))
		req := signedWith(t, ak, sk, clock, "GET", "TMP-2", "", "X-Security-Token", "sts-token-of-temp")
		status, _, body := do(t, srv, req)
		if status != http.StatusOK || !bytes.Contains(body, []byte(`"case_id":"TMP-1"`)) {
			t.Errorf("list TMP-2: %d %s", status, body)
		}
	})
}
