package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// binDir holds the osm-stub binary, built once for all tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osm-stub-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var build = sync.OnceValues(func() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(binDir, "osm-stub")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/osmstub/osmstub/cmd/osm-stub")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// binary returns the path of the osm-stub binary, building it on first use.
func binary(t *testing.T) string {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// writeFixtures writes d as a JSON fixtures file and returns its path.
func writeFixtures(t *testing.T, d store.Dataset) string {
	t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixtures.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// stub is one running osm-stub process.
type stub struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	done chan struct{} // closed when the process has exited
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs osm-stub on a free port of 127.0.0.1 with the given store and
// fixtures, and waits until it listens.
func start(t *testing.T, name, storeSpec, fixtures string) *stub {
	t.Helper()
	cmd := exec.Command(binary(t), "-addr", "127.0.0.1:0", "-log-format", "json", "-log-level", "info",
		"-store", storeSpec, "-fixtures", fixtures)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &stub{t: t, name: name, cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			fmt.Fprintf(s.logs, "%s\n", line)
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "osm-stub listening" && rec.Addr != "" {
				select {
				case addrc <- rec.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", s.name, s.logs.String())
		}
	})
	select {
	case addr := <-addrc:
		s.url = "http://" + addr
	case <-s.done:
		t.Fatalf("%s exited before listening:\n%s", name, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not listen within 60s:\n%s", name, s.logs.String())
	}
	return s
}

// stop sends SIGTERM and waits for the process to be gone, its log
// flushed.
func (s *stub) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *stub) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// The API client. Every call is one HTTP request with the demo token.

const token = "crash-token"

var httpClient = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
}

// outcome is a 200 answer: its error_code, "" for success.
type outcome struct {
	code string
	list []string // ListRelation's case IDs
}

func (s *stub) call(ctx context.Context, method, caseID string, body any) (outcome, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{}, err
		}
		rd = bytes.NewReader(b)
	}
	u := s.url + "/v2/servicerequest/cases/" + url.PathEscape(caseID) + "/relations"
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return outcome{}, err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	res, err := httpClient.Do(req)
	if err != nil {
		return outcome{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return outcome{}, err
	}
	var parsed struct {
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		List      []struct {
			CaseID string `json:"case_id"`
		} `json:"case_relation_list"`
	}
	if err := json.Unmarshal(data, &parsed); err != nil {
		return outcome{}, fmt.Errorf("%s %s: %d, body %q: %v", method, u, res.StatusCode, data, err)
	}
	if res.StatusCode != http.StatusOK {
		return outcome{code: parsed.ErrorCode}, &statusError{status: res.StatusCode, code: parsed.ErrorCode, body: string(data),
			retryAfter: res.Header.Get("Retry-After")}
	}
	out := outcome{code: parsed.ErrorCode}
	for _, r := range parsed.List {
		out.list = append(out.list, r.CaseID)
	}
	return out, nil
}

type statusError struct {
	status     int
	code       string
	body       string
	retryAfter string // the Retry-After header
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, strings.TrimSpace(e.body))
}

func (s *stub) create(ctx context.Context, caseID string, related []string) (outcome, error) {
	return s.call(ctx, http.MethodPost, caseID, map[string]any{"related_id_list": related, "group_id": "crash"})
}

func (s *stub) remove(ctx context.Context, caseID, related string) (outcome, error) {
	return s.call(ctx, http.MethodDelete, caseID, map[string]any{"related_id": related, "group_id": "crash"})
}

func (s *stub) list(ctx context.Context, caseID string) ([]string, error) {
	out, err := s.call(ctx, http.MethodGet, caseID, nil)
	if err == nil && out.code != "" {
		err = fmt.Errorf("List(%s) refused: %s", caseID, out.code)
	}
	return out.list, err
}

// state reads every ticket's associations through the API.
func (s *stub) state(t *testing.T, ids []string) map[string][]string {
	t.Helper()
	out := make(map[string][]string, len(ids))
	for _, id := range ids {
		l, err := s.list(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		out[id] = l
	}
	return out
}

// checkInvariants: no ticket above the limit, no repeats, no self, every
// association mutual.
func checkInvariants(t *testing.T, state map[string][]string) {
	t.Helper()
	for id, rels := range state {
		if len(rels) > store.MaxRelations {
			t.Errorf("%s holds %d associations: %q", id, len(rels), rels)
		}
		seen := map[string]bool{}
		for _, r := range rels {
			if r == id || seen[r] {
				t.Errorf("%s lists itself or %s twice: %q", id, r, rels)
			}
			seen[r] = true
			theirs, ok := state[r]
			if !ok {
				t.Errorf("%s is associated with %s, which is not a known ticket", id, r)
				continue
			}
			found := false
			for _, x := range theirs {
				found = found || x == id
			}
			if !found {
				t.Errorf("association %s-%s is not mutual: %s lists %q", id, r, r, theirs)
			}
		}
	}
}

// user is the fixtures' one user.
func user() store.User {
	return store.User{Name: "crash", Groups: []string{"crash"}, Tokens: []string{token}}
}
