package violation

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/osmstub/osmstub/internal/contract"
)

// CheckResponse checks the answer to req against the contract and returns
// one Violation per broken rule, none for a conforming answer. A request
// outside the contract's operations may only be answered 404 or 405, with
// an X-Request-Id and an error body.
func CheckResponse(req *http.Request, status int, header http.Header, body []byte) []Violation {
	route, _, err := contract.FindRoute(req)
	if err == nil {
		return CheckRouteResponse(route, status, header, body)
	}
	c := checker{dir: Response}
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		c.add(InStatus, "", "a request outside the contract's operations is answered 404 or 405", strconv.Itoa(status))
	}
	c.headers(&openapi3.Response{}, header)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		c.add(InBody, "", "is not an error body", value(string(body)))
		return c.out
	}
	c.errorBody(v)
	return c.out
}

// CheckRouteResponse is CheckResponse for a request already routed.
//
// Besides what openapi.yaml's schemas say, it holds three rules the
// contract states in prose and the stub keeps: every answer carries an
// X-Request-Id; a body has no property the contract does not list (a
// NewField); and a 4xx or 5xx body has error_code and error_msg.
func CheckRouteResponse(route *routers.Route, status int, header http.Header, body []byte) []Violation {
	c := checker{op: route.Operation.OperationID, dir: Response}
	ref := route.Operation.Responses.Status(status)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		c.add(InStatus, "", fmt.Sprintf("%d is not a status the contract declares for %s", status, c.op), strconv.Itoa(status))
		return c.out
	}
	resp := ref.Value
	c.headers(resp, header)
	c.body(resp, status, header, body)
	return c.out
}

// NewField is the rule of a property the contract does not list, in a
// request or an answer: its own kind of finding, which a reader may weigh
// apart from a broken schema rule.
const NewField = "new field"

type checker struct {
	op  string
	dir Direction
	out []Violation
}

func (c *checker) add(in, pointer, rule, value string) {
	c.out = append(c.out, Violation{Operation: c.op, Direction: c.dir, In: in, Pointer: pointer, Rule: rule, Value: value})
}

const headerRequestID = "X-Request-Id"

func (c *checker) headers(resp *openapi3.Response, header http.Header) {
	names := make([]string, 0, len(resp.Headers)+1)
	for name := range resp.Headers {
		names = append(names, name)
	}
	if resp.Headers[headerRequestID] == nil {
		names = append(names, headerRequestID)
	}
	slices.Sort(names)
	for _, name := range names {
		got, sent := header[http.CanonicalHeaderKey(name)]
		var h *openapi3.Header
		if ref := resp.Headers[name]; ref != nil {
			h = ref.Value
		}
		switch {
		case !sent || len(got) == 0:
			if name == headerRequestID || (h != nil && h.Required) {
				c.add(InHeader, "/"+name, "is required", "")
			}
		case h != nil && h.Schema != nil && h.Schema.Value != nil:
			if rule := headerRule(h.Schema.Value, got[0]); rule != "" {
				c.add(InHeader, "/"+name, rule, headerValue(name, got[0]))
			}
		}
	}
}

// headerRule checks a header's value against its schema: an integer
// header must parse, then both kinds obey the schema's bounds.
func headerRule(schema *openapi3.Schema, v string) string {
	var val any = v
	if schema.Type.Is("integer") || schema.Type.Is("number") {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "must be a number"
		}
		val = n
	}
	if err := schema.VisitJSON(val, openapi3.VisitAsResponse()); err != nil {
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			return rule(se)
		}
		return "is invalid"
	}
	return ""
}

func (c *checker) body(resp *openapi3.Response, status int, header http.Header, body []byte) {
	mt := resp.Content.Get("application/json")
	if mt == nil {
		if len(body) > 0 {
			c.add(InBody, "", fmt.Sprintf("the contract declares no body for %d", status), value(string(body)))
		}
		return
	}
	if ct := header.Get("Content-Type"); !isJSON(ct) {
		c.add(InHeader, "/Content-Type", "must be application/json", headerValue("Content-Type", ct))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		c.add(InBody, "", "is not valid JSON", value(string(body)))
		return
	}
	if mt.Schema != nil && mt.Schema.Value != nil {
		c.schema(mt.Schema.Value, v)
		c.unknown(mt.Schema.Value, v, "")
	}
	if status >= 400 {
		c.errorBody(v)
	}
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func (c *checker) schema(schema *openapi3.Schema, v any) {
	err := schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse())
	for _, e := range contract.Flatten(err) {
		var se *openapi3.SchemaError
		if !errors.As(e, &se) {
			continue
		}
		if _, ok := contract.UnknownProperty(se); ok {
			continue // reported once, by unknown
		}
		c.add(InBody, pointer(se.JSONPointer()), rule(se), value(se.Value))
	}
}

// unknown reports the properties a body has and its schema does not list,
// where the schema lists its properties and does not allow more.
func (c *checker) unknown(schema *openapi3.Schema, v any, at string) {
	switch v := v.(type) {
	case map[string]any:
		if !schema.Type.Is("object") && len(schema.Properties) == 0 {
			return
		}
		allowed := schema.AdditionalProperties.Schema != nil ||
			(schema.AdditionalProperties.Has != nil && *schema.AdditionalProperties.Has && len(schema.Properties) == 0)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := schema.Properties[k]
			switch {
			case p != nil && p.Value != nil:
				c.unknown(p.Value, v[k], at+"/"+escape(k))
			case !allowed:
				c.add(InBody, at+"/"+escape(k), NewField, value(v[k]))
			}
		}
	case []any:
		if schema.Items == nil || schema.Items.Value == nil {
			return
		}
		for i, item := range v {
			c.unknown(schema.Items.Value, item, at+"/"+strconv.Itoa(i))
		}
	}
}

// errorBody holds the contract's word that every 4xx and 5xx body is an
// error body: error_code and error_msg, both present.
func (c *checker) errorBody(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return // the schema check has said it is not an object
	}
	for _, k := range []string{"error_code", "error_msg"} {
		if _, ok := m[k]; !ok {
			c.add(InBody, "/"+k, "is required in an error body", "")
		}
	}
}

// CheckRequestError turns a kin-openapi request validation error into
// violations: one per parameter or body rule broken, as contract.Problems
// finds them.
func CheckRequestError(route *routers.Route, err error) []Violation {
	c := checker{op: route.Operation.OperationID, dir: Request}
	for _, p := range contract.Problems(err) {
		ptr, v := "/"+p.Field, ""
		switch {
		case p.Value == nil:
		case p.In == InHeader:
			v = headerValue(p.Field, fmt.Sprint(p.Value))
		default:
			v = value(p.Value)
		}
		if p.In == InBody {
			ptr = pointer(p.Path)
		}
		rule := p.Rule
		if p.Unknown {
			rule = NewField
		}
		c.add(p.In, ptr, rule, v)
	}
	return c.out
}

// rule is a schema error's reason in a few words, without the value.
func rule(se *openapi3.SchemaError) string {
	if se.SchemaField == "required" {
		return "is required"
	}
	return strings.TrimPrefix(contract.SchemaReason(se), "value ")
}

// pointer renders path segments as a JSON pointer (RFC 6901).
func pointer(segments []string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteString("/" + escape(s))
	}
	return b.String()
}

func escape(s string) string { return pointerEscaper.Replace(s) }

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
