// Command profile serves the stub as cmd/osm-stub does (same server
// options, text access log on stderr, same http.Server limits) and writes
// a CPU and a heap profile when it is stopped, to profile the stub under
// wrk:
//
//	go build -o bench/out/profile ./bench/profile
//	bench/out/profile -addr 127.0.0.1:8080 -fixtures bench/fixtures.yaml -cpuprofile cpu.out 2>stub.log &
//	wrk -t2 -c32 -d10s -s bench/load.lua http://127.0.0.1:8080 -- post
//	kill %1; go tool pprof -top bench/out/profile cpu.out
//
// Its other flags try what cmd/osm-stub could change (see BENCHMARKS.md):
// -log buffered writes the access log through a 64 KiB buffer flushed every
// 100 ms instead of one write(2) per line, -timeouts=false drops the
// http.Server read and write deadlines (two timer updates per request).
package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	file := flag.String("fixtures", "", "fixtures file")
	cpu := flag.String("cpuprofile", "cpu.out", "CPU profile to write")
	heap := flag.String("memprofile", "", "allocation profile to write")
	logMode := flag.String("log", "stderr", "access log: buffered (batched), stderr (a write per line, as cmd/osm-stub writes it) or off")
	timeouts := flag.Bool("timeouts", true, "set cmd/osm-stub's http.Server timeouts")
	flag.Parse()

	var out io.Writer = os.Stderr
	switch *logMode {
	case "stderr":
	case "buffered":
		bw := &lockedWriter{w: bufio.NewWriterSize(os.Stderr, 64<<10)}
		go func() {
			for range time.Tick(100 * time.Millisecond) {
				bw.flush()
			}
		}()
		defer bw.flush()
		out = bw
	case "off":
		out = io.Discard
	default:
		log.Fatalf("-log: want stderr, buffered or off, got %q", *logMode)
	}
	logger := slog.New(slog.NewTextHandler(out, nil)) // as cmd/osm-stub
	opts := server.Options{Logger: logger}
	if *file != "" {
		d, err := fixtures.Load(*file)
		if err != nil {
			log.Fatal(err)
		}
		opts.Fixtures = &d
	}
	srv, err := server.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	hs := server.NewHTTPServer(srv, nil) // as cmd/osm-stub serves
	if !*timeouts {
		hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout = 0, 0, 0, 0
	}
	f, err := os.Create(*cpu)
	if err != nil {
		log.Fatal(err)
	}
	if *heap != "" {
		runtime.MemProfileRate = 4096
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	pprof.StopCPUProfile()
	f.Close()
	if *heap != "" {
		h, err := os.Create(*heap)
		if err != nil {
			log.Fatal(err)
		}
		_ = pprof.Lookup("allocs").WriteTo(h, 0)
		h.Close()
	}
	_ = hs.Close()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.w.Flush()
}
