package contract_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/osmstub/osmstub"
	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/contract"
)

const relationsPath = "/v2/servicerequest/cases/%s/relations"

func TestDocumentIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(osmstub.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml does not pass kin-openapi's validation: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	embedded, err := gen.GetSpec()
	if err != nil {
		t.Fatalf("gen.GetSwagger: %v", err)
	}
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(embedded)
	if string(a) != string(b) {
		t.Error("gen's embedded spec differs from openapi.yaml: run make generate")
	}
}

func TestOperations(t *testing.T) {
	doc := spec(t)
	item := doc.Paths.Value("/v2/servicerequest/cases/{case_id}/relations")
	if item == nil {
		t.Fatal("path /v2/servicerequest/cases/{case_id}/relations is missing")
	}
	want := map[string]string{http.MethodPost: "CreateRelations", http.MethodGet: "ListRelation", http.MethodDelete: "DeleteRelation"}
	for method, id := range want {
		op := item.GetOperation(method)
		if op == nil || op.OperationID != id {
			t.Fatalf("%s: want operation %s", method, id)
		}
		var headers []string
		for _, p := range op.Parameters {
			if p.Value.In == openapi3.ParameterInHeader {
				headers = append(headers, p.Value.Name)
			}
		}
		slices.Sort(headers)
		if !slices.Equal(headers, []string{"X-Language", "X-Site", "X-Time-Zone"}) {
			t.Errorf("%s headers = %v", id, headers)
		}
		codes := op.Responses.Map()
		for _, code := range []string{"200", "400", "401", "403", "413", "415", "500"} {
			r := codes[code]
			if r == nil {
				t.Errorf("%s: no %s response", id, code)
				continue
			}
			if r.Value.Headers["X-Request-Id"] == nil {
				t.Errorf("%s %s: no X-Request-Id header", id, code)
			}
		}
	}
	if n := len(doc.Security); n != 2 {
		t.Errorf("security requirements = %d, want two alternatives", n)
	}
}

// Every example in the document must validate against the schema it sits
// beside; kin-openapi's own Validate checks most, this walks them all and
// also proves that every request and response has at least one.
func TestEveryExampleValidates(t *testing.T) {
	doc := spec(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.RequestBody != nil {
				checkExamples(t, name+" request", op.RequestBody.Value.Content, openapi3.VisitAsRequest())
			}
			for code, resp := range op.Responses.Map() {
				checkExamples(t, name+" "+code, resp.Value.Content, openapi3.VisitAsResponse())
			}
		}
	}
	for name, p := range doc.Components.Parameters {
		if p.Value.Example != nil {
			if err := p.Value.Schema.Value.VisitJSON(p.Value.Example); err != nil {
				t.Errorf("parameter %s example: %v", name, err)
			}
		}
		for ex, ref := range p.Value.Examples {
			if err := p.Value.Schema.Value.VisitJSON(ref.Value.Value); err != nil {
				t.Errorf("parameter %s example %q: %v", name, ex, err)
			}
		}
	}
}

// TestExamplesPairedByName: tools that pair a request example with the
// response example of the same name (Specmatic) refuse a response example
// without its request. Every named response example of an operation has a
// request example of that name: in the body for an operation with one,
// and in every path parameter; every request body example has its
// response. Error responses carry one unnamed example (no request alone
// produces a 503). TestContractExamples (server) sends each pair.
func TestExamplesPairedByName(t *testing.T) {
	doc := spec(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			responses := map[string]bool{}
			for code, resp := range op.Responses.Map() {
				mt := resp.Value.Content.Get("application/json")
				if mt == nil {
					continue
				}
				if code[0] != '2' && len(mt.Examples) > 0 {
					t.Errorf("%s %s: named examples %v on an error response, which no request example produces alone; give it one unnamed example", name, code, slices.Collect(maps.Keys(mt.Examples)))
				}
				for ex := range mt.Examples {
					responses[ex] = true
				}
			}
			if len(responses) == 0 {
				t.Errorf("%s: no named response example", name)
			}
			for ex := range responses {
				if op.RequestBody != nil && op.RequestBody.Value.Content.Get("application/json").Examples[ex] == nil {
					t.Errorf("%s: response example %q has no request body example of that name", name, ex)
				}
				for _, p := range op.Parameters {
					if p.Value.In == openapi3.ParameterInPath && p.Value.Examples[ex] == nil {
						t.Errorf("%s: response example %q has no example of that name for path parameter %s", name, ex, p.Value.Name)
					}
				}
			}
			if op.RequestBody != nil {
				for ex := range op.RequestBody.Value.Content.Get("application/json").Examples {
					if !responses[ex] {
						t.Errorf("%s: request body example %q has no response example of that name", name, ex)
					}
				}
			}
		}
	}
}

func checkExamples(t *testing.T, name string, content openapi3.Content, opt openapi3.SchemaValidationOption) {
	t.Helper()
	mt := content.Get("application/json")
	if mt == nil {
		t.Errorf("%s: no application/json content", name)
		return
	}
	examples := map[string]any{}
	for ex, ref := range mt.Examples {
		examples[ex] = ref.Value.Value
	}
	if mt.Example != nil { // an error response's one example, unnamed: no request produces it alone
		examples["(unnamed)"] = mt.Example
	}
	if len(examples) == 0 {
		t.Errorf("%s: no example", name)
	}
	for ex, value := range examples {
		// Round-trip through JSON so numbers and maps look as they do on the wire.
		raw, err := json.Marshal(value)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if err := mt.Schema.Value.VisitJSON(v, opt, openapi3.MultiErrors()); err != nil {
			t.Errorf("%s example %q does not validate: %v", name, ex, err)
		}
	}
}

func TestRequestValidation(t *testing.T) {
	valid := `{"related_id_list":["CS2","CS3"],"group_id":"g1"}`
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name     string
		method   string
		caseID   string
		body     string
		header   map[string]string
		wantKind contract.Kind
		want     []string // "field: rule" parts; nil means the request is valid
	}{
		{name: "create example", method: "POST", body: valid},
		{name: "create 3 ids, 32 chars", method: "POST", body: `{"related_id_list":["` + long(32) + `","b","c"],"group_id":"` + long(64) + `"}`},
		{name: "list", method: "GET"},
		{name: "list with SDK content type and no body", method: "GET", header: map[string]string{"Content-Type": "application/json"}},
		{name: "delete without group", method: "DELETE", body: `{"related_id":"CS2"}`},
		{name: "delete example", method: "DELETE", body: `{"related_id":"CS2","group_id":"g1"}`},
		{name: "headers within limits", method: "GET", header: map[string]string{"X-Language": "en-us", "X-Time-Zone": "GMT+8", "X-Site": "1"}},
		{name: "case id of 64", method: "GET", caseID: long(64)},
		{name: "case id needing escapes", method: "GET", caseID: "CS%201%2F2"},

		{name: "vendor page's broken example", method: "POST", body: `{"related_id_list":"123456","group_id":"123456"}`,
			want: []string{"related_id_list: must be an array"}},
		{name: "4 items", method: "POST", body: `{"related_id_list":["a","b","c","d"],"group_id":"g"}`,
			want: []string{"related_id_list: maximum number of items is 3"}},
		{name: "no items", method: "POST", body: `{"related_id_list":[],"group_id":"g"}`,
			want: []string{"related_id_list: minimum number of items is 1"}},
		{name: "33-char item", method: "POST", body: `{"related_id_list":["a","` + long(33) + `"],"group_id":"g"}`,
			want: []string{"related_id_list[1]: maximum string length is 32"}},
		{name: "empty item", method: "POST", body: `{"related_id_list":[""],"group_id":"g"}`,
			want: []string{"related_id_list[0]: minimum string length is 1"}},
		{name: "missing related_id_list", method: "POST", body: `{"group_id":"g"}`,
			want: []string{"related_id_list: is required"}},
		{name: "65-char group_id", method: "POST", body: `{"related_id_list":["a"],"group_id":"` + long(65) + `"}`,
			want: []string{"group_id: maximum string length is 64"}},
		{name: "unknown property", method: "POST", body: `{"related_id_list":["a"],"group_id":"g","color":"red"}`,
			want: []string{"color: is not a known property"}},
		{name: "two problems at once", method: "POST", body: `{"related_id_list":"x","group_id":""}`,
			want: []string{"group_id: minimum string length is 1", "related_id_list: must be an array"}},
		{name: "65-char case_id", method: "GET", caseID: long(65),
			want: []string{"case_id: maximum string length is 64"}},
		{name: "empty case_id, as the SDK sends it", method: "GET", caseID: "/",
			want: []string{"case_id: is required"}},
		{name: "delete without related_id", method: "DELETE", body: `{"group_id":"g"}`,
			want: []string{"related_id: is required"}},
		{name: "delete 65-char related_id", method: "DELETE", body: `{"related_id":"` + long(65) + `"}`,
			want: []string{"related_id: maximum string length is 64"}},
		{name: "create without body", method: "POST",
			want: []string{"body: is required"}},
		{name: "malformed JSON", method: "POST", body: `{"related_id_list":`, wantKind: contract.Malformed,
			want: []string{"body: is not valid JSON"}},
		{name: "text body", method: "POST", body: valid, header: map[string]string{"Content-Type": "text/plain"}, wantKind: contract.WrongContentType,
			want: []string{"Content-Type: must be application/json"}},
		{name: "X-Site out of enum", method: "GET", header: map[string]string{"X-Site": "2"},
			want: []string{"X-Site: is not one of the allowed values [0,1]"}},
		{name: "X-Site not a number", method: "GET", header: map[string]string{"X-Site": "cn"},
			want: []string{"X-Site: is an invalid integer"}},
		{name: "X-Language too long", method: "GET", header: map[string]string{"X-Language": long(33)},
			want: []string{"X-Language: maximum string length is 32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caseID := tt.caseID
			switch caseID {
			case "":
				caseID = "CS1"
			case "/":
				caseID = ""
			}
			req := httptest.NewRequest(tt.method, strings.Replace(relationsPath, "%s", caseID, 1), strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			route, params, err := contract.FindRoute(req)
			if err != nil {
				t.Fatalf("FindRoute: %v", err)
			}
			err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route,
				Options: contract.RequestOptions(openapi3filter.NoopAuthenticationFunc),
			})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid request rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid request accepted")
			}
			var got []string
			for _, p := range contract.Problems(err) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
			if k := contract.Classify(err); k != tt.wantKind {
				t.Errorf("kind = %v, want %v", k, tt.wantKind)
			}
			if msg := contract.Message(contract.Problems(err)); strings.Contains(msg, "Schema:") || strings.Contains(msg, "Value:") {
				t.Errorf("message leaks schema or value: %q", msg)
			}
		})
	}
}

func spec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestExampleNamesKeepDocumentOrder(t *testing.T) {
	got := contract.ExampleNames("GET", "/v2/servicerequest/cases/{case_id}/relations", "200")
	want := []string{"two-associations", "none", "unknown-ticket", "no-permission"}
	if !slices.Equal(got, want) {
		t.Errorf("ExampleNames = %q, want %q", got, want)
	}
	if got := contract.ExampleNames("POST", "/v2/servicerequest/cases/{case_id}/relations", "200"); len(got) != 5 || got[0] != "associated" {
		t.Errorf("CreateRelations 200 examples = %q", got)
	}
}
