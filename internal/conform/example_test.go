package conform_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/server"
)

// Run the scenario against a stub on 127.0.0.1 with the demo data; against
// the live service the endpoint is https://osm.<region>.myhuaweicloud.com
// and the tickets are your own.
func ExampleRun() {
	srv, _ := server.New(server.Options{})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	rep, err := conform.Run(context.Background(), conform.Config{
		Endpoint:   ts.URL,
		Credential: conform.Credential{Token: "demo-token"},
		Cases:      []string{"DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Summary())
	for _, c := range rep.Checks[5:9] {
		fmt.Println(c.Verdict, c.Name)
	}
	// Output:
	// 66 checks: 65 pass, 0 differ, 0 violate the contract, 0 failed, 1 skipped (1 opt-in); every ticket is as it was
	// pass catalogue: product categories
	// pass catalogue: problem types
	// pass attachment limits
	// pass list tickets: the first page (limit 1)
}
