package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

// TestReadmeSessions replays the README's curl sessions against a fresh
// stub, section by section, and checks that every documented response is
// what the stub answers: the README cannot drift from the binary.
func TestReadmeSessions(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range sections(string(readme)) {
		t.Run(sec.title, func(t *testing.T) {
			srv, err := server.New(server.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			for _, step := range sec.steps {
				got := requestIDs.ReplaceAllString(curl(t, ts.URL, step.args), `"request_id":"..."`)
				if strings.TrimSpace(got) != strings.TrimSpace(step.want) {
					t.Errorf("$ curl %s\ngot:\n%s\nREADME says:\n%s", strings.Join(step.args, " "), got, step.want)
				}
			}
		})
	}
}

// requestIDs are different on every run; the README shows them as "...".
var requestIDs = regexp.MustCompile(`"request_id":"[0-9a-f]{32}"`)

type step struct {
	args []string
	want string
}

type section struct {
	title string
	steps []step
}

// sections returns, for each "## " or "### " heading, the curl commands of
// its console blocks with their documented output. Commands the test cannot
// replay (shell loops, timing, dropped connections) end the section's replay.
func sections(readme string) []section {
	var out []section
	var cur *section
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ") {
			out = append(out, section{title: strings.TrimLeft(line, "# ")})
			cur = &out[len(out)-1]
			continue
		}
		if line != "```console" || cur == nil {
			continue
		}
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			if !strings.HasPrefix(lines[i], "$ curl ") {
				continue
			}
			cmd := strings.TrimPrefix(lines[i], "$ ")
			for i+1 < len(lines) {
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
			var want []string
			for i+1 < len(lines) && lines[i+1] != "```" && !strings.HasPrefix(lines[i+1], "$ ") {
				i++
				want = append(want, lines[i])
			}
			cur.steps = append(cur.steps, step{args: shellWords(cmd)[1:], want: strings.Join(want, "\n")})
		}
	}
	var keep []section
	for _, s := range out {
		if len(s.steps) > 0 {
			keep = append(keep, s)
		}
	}
	return keep
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

var writeOut = regexp.MustCompile(`%\{http_code\}`)

// run performs what curl would for the flags the README uses.
func curl(t *testing.T, base string, args []string) string {
	t.Helper()
	method, url, body, format := "GET", "", "", ""
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s", "-sS":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			header.Add(k, strings.TrimSpace(v))
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "curl: (52) Empty reply from server" // the connection closed without an answer
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if format != "" {
		w := writeOut.ReplaceAllString(format, resp.Status[:3])
		out = append(out, strings.ReplaceAll(w, `\n`, "\n")...)
	}
	return string(out)
}
