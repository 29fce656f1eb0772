package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server"
)

// TestFaultDefaults pins the code and message a fault of each status gets
// when it names none, the same from every way of arming it: the gateway's
// codes (with request_id) and the service's, as docs/fidelity.md lists
// them, and Retry-After where the stub's own answer of the status sends it.
func TestFaultDefaults(t *testing.T) {
	tests := []struct {
		status     int
		code, msg  string
		requestID  bool
		retryAfter string
	}{
		{400, "OSM.0001", "Failed", false, ""},
		{401, "APIGW.0301", "Incorrect IAM authentication information.", true, ""},
		{403, "APIGW.0302", "The IAM user is not authorized to access the API.", true, ""},
		{404, "APIGW.0101", "The API does not exist or has not been published in the environment.", true, ""},
		{408, "APIGW.0201", "Request timeout.", true, ""}, // the stub's own 408 (an assumed code)
		{409, "OSM.0001", "Failed", false, ""},            // a status the table lacks: the service's 4xx
		{413, "APIGW.0201", "Request entity too large.", true, ""},
		{415, "OSM.0001", "Content-Type must be application/json", false, ""},
		{429, "APIGW.0308", "The throttling threshold has been reached.", true, "1"},
		{500, "OSM.0004", "Internal Server Error", false, ""},
		{501, "OSM.0004", "Internal Server Error", false, ""}, // the service's 5xx
		{502, "APIGW.0201", "Backend unavailable.", true, ""},
		{503, "APIGW.0613", "The IAM service is currently unavailable.", true, ""},
		{504, "APIGW.0201", "Backend timeout.", true, ""},
	}
	arm := []struct {
		name string
		set  func(t *testing.T, srv *server.Server, status int)
	}{
		{"SetFault status", func(t *testing.T, srv *server.Server, status int) {
			if err := srv.SetFault("ListRelation", server.Fault{Status: status, Times: 1}); err != nil {
				t.Fatal(err)
			}
		}},
		{"SetFault sequence", func(t *testing.T, srv *server.Server, status int) {
			if err := srv.SetFault("ListRelation", server.Fault{Sequence: []int{status}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"PUT status", func(t *testing.T, srv *server.Server, status int) {
			ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", fmt.Sprintf(`{"status":%d,"times":1}`, status))
		}},
		{"PUT sequence", func(t *testing.T, srv *server.Server, status int) {
			ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", fmt.Sprintf(`{"sequence":[%d]}`, status))
		}},
	}
	for _, tt := range tests {
		if d := server.FaultDefault(tt.status); d.Code != tt.code || d.Message != tt.msg {
			t.Errorf("FaultDefault(%d) = %+v", tt.status, d)
		}
		if tt.status == 409 || tt.status == 501 {
			continue // not a status the contract declares for the operation: do would fail the answer
		}
		for _, a := range arm {
			t.Run(fmt.Sprintf("%d %s", tt.status, a.name), func(t *testing.T) {
				srv := demoServer(t)
				a.set(t, srv, tt.status)
				req := tokenReq("demo-token", http.MethodGet, "DEMO-1", "")
				status, header, body := do(t, srv, req)
				code, msg := decodeError(t, body)
				if status != tt.status || code != tt.code || msg != tt.msg {
					t.Errorf("%d %s %q, want %d %s %q", status, code, msg, tt.status, tt.code, tt.msg)
				}
				if id := requestIDOf(t, body); (id != "") != tt.requestID || tt.requestID && id != header.Get("X-Request-Id") {
					t.Errorf("request_id %q (X-Request-Id %q), want one: %v", id, header.Get("X-Request-Id"), tt.requestID)
				}
				if got := header.Get("Retry-After"); got != tt.retryAfter {
					t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
				}
			})
		}
	}
}

// TestFaultBelow400NeedsACode: a 200 fault without a code would answer a
// body that is neither a success nor a refusal.
func TestFaultBelow400NeedsACode(t *testing.T) {
	srv := demoServer(t)
	for _, f := range []server.Fault{{Status: 200}, {Sequence: []int{503, 200}}} {
		if err := srv.SetFault("ListRelation", f); err == nil {
			t.Errorf("%+v: armed, want an error", f)
		}
	}
	if err := srv.SetFault("ListRelation", server.Fault{Status: 200, Code: "OSM.01010001", Message: "Param validation failed."}); err != nil {
		t.Error(err)
	}
}

// TestPreferLeavesFaultsAlone: a request with Prefer gets the example; an
// armed fault neither applies to it nor counts it.
func TestPreferLeavesFaultsAlone(t *testing.T) {
	srv := demoServer(t)
	if err := srv.SetFault("ListRelation", server.Fault{Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFault("CreateRelations", server.Fault{Sequence: []int{502, 0}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		status, _, body := do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", "", "Prefer", "code=200, example=none"))
		if status != http.StatusOK || string(body) != `{"case_relation_list":[]}`+"\n" {
			t.Fatalf("Prefer: %d %s, want the example", status, body)
		}
		status, _, body = do(t, srv, tokenReq("demo-token", http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-2"]}`, "Prefer", "code=200, example=self"))
		if status != http.StatusOK {
			t.Fatalf("Prefer: %d %s, want the example", status, body)
		}
	}
	if f := srv.Faults(); f["ListRelation"].Times != 1 || len(f["CreateRelations"].Sequence) != 2 {
		t.Errorf("faults after Prefer requests: %+v, want them untouched", f)
	}
	if status, _, _ := do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", "")); status != http.StatusServiceUnavailable {
		t.Errorf("the next plain request: %d, want the armed 503", status)
	}
}

// TestFaultsCoverTheContract arms a fault on every operation of the
// contract through the control API, reads it back, and sees it answer a
// valid request (faults apply after validation).
func TestFaultsCoverTheContract(t *testing.T) {
	valid := map[string][2]string{ // operationId -> target, body
		"CreateRelations":       {"/v2/servicerequest/cases/DEMO-1/relations", `{"related_id_list":["DEMO-2"]}`},
		"ListRelation":          {"/v2/servicerequest/cases/DEMO-1/relations", ""},
		"DeleteRelation":        {"/v2/servicerequest/cases/DEMO-1/relations", `{"related_id":"DEMO-2"}`},
		"ListProductCategories": {"/v2/servicerequest/config/product-categories", ""},
		"ListProblemTypes":      {"/v2/servicerequest/config/problems", ""},
		"CreateCases":           {"/v2/servicerequest/cases", `{"business_type_id":"QUOTA","simple_description":"x","source_id":""}`},
		"ShowCaseDetail":        {"/v2/servicerequest/cases/DEMO-1", ""},
		"ListCases":             {"/v2/servicerequest/cases", ""},
		"ShowCaseStatus":        {"/v2/servicerequest/cases/DEMO-1/status", ""},
		"UpdateCases":           {"/v2/servicerequest/cases/DEMO-1/action?action_id=press", `{}`},
		"CreateMessages":        {"/v2/servicerequest/cases/DEMO-1/message", `{"message":{"content":"x"}}`},
		"ListMessages":          {"/v2/servicerequest/cases/DEMO-1/messages", ""},
		"UploadJsonAccessories": {"/v2/servicerequest/accessorys/json-format-content", `{"accessory_name":"a.txt","accessory_from":"message","accessory_data":"eA=="}`},
		"ShowAccessoryLimits":   {"/v2/servicerequest/accessorys/limits", ""},
		"CreateScores":          {"/v2/servicerequest/cases/DEMO-3/score", `{"judgement":"ok","incident_satisfaction_list":null}`},
	}
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	srv := demoServer(t)
	n := 0
	for _, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			id := op.OperationID
			req, ok := valid[id]
			if !ok {
				t.Errorf("no valid request of %s in this test", id)
				continue
			}
			if r := ctlDo(t, srv, "PUT", "/_stub/faults/"+id, `{"status":503,"times":1}`); r.status != http.StatusNoContent {
				t.Fatalf("PUT /_stub/faults/%s: %d %s", id, r.status, r.body)
			}
			if r := ctlDo(t, srv, "GET", "/_stub/faults", ""); !strings.Contains(string(r.body), `"`+id+`":{`) {
				t.Errorf("GET /_stub/faults does not show the fault on %s: %s", id, r.body)
			}
			headers := []string{"X-Auth-Token", "demo-token"}
			if req[1] != "" {
				headers = append(headers, "Content-Type", "application/json")
			}
			if status, _, body := do(t, srv, newReq(method, req[0], req[1], headers...)); status != http.StatusServiceUnavailable {
				t.Errorf("%s %s with a 503 fault: %d %s", method, req[0], status, body)
			}
		}
	}
	if n != len(valid) {
		t.Errorf("%d operations in the contract, %d in this test", n, len(valid))
	}
}
