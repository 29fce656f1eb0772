package client_test

import (
	"testing"

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
