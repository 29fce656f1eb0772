package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/osmstub/osmstub/server"
)

func ExampleNew() {
	srv, err := server.New(server.Options{}) // the built-in demo data
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	call := func(method, body string) {
		req, _ := http.NewRequest(method, ts.URL+"/v2/servicerequest/cases/DEMO-1/relations", strings.NewReader(body))
		req.Header.Set("X-Auth-Token", "demo-token")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		fmt.Println(res.Status, strings.TrimSpace(string(out)))
	}
	// curl -X POST -H 'X-Auth-Token: demo-token' -H 'Content-Type: application/json' \
	//   -d '{"related_id_list":["DEMO-2"],"group_id":"team"}' $URL/v2/servicerequest/cases/DEMO-1/relations
	call("POST", `{"related_id_list":["DEMO-2"],"group_id":"team"}`)
	// curl -H 'X-Auth-Token: demo-token' $URL/v2/servicerequest/cases/DEMO-1/relations
	call("GET", "")
	// Output:
	// 200 OK {}
	// 200 OK {"case_relation_list":[{"case_id":"DEMO-2","simple_description":"SSH port 22 blocked by security group","user_name":"demo"}]}
}
