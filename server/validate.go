package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// validateRequest is openapi3filter.ValidateRequest, step by step, with
// the same errors in the same order (TestValidateRequestMatchesKinOpenAPI
// holds it to that); kin-openapi's schemas check every value. It differs
// in what it skips doing, which was most of kin-openapi's cost here:
//
//   - the security step does not copy the body, which kin-openapi does
//     only to hand each AuthenticationFunc a fresh reader (the
//     authenticator verifies signatures over exchange.body), and reuses
//     the AuthenticationInput it passes (ai);
//   - an optional header the request does not carry is not decoded (with
//     SkipSettingDefaults there is nothing to check), and a string path
//     parameter goes to its schema without the serialization machinery;
//   - a JSON body that check already decoded (parsed, from
//     internal/jsonvalue, the value kin-openapi's decoder would make) is
//     validated as it is, not read and decoded again.
//
// Anything else goes through kin-openapi's own functions.
func validateRequest(ctx context.Context, in *openapi3filter.RequestValidationInput, parsed any, ai *openapi3filter.AuthenticationInput) error {
	req, opts := in.Request, in.Options
	if opts == nil {
		opts = &openapi3filter.Options{}
	}
	route := in.Route
	op := route.Operation
	var me openapi3.MultiError

	security := op.Security
	if security == nil {
		security = &route.Spec.Security
	}
	if err := validateSecurity(ctx, in, opts, *security, ai); err != nil {
		if !opts.MultiError {
			return err
		}
		me = append(me, err)
	}

	// The path's parameters that the operation does not override, then
	// the operation's.
	for i, params := range [2]openapi3.Parameters{route.PathItem.Parameters, op.Parameters} {
		for _, ref := range params {
			p := ref.Value
			if i == 0 && op.Parameters.GetByInAndName(p.In, p.Name) != nil {
				continue
			}
			if opts.ExcludeRequestQueryParams && p.In == openapi3.ParameterInQuery {
				continue
			}
			if err := validateParameter(ctx, in, opts, p); err != nil {
				if !opts.MultiError {
					return err
				}
				me = append(me, err)
			}
		}
	}

	if !opts.ExcludeRequestBody {
		var err error
		if rb := op.RequestBody; rb != nil {
			err = validateBody(ctx, in, opts, rb.Value, parsed)
		} else if opts.RejectWhenRequestBodyNotSpecified && req.ContentLength > 0 {
			err = &openapi3filter.RequestError{Input: in, Err: errors.New("request body not allowed for this request")}
		}
		if err != nil {
			if !opts.MultiError {
				return err
			}
			me = append(me, err)
		}
	}
	if len(me) > 0 {
		return me
	}
	return nil
}

// validateSecurity is openapi3filter.ValidateSecurityRequirements without
// the body's copies: the requirements are alternatives, the schemes of
// one are all needed, in the order of their names.
func validateSecurity(ctx context.Context, in *openapi3filter.RequestValidationInput, opts *openapi3filter.Options, srs openapi3.SecurityRequirements, ai *openapi3filter.AuthenticationInput) error {
	if len(srs) == 0 {
		return nil
	}
	var errs []error
	for _, sr := range srs {
		if err := validateRequirement(ctx, in, opts, sr, ai); err != nil {
			if errs == nil {
				errs = make([]error, 0, len(srs))
			}
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return &openapi3filter.SecurityRequirementsError{SecurityRequirements: srs, Errors: errs}
}

func validateRequirement(ctx context.Context, in *openapi3filter.RequestValidationInput, opts *openapi3filter.Options, sr openapi3.SecurityRequirement, ai *openapi3filter.AuthenticationInput) error {
	var buf [4]string
	names := buf[:0]
	for name := range sr {
		names = append(names, name)
	}
	slices.Sort(names)
	f := opts.AuthenticationFunc
	if f == nil {
		return openapi3filter.ErrAuthenticationServiceMissing
	}
	var schemes openapi3.SecuritySchemes
	if c := in.Route.Spec.Components; c != nil {
		schemes = c.SecuritySchemes
	}
	for _, name := range names {
		var scheme *openapi3.SecurityScheme
		if ref := schemes[name]; ref != nil {
			scheme = ref.Value
		}
		if scheme == nil {
			return &openapi3filter.RequestError{Input: in, Err: fmt.Errorf("security scheme %q is not declared", name)}
		}
		*ai = openapi3filter.AuthenticationInput{RequestValidationInput: in, SecuritySchemeName: name, SecurityScheme: scheme, Scopes: sr[name]}
		if err := f(ctx, ai); err != nil {
			return err
		}
	}
	return nil
}

// validateParameter is openapi3filter.ValidateParameter, with two
// shortcuts that reach the same verdict: an optional header the request
// lacks passes (kin-openapi finds no value and, without defaults, stops
// there), and a simple string path parameter is its own value.
func validateParameter(ctx context.Context, in *openapi3filter.RequestValidationInput, opts *openapi3filter.Options, p *openapi3.Parameter) error {
	if p.Content != nil || p.Schema == nil || !opts.SkipSettingDefaults || (p.Style != "" && p.Style != openapi3.SerializationSimple) {
		return openapi3filter.ValidateParameter(ctx, in, p)
	}
	switch p.In {
	case openapi3.ParameterInHeader:
		_, sent := in.Request.Header[http.CanonicalHeaderKey(p.Name)]
		if !sent && !p.Required && !combined(p.Schema.Value) {
			return nil
		}
	case openapi3.ParameterInPath:
		s := p.Schema.Value
		raw := in.PathParams[p.Name]
		if raw == "" || !plainString(s) || p.AllowEmptyValue || jsonSchema2020(in) {
			break
		}
		var buf [4]openapi3.SchemaValidationOption
		if err := visitJSON(s, raw, schemaOptions(buf[:0], opts)...); err != nil {
			return &openapi3filter.RequestError{Input: in, Parameter: p, Err: err}
		}
		return nil
	}
	return openapi3filter.ValidateParameter(ctx, in, p)
}

// plainString: a value of this schema is decoded from a string as the
// string itself.
func plainString(s *openapi3.Schema) bool {
	return s != nil && s.Type.Is(openapi3.TypeString) && !combined(s)
}

// combined: kin-openapi decodes a parameter of this schema through its
// parts (and refuses "not" outright), even when the parameter is absent.
func combined(s *openapi3.Schema) bool {
	return s == nil || s.AllOf != nil || s.AnyOf != nil || s.OneOf != nil || s.Not != nil
}

func jsonSchema2020(in *openapi3filter.RequestValidationInput) bool {
	return in.Route != nil && in.Route.Spec.IsOpenAPI31OrLater()
}

// schemaOptions are the options kin-openapi's ValidateParameter passes to
// the schema (it also passes a custom error message function, which this
// module never sets).
func schemaOptions(buf []openapi3.SchemaValidationOption, opts *openapi3filter.Options) []openapi3.SchemaValidationOption {
	if opts.MultiError {
		buf = append(buf, openapi3.MultiErrors())
	}
	return append(buf, opts.SchemaValidationOptions...)
}

// validateBody is openapi3filter.ValidateRequestBody for a JSON body that
// is already decoded (parsed); other bodies, and options this shortcut
// does not cover, go to kin-openapi, which reads the body again.
func validateBody(ctx context.Context, in *openapi3filter.RequestValidationInput, opts *openapi3filter.Options, rb *openapi3.RequestBody, parsed any) error {
	req := in.Request
	if parsed == nil || !opts.SkipSettingDefaults || opts.RegexCompiler != nil || jsonSchema2020(in) {
		return kinValidateBody(ctx, in, rb)
	}
	if len(rb.Content) == 0 {
		return nil // kin-openapi: no declared content, nothing to check
	}
	// parsed implies a Content-Type of application/json (decodeJSON), so
	// kin-openapi would pick its JSON decoder too.
	media := rb.Content.Get(req.Header.Get("Content-Type"))
	if media == nil || len(media.Encoding) > 0 {
		return kinValidateBody(ctx, in, rb)
	}
	if media.Schema == nil {
		return nil
	}
	var buf [6]openapi3.SchemaValidationOption
	vopts := append(buf[:0], openapi3.VisitAsRequest())
	if opts.MultiError {
		vopts = append(vopts, openapi3.MultiErrors())
	}
	if opts.ExcludeReadOnlyValidations {
		vopts = append(vopts, openapi3.DisableReadOnlyValidation())
	}
	vopts = append(vopts, opts.SchemaValidationOptions...)
	if err := visitJSON(media.Schema.Value, parsed, vopts...); err != nil {
		return &openapi3filter.RequestError{Input: in, RequestBody: rb, Reason: "doesn't match schema" + schemaName(media.Schema), Err: err}
	}
	if opts.KeepValidatedValue {
		x := exchangeOf(req.Context())
		x.validated = validatedBody{ReadCloser: req.Body, value: parsed}
		req.Body = &x.validated
	}
	return nil
}

// kinValidateBody is openapi3filter.ValidateRequestBody, which reads the
// body and then puts it back with GetBody: a replayed body gets its
// GetBody here, only when kin-openapi needs it (a method value costs an
// allocation, and most requests never get here).
func kinValidateBody(ctx context.Context, in *openapi3filter.RequestValidationInput, rb *openapi3.RequestBody) error {
	req := in.Request
	if b, ok := req.Body.(*replayBody); ok && req.GetBody == nil {
		req.GetBody = b.rewind
	}
	return openapi3filter.ValidateRequestBody(ctx, in, rb)
}

// schemaName is how kin-openapi names a body's schema in its reason.
func schemaName(s *openapi3.SchemaRef) string {
	id := strings.TrimSpace(s.Ref)
	if id == "" && s.Value != nil {
		id = strings.TrimSpace(s.Value.Title)
	}
	if id != "" {
		id = " " + id
	}
	return id
}

// validatedBody is the request body after validation, carrying the value
// validated, as kin-openapi's KeepValidatedValue leaves it: the generated
// strict handlers bind that value instead of decoding the body again.
type validatedBody struct {
	io.ReadCloser
	value any
}

// ValidatedValue is what the generated handlers look for.
func (b *validatedBody) ValidatedValue() any { return b.value }
