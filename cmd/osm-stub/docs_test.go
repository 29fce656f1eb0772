package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

// TestDocsSessions replays the curl sessions of README.md and of every page
// under docs/ and fails when the stub answers otherwise than the page shows:
// the pages cannot drift from the binary. A page is read as one story: its
// sessions run in order against one fresh stub with the demo data, so a
// page must leave the stub as its next command expects.
//
// The rules: in a ```console block, each "$ curl ..." line (continued by a
// trailing backslash or an open single quote) is replayed, and the lines
// after it, up to the next "$ " or the end of the block, are its output.
// Any other "$ " command, and every command in a ```sh block, is shown,
// not replayed; the test logs each one it skips (go test -v). A shell
// variable must be set on the page before it is used.
func TestDocsSessions(t *testing.T) {
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"../../README.md"}, pages...)
	for _, path := range pages {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			steps, problems := sessions(string(text))
			for _, p := range problems {
				t.Error(p)
			}
			srv, err := server.New(server.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			replayed := 0
			defer func() {
				if replayed == 0 && strings.Contains(string(text), "\n$ curl ") {
					t.Error("the page shows curl commands but no step was replayed")
				}
			}()
			for _, s := range steps {
				if s.skip != "" {
					t.Logf("line %d: not replayed (%s): %s", s.line, s.skip, s.cmd)
					continue
				}
				replayed++
				got := curl(t, ts.URL, shellWords(s.cmd)[1:])
				for _, v := range volatile {
					got = v.re.ReplaceAllString(got, v.shown)
				}
				if strings.TrimSpace(got) != strings.TrimSpace(s.want) {
					t.Errorf("line %d: $ %s\ngot:\n%s\nthe page says:\n%s", s.line, s.cmd, got, s.want)
				}
			}
		})
	}
}

// volatile are the parts of an answer that differ on every run; the pages
// show them as "...".
var volatile = []struct {
	re    *regexp.Regexp
	shown string
}{
	{regexp.MustCompile(`"request_id":"[0-9a-f]{32}"`), `"request_id":"..."`},
	{regexp.MustCompile(`\\"request_id\\":\\"[0-9a-f]{32}\\"`), `\"request_id\":\"...\"`}, // in a journaled body
	{regexp.MustCompile(`"time":"[0-9T:.Z-]+"`), `"time":"..."`},
	{regexp.MustCompile(`"duration_ns":[0-9]+`), `"duration_ns":...`},
	{regexp.MustCompile(`"curl/[^"]*"`), `"curl/..."`}, // the journaled User-Agent
	// POST /_stub/accounts: a random account ID and fresh credentials.
	{regexp.MustCompile(`"account":"[0-9a-f]{32}"`), `"account":"<account>"`},
	{regexp.MustCompile(`@[0-9a-f]{32}"`), `@<account>"`},
	{regexp.MustCompile(`"token":"tok-[0-9a-f]{40}"`), `"token":"tok-..."`},
	{regexp.MustCompile(`"access_key":"[A-Z0-9]{20}"`), `"access_key":"..."`},
	{regexp.MustCompile(`"secret_key":"[A-Za-z0-9]{40}"`), `"secret_key":"..."`},
}

type step struct {
	line      int
	cmd, want string
	skip      string // why it is not replayed
}

var (
	shellUse    = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	shellAssign = regexp.MustCompile(`(?:^|[\s;(])([A-Za-z_][A-Za-z0-9_]*)=`)
)

// sessions returns a page's shell commands in order, those to replay with
// their documented output, and the variables used before the page sets them.
func sessions(page string) (steps []step, problems []string) {
	set := map[string]bool{"PWD": true, "HOME": true} // the shell's own
	vars := func(line int, cmd string) {
		for _, m := range shellUse.FindAllStringSubmatch(cmd, -1) {
			if !set[m[1]] {
				problems = append(problems, fmt.Sprintf("line %d: $%s is used before the page sets it: %s", line, m[1], cmd))
			}
		}
		for _, m := range shellAssign.FindAllStringSubmatch(cmd, -1) {
			set[m[1]] = true
		}
	}
	lines := strings.Split(page, "\n")
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(strings.TrimLeft(lines[i], " "), "```")
		if !ok || (lang != "console" && lang != "sh") {
			continue
		}
		// A block in a list item is indented: read it without the indent.
		indent := strings.Repeat(" ", len(lines[i])-len(strings.TrimLeft(lines[i], " ")))
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			lines[end] = strings.TrimPrefix(lines[end], indent)
			end++
		}
		for i++; i < end; i++ {
			start := i + 1
			cmd := lines[i]
			if lang == "console" {
				var isCmd bool
				if cmd, isCmd = strings.CutPrefix(cmd, "$ "); !isCmd {
					continue
				}
			} else if c, _, _ := strings.Cut(cmd, " #"); strings.TrimSpace(c) == "" {
				continue
			} else {
				cmd = c
			}
			for i+1 < end {
				if strings.Count(cmd, "'")%2 == 1 { // a quoted argument goes on
					i++
					cmd += "\n" + lines[i]
				} else if strings.HasSuffix(cmd, `\`) {
					i++
					cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(lines[i])
				} else {
					break
				}
			}
			cmd = strings.TrimSpace(cmd)
			vars(start, cmd)
			s := step{line: start, cmd: cmd}
			switch {
			case lang == "sh":
				s.skip = "a sh block"
			case !strings.HasPrefix(cmd, "curl "):
				s.skip = "not a curl command"
			case shellUse.MatchString(cmd):
				problems = append(problems, fmt.Sprintf("line %d: a replayed command cannot use a shell variable: %s", start, cmd))
				s.skip = "a shell variable"
			}
			var want []string
			for lang == "console" && i+1 < end && !strings.HasPrefix(lines[i+1], "$ ") {
				i++
				want = append(want, lines[i])
			}
			s.want = strings.Join(want, "\n")
			steps = append(steps, s)
		}
	}
	return steps, problems
}

// shellWords splits a command line on spaces outside single quotes.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	inQuote, started := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote, started = !inQuote, true
		case r == ' ' && !inQuote:
			if started {
				words = append(words, b.String())
				b.Reset()
				started = false
			}
		default:
			b.WriteRune(r)
			started = true
		}
	}
	if started {
		words = append(words, b.String())
	}
	return words
}

// writeOut are the -w variables the pages use.
var writeOut = regexp.MustCompile(`%\{http_code\}|%header\{([^}]*)\}`)

// curlClient sends no Accept-Encoding, as curl without --compressed.
var curlClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// curl performs what curl would for the flags the pages use.
func curl(t *testing.T, base string, args []string) string {
	t.Helper()
	method, url, body, format := "GET", "", "", ""
	header := http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/8"}} // curl's own
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s", "-sS":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			header.Set(k, strings.TrimSpace(v))
		case "-d":
			i++
			body = args[i]
			if method == "GET" {
				method = "POST"
			}
		case "-w":
			i++
			format = args[i]
		default:
			if strings.HasPrefix(args[i], "-") {
				t.Fatalf("curl flag %s: the test does not know it", args[i])
			}
			url = strings.Replace(args[i], "http://127.0.0.1:8080", base, 1)
		}
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	if body != "" && header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
	}
	resp, err := curlClient.Do(req)
	if err != nil {
		return "curl: (52) Empty reply from server" // the connection closed without an answer
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if format != "" {
		w := writeOut.ReplaceAllStringFunc(format, func(v string) string {
			if name, ok := strings.CutPrefix(v, "%header{"); ok {
				return resp.Header.Get(strings.TrimSuffix(name, "}"))
			}
			return resp.Status[:3]
		})
		out = append(out, strings.ReplaceAll(w, `\n`, "\n")...)
	}
	return string(out)
}
