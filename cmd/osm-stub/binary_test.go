package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestBinary runs a built osm-stub, as a user of the release binaries
// would: OSM_STUB_BINARY names it (make test-dist builds dist/ and sets it).
// It must print its version, be statically linked, start on a free port
// with the SQLite store, answer /healthz and an API call, pass its own
// healthcheck and stop cleanly on SIGTERM.
func TestBinary(t *testing.T) {
	bin := os.Getenv("OSM_STUB_BINARY")
	if bin == "" {
		t.Skip("OSM_STUB_BINARY is not set: `make test-dist` builds dist/ and runs this test on this platform's binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	for _, args := range [][]string{{"-version"}, {"version"}} {
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil || !versionLine.Match(out) {
			t.Errorf("%s %s: %q, %v", bin, args[0], out, err)
		}
	}

	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		libs, _ := f.ImportedLibraries()
		if f.Section(".interp") != nil || len(libs) > 0 {
			t.Errorf("%s is dynamically linked (libraries %v): dist must build with CGO_ENABLED=0", bin, libs)
		}
		f.Close()
	}

	// The SQLite store, so that the pure-Go driver is proven in a cgo-free build.
	db := "sqlite:" + filepath.Join(t.TempDir(), "osm.db")
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-log-format", "json", "-store", db)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrc := make(chan string, 1)
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write(append(sc.Bytes(), '\n'))
			if m := listening.FindSubmatch(sc.Bytes()); m != nil {
				addrc <- string(m[1])
			}
		}
		close(addrc)
	}()
	addr, ok := <-addrc
	if !ok {
		t.Fatalf("the binary exited without a listening line: %v", cmd.Wait())
	}

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %s", resp.Status)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/servicerequest/cases/DEMO-1/relations", nil)
	req.Header.Set("X-Auth-Token", "demo-token")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("ListRelation on the SQLite store: %s", resp.Status)
	}
	if out, err := exec.CommandContext(ctx, bin, "healthcheck", "-addr", addr).CombinedOutput(); err != nil {
		t.Errorf("healthcheck -addr %s: %v\n%s", addr, err, out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range addrc { // the log ends when the process closes stderr
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
	if !bytes.Contains(log.Bytes(), []byte(`"msg":"shutting down"`)) {
		t.Errorf("no shutdown line in the log:\n%s", log.String())
	}
}
