package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

// flowOps are the ticket flow's operations FuzzTicketFlow picks from:
// method and path, %s standing for the case ID.
var flowOps = []struct{ method, path string }{
	{"GET", "/v2/servicerequest/config/product-categories"},
	{"GET", "/v2/servicerequest/config/problems"},
	{"POST", "/v2/servicerequest/cases"},
	{"GET", "/v2/servicerequest/cases/%s"},
	{"GET", "/v2/servicerequest/cases"},
	{"GET", "/v2/servicerequest/cases/%s/status"},
	{"POST", "/v2/servicerequest/cases/%s/action"},
	{"POST", "/v2/servicerequest/cases/%s/message"},
	{"GET", "/v2/servicerequest/cases/%s/messages"},
	{"POST", "/v2/servicerequest/accessorys/json-format-content"},
	{"GET", "/v2/servicerequest/accessorys/limits"},
	{"POST", "/v2/servicerequest/cases/%s/score"},
}

// FuzzTicketFlow sends arbitrary queries and bodies to the ticket flow's
// operations: nothing may panic or answer a 5xx, every response must pass
// the contract (do checks it), every error body must be complete and show
// no internals, and a refused request (4xx or a business error_code) must
// change nothing.
func FuzzTicketFlow(f *testing.F) {
	f.Add(uint8(2), "", "", []byte(`{"business_type_id":"ECS-FAULT","region_id":"cn-south-1","simple_description":"x","source_id":"83aeb0f2834c4df49826c781d32a963e"}`))
	f.Add(uint8(2), "", "", []byte(`{"business_type_id":"ECS-FAULT","simple_description":"x","source_id":""}`))
	f.Add(uint8(2), "", "", []byte(`{"business_type_id":"QUOTA","simple_description":"x","source_id":"","accessory_ids":["ACC000001","x"],"extends_map":{"a":[1,{}]}}`))
	f.Add(uint8(4), "", "status=0&search_key=ssh+ecs&offset=1&limit=2&query_start_time=2026-12-01T00:00:00Z", []byte(nil))
	f.Add(uint8(4), "", "incident_status=1,x&app_key=DEMO-1&label_id_list=a&group_id=team", []byte(nil))
	f.Add(uint8(4), "", "query_end_time=2026-13-01T00:00:00Z&limit=0", []byte(nil))
	f.Add(uint8(6), "DEMO-2", "action_id=cancel", []byte(`{}`))
	f.Add(uint8(6), "DEMO-1", "action_id=press", []byte(`{"group_id":"team","judgement":"ok","incident_satisfaction_list":[{"satisfaction_id":1,"satisfaction_value":5}]}`))
	f.Add(uint8(6), "TEAM-1", "action_id=reopen", []byte(`{"group_id":"team"}`))
	f.Add(uint8(7), "DEMO-6", "", []byte(`{"message":{"content":"log","accessory_ids":["ACC000001"]}}`))
	f.Add(uint8(7), "DEMO-6", "", []byte(`{"message":null}`))
	f.Add(uint8(8), "DEMO-6", "offset=1&limit=1", []byte(nil))
	f.Add(uint8(9), "", "", []byte(`{"accessory_name":"a.log","accessory_from":"message","accessory_data":"aGVsbG8="}`))
	f.Add(uint8(9), "", "", []byte(`{"accessory_name":"a.exe","accessory_from":"incident","accessory_data":"!!"}`))
	f.Add(uint8(11), "DEMO-3", "", []byte(`{"judgement":"good","incident_satisfaction_list":null}`))
	f.Add(uint8(11), "DEMO-3", "", []byte(`{"judgement":"good","incident_satisfaction_list":[{"satisfaction_id":2,"satisfaction_value":9}]}`))
	f.Add(uint8(3), "CS20261207999999", "group_id=team", []byte(nil))

	f.Fuzz(func(t *testing.T, op uint8, caseID, query string, body []byte) {
		o := flowOps[int(op)%len(flowOps)]
		path := o.path
		if strings.Contains(path, "%s") {
			path = (&url.URL{Path: strings.Replace(path, "%s", caseID, 1)}).EscapedPath()
		}
		u, err := url.ParseRequestURI(path + "?" + query)
		if err != nil {
			return
		}
		req := &http.Request{
			Method: o.method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"X-Auth-Token": {"demo-token"}}, Host: "osm.example.com",
			RequestURI: u.RequestURI(), RemoteAddr: "192.0.2.1:4711",
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		}
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		srv := newServer(t, server.Options{Now: fixedNow})
		before, _ := json.Marshal(snapshot(t, srv.Store()))

		status, _, respBody := do(t, srv, req)
		if status >= 500 {
			t.Fatalf("%s %s -> %d %s", req.Method, req.URL, status, respBody)
		}
		if status >= 400 || bytes.Contains(respBody, []byte(`"error_code"`)) {
			var e errorBody
			if err := json.Unmarshal(respBody, &e); err != nil || e.Code == nil || *e.Code == "" || e.Msg == nil || *e.Msg == "" {
				t.Fatalf("%s %s -> %d without a complete error body: %s", req.Method, req.URL, status, respBody)
			}
			checkNoLeak(t, *e.Msg, string(body), req.URL.String())
			if after, _ := json.Marshal(snapshot(t, srv.Store())); !bytes.Equal(before, after) {
				t.Fatalf("%s %s was refused (%d %s) but changed the state", req.Method, req.URL, status, respBody)
			}
		}
	})
}
