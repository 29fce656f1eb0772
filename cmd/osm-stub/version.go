package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"
)

// version is set at link time by `make build` and `make dist`
// (-ldflags "-X main.version=$(git describe)"); otherwise the build info's
// module version is used: "v1.2.3" after `go install ...@v1.2.3`, "(devel)"
// or a pseudo-version in a clone.
var version string

// errShowVersion is returned by run for -version, as flag.ErrHelp is for -h:
// command prints the version on standard output, where scripts read it.
var errShowVersion = errors.New("show version")

// command dispatches the subcommands, then runs the server.
func command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "version":
			_, err := fmt.Fprintln(stdout, versionString())
			return err
		case "healthcheck":
			return healthcheck(ctx, args[1:], stdout, stderr)
		case "conform":
			return runConform(ctx, args[1:], stdout, stderr)
		}
	}
	err := run(ctx, args, stderr)
	if errors.Is(err, errShowVersion) {
		_, err = fmt.Fprintln(stdout, versionString())
	}
	return err
}

// versionString is "osm-stub VERSION (revision REV[, modified]) GOVERSION OS/ARCH".
// Built with -buildvcs=false or outside a repository, the revision is
// "revision unknown".
func versionString() string {
	v, rev, modified := version, "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = cmp.Or(v, bi.Main.Version)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	v = cmp.Or(v, "(devel)")
	r := "revision unknown"
	if rev != "" {
		r = "revision " + rev
		if modified {
			r += ", modified"
		}
	}
	return fmt.Sprintf("osm-stub %s (%s) %s %s/%s", v, r, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// healthcheck asks a running stub for GET /healthz and fails unless it
// answers 200: the container image's HEALTHCHECK, since an image built FROM
// scratch has no curl. It reads the same -addr and OSM_STUB_ADDR as the
// server, so inside the image it needs no arguments.
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("osm-stub healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env("OSM_STUB_ADDR", "127.0.0.1:8080"), "the stub's listen address; an unspecified host (0.0.0.0, ::) means loopback (env OSM_STUB_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected arguments: %v", fs.Args())
	}
	target, err := healthURL(*addr)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s", target, resp.Status)
	}
	_, err = fmt.Fprintf(stdout, "ok: GET %s: %s\n", target, resp.Status)
	return err
}

// healthURL is the /healthz URL of a stub listening on addr: a wildcard
// host is reached on 127.0.0.1.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr %q: %w", addr, err)
	}
	if port == "0" {
		return "", fmt.Errorf("-addr %q: port 0 is picked at start, give the port the stub listens on", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
