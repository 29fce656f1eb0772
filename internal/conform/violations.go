package conform

import (
	"errors"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/osmstub/osmstub/internal/contract"
)

// violations turns contract.ValidateResponse's error into one short line
// per broken rule, such as "body /error_msg: maximum string length is
// 256": kin-openapi's own text dumps the schema and the whole body, which
// the report shows once, beside.
func violations(err error) []string {
	inner := errors.Unwrap(err) // contract's "METHOD path -> status body: " prefix
	if inner == nil {
		return []string{err.Error()}
	}
	return describe(inner)
}

func describe(err error) []string {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []string
		for _, x := range e {
			out = append(out, describe(x)...)
		}
		return out
	case *openapi3filter.ResponseError:
		where := e.Reason
		if strings.HasPrefix(where, "response body doesn't match schema") {
			where = "body"
		}
		var out []string
		for _, s := range schemaErrors(e.Err) {
			out = append(out, where+" /"+strings.Join(s.JSONPointer(), "/")+": "+contract.SchemaReason(s))
		}
		if len(out) == 0 {
			out = append(out, clip(e.Error(), 300))
		}
		return out
	}
	return []string{clip(err.Error(), 300)}
}

func schemaErrors(err error) []*openapi3.SchemaError {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []*openapi3.SchemaError
		for _, x := range me {
			out = append(out, schemaErrors(x)...)
		}
		return out
	}
	var s *openapi3.SchemaError
	if errors.As(err, &s) {
		return []*openapi3.SchemaError{s}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
