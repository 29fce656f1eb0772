package contract

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// Problem is one broken rule of a request: the field it concerns, named as
// the caller wrote it (a parameter name or a path into the body such as
// related_id_list[3]), and the rule in a few words.
type Problem struct {
	Field string
	Rule  string
	// What internal/violation reports besides: In is the parameter's
	// location (header, query, path) or body; Path the JSON pointer's
	// segments into the body; Value the offending value, nil if none is
	// quoted; Unknown marks a property the schema does not list.
	In      string
	Path    []string
	Value   any
	Unknown bool
}

func (p Problem) String() string { return p.Field + ": " + p.Rule }

// Kind says what a validation failure is about, which decides its status.
type Kind int

const (
	// Invalid is a parameter or body that breaks the schema (400).
	Invalid Kind = iota
	// Malformed is a body that is not JSON at all (400).
	Malformed
	// WrongContentType is a body sent with a media type the operation does not take (415).
	WrongContentType
)

// Classify reports what kind of failure a kin-openapi request error is.
func Classify(err error) Kind {
	var reqErr *openapi3filter.RequestError
	for _, e := range Flatten(err) {
		if !errors.As(e, &reqErr) || reqErr.RequestBody == nil {
			continue
		}
		if wrongContentType(reqErr) {
			return WrongContentType
		}
		var parseErr *openapi3filter.ParseError
		if errors.As(reqErr.Err, &parseErr) {
			return Malformed
		}
	}
	return Invalid
}

// Problems flattens a kin-openapi request validation error (a MultiError of
// RequestErrors, each perhaps wrapping a MultiError of SchemaErrors) into
// one Problem per broken rule: parameters first, then the body's fields in
// name order, so the same request always gets the same message. It reads
// only Reason, the JSON pointer and the parameter, never Error(), which
// would dump the schema and the caller's value.
func Problems(err error) []Problem {
	var params, body []Problem
	for _, e := range Flatten(err) {
		var reqErr *openapi3filter.RequestError
		if !errors.As(e, &reqErr) {
			continue
		}
		switch {
		case reqErr.Parameter != nil:
			for _, p := range parameterProblems(reqErr) {
				p.In = reqErr.Parameter.In
				params = append(params, p)
			}
		case reqErr.RequestBody != nil:
			body = append(body, bodyProblems(reqErr)...)
		}
	}
	sort.SliceStable(body, func(i, j int) bool { return body[i].Field < body[j].Field })
	return append(params, body...)
}

// Message joins problems into the error_msg of a 400: "a: rule; b: rule".
func Message(problems []Problem) string {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// wrongContentType reports kin-openapi's refusal of a body's media type,
// which it gives only as a Reason.
func wrongContentType(reqErr *openapi3filter.RequestError) bool {
	return reqErr.RequestBody != nil && strings.HasPrefix(reqErr.Reason, "header Content-Type has unexpected value")
}

// Flatten expands kin-openapi's MultiErrors, only at the top of each
// error: errors.As would reach through a RequestError into the MultiError
// it wraps and lose which parameter or body its schema errors belong to.
func Flatten(err error) []error {
	if err == nil {
		return nil
	}
	me, ok := err.(openapi3.MultiError)
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range me {
		out = append(out, Flatten(e)...)
	}
	return out
}

func parameterProblems(reqErr *openapi3filter.RequestError) []Problem {
	name := reqErr.Parameter.Name
	if errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired) {
		return []Problem{{Field: name, Rule: "is required"}}
	}
	if errors.Is(reqErr.Err, openapi3filter.ErrInvalidEmptyValue) {
		return []Problem{{Field: name, Rule: "must not be empty"}}
	}
	var parseErr *openapi3filter.ParseError
	if errors.As(reqErr.Err, &parseErr) {
		return []Problem{{Field: name, Rule: parseRule(parseErr)}}
	}
	if ps := schemaProblems(reqErr.Err, name); len(ps) > 0 {
		return ps
	}
	return []Problem{{Field: name, Rule: "is invalid"}}
}

func bodyProblems(reqErr *openapi3filter.RequestError) []Problem {
	switch {
	case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
		return []Problem{{Field: "body", Rule: "is required", In: "body"}}
	case wrongContentType(reqErr):
		return []Problem{{Field: "Content-Type", Rule: "must be application/json", In: "header"}}
	}
	var parseErr *openapi3filter.ParseError
	if errors.As(reqErr.Err, &parseErr) {
		return []Problem{{Field: "body", Rule: "is not valid JSON", In: "body"}}
	}
	if ps := schemaProblems(reqErr.Err, ""); len(ps) > 0 {
		return ps
	}
	return []Problem{{Field: "body", Rule: "is invalid", In: "body"}}
}

func schemaProblems(err error, base string) []Problem {
	var out []Problem
	for _, e := range Flatten(err) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			out = append(out, schemaProblem(se, base))
		}
	}
	return out
}

func schemaProblem(se *openapi3.SchemaError, base string) Problem {
	field := fieldName(base, se.JSONPointer())
	p := Problem{Field: orBody(field), In: "body", Path: se.JSONPointer(), Value: se.Value}
	switch name, unknown := UnknownProperty(se); {
	case se.SchemaField == "required":
		p.Field, p.Rule = field, "is required"
	case unknown:
		p.Field, p.Rule, p.Unknown = fieldName(field, []string{name}), "is not a known property", true
		p.Path, p.Value = append(p.Path, name), nil
	case se.SchemaField == "nullable":
		p.Rule = "must not be null"
	case strings.Contains(se.Reason, "json.Number"):
		// kin-openapi failed to convert a number too large for a float64;
		// its reason names Go types, which callers cannot act on.
		p.Rule = numberRule(se.Schema)
	default:
		p.Rule = strings.TrimPrefix(se.Reason, "value ")
	}
	return p
}

// SchemaReason is kin-openapi's reason for a schema error, or, for a
// "not" schema, for which it gives none, the contract's description of
// what that schema rules out (openapi.yaml's 200 bodies).
func SchemaReason(se *openapi3.SchemaError) string {
	if se.SchemaField == "not" && se.Reason == "" {
		if se.Schema != nil && se.Schema.Not != nil && se.Schema.Not.Value != nil && se.Schema.Not.Value.Description != "" {
			return se.Schema.Not.Value.Description
		}
		return "matches a shape the contract rules out"
	}
	return se.Reason
}

func numberRule(schema *openapi3.Schema) string {
	if schema != nil && schema.Type != nil && len(schema.Type.Slice()) == 1 && !schema.Type.Includes("number") && !schema.Type.Includes("integer") {
		return "must be " + article(schema.Type.Slice()[0])
	}
	return "is a number out of range"
}

func article(typ string) string {
	if typ == "array" || typ == "object" || typ == "integer" {
		return "an " + typ
	}
	return "a " + typ
}

func orBody(field string) string {
	if field == "" {
		return "body"
	}
	return field
}

// fieldName renders a JSON pointer the way the caller wrote the field:
// related_id_list[3], not /related_id_list/3.
func fieldName(base string, pointer []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, key := range pointer {
		if _, err := strconv.Atoi(key); err == nil && b.Len() > 0 {
			b.WriteString("[" + key + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
	}
	return b.String()
}

// UnknownProperty is the name of the property se refuses because the
// schema does not list it: kin-openapi names it only in its reason,
// `property "foo" is unsupported`.
func UnknownProperty(se *openapi3.SchemaError) (string, bool) {
	start := strings.IndexByte(se.Reason, '"')
	if se.SchemaField != "properties" || start < 0 {
		return "", false
	}
	name, err := strconv.QuotedPrefix(se.Reason[start:])
	if err != nil {
		return "", false
	}
	name, err = strconv.Unquote(name)
	return name, err == nil
}

func parseRule(pe *openapi3filter.ParseError) string {
	switch pe.Kind {
	case openapi3filter.KindInvalidFormat:
		if pe.Reason != "" {
			return "is " + pe.Reason
		}
	}
	return "has an invalid value"
}
