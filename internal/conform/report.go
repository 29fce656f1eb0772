package conform

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats a report can be written in.
var Formats = []string{"text", "json", "markdown"}

// Write writes the report in format: text (one line a check, the answers
// under each that is not a pass), json (the Report as is) or markdown (for
// a bug report).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "text":
		return r.writeText(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "markdown":
		return r.writeMarkdown(w)
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// Summary is one line: the counts of each verdict and the cleanup's outcome.
func (r *Report) Summary() string {
	s := fmt.Sprintf("%d checks: %d pass, %d differ, %d violate the contract, %d failed, %d skipped",
		len(r.Checks), r.Count(Pass), r.Count(Differs), r.Count(Violates), r.Count(Failed), r.Count(Skipped))
	if n := r.Count(Skipped) - r.missing(); n > 0 {
		s += fmt.Sprintf(" (%d opt-in)", n)
	}
	if r.missing() > 0 && !r.AllowSkip && !r.Interrupted {
		s += " (a skipped check fails the run unless -allow-skip)"
	}
	if r.Interrupted {
		s += "; interrupted"
	}
	if r.Restored {
		return s + "; every ticket is as it was"
	}
	return s + "; NOT every ticket is as it was, see the cleanup"
}

func (r *Report) writeText(w io.Writer) error {
	p := &strings.Builder{}
	fmt.Fprintf(p, "conformance run against %s with tickets %s\n", r.Endpoint, strings.Join(r.Cases, ", "))
	for _, c := range r.Checks {
		fmt.Fprintf(p, "%-8s %s\n", strings.ToUpper(string(c.Verdict)), c.Name)
		if c.Verdict == Skipped {
			fmt.Fprintf(p, "         %s\n", c.Reason)
		}
		if c.Verdict == Pass || c.Verdict == Skipped {
			continue
		}
		fmt.Fprintf(p, "         request: %s\n", c.Request)
		for _, pr := range c.Problems {
			fmt.Fprintf(p, "         - %s\n", pr)
		}
		if c.Got != nil {
			fmt.Fprintf(p, "         got:  %s\n", oneLine(*c.Got))
			fmt.Fprintf(p, "         stub: %s\n", oneLine(*c.Stub))
		}
	}
	fmt.Fprintf(p, "cleanup:\n")
	for _, line := range r.Cleanup {
		fmt.Fprintf(p, "  %s\n", line)
	}
	fmt.Fprintf(p, "%s\n", r.Summary())
	_, err := io.WriteString(w, p.String())
	return err
}

func oneLine(r Response) string {
	s := fmt.Sprintf("%d", r.Status)
	if r.RequestID != "" {
		s += " X-Request-Id " + r.RequestID
	} else {
		s += " (no X-Request-Id)"
	}
	return s + " " + strings.TrimSpace(r.Body)
}

func (r *Report) writeMarkdown(w io.Writer) error {
	p := &strings.Builder{}
	fmt.Fprintf(p, "# Conformance run against %s\n\n", r.Endpoint)
	fmt.Fprintf(p, "Tickets: %s. %s.\n\n", code(strings.Join(r.Cases, ", ")), r.Summary())
	fmt.Fprintf(p, "| # | check | verdict |\n|---|---|---|\n")
	for i, c := range r.Checks {
		fmt.Fprintf(p, "| %d | %s | %s |\n", i+1, cell(c.Name), c.Verdict)
	}
	for i, c := range r.Checks {
		if c.Verdict == Pass {
			continue
		}
		fmt.Fprintf(p, "\n## %d. %s: %s\n\n", i+1, c.Name, c.Verdict)
		if c.Verdict == Skipped {
			fmt.Fprintf(p, "%s\n", c.Reason)
			continue
		}
		fmt.Fprintf(p, "Request: %s\n\n", code(c.Request))
		for _, pr := range c.Problems {
			fmt.Fprintf(p, "- %s\n", pr)
		}
		if c.Got != nil {
			fmt.Fprintf(p, "\nThe endpoint answered:\n\n```\n%s\n```\n\nThe stub answers:\n\n```\n%s\n```\n", oneLine(*c.Got), oneLine(*c.Stub))
		}
	}
	fmt.Fprintf(p, "\n## Cleanup\n\n")
	for _, line := range r.Cleanup {
		fmt.Fprintf(p, "- %s\n", line)
	}
	_, err := io.WriteString(w, p.String())
	return err
}

func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
