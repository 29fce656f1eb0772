package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/internal/contract"
)

// preferExample follows Prism's convention for people coming from Prism:
// a request with "Prefer: code=NNN" on a contract operation is answered
// with that status and the contract's example for it, and "example=NAME"
// picks a named example (otherwise the first one listed). Only statuses the
// contract declares for the operation can be asked for.
func (s *Server) preferExample(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		pref := c.Request().Header.Get("Prefer")
		if pref == "" {
			return next(c)
		}
		route := s.contractRoute(c)
		code, example, err := parsePrefer(pref)
		if err != nil || code == 0 {
			if err != nil {
				return newAPIError(http.StatusBadRequest, CodeInvalid, "Prefer: %v", err)
			}
			return next(c)
		}
		op := route.Operation
		resp := op.Responses.Status(code)
		if resp == nil || resp.Value == nil {
			return newAPIError(http.StatusBadRequest, CodeInvalid,
				"Prefer: code=%d is not a status %s declares; it declares %s", code, op.OperationID, declared(op))
		}
		order := contract.ExampleNames(route.Method, route.Path, strconv.Itoa(code))
		value, err := pickExample(resp.Value, example, order)
		if err != nil {
			return newAPIError(http.StatusBadRequest, CodeInvalid, "Prefer: %v", err)
		}
		exchangeOf(c.Request().Context()).prefer = pref
		return c.JSON(code, value)
	}
}

func parsePrefer(v string) (code int, example string, err error) {
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		key, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "code":
			if code, err = strconv.Atoi(val); err != nil || code < 100 || code > 599 {
				return 0, "", fmt.Errorf("code=%q is not an HTTP status", val)
			}
		case "example":
			example = val
		}
	}
	return code, example, nil
}

func declared(op *openapi3.Operation) string {
	var codes []string
	for code := range op.Responses.Map() {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return strings.Join(codes, ", ")
}

// pickExample returns the named example, or the first one: in document
// order when known, else by name.
func pickExample(resp *openapi3.Response, name string, order []string) (any, error) {
	mt := resp.Content.Get(contentTypeJSON)
	switch {
	case mt == nil || len(mt.Examples) == 0 && mt.Example == nil:
		return nil, fmt.Errorf("the contract has no example for this status")
	case len(mt.Examples) == 0 && name != "":
		return nil, fmt.Errorf("example=%s: this status has one example, without a name", name)
	case len(mt.Examples) == 0:
		return mt.Example, nil
	}
	names := make([]string, 0, len(mt.Examples))
	for n := range mt.Examples {
		names = append(names, n)
	}
	slices.Sort(names)
	if name == "" {
		name = names[0]
		if len(order) > 0 {
			name = order[0]
		}
	}
	ex := mt.Examples[name]
	if ex == nil || ex.Value == nil {
		return nil, fmt.Errorf("example=%s is not an example of this status; it has %s", name, strings.Join(names, ", "))
	}
	return ex.Value.Value, nil
}
