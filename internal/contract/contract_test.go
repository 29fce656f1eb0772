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

// TestOperations: every operation of the ticket flow is where the official
// SDK sends it, with the common headers and the error responses.
func TestOperations(t *testing.T) {
	doc := spec(t)
	tickets := "/v2/servicerequest/cases"
	ticket := tickets + "/{case_id}"
	tests := []struct {
		path, method, id string
		extraHeaders     []string
	}{
		{"/v2/servicerequest/config/product-categories", http.MethodGet, "ListProductCategories", nil},
		{"/v2/servicerequest/config/problems", http.MethodGet, "ListProblemTypes", nil},
		{tickets, http.MethodPost, "CreateCases", []string{"x-email-verifiedid", "x-phone-verifiedid"}},
		{tickets, http.MethodGet, "ListCases", nil},
		{ticket, http.MethodGet, "ShowCaseDetail", nil},
		{ticket + "/status", http.MethodGet, "ShowCaseStatus", nil},
		{ticket + "/action", http.MethodPost, "UpdateCases", nil},
		{ticket + "/message", http.MethodPost, "CreateMessages", nil},
		{ticket + "/messages", http.MethodGet, "ListMessages", nil},
		{ticket + "/score", http.MethodPost, "CreateScores", nil},
		{ticket + "/relations", http.MethodPost, "CreateRelations", nil},
		{ticket + "/relations", http.MethodGet, "ListRelation", nil},
		{ticket + "/relations", http.MethodDelete, "DeleteRelation", nil},
		{"/v2/servicerequest/accessorys/json-format-content", http.MethodPost, "UploadJsonAccessories", nil},
		{"/v2/servicerequest/accessorys/limits", http.MethodGet, "ShowAccessoryLimits", nil},
	}
	n := 0
	for _, item := range doc.Paths.Map() {
		n += len(item.Operations())
	}
	if n != len(tests) {
		t.Errorf("%d operations, want %d", n, len(tests))
	}
	for _, tt := range tests {
		item := doc.Paths.Value(tt.path)
		if item == nil {
			t.Errorf("path %s is missing", tt.path)
			continue
		}
		op := item.GetOperation(tt.method)
		if op == nil || op.OperationID != tt.id {
			t.Errorf("%s %s: want operation %s", tt.method, tt.path, tt.id)
			continue
		}
		var headers []string
		for _, p := range op.Parameters {
			if p.Value.In == openapi3.ParameterInHeader {
				headers = append(headers, p.Value.Name)
			}
		}
		slices.Sort(headers)
		want := append([]string{"X-Language", "X-Site", "X-Time-Zone"}, tt.extraHeaders...)
		slices.Sort(want)
		if !slices.Equal(headers, want) {
			t.Errorf("%s headers = %v, want %v", tt.id, headers, want)
		}
		codes := op.Responses.Map()
		for _, code := range []string{"200", "400", "401", "403", "404", "408", "413", "415", "429", "500", "502", "503", "504"} {
			r := codes[code]
			if r == nil {
				t.Errorf("%s: no %s response", tt.id, code)
				continue
			}
			if r.Value.Headers["X-Request-Id"] == nil {
				t.Errorf("%s %s: no X-Request-Id header", tt.id, code)
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
			// A parameter's named example sets up a response example: a
			// name without one is a typo that TestContractExamples would
			// silently skip.
			for _, p := range op.Parameters {
				for ex := range p.Value.Examples {
					if !responses[ex] {
						t.Errorf("%s: parameter %s's example %q has no response example of that name", name, p.Value.Name, ex)
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

// TestTicketFlowRequestValidation: the wire decisions of the ticket flow's
// operations, as the validator applies them.
func TestTicketFlowRequestValidation(t *testing.T) {
	const (
		cases    = "/v2/servicerequest/cases"
		ticket   = cases + "/CS1"
		upload   = "/v2/servicerequest/accessorys/json-format-content"
		minimal  = `{"business_type_id":"QUOTA","simple_description":"d","source_id":"83aeb0f2834c4df49826c781d32a963e"}`
		uploaded = `{"accessory_name":"a.log","accessory_from":"message","accessory_data":"YQ=="}`
	)
	tests := []struct {
		name, method, target, body string
		want                       []string // nil: the request is valid
	}{
		{name: "create, the SDK's minimal body", method: "POST", target: cases, body: minimal},
		{name: "create with free extends_map and extension_map", method: "POST", target: cases,
			body: `{"business_type_id":"Q","simple_description":"d","source_id":"","extends_map":{"a":1,"b":{"c":[true]}},"extension_map":{"x":"y"}}`},
		{name: "create, empty strings the SDK sends for unset fields", method: "POST", target: cases,
			body: `{"business_type_id":"","simple_description":"","source_id":""}`,
			want: []string{"business_type_id: minimum string length is 1", "simple_description: minimum string length is 1"}},
		{name: "create without the required fields", method: "POST", target: cases, body: `{}`,
			want: []string{"business_type_id: is required", "simple_description: is required", "source_id: is required"}},
		{name: "create with an unknown field", method: "POST", target: cases,
			body: `{"business_type_id":"Q","simple_description":"d","source_id":"s","extends_param":{}}`,
			want: []string{"extends_param: is not a known property"}},
		{name: "list, every filter", method: "GET",
			target: cases + "?search_key=a&search_key=b&search_key=c&label_id_list=1&app_key=k&incident_id=CS1" +
				"&query_start_time=2026-12-01T00:00:00Z&query_end_time=2026-12-07T09:30:00Z&status=30&incident_status=0,1" +
				"&x_customer_id=demo&x_customer_name=demo&group_id=g&offset=65535&limit=100"},
		{name: "list, four search keys", method: "GET", target: cases + "?search_key=a&search_key=b&search_key=c&search_key=d",
			want: []string{"search_key: maximum number of items is 3"}},
		{name: "list, limit 0", method: "GET", target: cases + "?limit=0",
			want: []string{"limit: number must be at least 1"}},
		{name: "list, limit 101", method: "GET", target: cases + "?limit=101",
			want: []string{"limit: number must be at most 100"}},
		{name: "list, status 31", method: "GET", target: cases + "?status=31",
			want: []string{"status: number must be at most 30"}},
		{name: "list, the v1 time format", method: "GET", target: cases + "?query_start_time=2019-05-22%2003:30:52",
			want: []string{`query_start_time: string doesn't match the regular expression "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"`}},
		{name: "messages, offset past 65535", method: "GET", target: ticket + "/messages?offset=65536",
			want: []string{"offset: number must be at most 65535"}},
		{name: "action, unknown action reaches the handler", method: "POST", target: ticket + "/action?action_id=reopen"},
		{name: "action with a body", method: "POST", target: ticket + "/action?action_id=close",
			body: `{"judgement":"ok","incident_satisfaction_list":[{"satisfaction_id":1,"satisfaction_value":5}]}`},
		{name: "action without action_id", method: "POST", target: ticket + "/action",
			want: []string{"action_id: is required"}},
		{name: "action_id of 33", method: "POST", target: ticket + "/action?action_id=" + strings.Repeat("a", 33),
			want: []string{"action_id: maximum string length is 32"}},
		{name: "message", method: "POST", target: ticket + "/message", body: `{"message":{"content":"hi","accessory_ids":["ACC000001"]}}`},
		{name: "message null, as the SDK sends it unset", method: "POST", target: ticket + "/message", body: `{"message":null}`,
			want: []string{"message: must not be null"}},
		{name: "message missing", method: "POST", target: ticket + "/message", body: `{"group_id":"g"}`,
			want: []string{"message: is required"}},
		{name: "message with empty content", method: "POST", target: ticket + "/message", body: `{"message":{"content":""}}`,
			want: []string{"message.content: minimum string length is 1"}},
		{name: "score with a null list, as the SDK sends it unset", method: "POST", target: ticket + "/score",
			body: `{"judgement":"good","incident_satisfaction_list":null}`},
		{name: "score without the list", method: "POST", target: ticket + "/score", body: `{"judgement":"good"}`,
			want: []string{"incident_satisfaction_list: is required"}},
		{name: "score item without its value", method: "POST", target: ticket + "/score",
			body: `{"judgement":"","incident_satisfaction_list":[{"satisfaction_id":1}]}`,
			want: []string{"incident_satisfaction_list[0].satisfaction_value: is required"}},
		{name: "upload", method: "POST", target: upload, body: uploaded},
		{name: "upload for feedback", method: "POST", target: upload,
			body: `{"accessory_name":"a.log","accessory_from":"feedback","accessory_data":"YQ=="}`,
			want: []string{`accessory_from: is not one of the allowed values ["incident","message"]`}},
		{name: "upload without data", method: "POST", target: upload, body: `{"accessory_name":"a.log","accessory_from":"message"}`,
			want: []string{"accessory_data: is required"}},
		{name: "limits", method: "GET", target: "/v2/servicerequest/accessorys/limits"},
		{name: "problem types of a category", method: "GET", target: "/v2/servicerequest/config/problems?product_category_id=ECS"},
		{name: "categories by name", method: "GET", target: "/v2/servicerequest/config/product-categories?product_category_name=storage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			route, params, err := contract.FindRoute(req)
			if err != nil {
				t.Fatalf("FindRoute: %v", err)
			}
			err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, QueryParams: req.URL.Query(), Route: route,
				Options: contract.RequestOptions(openapi3filter.NoopAuthenticationFunc),
			})
			var got []string
			for _, p := range contract.Problems(err) {
				got = append(got, p.String())
			}
			if tt.want == nil && err != nil {
				t.Fatalf("valid request rejected: %v (%q)", err, got)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
}
