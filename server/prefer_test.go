package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

func TestPreferCode(t *testing.T) {
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{"POST": `{"related_id_list":["DEMO-2"]}`, "DELETE": `{"related_id":"DEMO-2"}`}
	tests := []struct {
		method, prefer string
		status         int
		want           string // a substring of the body
	}{
		{"POST", "code=200", 200, `{}`},
		{"POST", "code=200, example=limit-reached", 200, `"error_code":"OSM.01010043"`},
		{"POST", `code=200; example="no-permission"`, 200, `"error_code":"OSM.01010002"`},
		{"POST", "code=200, example=self", 200, `"error_code":"OSM.01010044"`},
		{"GET", "code=200", 200, `"case_id":"CS20261127000002"`}, // the first example listed
		{"GET", "code=401", 401, `"error_code":"APIGW.0301"`},
		{"GET", "code=429", 429, `"error_code":"APIGW.0308"`},
		{"DELETE", "code=500", 500, `"error_code":"OSM.0004"`},
		{"DELETE", "code=503", 503, `"error_code":"APIGW.0613"`},
		{"POST", "code=404", 404, `"error_code":"APIGW.0101"`},
		{"POST", "code=418", 400, "code=418 is not a status CreateRelations declares"},
		{"POST", "code=201", 400, "it declares 200, 400, 401, 403, 404, 408, 413, 415, 429, 500, 502, 503, 504"},
		{"POST", "code=200, example=nope", 400, "example=nope is not an example"},
		{"POST", "code=abc", 400, `not an HTTP status`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.prefer, func(t *testing.T) {
			req := tokenReq("demo-token", tt.method, "DEMO-1", bodies[tt.method], "Prefer", tt.prefer)
			before := snapshot(t, srv.Store())
			status, header, body := do(t, srv, req)
			if status != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("got %d %s, want %d with %q", status, body, tt.status, tt.want)
			}
			if !json.Valid(body) {
				t.Errorf("body is not JSON: %s", body)
			}
			checkResponse(t, req, status, header, body)
			checkUnchanged(t, before, snapshot(t, srv.Store()))
		})
	}
}

// TestPreferNeedsAValidRequest: Prefer only chooses the answer of a
// request that passed authentication and validation; any other gets its
// real error.
func TestPreferNeedsAValidRequest(t *testing.T) {
	srv := demoServer(t)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"no credential, broken body", newReq("POST", relationsPath("DEMO-1"), "garbage{", "Prefer", "code=200"), 401, "APIGW.0301"},
		{"unknown token", tokenReq("nope", "GET", "DEMO-1", "", "Prefer", "code=200"), 401, "APIGW.0301"},
		{"broken body", tokenReq("demo-token", "POST", "DEMO-1", "garbage{", "Prefer", "code=200"), 400, "OSM.0001"},
		{"contract broken", tokenReq("demo-token", "POST", "DEMO-1", `{"related_id_list":"x"}`, "Prefer", "code=200"), 400, "OSM.0001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, srv, tt.req)
			if code, _ := decodeError(t, body); status != tt.status || code != tt.code {
				t.Fatalf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
			checkResponse(t, tt.req, status, header, body)
		})
	}
}
