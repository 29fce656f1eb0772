package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
)

// examplesClock is the stub's clock for the contract's examples: the day
// their new ticket is created (CS20261207000001) and a minute after their
// last urge (internal/fixtures/examples.yaml).
var examplesClock = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// TestContractExamples sends every request example of openapi.yaml, with
// the path and query parameters of the same name, as user demo to a fresh
// stub on internal/fixtures/examples.yaml, and expects the response example
// of that name, status and body: the contract's examples are what the stub
// answers (and what Specmatic's contract tests check, pairing them by
// name).
func TestContractExamples(t *testing.T) {
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	d, err := fixtures.Load("../internal/fixtures/examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				mt := resp.Value.Content.Get("application/json")
				if mt == nil {
					continue
				}
				for name, ex := range mt.Examples {
					n++
					t.Run(op.OperationID+"/"+name, func(t *testing.T) {
						target := path
						query := url.Values{}
						for _, p := range op.Parameters {
							switch p.Value.In {
							case openapi3.ParameterInPath:
								target = strings.ReplaceAll(target, "{"+p.Value.Name+"}", p.Value.Examples[name].Value.Value.(string))
							case openapi3.ParameterInQuery:
								if ex := p.Value.Examples[name]; ex != nil {
									addQuery(query, p.Value.Name, ex.Value.Value)
								}
							}
						}
						if len(query) > 0 {
							target += "?" + query.Encode()
						}
						body := ""
						if op.RequestBody != nil {
							raw, err := json.Marshal(op.RequestBody.Value.Content.Get("application/json").Examples[name].Value.Value)
							if err != nil {
								t.Fatal(err)
							}
							body = string(raw)
						}
						ds := d.Clone()
						srv := newServer(t, server.Options{Fixtures: &ds, Now: func() time.Time { return examplesClock }})
						req := newReq(method, target, body, "X-Auth-Token", "demo-token")
						status, header, got := do(t, srv, req)
						if strconv.Itoa(status) != code {
							t.Fatalf("%s %s: %d %s, want %s", method, target, status, got, code)
						}
						checkResponse(t, req, status, header, got)
						var gotV, wantV any
						if err := json.Unmarshal(got, &gotV); err != nil {
							t.Fatal(err)
						}
						raw, _ := json.Marshal(ex.Value.Value)
						_ = json.Unmarshal(raw, &wantV)
						if !reflect.DeepEqual(gotV, wantV) {
							t.Errorf("%s %s %s:\n got %s\nwant %s", method, target, body, got, raw)
						}
					})
				}
			}
		}
	}
	if n < 12 {
		t.Errorf("%d paired examples, want at least 12", n)
	}
}

// addQuery adds a query parameter's example value: an array as the
// parameter repeated (form, explode), as the official SDK sends it.
func addQuery(q url.Values, name string, v any) {
	if items, ok := v.([]any); ok {
		for _, item := range items {
			q.Add(name, fmt.Sprint(item))
		}
		return
	}
	q.Add(name, fmt.Sprint(v))
}
