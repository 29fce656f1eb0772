// Package contract gives the rest of the module one parsed copy of the
// contract (gen's embedded openapi.yaml) and a route finder over it, and turns
// kin-openapi's validation errors into the "field: rule" parts that the
// contract's error body carries.
package contract

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/osmstub/osmstub/gen"
)

var load = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("contract: load embedded spec: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract: embedded spec is invalid: %w", err)
	}
	// The relative server URL would make the router match only below "/";
	// without servers it matches the paths as written, on any host.
	doc.Servers = nil
	return doc, nil
})

// Spec returns the parsed, validated contract. It is parsed once per process
// and shared: callers must treat it as read-only.
func Spec() (*openapi3.T, error) { return load() }

// FindRoute finds the contract operation for a method and a path. Unlike
// kin-openapi's routers it lets a path parameter be empty, as in
// /cases//relations (what the official SDK sends for an empty case ID), so
// that such a request is validated, and refused, by the schema.
func FindRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	doc, err := load()
	if err != nil {
		return nil, nil, err
	}
	got := strings.Split(req.URL.EscapedPath(), "/")
	for path, item := range doc.Paths.Map() {
		params, ok := matchPath(strings.Split(path, "/"), got)
		if !ok {
			continue
		}
		op := item.GetOperation(req.Method)
		if op == nil {
			return nil, nil, routers.ErrMethodNotAllowed
		}
		return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op}, params, nil
	}
	return nil, nil, routers.ErrPathNotFound
}

func matchPath(template, got []string) (map[string]string, bool) {
	if len(template) != len(got) {
		return nil, false
	}
	params := map[string]string{}
	for i, seg := range template {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			v, err := url.PathUnescape(got[i])
			if err != nil {
				return nil, false
			}
			params[strings.TrimSuffix(name, "}")] = v
		} else if seg != got[i] {
			return nil, false
		}
	}
	return params, true
}

// RequestOptions are the options every request validation in this module
// uses: all problems at once, and schema errors that never echo the schema or
// the caller's value. auth resolves the security schemes.
//
// Defaults are not written into requests (SkipSettingDefaults): nothing
// reads an optional header the caller left out, and otherwise kin-openapi
// adds the contract's defaults (X-Language zh-cn, X-Time-Zone GMT+8, X-Site
// 0) to the headers of every request that omits them, validates those
// constants again and the generated wrapper parses them once more: half of
// kin-openapi's cost on a GET. Every header that is sent is validated as
// before, and a required one must still be sent.
func RequestOptions(auth openapi3filter.AuthenticationFunc) *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:              true,
		SkipSettingDefaults:     true,
		AuthenticationFunc:      auth,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		// The generated handlers bind the value validated, member names
		// matched exactly, instead of decoding the body again.
		KeepValidatedValue: true,
	}
}

// Routes are doc's operations as kin-openapi routes, each keyed by its
// method and its path in Echo's syntax ("GET /a/:id").
func Routes(doc *openapi3.T) map[string]*routers.Route {
	routes := map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			routes[method+" "+echoPath.Replace(path)] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return routes
}

// echoPath turns an OpenAPI path template into Echo's: {id} becomes :id.
var echoPath = strings.NewReplacer("{", ":", "}", "")
