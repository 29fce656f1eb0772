// Command floor is the load test's floor: a bare Echo server on the
// contract's path that answers every operation with a constant and checks
// nothing. No stub built on Echo can be faster; `make bench` reports the
// stub's throughput as a fraction of this one's.
//
// With -hardened it serves with cmd/osm-stub's http.Server limits (read,
// write and idle deadlines, a header size cap), so that `make bench` can
// tell what those cost apart from what the stub does.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/internal/deadline"
)

// The bodies the stub sends for the load test's requests.
var (
	empty   = []byte("{}\n")
	refusal = []byte(`{"error_code":"OSM.01010015","error_msg":"This case does not exist."}` + "\n")
	list    = []byte(`{"case_relation_list":[{"case_id":"DEMO-3","simple_description":"Elastic IP unbound after resize","user_name":"demo"},{"case_id":"TEAM-1","simple_description":"RDS failover took ten minutes","user_name":"teammate"}]}` + "\n")
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	hardened := flag.Bool("hardened", false, "serve with cmd/osm-stub's http.Server timeouts and header limit")
	flag.Parse()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	const path = "/v2/servicerequest/cases/:case_id/relations"
	e.POST(path, func(c echo.Context) error {
		if strings.HasPrefix(c.Param("case_id"), "NOPE-") { // the refusal workload (bench/load.lua)
			return c.JSONBlob(http.StatusOK, refusal)
		}
		return c.JSONBlob(http.StatusOK, empty)
	})
	e.DELETE(path, func(c echo.Context) error { return c.JSONBlob(http.StatusOK, empty) })
	e.GET(path, func(c echo.Context) error { return c.JSONBlob(http.StatusOK, list) })
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "floor listening addr=%s\n", ln.Addr())
	hs := &http.Server{Handler: e}
	if *hardened { // as cmd/osm-stub's serve
		deadline.Limits(hs)
		ln = deadline.Listener(ln)
	}
	log.Fatal(hs.Serve(ln))
}
