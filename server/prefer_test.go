package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server"
)

func TestPreferCode(t *testing.T) {
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/v2/servicerequest/cases/DEMO-1/relations"
	tests := []struct {
		method, prefer string
		status         int
		want           string // a substring of the body
	}{
		{"POST", "code=200", 200, `{}`},
		{"POST", "code=200, example=limit-reached", 200, `"error_code":"OSM.01010001"`},
		{"POST", `code=200; example="no-permission"`, 200, `"error_code":"OSM.01010002"`},
		{"GET", "code=200", 200, `"case_id":"CS20261127000002"`}, // the first example listed
		{"GET", "code=401", 401, `"error_code":"OSM.0002"`},
		{"DELETE", "code=500", 500, `"error_code":"OSM.0004"`},
		{"POST", "code=404", 400, "code=404 is not a status CreateRelations declares"},
		{"POST", "code=201", 400, "it declares 200, 400, 401, 403, 413, 415, 500"},
		{"POST", "code=200, example=nope", 400, "example=nope is not an example"},
		{"POST", "code=abc", 400, `not an HTTP status`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.prefer, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, path, nil) // no credential, no body: Prefer answers first
			req.Header.Set("Prefer", tt.prefer)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d %s, want %d with %q", rec.Code, body, tt.status, tt.want)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("body is not JSON: %s", body)
			}
			if err := contract.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
				t.Errorf("answer breaks the contract: %v", err)
			}
		})
	}
	// Without Prefer the request is served (and refused: no credential).
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without Prefer: %d", rec.Code)
	}
}
