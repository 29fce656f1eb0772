package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/internal/jsonvalue"
)

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

// decodeJSON checks a JSON body as checkJSON does and returns its value,
// decoded once for validation and binding (validateRequest). It returns
// nil for an empty body and for other media types, which kin-openapi
// reads itself.
func decodeJSON(contentType string, body []byte) (any, error) {
	if len(body) == 0 || !isJSON(contentType) {
		return nil, nil
	}
	v, err := jsonvalue.Parse(body, propertyNames())
	if err == nil {
		return v, nil
	}
	// Parse refuses exactly what checkJSON refuses (FuzzParse); checkJSON
	// says where.
	return nil, checkJSON(contentType, body)
}

// propertyNames are the member names both contracts define.
var propertyNames = sync.OnceValue(func() map[string]string {
	api, _ := contract.Spec()
	control, _ := loadControlSpec()
	return contract.PropertyNames(api, control)
})

func isJSON(contentType string) bool {
	if contentType == contentTypeJSON {
		return true
	}
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
