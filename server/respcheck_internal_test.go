package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/contract"
)

// withBug makes s answer a ListRelation that carries X-Bug with a body
// that breaks the contract, as a bug of the handler would. It replaces
// the route's handler, behind the same middleware.
func withBug(t *testing.T, s *Server) {
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	const path = "/v2/servicerequest/cases/:case_id/relations"
	routed := gen.ServerInterfaceWrapper{Handler: gen.NewStrictHandler(s, nil)}
	s.echo.GET(path, func(c echo.Context) error {
		if c.Request().Header.Get("X-Bug") == "" {
			return routed.ListRelation(c)
		}
		return c.JSONBlob(http.StatusOK, []byte(`{"case_relation_list":[{"case_id":"","simple_description":"d","user_name":"u"}]}`))
	}, s.operationChain(contract.Routes(doc)["GET "+path])...)
}

func TestValidateResponses(t *testing.T) {
	list := func(s *Server, headers ...string) {
		req := httptest.NewRequest(http.MethodGet, "/v2/servicerequest/cases/DEMO-1/relations", nil)
		req.Header.Set("X-Auth-Token", "demo-token")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		s.ServeHTTP(httptest.NewRecorder(), req)
	}
	tests := []struct {
		name     string
		validate bool
		fault    bool
		headers  []string
		want     string // the pointer of the one violation; "" for none
	}{
		{"a conforming answer", true, false, nil, ""},
		{"a refusal", true, false, []string{"X-Auth-Token", "nope"}, ""},
		{"a bug", true, false, []string{"X-Bug", "1"}, "/case_relation_list/0/case_id"},
		{"a bug, checks off", false, false, []string{"X-Bug", "1"}, ""},
		{"an injected fault", true, true, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Options{ValidateResponses: tt.validate})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			withBug(t, s)
			if tt.fault {
				if err := s.SetFault("ListRelation", Fault{Status: 418, Code: "X", Message: "teapot"}); err != nil {
					t.Fatal(err)
				}
			}
			list(s, tt.headers...)
			vs, total := s.Violations()
			switch {
			case tt.want == "" && total != 0:
				t.Errorf("violations: %+v", vs)
			case tt.want != "" && (total != 1 || vs[0].Pointer != tt.want || vs[0].Operation != "ListRelation" || vs[0].RequestID == ""):
				t.Errorf("violations: %+v, want one at %s", vs, tt.want)
			}
		})
	}
}
