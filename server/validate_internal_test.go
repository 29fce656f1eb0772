package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// shapes is a contract with the parameter shapes this module's contract
// does not use, which validateRequest must leave to kin-openapi.
const shapes = `openapi: 3.0.3
info: {title: shapes, version: "1"}
paths:
  /x/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string, minLength: 2}}
      - {name: X-Path-Level, in: header, schema: {type: integer}}
    get:
      parameters:
        - {name: X-Path-Level, in: header, schema: {type: string, maxLength: 3}}
        - {name: X-Not, in: header, schema: {not: {type: string}}}
        - {name: X-Any, in: header, schema: {anyOf: [{type: integer}, {type: boolean}]}}
        - {name: X-Required, in: header, required: true, schema: {type: string}}
        - {name: X-Default, in: header, schema: {type: string, default: dflt}}
        - {name: q, in: query, schema: {type: integer, minimum: 3}}
        - {name: c, in: header, content: {application/json: {schema: {type: object}}}}
      responses: {"200": {description: ok}}
  /y/{n}:
    get:
      parameters:
        - {name: n, in: path, required: true, schema: {type: integer, maximum: 9}}
      responses: {"200": {description: ok}}
`

// TestValidateRequestShapes holds validateRequest to kin-openapi's
// ValidateRequest on parameter shapes outside this module's contract:
// combined schemas, path-level parameters overridden by the operation,
// required headers, defaults, queries and content parameters.
func TestValidateRequestShapes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(shapes))
	if err != nil {
		t.Fatal(err)
	}
	route := func(path string) *routers.Route {
		item := doc.Paths.Value(path)
		return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: http.MethodGet, Operation: item.Get}
	}
	x, y := route("/x/{id}"), route("/y/{n}")
	requests := []struct {
		route     *routers.Route
		id, query string
		header    []string
	}{
		{x, "ab", "", []string{"X-Required", "r"}},
		{x, "ab", "", nil},
		{x, "a", "q=1", []string{"X-Required", "r", "X-Path-Level", "long"}},
		{x, "ab", "q=x", []string{"X-Required", "r", "X-Not", "s", "X-Any", "s"}},
		{x, "ab", "q=5", []string{"X-Required", "r", "X-Any", "1", "c", "[]"}},
		{x, "", "", []string{"X-Required", "r", "X-Default", ""}},
		{y, "7", "", nil},
		{y, "10", "", nil},
		{y, "x", "", nil},
	}
	for _, skip := range []bool{true, false} {
		for _, multi := range []bool{true, false} {
			opts := &openapi3filter.Options{MultiError: multi, SkipSettingDefaults: skip, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
			for i, tc := range requests {
				run := func(validate func(context.Context, *openapi3filter.RequestValidationInput) error) string {
					req := httptest.NewRequest(http.MethodGet, "/p/"+tc.id+"?"+tc.query, nil)
					for j := 0; j < len(tc.header); j += 2 {
						req.Header.Set(tc.header[j], tc.header[j+1])
					}
					in := &openapi3filter.RequestValidationInput{Request: req, PathParams: map[string]string{"id": tc.id, "n": tc.id}, Route: tc.route, Options: opts}
					err := validate(context.Background(), in)
					return fmt.Sprintf("%v %v", err, req.Header)
				}
				want := run(openapi3filter.ValidateRequest)
				got := run(func(ctx context.Context, in *openapi3filter.RequestValidationInput) error {
					return validateRequest(ctx, in, nil, new(openapi3filter.AuthenticationInput))
				})
				if got != want {
					t.Errorf("skipDefaults=%v multi=%v request %d:\n got %s\nwant %s", skip, multi, i, got, want)
				}
			}
		}
	}
}
