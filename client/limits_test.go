package client_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/contract"
)

// Group 6: the client's limits are the contract's.
func TestLimitsMatchContract(t *testing.T) {
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	item := doc.Paths.Value("/v2/servicerequest/cases/{case_id}/relations")
	if item == nil {
		t.Fatal("the relations path is missing from the contract")
	}
	ops := map[string]*openapi3.Operation{"POST": item.Post, "GET": item.Get, "DELETE": item.Delete}

	// param finds a parameter of an operation (its own or the path's).
	param := func(method, in, name string) *openapi3.Schema {
		t.Helper()
		op := ops[method]
		if op == nil {
			t.Fatalf("no %s operation", method)
		}
		if p := op.Parameters.GetByInAndName(in, name); p != nil {
			return p.Schema.Value
		}
		if p := item.Parameters.GetByInAndName(in, name); p != nil {
			return p.Schema.Value
		}
		t.Fatalf("%s has no %s parameter %s", method, in, name)
		return nil
	}
	body := func(method string) *openapi3.Schema {
		t.Helper()
		return ops[method].RequestBody.Value.Content.Get("application/json").Schema.Value
	}
	prop := func(s *openapi3.Schema, name string) *openapi3.Schema {
		t.Helper()
		p := s.Properties[name]
		if p == nil {
			t.Fatalf("schema has no property %s", name)
		}
		return p.Value
	}
	maxLen := func(s *openapi3.Schema) int {
		t.Helper()
		if s.MaxLength == nil {
			t.Fatal("schema has no maxLength")
		}
		if s.MinLength != 1 {
			t.Errorf("minLength %d, want 1 (the client refuses empty strings)", s.MinLength)
		}
		return int(*s.MaxLength)
	}

	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: client has %d, contract has %d", what, got, want)
		}
	}
	for method := range ops {
		check(method+" case_id maxLength", client.MaxCaseIDLen, maxLen(param(method, "path", "case_id")))
		check(method+" X-Language maxLength", client.MaxHeaderValueLen, maxLen(param(method, "header", "X-Language")))
		check(method+" X-Time-Zone maxLength", client.MaxHeaderValueLen, maxLen(param(method, "header", "X-Time-Zone")))
		site := param(method, "header", "X-Site")
		if len(site.Enum) != 2 || site.Enum[0] != float64(client.ChinaSite) || site.Enum[1] != float64(client.InternationalSite) {
			t.Errorf("%s X-Site enum %v, client has %d and %d", method, site.Enum, client.ChinaSite, client.InternationalSite)
		}
	}

	create := body("POST")
	list := prop(create, "related_id_list")
	if list.MaxItems == nil || list.MinItems != 1 {
		t.Fatalf("related_id_list: minItems %d, maxItems %v", list.MinItems, list.MaxItems)
	}
	check("related_id_list maxItems", client.MaxRelatedIDs, int(*list.MaxItems))
	check("related_id_list items maxLength", client.MaxRelatedIDLen, maxLen(list.Items.Value))
	check("create group_id maxLength", client.MaxGroupIDLen, maxLen(prop(create, "group_id")))
	if doc.Components.Schemas["CreateRelationsRequestBody"].Value != create {
		t.Error("POST body is not CreateRelationsRequestBody")
	}

	del := body("DELETE")
	check("related_id maxLength", client.MaxDeleteIDLen, maxLen(prop(del, "related_id")))
	check("delete group_id maxLength", client.MaxGroupIDLen, maxLen(prop(del, "group_id")))
	if doc.Components.Schemas["DeleteRelationRequestBody"].Value != del {
		t.Error("DELETE body is not DeleteRelationRequestBody")
	}

	// The token's limit is in the security scheme's prose (an apiKey scheme
	// has no schema), and in the stub.
	if client.MaxTokenLen != 5000 {
		t.Errorf("MaxTokenLen = %d, want 5000", client.MaxTokenLen)
	}
}

// The ticket flow's limits are the contract's too.
func TestFlowLimitsMatchContract(t *testing.T) {
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Fatalf("no schema %s", name)
		}
		return s.Value
	}
	prop := func(s *openapi3.Schema, name string) *openapi3.Schema {
		t.Helper()
		p := s.Properties[name]
		if p == nil {
			t.Fatalf("no property %s", name)
		}
		return p.Value
	}
	param := func(path, in, name string) *openapi3.Schema {
		t.Helper()
		item := doc.Paths.Value(path)
		if item == nil {
			t.Fatalf("no path %s", path)
		}
		for _, op := range item.Operations() {
			if p := op.Parameters.GetByInAndName(in, name); p != nil {
				return p.Schema.Value
			}
		}
		t.Fatalf("%s has no %s parameter %s", path, in, name)
		return nil
	}
	maxLen := func(s *openapi3.Schema) int {
		t.Helper()
		if s.MaxLength == nil {
			t.Fatal("no maxLength")
		}
		return int(*s.MaxLength)
	}
	maxItems := func(s *openapi3.Schema) int {
		t.Helper()
		if s.MaxItems == nil {
			t.Fatal("no maxItems")
		}
		return int(*s.MaxItems)
	}
	maxNum := func(s *openapi3.Schema) int {
		t.Helper()
		if s.Max == nil {
			t.Fatal("no maximum")
		}
		return int(*s.Max)
	}
	create := schema("CreateCasesRequestBody")
	msg := schema("MessageContent")
	cases := "/v2/servicerequest/cases"
	messages := "/v2/servicerequest/cases/{case_id}/messages"
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"business_type_id maxLength", client.MaxProblemTypeIDLen, maxLen(prop(create, "business_type_id"))},
		{"simple_description maxLength", client.MaxDescriptionLen, maxLen(prop(create, "simple_description"))},
		{"product_category_id maxLength", client.MaxCatalogueIDLen, maxLen(prop(create, "product_category_id"))},
		{"region_id maxLength", client.MaxCatalogueIDLen, maxLen(prop(create, "region_id"))},
		{"project_id maxLength", client.MaxCatalogueIDLen, maxLen(prop(create, "project_id"))},
		{"severity_id maxLength", client.MaxCatalogueIDLen, maxLen(prop(create, "severity_id"))},
		{"CreateCases accessory_ids maxItems", client.MaxCaseAttachments, maxItems(prop(create, "accessory_ids"))},
		{"CreateCases accessory_ids items maxLength", client.MaxCatalogueIDLen, maxLen(prop(create, "accessory_ids").Items.Value)},
		{"message content maxLength", client.MaxMessageLen, maxLen(prop(msg, "content"))},
		{"message accessory_ids maxItems", client.MaxMessageAttachments, maxItems(prop(msg, "accessory_ids"))},
		{"message accessory_ids items maxLength", client.MaxAttachmentIDLen, maxLen(prop(msg, "accessory_ids").Items.Value)},
		{"judgement maxLength", client.MaxJudgementLen, maxLen(prop(schema("CreateScoresRequestBody"), "judgement"))},
		{"operate_desc maxLength", client.MaxJudgementLen, maxLen(prop(schema("UpdateCasesRequestBody"), "operate_desc"))},
		{"incident_satisfaction_list maxItems", client.MaxSatisfactions, maxItems(prop(schema("CreateScoresRequestBody"), "incident_satisfaction_list"))},
		{"accessory_name maxLength", client.MaxAttachmentNameLen, maxLen(prop(schema("UploadAccessoryRequestBody"), "accessory_name"))},
		{"action_id maxLength", client.MaxActionLen, maxLen(param("/v2/servicerequest/cases/{case_id}/action", "query", "action_id"))},
		{"search_key maxItems", client.MaxSearchKeys, maxItems(param(cases, "query", "search_key"))},
		{"search_key items maxLength", client.MaxSearchKeyLen, maxLen(param(cases, "query", "search_key").Items.Value)},
		{"ListCases limit maximum", client.MaxPageSize, maxNum(param(cases, "query", "limit"))},
		{"ListMessages limit maximum", client.MaxPageSize, maxNum(param(messages, "query", "limit"))},
		{"ListCases offset maximum", client.MaxOffset, maxNum(param(cases, "query", "offset"))},
		{"ListMessages offset maximum", client.MaxOffset, maxNum(param(messages, "query", "offset"))},
		{"incident_id maxLength", client.MaxCaseIDLen, maxLen(param(cases, "query", "incident_id"))},
		{"product_category_name maxLength", client.MaxCatalogueIDLen, maxLen(param("/v2/servicerequest/config/product-categories", "query", "product_category_name"))},
	} {
		if c.got != c.want {
			t.Errorf("%s: client has %d, contract has %d", c.what, c.got, c.want)
		}
	}
	for _, path := range []string{cases, messages} {
		if d, ok := param(path, "query", "limit").Default.(float64); !ok || int(d) != client.DefaultPageSize {
			t.Errorf("%s limit default %v, client has %d", path, param(path, "query", "limit").Default, client.DefaultPageSize)
		}
	}
	if got := param("/v2/servicerequest/cases", "query", "status").Max; got == nil || *got < float64(client.StatusAwaitingFeedback) {
		t.Errorf("status maximum %v is below StatusAwaitingFeedback", got)
	}
	// The times the client sends match the contract's pattern.
	pattern := regexp.MustCompile(schema("Time").Pattern)
	if s := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC).Format(client.TimeLayout); !pattern.MatchString(s) {
		t.Errorf("%s does not match the contract's Time pattern %s", s, pattern)
	}
}
