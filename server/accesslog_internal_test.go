package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestAccessLineMatchesSlog holds the hand-written access-log line to the
// bytes slog's own handlers write for the same record, in both formats.
func TestAccessLineMatchesSlog(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 256; c++ {
		all.WriteByte(byte(c))
	}
	strs := []string{
		"", "POST", "/v2/servicerequest/cases/DEMO-1/relations", "a b", "a=b", `q"uote`, `back\slash`,
		"tab\there", "new\nline", "\r", "\x00\x01\x1f\x7f", "<>&", "é", "\u2028\u2029", "\u00a0", "\u200b",
		"\xff", "bad\xc3", "日本語", "OSM.01010043", all.String(),
	}
	times := []time.Time{
		{}, // slog leaves it out
		time.Date(2026, 12, 2, 8, 52, 5, 0, time.UTC),
		// The same second again (appendRFC3339Millis formats it once),
		// then in another zone.
		time.Date(2026, 12, 2, 8, 52, 5, 7654321, time.UTC),
		time.Date(2026, 12, 2, 8, 52, 5, 7654321, time.UTC).In(time.FixedZone("", 3600)),
		time.Date(2026, 12, 2, 8, 52, 5, 999999999, time.FixedZone("", 8*3600)),
		time.Date(2026, 1, 2, 3, 4, 5, 120000, time.FixedZone("", -5*3600-1800)),
	}
	durations := []time.Duration{0, 1, 999, 1500, 2 * time.Millisecond, 3*time.Second + 7, -5}
	for _, json := range []bool{false, true} {
		for i, s := range strs {
			e := accessEntry{
				level:     []slog.Level{slog.LevelInfo, slog.LevelDebug}[i%2],
				method:    s,
				path:      strs[(i+1)%len(strs)],
				status:    []int{200, 499, 0, 1000}[i%4],
				duration:  durations[i%len(durations)],
				requestID: strs[(i+2)%len(strs)],
				errorCode: s,
			}
			tm := times[i%len(times)]
			var want, got bytes.Buffer
			var h slog.Handler
			if json {
				h = slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})
			} else {
				h = slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})
			}
			r := slog.NewRecord(tm, e.level, "request", 0)
			r.AddAttrs(slog.String("method", e.method), slog.String("path", e.path), slog.Int("status", e.status),
				slog.Duration("duration", e.duration), slog.String("request_id", e.requestID), slog.String("error_code", e.errorCode))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			NewLogHandler(&got, json, nil).(*logHandler).writeAccess(tm, &e)
			if got.String() != want.String() {
				t.Errorf("json=%v, case %d:\n got %q\nwant %q", json, i, got.String(), want.String())
			}
		}
	}
}

// TestLogHandlerFallsBack: options that change what slog writes turn the
// hand-written line off.
func TestLogHandlerFallsBack(t *testing.T) {
	replace := func(_ []string, a slog.Attr) slog.Attr { return a }
	for _, opts := range []*slog.HandlerOptions{{ReplaceAttr: replace}, {AddSource: true}} {
		if _, fast := NewLogHandler(&bytes.Buffer{}, false, opts).(*logHandler); fast {
			t.Errorf("%+v: got the hand-written access log", opts)
		}
	}
	if _, fast := NewLogHandler(&bytes.Buffer{}, true, nil).(*logHandler); !fast {
		t.Error("nil options: want the hand-written access log")
	}
}

// TestAccessLogLevel: below the handler's level, no line.
func TestAccessLogLevel(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{log: slog.New(NewLogHandler(&buf, false, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	s.logAccess(context.Background(), &accessEntry{level: slog.LevelDebug, method: "GET", path: "/"})
	if buf.Len() != 0 {
		t.Errorf("debug line at info level: %q", buf.String())
	}
	s.logAccess(context.Background(), &accessEntry{level: slog.LevelInfo, method: "GET", path: "/"})
	if !strings.Contains(buf.String(), " msg=request method=GET path=/ status=0 ") {
		t.Errorf("info line: %q", buf.String())
	}
}
