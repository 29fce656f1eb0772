package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/osmstub/osmstub/server"
)

// A validating proxy: every request is checked, forwarded to the
// upstream (here a second stub that answers with a field the contract
// does not list), and the answer is checked and passed on unchanged.
func ExampleOptions_upstream() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "upstream-1")
		fmt.Fprint(w, `{"case_relation_list":[],"next_page":2}`)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL) // in real life https://osm.cn-south-1.myhuaweicloud.com
	proxy, err := server.New(server.Options{
		Upstream: u,
		// Requests are signed again with this key (the binary reads
		// HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK)...
		UpstreamKey: &server.UpstreamKey{AK: "MYAK", SK: "my-secret-key"},
		// ...when they carry the credential the operator gives the
		// proxy's callers (the binary reads OSM_STUB_PROXY_TOKEN, or
		// OSM_STUB_PROXY_AK and OSM_STUB_PROXY_SK).
		ProxyCaller: &server.ProxyCaller{Token: "a-token-for-my-test-programs"},
	})
	if err != nil {
		panic(err)
	}
	defer proxy.Close()
	ts := httptest.NewServer(proxy)
	defer ts.Close()

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v2/servicerequest/cases/CS1/relations", nil)
	req.Header.Set("X-Auth-Token", "a-token-for-my-test-programs")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("X-Request-Id"), strings.TrimSpace(string(body)))
	vs, _ := proxy.Violations() // also GET /_stub/violations
	for _, v := range vs {
		fmt.Println(v.Operation, v.Direction, v.In, v.Pointer, v.Rule, v.Value)
	}
	// Output:
	// 200 OK upstream-1 {"case_relation_list":[],"next_page":2}
	// ListRelation response body /next_page new field 2
}
