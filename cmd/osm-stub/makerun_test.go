//go:build unix

package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"time"
)

var urlLine = regexp.MustCompile(`url=http://(127\.0\.0\.1:\d+)`)

// TestMakeRunStops: `make run` stops, leaving no stub behind, both when
// Ctrl-C interrupts it (SIGINT to the terminal's process group) and when
// its PID is killed (SIGTERM to make alone).
func TestMakeRunStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary through make")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	for _, c := range []struct {
		name string
		stop func(pid int) error
	}{
		{"kill", func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }},
		{"ctrl-c", func(pid int) error { return syscall.Kill(-pid, syscall.SIGINT) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			makeRunStops(t, c.stop)
		})
	}
}

func makeRunStops(t *testing.T, stop func(pid int) error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd := exec.Command("make", "--no-print-directory", "run", "ADDR=127.0.0.1:0", "BIN="+filepath.Join(t.TempDir(), "osm-stub"))
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as in a terminal
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The pipe ends when make and the stub have both closed it.
	pw.Close()
	// If the test fails half-way, nothing is left running.
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var addr string
	var out []string
	timeout := time.After(2 * time.Minute) // a cold build included
	for addr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("make run ended before listening:\n%q", out)
			}
			out = append(out, line)
			if m := urlLine.FindStringSubmatch(line); m != nil {
				addr = m[1]
			}
		case <-timeout:
			t.Fatalf("make run did not listen:\n%q", out)
		}
	}
	if err := stop(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	// EOF on the pipe: nothing holds it open any more, the stub included.
	for open := true; open; {
		select {
		case line, ok := <-lines:
			out, open = append(out, line), ok
		case <-time.After(30 * time.Second):
			t.Fatalf("the stub still runs after make was stopped:\n%q", out)
		}
	}
	_ = cmd.Wait() // make reports the signal as a failure
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after make run stopped", addr)
	}
}
