// Package contract gives the rest of the module one parsed copy of the
// contract (gen's embedded openapi.yaml) and one router over it, and turns
// kin-openapi's validation errors into the "field: rule" parts that the
// contract's error body carries.
package contract

import (
	"context"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/osmstub/osmstub/gen"
)

var load = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := gen.GetSwagger()
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

var router = sync.OnceValues(func() (routers.Router, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: build router: %w", err)
	}
	return r, nil
})

// Spec returns the parsed, validated contract. It is parsed once per process
// and shared: callers must treat it as read-only.
func Spec() (*openapi3.T, error) { return load() }

// Router returns the one router over Spec.
func Router() (routers.Router, error) { return router() }

// RequestOptions are the options every request validation in this module
// uses: all problems at once, and schema errors that never echo the schema or
// the caller's value. auth resolves the security schemes.
func RequestOptions(auth openapi3filter.AuthenticationFunc) *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:              true,
		AuthenticationFunc:      auth,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
}
