//go:build !osmstub_nokin

package server

import "github.com/getkin/kin-openapi/openapi3"

// visitJSON is kin-openapi's check of a value against its schema, where
// validateRequest calls it for a path parameter and a JSON body. A build
// with the tag osmstub_nokin (kinschema_nokin.go, `make bench`'s
// stub-nokin target only) leaves the check out, to measure what it costs
// under load.
func visitJSON(s *openapi3.Schema, v any, opts ...openapi3.SchemaValidationOption) error {
	return s.VisitJSON(v, opts...)
}

// schemaChecks tells whether visitJSON checks anything (New warns when it
// does not).
const schemaChecks = true
