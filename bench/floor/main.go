// Command floor is the load test's floor: a bare Echo server on the
// contract's path that answers every operation with a constant and checks
// nothing. No stub built on Echo can be faster; `make bench` reports the
// stub's throughput as a fraction of this one's.
//
// With -hardened it serves with cmd/osm-stub's http.Server limits (read,
// write and idle deadlines, a header size cap), so that `make bench` can
// tell what those cost apart from what the stub does.
//
// With -work it also spins on the CPU for that long (timed on an idle
// core when it starts) in every request, touching no memory: `make
// bench`'s floor-work target, which tells what a microsecond of a
// handler's own work costs over the floor under the same load.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/server"
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
	work := flag.Duration("work", 0, "CPU time to spend in every request (timed on an idle core)")
	flag.Parse()
	spins := calibrate(*work)
	e := echo.New()
	if spins > 0 {
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				sink.Add(spin(spins))
				return next(c)
			}
		})
	}
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
	if *hardened {
		hs = server.NewHTTPServer(e, nil) // cmd/osm-stub's limits
	}
	log.Fatal(hs.Serve(ln))
}

// sink keeps the compiler from dropping the spinning.
var sink atomic.Uint64

// spin is n rounds of xorshift: CPU work that touches no memory.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// calibrate returns how many rounds of spin take d on this core: the
// best of 3 timings of 2^22 rounds (about 8 ms each here).
func calibrate(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	const n = 1 << 22
	best := time.Duration(1 << 62)
	for range 3 {
		t := time.Now()
		sink.Add(spin(n))
		best = min(best, time.Since(t))
	}
	rounds := int(float64(n) * float64(d) / float64(best))
	fmt.Fprintf(os.Stderr, "floor: %d rounds of work per request for %s\n", rounds, d)
	return max(rounds, 1)
}
