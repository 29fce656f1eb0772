package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// ValidateResponse checks a response the stub sent for req against the
// contract: its status must be declared for the operation, its body and
// headers must match, and it must carry an X-Request-Id. A request outside
// the contract's paths may only be answered 404 or 405 with an error body.
// Tests call it on every response, so the stub cannot drift from openapi.yaml.
func ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	if header.Get("X-Request-Id") == "" {
		return errors.New("response has no X-Request-Id")
	}
	if status == http.StatusOK && req.Method == http.MethodGet && operationalPaths[req.URL.Path] {
		return nil
	}
	route, params, err := FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		return checkOutsideContract(status, body)
	} else if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s -> %d %s: %w", req.Method, req.URL.Path, status, body, err)
	}
	return nil
}

// operationalPaths are served by the stub beside the vendor contract.
var operationalPaths = map[string]bool{"/healthz": true, "/openapi.yaml": true}

func checkOutsideContract(status int, body []byte) error {
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		return fmt.Errorf("a request outside the contract got %d, want 404 or 405", status)
	}
	var e struct {
		Code *string `json:"error_code"`
		Msg  *string `json:"error_msg"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == nil || e.Msg == nil {
		return fmt.Errorf("a %d outside the contract has no error body: %s", status, body)
	}
	return nil
}
