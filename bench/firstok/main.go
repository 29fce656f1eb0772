// Command firstok starts a server and measures the time from starting its
// process to its first 200 answer, for `make bench`.
//
//	firstok -url 'http://127.0.0.1:{port}/path' -H 'X-Auth-Token: demo-token' \
//	    -pidfile out/stub.pid -log out/stub.log -- bin/osm-stub -addr 127.0.0.1:{port}
//
// {port} in the URL and the arguments becomes a free loopback port. The
// server runs in a process group of its own, which outlives firstok: the
// caller stops it with kill -- -PID (PID from -pidfile). firstok prints
// "port=N start_ms=X" and exits 0 once the server has answered 200, or
// stops the server and exits 1 if it has not within -timeout.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	url := flag.String("url", "", "URL to poll; {port} is replaced")
	pidfile := flag.String("pidfile", "", "file to write the server's process id to")
	logfile := flag.String("log", os.DevNull, "file for the server's stdout and stderr")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after")
	var hdr headers
	flag.Var(&hdr, "H", "request header 'Name: value' (repeatable)")
	flag.Parse()
	if *url == "" || flag.NArg() == 0 {
		fail("usage: firstok -url URL [-H 'Name: value'] [-pidfile F] [-log F] -- command args...")
	}
	port, err := freePort()
	if err != nil {
		fail("%v", err)
	}
	p := strconv.Itoa(port)
	args := flag.Args()
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "{port}", p)
	}
	target := strings.ReplaceAll(*url, "{port}", p)
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		fail("%v", err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	out, err := os.OpenFile(*logfile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		fail("%v", err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		fail("start %s: %v", args[0], err)
	}
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			fail("%v", err)
		}
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				elapsed := time.Since(start)
				fmt.Printf("port=%d start_ms=%.1f\n", port, float64(elapsed.Microseconds())/1000)
				return
			}
		}
		select {
		case err := <-exited:
			fail("%s exited before answering 200: %v (see %s)", args[0], err, *logfile)
		default:
		}
		if time.Since(start) > *timeout {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			fail("no 200 from %s within %s (see %s)", target, *timeout, *logfile)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "firstok: "+format+"\n", args...)
	os.Exit(1)
}
