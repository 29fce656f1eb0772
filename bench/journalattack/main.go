// Command journalattack measures what reading the request journal costs
// the stub: it starts a stub binary on a free loopback port, fills its
// journal with large bodies, then runs many long polls and plain reads of
// GET /_stub/requests at once while it times the vendor API's GET, and
// prints the GET's latency, the answers the attackers got and the stub's
// peak RSS (VmHWM).
//
//	go build -o /tmp/osm-stub ./cmd/osm-stub
//	go run ./bench/journalattack -bin /tmp/osm-stub
//
// Loopback only, bounded in count (-polls, -readers at most 5000) and time
// (-duration at most 60s). 2000 connections need `ulimit -n` above 2100.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "", "the stub binary to start")
	fill := flag.Int("fill", 1000, "requests to fill the journal with")
	bodySize := flag.Int("body", 200<<10, "size of each filling request's body (the journal keeps 64 KiB)")
	polls := flag.Int("polls", 2000, "concurrent long polls")
	pollQuery := flag.String("poll-query", "wait=20s&min=1000000", "query of each long poll")
	readers := flag.Int("readers", 20, "concurrent plain reads")
	readQuery := flag.String("read-query", "", "query of each plain read")
	loop := flag.Bool("loop", false, "each attacker calls again as soon as it is answered, until -duration ends")
	duration := flag.Duration("duration", 25*time.Second, "how long to time the vendor API's GET")
	interval := flag.Duration("interval", 20*time.Millisecond, "pause between two timed GETs")
	flag.Parse()
	if *bin == "" || *polls > 5000 || *readers > 5000 || *duration > time.Minute {
		log.Fatal("need -bin; -polls and -readers at most 5000, -duration at most 60s")
	}

	port, err := freePort()
	if err != nil {
		log.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(*bin, "-addr", "127.0.0.1:"+strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
	if err := waitHealthy(base); err != nil {
		log.Print(err)
		return
	}

	filled := fillJournal(base, *fill, *bodySize)
	pid := cmd.Process.Pid
	fmt.Printf("filled: %v; peak RSS while filling (VmHWM) %s, RSS after %s\n", filled, vm(pid, "VmHWM"), vm(pid, "VmRSS"))
	// Reset VmHWM, so that it tells the attack's peak (proc(5), clear_refs).
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		fmt.Printf("cannot reset VmHWM (%v): the peak below includes the filling\n", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	attack := &http.Transport{MaxIdleConnsPerHost: *polls + *readers, MaxConnsPerHost: 0, DisableCompression: true}
	var mu sync.Mutex
	outcomes := map[string]int{}
	var pollDurations []time.Duration
	var wg sync.WaitGroup
	call := func(kind, query string) {
		for {
			start := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_stub/requests?"+query, nil)
			res, err := attack.RoundTrip(req)
			key := kind + " "
			var n int64
			if err != nil {
				key += "error " + errorKind(err)
			} else {
				n, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				key += strconv.Itoa(res.StatusCode)
				if err != nil {
					key += " cut " + errorKind(err)
				}
			}
			took := time.Since(start)
			mu.Lock()
			outcomes[key]++
			outcomes[kind+" MB read"] += int(n >> 20)
			if kind == "poll" && err == nil && res.StatusCode == http.StatusOK {
				pollDurations = append(pollDurations, took)
			}
			mu.Unlock()
			if !*loop || ctx.Err() != nil {
				return
			}
		}
	}
	for range *polls {
		wg.Go(func() { call("poll", *pollQuery) })
	}
	for range *readers {
		wg.Go(func() { call("read", *readQuery) })
	}

	// The vendor API's GET, one at a time, on a connection of its own.
	api := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	var lat []time.Duration
	failed := 0
	for ctx.Err() == nil {
		req, _ := http.NewRequest(http.MethodGet, base+"/v2/servicerequest/cases/DEMO-1/relations", nil)
		req.Header.Set("X-Auth-Token", "demo-token")
		start := time.Now()
		res, err := api.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err != nil || res.StatusCode != http.StatusOK {
			failed++
		} else {
			lat = append(lat, time.Since(start))
		}
		time.Sleep(*interval)
	}
	hwm := vm(pid, "VmHWM")
	cancel()
	wg.Wait()

	slices.Sort(lat)
	fmt.Printf("API GET: %d timed, %d failed; p50 %v p99 %v max %v\n", len(lat), failed, pct(lat, 50), pct(lat, 99), pct(lat, 100))
	fmt.Printf("stub peak RSS during the attack (VmHWM): %s\n", hwm)
	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("  %-40s %d\n", k, outcomes[k])
	}
	if len(pollDurations) > 0 {
		slices.Sort(pollDurations)
		fmt.Printf("long polls answered 200: %d, took min %v max %v\n", len(pollDurations), pollDurations[0], pollDurations[len(pollDurations)-1])
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitHealthy(base string) error {
	for range 100 {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the stub did not answer /healthz within 10 s")
}

// fillJournal sends n creates with a padded body, 8 at a time, and counts
// their statuses.
func fillJournal(base string, n, size int) map[int]int {
	pad := strings.Repeat("x", max(size-64, 0))
	body := `{"related_id_list":["DEMO-2"],"group_id":"team","pad":"` + pad + `"}`
	counts := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range next {
				req, _ := http.NewRequest(http.MethodPost, base+"/v2/servicerequest/cases/DEMO-1/relations", strings.NewReader(body))
				req.Header.Set("X-Auth-Token", "demo-token")
				req.Header.Set("Content-Type", "application/json")
				status := 0
				if res, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return counts
}

// vm reads one line of /proc/PID/status, e.g. VmHWM.
func vm(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)].Round(10 * time.Microsecond)
}

func errorKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "(attack ended)"
	case errors.Is(err, syscall.ECONNRESET):
		return "(reset)"
	}
	return fmt.Sprintf("(%T)", err)
}
