package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/internal/contract"
)

// validate checks a contract operation's request with kin-openapi, which
// also authenticates the caller (authenticator.authenticate), and refuses
// it with the contract's error body.
func (s *Server) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.check(c, s.contractRoute(c), s.options); err != nil {
			return err
		}
		return next(c)
	}
}

// check reads the body once (kept for AK/SK verification and the
// journal), refuses JSON that the service would refuse but Go's decoders
// accept (checkJSON), then validates the request against its route with
// kin-openapi's openapi3filter.ValidateRequest and maps a failure to the
// contract's refusal. The control API uses it too.
func (s *Server) check(c echo.Context, route *routers.Route, opts *openapi3filter.Options) error {
	req := c.Request()
	x := exchangeOf(req.Context())
	if req.Body != http.NoBody && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return s.unreadable(req, err)
		}
		x.body, x.bodyRead = body, true
		if err := checkJSON(req.Header.Get("Content-Type"), body); err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	params := make(map[string]string, len(c.ParamNames()))
	for i, name := range c.ParamNames() {
		p, err := url.PathUnescape(c.ParamValues()[i])
		if err != nil {
			return newAPIError(http.StatusBadRequest, CodeInvalid, "%s: is not a valid path segment", name)
		}
		params[name] = p
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		return s.refuse(x, err) // which keeps nothing of err
	}
	return nil
}

// unreadable maps the error of a body that could not be read: too long
// (413), never complete (408: it stalled, outlived the server's read
// timeout, or its connection ended or failed first), or malformed (400).
func (s *Server) unreadable(req *http.Request, err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge()
	case errors.Is(err, errBodyStalled):
		return requestTimeout(fmt.Sprintf("no byte of the body arrived for %v", s.bodyStall))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return requestTimeout("the body did not arrive within the server's read timeout")
	case errors.Is(err, io.ErrUnexpectedEOF) || req.Context().Err() != nil:
		// net/http cancels the context when the connection fails.
		if req.ContentLength > 0 {
			return requestTimeout(fmt.Sprintf("the body ended before the %d bytes of its Content-Length", req.ContentLength))
		}
		return requestTimeout("the body ended before its last chunk")
	}
	return newAPIError(http.StatusBadRequest, CodeInvalid, "body: could not be read")
}

// refuse maps a validation failure: authentication first (an unknown
// caller learns nothing about the request), then media type, then schema.
func (s *Server) refuse(x *exchange, err error) error {
	var secErr *openapi3filter.SecurityRequirementsError
	if errors.As(err, &secErr) {
		return x.auth.failure()
	}
	s.requestViolations(x, err)
	switch contract.Classify(err) {
	case contract.WrongContentType:
		return newAPIError(http.StatusUnsupportedMediaType, CodeInvalid, "Content-Type must be %s", contentTypeJSON)
	case contract.Malformed:
		return newAPIError(http.StatusBadRequest, CodeInvalid, "body: is not valid JSON")
	}
	problems := contract.Problems(err)
	if len(problems) == 0 {
		return newAPIError(http.StatusBadRequest, CodeInvalid, "request does not match the contract")
	}
	return newAPIError(http.StatusBadRequest, CodeInvalid, "%s", contract.Message(problems))
}

// checkJSON refuses a JSON body that the service's Java stack would
// refuse but Go's decoders let through or word in Go's terms: bytes that
// are not UTF-8, and anything after the JSON value ("{...} xx",
// "{...}{...}"), which a streaming decoder silently ignores. Duplicate
// keys pass, the last one winning, as with Jackson's defaults (see
// docs/fidelity.md). Bodies of other media types are left to validation,
// which answers 415.
func checkJSON(contentType string, body []byte) error {
	if len(body) == 0 || !isJSON(contentType) {
		return nil
	}
	if !utf8.Valid(body) {
		return newAPIError(http.StatusBadRequest, CodeInvalid, "body: is not valid UTF-8 (at byte %d)", firstInvalidUTF8(body))
	}
	if json.Valid(body) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var first json.RawMessage
	err := dec.Decode(&first)
	if err == nil {
		return newAPIError(http.StatusBadRequest, CodeInvalid, "body: unexpected data after the JSON value (at byte %d)", dec.InputOffset())
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return newAPIError(http.StatusBadRequest, CodeInvalid, "body: is not valid JSON (at byte %d)", syntax.Offset)
	}
	// io.ErrUnexpectedEOF: the value is cut short.
	return newAPIError(http.StatusBadRequest, CodeInvalid, "body: is not valid JSON (at byte %d)", len(body))
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == contentTypeJSON
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
