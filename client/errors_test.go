package client_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/client"
)

// Group 2: every answer of the service maps to its error class.

var classes = map[string]error{
	"ErrValidation":      client.ErrValidation,
	"ErrUnauthenticated": client.ErrUnauthenticated,
	"ErrForbidden":       client.ErrForbidden,
	"ErrRateLimited":     client.ErrRateLimited,
	"ErrServer":          client.ErrServer,
	"ErrRuleViolation":   client.ErrRuleViolation,
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		status int
		body   string
		class  string
		code   string
		msg    string
	}{
		{400, `{"error_code":"OSM.0001","error_msg":"related_id_list: must be an array"}`, "ErrValidation", "OSM.0001", "related_id_list: must be an array"},
		{404, `{"error_code":"APIGW.0101","error_msg":"no such API"}`, "ErrValidation", "APIGW.0101", "no such API"},
		{413, `{"error_code":"OSM.0001","error_msg":"request body is larger than 1 MiB"}`, "ErrValidation", "OSM.0001", "request body is larger than 1 MiB"},
		{415, `{"error_code":"OSM.0001","error_msg":"Content-Type must be application/json"}`, "ErrValidation", "OSM.0001", "Content-Type must be application/json"},
		{401, `{"error_code":"OSM.0002","error_msg":"X-Auth-Token is unknown or expired"}`, "ErrUnauthenticated", "OSM.0002", "X-Auth-Token is unknown or expired"},
		{403, `{"error_code":"OSM.0003","error_msg":"X-Domain-Id does not match"}`, "ErrForbidden", "OSM.0003", "X-Domain-Id does not match"},
		{429, `{"error_code":"APIGW.0308","error_msg":"throttled"}`, "ErrRateLimited", "APIGW.0308", "throttled"},
		{500, `{"error_code":"OSM.0004","error_msg":"internal error"}`, "ErrServer", "OSM.0004", "internal error"},
		{502, `{"error_code":"","error_msg":""}`, "ErrServer", "", ""},
		{503, `{}`, "ErrServer", "", ""},
		{504, `{"error_code":"APIGW.0201","error_msg":"timeout"}`, "ErrServer", "APIGW.0201", "timeout"},
		{200, `{"error_code":"OSM.01010001","error_msg":"Param validation failed."}`, "ErrRuleViolation", "OSM.01010001", "Param validation failed."},
		{200, `{"error_code":"OSM.01010043","error_msg":"The same caseId relations should not be over 3."}`, "ErrRuleViolation", "OSM.01010043", "The same caseId relations should not be over 3."},
		{200, `{"error_code":"OSM.01010044","error_msg":"The case can not bind itself."}`, "ErrRuleViolation", "OSM.01010044", "The case can not bind itself."},
		{200, `{"error_code":"OSM.01010015","error_msg":"This case does not exist."}`, "ErrRuleViolation", "OSM.01010015", "This case does not exist."},
		// A code of the family the client has never seen is still a rule.
		{200, `{"error_code":"OSM.01010099","error_msg":"new rule"}`, "ErrRuleViolation", "OSM.01010099", "new rule"},
		// The gateway's codes, by family, whatever the status.
		{401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: decrypt token fail"}`, "ErrUnauthenticated", "APIGW.0301", "Incorrect IAM authentication information: decrypt token fail"},
		{429, `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 second"}`, "ErrRateLimited", "APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 second"},
		// An unknown code is classed by its status.
		{401, `{"error_code":"XYZ.1","error_msg":"who"}`, "ErrUnauthenticated", "XYZ.1", "who"},
		{409, `{"error_code":"XYZ.2","error_msg":"conflict"}`, "ErrValidation", "XYZ.2", "conflict"},
		{200, `{"error_code":"OSM.01010002","error_msg":"no permission on DEMO-1"}`, "ErrForbidden", "OSM.01010002", "no permission on DEMO-1"},
		// A 4xx with a business code is classed by the code.
		{403, `{"error_code":"OSM.01010002","error_msg":"no permission"}`, "ErrForbidden", "OSM.01010002", "no permission"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		s := newScripted(t, respond(tc.status, tc.body))
		c := s.newClient(t)
		calls := map[string]func() error{
			"CreateRelations": func() error { return c.CreateRelations(ctx, "CS1", []string{"CS2"}, "g") },
			"ListRelation":    func() error { _, err := c.ListRelations(ctx, "CS1"); return err },
			"DeleteRelation":  func() error { return c.DeleteRelation(ctx, "CS1", "CS2", "") },
		}
		for op, call := range calls {
			name := op + " " + http.StatusText(tc.status) + " " + tc.code
			err := call()
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) {
				t.Errorf("%s: err = %v, want *APIError", name, err)
				continue
			}
			want := client.APIError{Operation: op, StatusCode: tc.status, Code: tc.code, Message: tc.msg, RequestID: "rid-" + strconv.Itoa(tc.status)}
			if *apiErr != want {
				t.Errorf("%s: APIError = %+v, want %+v", name, *apiErr, want)
			}
			for cname, class := range classes {
				if got := errors.Is(err, class); got != (cname == tc.class) {
					t.Errorf("%s: errors.Is(err, %s) = %v", name, cname, got)
				}
			}
			if msg := err.Error(); !strings.Contains(msg, op) || !strings.Contains(msg, strconv.Itoa(tc.status)) {
				t.Errorf("%s: message %q lacks the operation or status", name, msg)
			}
		}
		if s.Count() != 3 {
			t.Errorf("%d %s: %d requests, want 3 (no retries with NoRetry)", tc.status, tc.code, s.Count())
		}
	}
}

// The gateway's request_id in the body is the ID to quote; the header is
// the fallback.
func TestErrorRequestIDFromBody(t *testing.T) {
	s := newScripted(t, respond(http.StatusUnauthorized, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: decrypt token fail","request_id":"body-id"}`))
	c := s.newClient(t)
	_, err := c.ListRelations(context.Background(), "CS1")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.RequestID != "body-id" || !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("err = %#v, want request id body-id in ErrUnauthenticated", err)
	}
}

func TestErrorNonJSONBody(t *testing.T) {
	page := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("<p>upstream went away</p>", 100) + "</body></html>\n"
	s := newScripted(t, respond(http.StatusBadGateway, page))
	c := s.newClient(t)
	_, err := c.ListRelations(context.Background(), "CS1")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != http.StatusBadGateway || apiErr.Code != "" || !errors.Is(err, client.ErrServer) {
		t.Errorf("APIError = %+v", *apiErr)
	}
	if !strings.HasPrefix(apiErr.Message, "<html><head><title>502 Bad Gateway") || len(apiErr.Message) > 256 {
		t.Errorf("Message is %d bytes: %q; want a short excerpt of the page", len(apiErr.Message), apiErr.Message)
	}
	if !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("message %q does not name the status", err)
	}
}

func TestErrorNonJSONSuccess(t *testing.T) {
	ctx := context.Background()
	for _, body := range []string{"OK", "<html>hello</html>", `{"case_relation_list":`, `[]`, ``} {
		s := newScripted(t, respond(http.StatusOK, body))
		c := s.newClient(t)
		for op, err := range map[string]error{
			"create": c.CreateRelations(ctx, "CS1", []string{"CS2"}, "g"),
			"list":   func() error { _, err := c.ListRelations(ctx, "CS1"); return err }(),
			"delete": c.DeleteRelation(ctx, "CS1", "CS2", ""),
		} {
			var apiErr *client.APIError
			if err == nil || errors.As(err, &apiErr) {
				t.Errorf("%s, 200 %q: err = %v, want a non-API error", op, body, err)
			}
		}
	}
	// A list whose items have the wrong type is not the contract either.
	s := newScripted(t, respond(http.StatusOK, `{"case_relation_list":[{"case_id":7}]}`))
	if rels, err := s.newClient(t).ListRelations(ctx, "CS1"); err == nil {
		t.Errorf("ill-typed list: got %+v, want an error", rels)
	}
}

func TestListDecodesRelations(t *testing.T) {
	body := `{"case_relation_list":[` +
		`{"case_id":"CS2","simple_description":"SSH broken","user_name":"demo"},` +
		`{"case_id":"CS3","simple_description":"Bill \u00e9","user_name":"teammate"}]}`
	s := newScripted(t, respond(http.StatusOK, body))
	c := s.newClient(t)
	got, err := c.ListRelations(context.Background(), "CS1")
	want := []client.Relation{
		{CaseID: "CS2", Description: "SSH broken", Owner: "demo"},
		{CaseID: "CS3", Description: "Bill é", Owner: "teammate"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ListRelations = %+v, %v; want %+v", got, err, want)
	}

	for _, body := range []string{`{}`, `{"case_relation_list":[]}`, `{"error_code":"","error_msg":""}`} {
		s := newScripted(t, respond(http.StatusOK, body))
		got, err := s.newClient(t).ListRelations(context.Background(), "CS1")
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("200 %s: %#v, %v; want an empty, non-nil list", body, got, err)
		}
	}
}

func TestSuccessBodies(t *testing.T) {
	ctx := context.Background()
	for _, body := range []string{`{}`, `{"error_code":"","error_msg":""}`, "{}\n"} {
		s := newScripted(t, respond(http.StatusOK, body))
		c := s.newClient(t)
		if err := c.CreateRelations(ctx, "CS1", []string{"CS2"}, "g"); err != nil {
			t.Errorf("create, 200 %q: %v", body, err)
		}
		if err := c.DeleteRelation(ctx, "CS1", "CS2", ""); err != nil {
			t.Errorf("delete, 200 %q: %v", body, err)
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	e := &client.APIError{Operation: "ListRelation", StatusCode: 401, Code: "OSM.0002", Message: "token expired", RequestID: "abc"}
	if got, want := e.Error(), "osm ListRelation: 401 OSM.0002: token expired (request id abc)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &client.APIError{Operation: "CreateRelations", StatusCode: 503}
	if got, want := e.Error(), "osm CreateRelations: 503 Service Unavailable"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
