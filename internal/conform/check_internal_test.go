package conform

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	ok := func(status int, body string) Response {
		return newResponse(status, http.Header{"X-Request-Id": {"r"}, "Content-Type": {"application/json"}}, []byte(body))
	}
	list := relationsCall(http.MethodGet, "A", "")
	create := relationsCall(http.MethodPost, "A", `{"related_id_list":["B"]}`)
	put := relationsCall(http.MethodPut, "A", `{}`)
	tests := []struct {
		name     string
		c        call
		got      Response
		stub     Response
		verdict  Verdict
		problems []string
	}{
		{"same", list, ok(200, `{"case_relation_list":[]}`), ok(200, `{"case_relation_list":[]}`), Pass, nil},
		{"wrong type", list, ok(200, `{"case_relation_list":"B"}`), ok(200, `{"case_relation_list":[]}`), Violates,
			[]string{`contract: response body/case_relation_list: must be an array (got "B")`, "body shape {case_relation_list:string}, the stub's is {case_relation_list:[]}"}},
		{"two rules", create, ok(200, `{"error_code":1,"error_msg":true}`), ok(200, `{}`), Violates,
			[]string{"contract: response body/error_code: must be a string (got 1)", "contract: response body/error_msg: must be a string (got true)", "body shape {error_code:number,error_msg:boolean}, the stub's is {}"}},
		{"unknown status", create, ok(418, `{"error_code":"X","error_msg":"y"}`), ok(200, `{}`), Violates,
			[]string{"contract: response status: 418 is not a status the contract declares for CreateRelations (got 418)", "status 418, the stub answers 200", `error_code "X", the stub answers ""`}},
		{"no request id", list, newResponse(200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"case_relation_list":[]}`)), ok(200, `{"case_relation_list":[]}`), Violates,
			[]string{"contract: response header/X-Request-Id: is required"}},
		{"new field", list, ok(200, `{"case_relation_list":[],"total":0}`), ok(200, `{"case_relation_list":[]}`), Differs,
			[]string{"response body/total: new field (got 0)", "body shape {case_relation_list:[],total:number}, the stub's is {case_relation_list:[]}"}},
		{"new field and a broken rule", list, ok(200, `{"case_relation_list":"B","total":0}`), ok(200, `{"case_relation_list":[]}`), Violates,
			[]string{`contract: response body/case_relation_list: must be an array (got "B")`, "response body/total: new field (got 0)", "body shape {case_relation_list:string,total:number}, the stub's is {case_relation_list:[]}"}},
		{"other associations", list, ok(200, `{"case_relation_list":[{"case_id":"C","simple_description":"d","user_name":"u"}]}`),
			ok(200, `{"case_relation_list":[{"case_id":"B","simple_description":"e","user_name":"v"}]}`), Differs,
			[]string{"associated tickets [C], the stub has [B]"}},
		{"empty success", create, ok(200, ``), ok(200, `{}`), Violates,
			[]string{`contract: response body: is not valid JSON (got "")`, "body shape (empty), the stub's is {}"}},
		{"405 outside the contract", put, ok(405, `{"error_code":"APIGW.0101","error_msg":"no"}`), ok(404, `{"error_code":"APIGW.0101","error_msg":"no"}`), Differs,
			[]string{"status 405, the stub answers 404"}},
		{"business code", create, ok(200, `{"error_code":"OSM.01010001","error_msg":"x"}`), ok(200, `{"error_code":"OSM.01010044","error_msg":"y"}`), Differs,
			[]string{`error_code "OSM.01010001", the stub answers "OSM.01010044"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ck := judge(tt.name, tt.c, tt.got, tt.stub)
			if ck.Verdict != tt.verdict || (tt.problems != nil && !slices.Equal(ck.Problems, tt.problems)) {
				t.Errorf("%s %q, want %s %q", ck.Verdict, ck.Problems, tt.verdict, tt.problems)
			}
		})
	}
}

// A 200 that carries a list and an error_code is never a pass, even when
// its error_code matches the stub's refusal or is empty: the contract
// rules it out (openapi.yaml's RelationList), and judge reports the rule.
func TestJudgeSuccessAndRefusal(t *testing.T) {
	ok := func(body string) Response {
		return newResponse(200, http.Header{"X-Request-Id": {"r"}, "Content-Type": {"application/json"}}, []byte(body))
	}
	list := relationsCall(http.MethodGet, "A", "")
	const rule = "contract: response body: a 200 body is a success (case_relation_list, no error_code or error_msg) or a refusal (error_code and error_msg, no case_relation_list)"
	tests := []struct {
		name      string
		got, stub Response
	}{
		{"refusal with a list", ok(`{"case_relation_list":[],"error_code":"OSM.01010002","error_msg":"x"}`), ok(`{"error_code":"OSM.01010002","error_msg":"x"}`)},
		{"success with an empty error_code", ok(`{"case_relation_list":[],"error_code":"","error_msg":""}`), ok(`{"case_relation_list":[]}`)},
		{"success with an error_code", ok(`{"case_relation_list":[],"error_code":"OSM.01010001","error_msg":"x"}`), ok(`{"case_relation_list":[]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ck := judge(tt.name, list, tt.got, tt.stub)
			if ck.Verdict != Violates || !slices.ContainsFunc(ck.Problems, func(p string) bool { return strings.HasPrefix(p, rule) }) {
				t.Errorf("%s %q, want %s and %q", ck.Verdict, ck.Problems, Violates, rule)
			}
		})
	}
}
