package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A request that breaks the contract is refused with 400 OSM.0001 and an
// error_msg naming every offending field and its rule, and changes nothing.
func TestValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	const tok = "demo-token"
	tests := []struct {
		name string
		req  func() *http.Request
		msg  string // the exact error_msg
	}{
		{"vendor page's broken example", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":"123456","group_id":"123456"}`)
		}, "related_id_list: must be an array"},
		{"4 items", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", createBody("team", "DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5"))
		}, "related_id_list: maximum number of items is 3"},
		{"0 items", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":[],"group_id":"team"}`)
		}, "related_id_list: minimum number of items is 1"},
		{"item not a string", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":["DEMO-2",3],"group_id":"team"}`)
		}, "related_id_list[1]: must be a string"},
		{"group_id not a string", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":["DEMO-2"],"group_id":7}`)
		}, "group_id: must be a string"},
		{"33-char item", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", createBody("team", "DEMO-2", long(33)))
		}, "related_id_list[1]: maximum string length is 32"},
		{"empty item", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", createBody("team", ""))
		}, "related_id_list[0]: minimum string length is 1"},
		{"missing related_id_list", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"group_id":"team"}`)
		}, "related_id_list: is required"},
		{"65-char group_id", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", createBody(long(65), "DEMO-2"))
		}, "group_id: maximum string length is 64"},
		{"unknown property", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":["DEMO-2"],"group_id":"team","color":"red"}`)
		}, "color: is not a known property"},
		{"body not an object", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `["DEMO-2"]`)
		}, "body: must be an object"},
		{"65-char case_id", func() *http.Request {
			return tokenReq(tok, "GET", long(65), "")
		}, "case_id: maximum string length is 64"},
		{"65-char case_id on create", func() *http.Request {
			return tokenReq(tok, "POST", long(65), createBody("team", "DEMO-2"))
		}, "case_id: maximum string length is 64"},
		{"empty case_id, as the SDK sends it", func() *http.Request {
			return tokenReq(tok, "GET", "", "")
		}, "case_id: is required"},
		{"empty case_id on delete", func() *http.Request {
			return tokenReq(tok, "DELETE", "", deleteBody("", "DEMO-2"))
		}, "case_id: is required"},
		{"create without body", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", "")
		}, "body: is required"},
		{"delete without body", func() *http.Request {
			return tokenReq(tok, "DELETE", "DEMO-1", "")
		}, "body: is required"},
		{"delete without related_id", func() *http.Request {
			return tokenReq(tok, "DELETE", "DEMO-1", `{"group_id":"team"}`)
		}, "related_id: is required"},
		{"delete with 65-char related_id", func() *http.Request {
			return tokenReq(tok, "DELETE", "DEMO-1", deleteBody("", long(65)))
		}, "related_id: maximum string length is 64"},
		{"X-Site=2", func() *http.Request {
			return tokenReq(tok, "GET", "DEMO-1", "", "X-Site", "2")
		}, "X-Site: is not one of the allowed values [0,1]"},
		{"X-Site=abc", func() *http.Request {
			return tokenReq(tok, "GET", "DEMO-1", "", "X-Site", "abc")
		}, "X-Site: is an invalid integer"},
		{"X-Language of 33 characters", func() *http.Request {
			return tokenReq(tok, "GET", "DEMO-1", "", "X-Language", long(33))
		}, "X-Language: maximum string length is 32"},
		{"X-Time-Zone of 33 characters", func() *http.Request {
			return tokenReq(tok, "GET", "DEMO-1", "", "X-Time-Zone", long(33))
		}, "X-Time-Zone: maximum string length is 32"},
		{"two body problems", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":"123456","group_id":""}`)
		}, "group_id: minimum string length is 1; related_id_list: must be an array"},
		{"problems in headers, path and body at once", func() *http.Request {
			return tokenReq(tok, "POST", long(65), `{"related_id_list":["a","b","c","d"],"group_id":"","x":1}`,
				"X-Site", "abc", "X-Language", long(33))
		}, "case_id: maximum string length is 64; X-Language: maximum string length is 32; X-Site: is an invalid integer; " +
			"group_id: minimum string length is 1; related_id_list: maximum number of items is 3; x: is not a known property"},
		{"malformed JSON", func() *http.Request {
			return tokenReq(tok, "POST", "DEMO-1", `{"related_id_list":`)
		}, "body: is not valid JSON (at byte 19)"},
		{"malformed JSON on delete", func() *http.Request {
			return tokenReq(tok, "DELETE", "DEMO-1", `related_id=DEMO-2`)
		}, "body: is not valid JSON (at byte 1)"},
	}
	srv := demoServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := expectRefusal(t, srv, tt.req(), refusal{status: http.StatusBadRequest, code: codeInvalid, msg: tt.msg})
			checkProblemFormat(t, msg)
		})
	}
}

// checkProblemFormat checks that a 400's error_msg is "field: rule" parts
// joined by "; ", each rule in the stub's own lowercase wording.
func checkProblemFormat(t *testing.T, msg string) {
	t.Helper()
	for _, part := range strings.Split(msg, "; ") {
		field, rule, ok := strings.Cut(part, ": ")
		if !ok || field == "" || rule == "" {
			t.Errorf("%q is not a \"field: rule\" part of %q", part, msg)
			continue
		}
		if c := rule[0]; c < 'a' || c > 'z' {
			t.Errorf("rule %q of field %s is not in the stub's wording (kin-openapi's text?)", rule, field)
		}
	}
}

// The official SDK sends an empty related_id_list as null; likewise a
// null group_id. The answer must name the field and say what is wrong in
// the stub's own words, not pass on kin-openapi's "Value is not nullable".
func TestNullValues(t *testing.T) {
	srv := demoServer(t)
	tests := []struct {
		name, body, field string
	}{
		{"null related_id_list", `{"related_id_list":null,"group_id":"team"}`, "related_id_list"},
		{"null group_id", `{"related_id_list":["DEMO-2"],"group_id":null}`, "group_id"},
		{"null item", `{"related_id_list":[null],"group_id":"team"}`, "related_id_list[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := expectRefusal(t, srv, tokenReq("demo-token", "POST", "DEMO-1", tt.body),
				refusal{status: http.StatusBadRequest, code: codeInvalid, parts: []string{tt.field + ": "}})
			checkProblemFormat(t, msg)
		})
	}
	t.Run("null body", func(t *testing.T) {
		msg := expectRefusal(t, srv, tokenReq("demo-token", "POST", "DEMO-1", "null"),
			refusal{status: http.StatusBadRequest, code: codeInvalid, parts: []string{"body: "}})
		checkProblemFormat(t, msg)
	})
}

// Authentication comes before validation: a caller without a valid
// credential learns nothing about its request.
func TestAuthenticationRequired(t *testing.T) {
	srv := demoServer(t)
	broken := `{"related_id_list":"123456","group_id":"123456"}`
	tests := []struct {
		name  string
		req   *http.Request
		parts []string
	}{
		{"no credential on list", newReq("GET", relationsPath("DEMO-1"), ""),
			[]string{"Incorrect IAM authentication information: no credential", "X-Auth-Token", "SDK-HMAC-SHA256"}},
		{"no credential on create", newReq("POST", relationsPath("DEMO-1"), createBody("team", "DEMO-2")),
			[]string{"Incorrect IAM authentication information: no credential"}},
		{"no credential on delete", newReq("DELETE", relationsPath("DEMO-1"), deleteBody("", "DEMO-2")),
			[]string{"Incorrect IAM authentication information: no credential"}},
		{"no credential and an invalid body", newReq("POST", relationsPath("DEMO-1"), broken),
			[]string{"Incorrect IAM authentication information: no credential"}},
		{"empty X-Auth-Token", newReq("GET", relationsPath("DEMO-1"), "", "X-Auth-Token", ""),
			[]string{"Incorrect IAM authentication information: no credential"}},
		{"unknown token", tokenReq("no-such-token", "GET", "DEMO-1", ""),
			[]string{"X-Auth-Token is unknown or expired"}},
		{"unknown token and an invalid body", tokenReq("no-such-token", "POST", "DEMO-1", broken),
			[]string{"X-Auth-Token is unknown or expired"}},
		{"token of 5001 characters", tokenReq(strings.Repeat("t", 5001), "GET", "DEMO-1", ""),
			[]string{"X-Auth-Token", "5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req, refusal{status: http.StatusUnauthorized, code: codeUnauthorized, parts: tt.parts})
		})
	}
}

func TestMediaType(t *testing.T) {
	srv := demoServer(t)
	valid := createBody("team", "DEMO-2")
	tests := []struct {
		name string
		req  func() *http.Request
	}{
		{"text/plain", func() *http.Request {
			return tokenReq("demo-token", "POST", "DEMO-1", valid, "Content-Type", "text/plain")
		}},
		{"no Content-Type with a body", func() *http.Request {
			return tokenReq("demo-token", "POST", "DEMO-1", valid, "Content-Type", "")
		}},
		{"form on delete", func() *http.Request {
			return tokenReq("demo-token", "DELETE", "DEMO-1", deleteBody("", "DEMO-2"), "Content-Type", "application/x-www-form-urlencoded")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req(), refusal{
				status: http.StatusUnsupportedMediaType, code: codeInvalid, parts: []string{"Content-Type", "application/json"},
			})
		})
	}
	t.Run("JSON with a charset is accepted", func(t *testing.T) {
		expectOK(t, srv, tokenReq("demo-token", "POST", "DEMO-3", createBody("team", "DEMO-4"),
			"Content-Type", "application/json; charset=utf-8"))
	})
	t.Run("list as the SDK sends it, Content-Type and no body", func(t *testing.T) {
		list(t, srv, "demo-token", "DEMO-1")
		status, _, body := do(t, srv, tokenReq("demo-token", "GET", "DEMO-1", "", "Content-Type", "application/json"))
		if status != http.StatusOK || !bytes.Contains(body, []byte("case_relation_list")) {
			t.Errorf("got %d %s", status, body)
		}
	})
}

const bodyLimit = 1 << 20

// hideLength makes a body of unknown length, as a chunked request has.
func hideLength(req *http.Request) *http.Request {
	req.Body = io.NopCloser(io.MultiReader(req.Body))
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Del("Content-Length")
	return req
}

func TestBodyLimit(t *testing.T) {
	srv := demoServer(t)
	// A valid body padded with spaces to n bytes.
	padded := func(n int) string {
		b := createBody("team", "DEMO-2")
		return b + strings.Repeat(" ", n-len(b))
	}
	tooBig := refusal{status: http.StatusRequestEntityTooLarge, code: "APIGW.0201", msg: "Request entity too large."}
	t.Run("over 1 MiB with Content-Length", func(t *testing.T) {
		expectRefusal(t, srv, tokenReq("demo-token", "POST", "DEMO-1", padded(bodyLimit+1)), tooBig)
	})
	t.Run("over 1 MiB, chunked", func(t *testing.T) {
		expectRefusal(t, srv, hideLength(tokenReq("demo-token", "POST", "DEMO-1", padded(bodyLimit+1))), tooBig)
	})
	t.Run("8 MiB, chunked, on delete", func(t *testing.T) {
		expectRefusal(t, srv, hideLength(tokenReq("demo-token", "DELETE", "DEMO-1", padded(8*bodyLimit))), tooBig)
	})
	t.Run("over 1 MiB without credentials: the credential first", func(t *testing.T) {
		expectRefusal(t, srv, newReq("POST", relationsPath("DEMO-1"), padded(bodyLimit+1)),
			refusal{status: http.StatusUnauthorized, code: codeUnauthorized})
	})
	t.Run("a Content-Length over 1 MiB on a list", func(t *testing.T) {
		req := tokenReq("demo-token", "GET", "DEMO-1", padded(bodyLimit+1))
		expectRefusal(t, srv, req, tooBig)
	})
	t.Run("over 1 MiB behind a shorter Content-Length, in process", func(t *testing.T) {
		// net/http cuts a body at its Content-Length; a handler called
		// directly gets what the caller built, and must still stop.
		req := tokenReq("demo-token", "POST", "DEMO-1", padded(bodyLimit+1))
		req.ContentLength = 100
		expectRefusal(t, srv, req, tooBig)
	})
	t.Run("exactly 1 MiB is accepted", func(t *testing.T) {
		expectOK(t, srv, tokenReq("demo-token", "POST", "DEMO-1", padded(bodyLimit)))
	})
	t.Run("exactly 1 MiB, chunked, is accepted", func(t *testing.T) {
		expectOK(t, srv, hideLength(tokenReq("demo-token", "POST", "DEMO-1", padded(bodyLimit))))
	})
}

// Requests outside the contract get the gateway's 404 APIGW.0101 in the
// error body format, whatever the method: the gateway knows no 405.
func TestOutsideContract(t *testing.T) {
	srv := demoServer(t)
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"unknown path", newReq("GET", "/v2/servicerequest/cases/DEMO-1/labels", "", "X-Auth-Token", "demo-token"), http.StatusNotFound},
		{"unknown path without credential", newReq("GET", "/nothing/here", ""), http.StatusNotFound},
		{"unknown version", newReq("GET", "/v3/servicerequest/cases/DEMO-1/relations", "", "X-Auth-Token", "demo-token"), http.StatusNotFound},
		{"trailing slash", newReq("GET", relationsPath("DEMO-1")+"/", "", "X-Auth-Token", "demo-token"), http.StatusNotFound},
		{"a slash inside the case ID", tokenReq("demo-token", "GET", "DEMO/1", ""), http.StatusNotFound},
		{"unknown path with a body", newReq("POST", "/v2/servicerequest/cases/DEMO-1", createBody("team", "DEMO-2"), "X-Auth-Token", "demo-token"), http.StatusNotFound},
		{"PUT", tokenReq("demo-token", "PUT", "DEMO-1", createBody("team", "DEMO-2")), http.StatusNotFound},
		{"PATCH", tokenReq("demo-token", "PATCH", "DEMO-1", createBody("team", "DEMO-2")), http.StatusNotFound},
		{"HEAD", tokenReq("demo-token", "HEAD", "DEMO-1", ""), http.StatusNotFound},
		{"lowercase method", tokenReq("demo-token", "post", "DEMO-1", createBody("team", "DEMO-2")), http.StatusNotFound},
		{"PUT without credential", newReq("PUT", relationsPath("DEMO-1"), ""), http.StatusNotFound},
		{"POST on /healthz", newReq("POST", "/healthz", "{}"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := expectRefusal(t, srv, tt.req, refusal{status: tt.status, code: "APIGW.0101"})
			if msg == "" {
				t.Error("empty error_msg")
			}
		})
	}
}

// OPTIONS is not an operation of the contract, so it must be refused like
// any other method outside it (404), not answered with Echo's default 204.
func TestOptionsIsRefused(t *testing.T) {
	srv := demoServer(t)
	for _, path := range []string{relationsPath("DEMO-1"), "/healthz"} {
		t.Run(path, func(t *testing.T) {
			expectRefusal(t, srv, newReq("OPTIONS", path, "", "X-Auth-Token", "demo-token"),
				refusal{status: http.StatusNotFound, code: "APIGW.0101"})
		})
	}
}

// The body limit guards what the contract's operations read. A request
// outside the contract is refused as such (404) whatever its body.
func TestOutsideContractWithLargeBody(t *testing.T) {
	srv := demoServer(t)
	big := strings.Repeat(" ", bodyLimit+1)
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"unknown path, Content-Length over 1 MiB", tokenReq(demoTok, "POST", "DEMO/1", big), http.StatusNotFound},
		{"unknown path, chunked over 1 MiB", hideLength(tokenReq(demoTok, "POST", "DEMO/1", big)), http.StatusNotFound},
		{"PUT, Content-Length over 1 MiB", tokenReq(demoTok, "PUT", "DEMO-1", big), http.StatusNotFound},
		{"GET /healthz, Content-Length over 1 MiB", newReq("GET", "/healthz/x", big), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req, refusal{status: tt.status, code: "APIGW.0101"})
		})
	}
}
