// Command osm-stub runs the OSM v2 service-ticket stub server.
//
// Every flag has an environment variable of the same meaning; a flag given
// on the command line wins. Run with -h for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/journal"
	"github.com/osmstub/osmstub/server/store/storeopen"
)

type config struct {
	addr      string
	fixtures  string
	logLevel  string
	control   bool
	logFormat string
	store     string
	// controlToken guards the control API; required off loopback.
	controlToken string
	rateLimit    int
	proxy        proxyConfig // proxy.go
	journal      int
	version      bool
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit on the heap, so that a flood makes the collector
		// work harder instead of letting GOGC=400 grow the process several
		// times over (BENCHMARKS.md, issue 22); a data set of hundreds of
		// MB needs GOMEMLIMIT set higher.
		debug.SetMemoryLimit(48 << 20)
	}
	if os.Getenv("GOGC") == "" {
		// The live heap is small, so at GOGC=100 the collector runs very
		// often under load (measured in BENCHMARKS.md's history).
		debug.SetGCPercent(400)
	}
	if err := command(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "osm-stub:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("osm-stub", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address; port 0 picks a free port (env OSM_STUB_ADDR)")
	fs.StringVar(&c.fixtures, "fixtures", "", "YAML or JSON fixtures file; empty loads the built-in demo data (env OSM_STUB_FIXTURES)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error (env OSM_STUB_LOG_LEVEL)")
	fs.StringVar(&c.store, "store", "memory", "where the state lives: "+storeopen.Forms+" (env OSM_STUB_STORE)")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json (env OSM_STUB_LOG_FORMAT)")
	fs.BoolVar(&c.control, "control", true, "serve the control API under /_stub/ (env OSM_STUB_CONTROL)")
	fs.StringVar(&c.controlToken, "control-token", "", "bearer token every control API call must send, 16 characters or more; required when -addr is not a loopback address (env OSM_STUB_CONTROL_TOKEN)")
	fs.IntVar(&c.rateLimit, "rate-limit", 0, "requests a second each credential may send before 429 APIGW.0308; 0 is no limit (env OSM_STUB_RATE_LIMIT)")
	addProxyFlags(fs, &c.proxy)
	fs.IntVar(&c.journal, "journal", journal.DefaultSize, "how many requests the request journal keeps (GET /_stub/requests); 0 turns it off (env OSM_STUB_JOURNAL)")
	fs.BoolVar(&c.version, "version", false, "print the version and VCS revision, and exit (also: osm-stub version)")
	if err := setFromEnv(fs); err != nil {
		return c, err
	}
	// -h (and the usage a flag error prints) shows each default, which
	// may come from the environment: not a secret.
	fs.Lookup("store").DefValue = storeopen.Redact(c.store)
	fs.Lookup("upstream").DefValue = server.RedactURL(c.proxy.upstream)
	for _, name := range []string{"control-token", "proxy-token"} {
		if f := fs.Lookup(name); f.DefValue != "" {
			f.DefValue = redacted
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: osm-stub [flags]\n       osm-stub version\n       osm-stub healthcheck [-addr host:port]\n       osm-stub conform -endpoint URL -cases ID,ID[,ID,ID,ID] [flags] (osm-stub conform -h)\n       osm-stub cassette-fixtures -in CASSETTE -out FIXTURES\n\nA contract-validated stub of Huawei Cloud's OSM v2 service-ticket API.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.rateLimit < 0 {
		return c, fmt.Errorf("-rate-limit: want 0 or more requests a second, got %d", c.rateLimit)
	}
	if err := c.proxy.check(); err != nil {
		return c, err
	}
	if c.control {
		if err := checkControlToken(fs, c.controlToken); err != nil {
			return c, err
		}
	}
	if err := checkControlExposure(c); err != nil {
		return c, err
	}
	return c, checkProxyExposure(c)
}

// redacted stands for a secret in -h.
const redacted = "xxxxx"

// checkControlToken refuses a weak control token, and a blank one that
// was given (an empty OSM_STUB_CONTROL_TOKEN, say from a secret that did
// not load): it would leave the control API without a token.
func checkControlToken(fs *flag.FlagSet, token string) error {
	given := false // on the command line or in the environment (setFromEnv)
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "control-token" })
	if !given {
		return nil
	}
	if err := server.CheckControlToken(token); err != nil {
		return fmt.Errorf("-control-token (or OSM_STUB_CONTROL_TOKEN): %w; leave both unset to serve the control API to loopback callers only", err)
	}
	return nil
}

// checkControlExposure refuses to serve the control API, which reads every
// secret and resets all state, on an address others can reach without a
// token.
func checkControlExposure(c config) error {
	if !c.control || c.controlToken != "" || isLoopback(c.addr) {
		return nil
	}
	return fmt.Errorf("-addr %s is reachable from other hosts and the control API has no token: set -control-token (or OSM_STUB_CONTROL_TOKEN), or turn the control API off with -control=false", c.addr)
}

// isLoopback reports whether addr only listens on loopback: an empty host
// or 0.0.0.0 listens everywhere; a name other than localhost may not
// resolve to loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return fallback
}

// setFromEnv sets each flag but -version whose variable, OSM_STUB_ and
// its name in capitals, is set; the command line, parsed next, wins. -h
// shows the variable's value as the default.
func setFromEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "OSM_STUB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok || f.Name == "version" || err != nil {
			return
		}
		if fs.Set(f.Name, v) != nil {
			want := "a whole number" // only bool, int and duration flags can fail
			switch f.Value.(flag.Getter).Get().(type) {
			case bool:
				want = "true or false"
			case time.Duration:
				want = "a duration such as 30s"
			}
			err = fmt.Errorf("%s: want %s, got %q", name, want, v)
			return
		}
		f.DefValue = f.Value.String()
	})
	return err
}

func newLogger(c config, out io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(out, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(out, opts)), nil
	}
	return nil, fmt.Errorf("-log-format: want text or json, got %q", c.logFormat)
}

func run(ctx context.Context, args []string, logOut io.Writer) error {
	if len(args) > 0 && args[0] == "cassette-fixtures" {
		return cassetteFixtures(args[1:], logOut)
	}
	c, err := parseFlags(args, logOut)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if c.version {
		return errShowVersion
	}
	log, err := newLogger(c, logOut)
	if err != nil {
		return err
	}
	if c.journal < 0 {
		return fmt.Errorf("-journal: want 0 (off) or more entries, got %d", c.journal)
	}
	opts := server.Options{Logger: log, DisableControl: !c.control, ControlToken: c.controlToken, RateLimit: c.rateLimit,
		JournalSize: c.journal, DisableJournal: c.journal == 0}
	if host, _, err := net.SplitHostPort(c.addr); err == nil && host != "" {
		opts.ControlHosts = []string{c.addr, host}
	}
	switch {
	case c.control && c.controlToken != "":
		log.Info("control API enabled, with a bearer token", slog.String("path", "/_stub/"))
	case c.control:
		log.Info("control API enabled for loopback callers, without a token", slog.String("path", "/_stub/"), slog.String("token", "-control-token"), slog.String("disable", "-control=false"))
	}
	closeRecord, err := c.proxy.apply(&opts, log)
	if err != nil {
		return err
	}
	defer closeRecord()
	if c.fixtures != "" {
		d, err := fixtures.Load(c.fixtures)
		if err != nil {
			return err
		}
		opts.Fixtures = &d
	}
	if opts.Store, err = storeopen.Open(ctx, c.store); err != nil {
		return fmt.Errorf("-store: %w", err)
	}
	log.Info("store opened", slog.String("store", storeopen.Redact(c.store)))
	srv, err := server.New(opts)
	if err != nil {
		opts.Store.Close()
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	// Starting (the contracts, the fixtures) leaves garbage that GOGC=400
	// would let stand for long: hand it back to the system once, beside
	// the first requests rather than before them (idle RSS, BENCHMARKS.md).
	go debug.FreeOSMemory()
	// The address goes out whatever the log level: with port 0 it is the
	// only way to learn it.
	announce := log
	if !log.Enabled(ctx, slog.LevelInfo) {
		c.logLevel = "info"
		if announce, err = newLogger(c, logOut); err != nil {
			return err
		}
	}
	return serve(ctx, ln, srv, log, announce)
}

// serve runs until SIGINT or SIGTERM, then lets requests in flight finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log, announce *slog.Logger) error {
	hs := server.NewHTTPServer(h, log)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	announce.Info("osm-stub listening", slog.String("addr", ln.Addr().String()), slog.String("url", "http://"+ln.Addr().String()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}
