package violation_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/internal/violation"
)

const path = "/v2/servicerequest/cases/CS1/relations"

func TestCheckResponse(t *testing.T) {
	okHeader := http.Header{"X-Request-Id": {"id"}, "Content-Type": {"application/json"}}
	long := `"` + strings.Repeat("é", 300) + `"`
	tests := []struct {
		name   string
		method string
		status int
		header http.Header
		body   string
		want   []string // "in pointer: rule (value)"
	}{
		{"a conforming list", http.MethodGet, 200, okHeader, `{"case_relation_list":[{"case_id":"CS2","simple_description":"d","user_name":"u"}]}`, nil},
		{"a conforming refusal", http.MethodPost, 400, okHeader, `{"error_code":"OSM.0001","error_msg":"x: y"}`, nil},
		{"a long message, capped", http.MethodPost, 200, okHeader, `{"error_code":"OSM.01010043","error_msg":` + long + `}`,
			[]string{`body/error_msg: maximum string length is 256 ("` + strings.Repeat("é", 30) + `...)`}},
		{"two problems, in order", http.MethodGet, 200, okHeader, `{"case_relation_list":[{"case_id":""}],"x/y":true}`,
			[]string{`body/case_relation_list/0/case_id: minimum string length is 1 ("")`, `body/x~1y: new field (true)`}},
		// A 200 body is a success or a refusal, never both, never neither
		// (issue 23): what a contract-generated mock or a deviant upstream
		// may send.
		{"a conforming list refusal", http.MethodGet, 200, okHeader, `{"error_code":"OSM.01010002","error_msg":"No operation permission."}`, nil},
		{"a conforming create", http.MethodPost, 200, okHeader, `{}`, nil},
		{"a conforming create refusal", http.MethodPost, 200, okHeader, `{"error_code":"OSM.01010043","error_msg":"over 3"}`, nil},
		{"a list and an error_code", http.MethodGet, 200, okHeader, `{"case_relation_list":[],"error_code":"OSM.01010002","error_msg":"No operation permission."}`,
			[]string{`body: a 200 body is a success (case_relation_list, no error_code or error_msg) or a refusal (error_code and error_msg, no case_relation_list) ({"case_relation_list":[],"error_code":"OSM.01010002","error_m...)`}},
		{"neither a list nor an error_code", http.MethodGet, 200, okHeader, `{}`,
			[]string{`body: a 200 body is a success (case_relation_list, no error_code or error_msg) or a refusal (error_code and error_msg, no case_relation_list) ({})`}},
		{"a code alone", http.MethodPost, 200, okHeader, `{"error_code":"EQUYI"}`,
			[]string{`body: a 200 body is a success (no error_code, no error_msg) or a refusal (error_code and error_msg) ({"error_code":"EQUYI"})`}},
		{"a code not of the vendor's pattern", http.MethodPost, 200, okHeader, `{"error_code":"EQUYI","error_msg":"x"}`,
			[]string{`body/error_code: minimum string length is 8 ("EQUYI")`, `body/error_code: string doesn't match the regular expression "^[A-Z]+\.[0-9]{4}([0-9]{4})?$" ("EQUYI")`}},
		{"an empty code is no success", http.MethodDelete, 200, okHeader, `{"error_code":"","error_msg":""}`,
			[]string{`body/error_code: minimum string length is 8 ("")`, `body/error_code: string doesn't match the regular expression "^[A-Z]+\.[0-9]{4}([0-9]{4})?$" ("")`, `body/error_msg: minimum string length is 1 ("")`}},
		{"an error body without its fields", http.MethodDelete, 500, okHeader, `{}`,
			[]string{"body/error_code: is required in an error body", "body/error_msg: is required in an error body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, path, nil)
			var got []string
			for _, v := range violation.CheckResponse(req, tt.status, tt.header, []byte(tt.body)) {
				if len(v.Value) > violation.MaxValue {
					t.Errorf("value of %d bytes", len(v.Value))
				}
				got = append(got, line(v))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A request outside the contract's operations may only be answered 404 or
// 405, with an X-Request-Id and an error body.
func TestCheckResponseOutsideTheContract(t *testing.T) {
	okHeader := http.Header{"X-Request-Id": {"id"}, "Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		method string
		path   string
		status int
		header http.Header
		body   string
		want   []string
	}{
		{"unknown path", http.MethodGet, "/elsewhere", 404, okHeader, `{"error_code":"APIGW.0101","error_msg":"no"}`, nil},
		{"unknown method", http.MethodPut, path, 405, okHeader, `{"error_code":"APIGW.0101","error_msg":"no"}`, nil},
		{"a success", http.MethodGet, "/elsewhere", 200, okHeader, `{"error_code":"APIGW.0101","error_msg":"no"}`,
			[]string{"status: a request outside the contract's operations is answered 404 or 405 (200)"}},
		{"no request id", http.MethodGet, "/elsewhere", 404, nil, `{"error_code":"APIGW.0101","error_msg":"no"}`,
			[]string{"header/X-Request-Id: is required"}},
		{"no error body", http.MethodGet, "/elsewhere", 404, okHeader, `not found`,
			[]string{`body: is not an error body ("not found")`}},
		{"half an error body", http.MethodGet, "/elsewhere", 404, okHeader, `{"error_code":"APIGW.0101"}`,
			[]string{"body/error_msg: is required in an error body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range violation.CheckResponse(httptest.NewRequest(tt.method, tt.path, nil), tt.status, tt.header, []byte(tt.body)) {
				got = append(got, line(v))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// line is a violation as the tables above write it: "in pointer: rule (value)".
func line(v violation.Violation) string {
	s := v.In + v.Pointer + ": " + v.Rule
	if v.Value != "" {
		s += " (" + v.Value + ")"
	}
	return s
}

func TestCheckRequestError(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"related_id_list":["a","`+strings.Repeat("b", 33)+`"],"color":"red"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Site", "7")
	req.Header.Set("X-Auth-Token", "secret-token")
	route, params, err := contract.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: contract.RequestOptions(openapi3filter.NoopAuthenticationFunc),
	})
	// Where each violation is, and the value it quotes.
	want := map[string]string{"header/X-Site": `"7"`, "body/related_id_list/1": `"` + strings.Repeat("b", 33) + `"`, "body/color": ""}
	vs := violation.CheckRequestError(route, err)
	for _, v := range vs {
		value, ok := want[v.In+v.Pointer]
		if !ok || v.Value != value || v.Direction != violation.Request || v.Operation != "CreateRelations" || (v.Pointer == "/color") != (v.Rule == violation.NewField) {
			t.Errorf("unexpected %+v", v)
		}
		delete(want, v.In+v.Pointer)
		if strings.Contains(v.Value, "secret-token") {
			t.Error("a token in a violation")
		}
	}
	if len(want) > 0 || len(vs) != 3 {
		t.Errorf("missing %v in %+v", want, vs)
	}
}

func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	l := violation.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.Add(violation.Violation{Operation: "ListRelation", Direction: violation.Response, In: "body", Pointer: "/a", Rule: "r", Value: `"v"`, RequestID: "id1", UpstreamRequestID: "up1"},
		violation.Violation{Operation: "CreateRelations", Direction: violation.Request, In: "header", Pointer: "/X-Site", Rule: "r2", RequestID: "id2"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	for i, want := range []string{
		`"msg":"contract violation","operation":"ListRelation","direction":"response","in":"body","pointer":"/a","rule":"r","value":"\"v\"","request_id":"id1","upstream_request_id":"up1"}`,
		`"msg":"contract violation","operation":"CreateRelations","direction":"request","in":"header","pointer":"/X-Site","rule":"r2","value":"","request_id":"id2"}`,
	} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], `"level":"WARN"`) {
			t.Errorf("line %d = %s, want %s", i, lines[i], want)
		}
	}
}

func TestLog(t *testing.T) {
	l := violation.NewLog(nil)
	for range violation.MaxKept + 5 {
		l.Add(violation.Violation{Rule: "r"})
	}
	vs, total := l.List()
	if len(vs) != violation.MaxKept || total != violation.MaxKept+5 || vs[0].Time.IsZero() {
		t.Errorf("kept %d, total %d", len(vs), total)
	}
	l.Clear()
	if vs, total := l.List(); len(vs) != 0 || total != 0 {
		t.Errorf("after Clear: kept %d, total %d", len(vs), total)
	}
}
