package server

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// NewLogHandler is slog's text handler (or, with json, its JSON handler)
// writing to w, which also writes the access log's one line per request by
// hand: the same bytes as slog would write, without building a record, at
// a fraction of its cost (BENCHMARKS.md). Every other line goes through
// slog. With opts.ReplaceAttr or opts.AddSource set, or once WithAttrs or
// WithGroup derive a handler from it, every line goes through slog.
func NewLogHandler(w io.Writer, json bool, opts *slog.HandlerOptions) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	var h slog.Handler
	if json {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if opts.ReplaceAttr != nil || opts.AddSource {
		return h
	}
	return &logHandler{Handler: h, w: w, json: json}
}

// logHandler is a slog handler with a fast path for access-log lines.
type logHandler struct {
	slog.Handler
	w    io.Writer
	json bool
}

// accessEntry is what one access-log line says.
type accessEntry struct {
	at        time.Time // when the line was logged (slog's record time)
	level     slog.Level
	method    string
	path      string
	status    int
	duration  time.Duration
	requestID string
	errorCode string
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// writeAccess writes e as slog's handler would have written a record made
// at t with the message "request" and e's fields as attributes: one Write
// of the whole line, as slog makes.
func (h *logHandler) writeAccess(t time.Time, e *accessEntry) {
	bp := lineBufs.Get().(*[]byte)
	b := (*bp)[:0]
	if h.json {
		b = appendJSONAccess(b, t, e)
	} else {
		b = appendTextAccess(b, t, e)
	}
	_, _ = h.w.Write(b)
	if cap(b) <= 4<<10 { // a huge path does not stay in the pool
		*bp = b
		lineBufs.Put(bp)
	}
}

func appendTextAccess(b []byte, t time.Time, e *accessEntry) []byte {
	if !t.IsZero() { // slog leaves a zero time out
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, t)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = appendTextString(b, e.level.String())
	b = append(b, " msg=request method="...)
	b = appendTextString(b, e.method)
	b = append(b, " path="...)
	b = appendTextString(b, e.path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, " duration="...)
	b = append(b, e.duration.String()...)
	b = append(b, " request_id="...)
	b = appendTextString(b, e.requestID)
	b = append(b, " error_code="...)
	b = appendTextString(b, e.errorCode)
	return append(b, '\n')
}

func appendJSONAccess(b []byte, t time.Time, e *accessEntry) []byte {
	b = append(b, '{')
	if !t.IsZero() { // slog leaves a zero time out
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendSlogJSONString(b, e.level.String())
	b = append(b, `,"msg":"request","method":`...)
	b = appendSlogJSONString(b, e.method)
	b = append(b, `,"path":`...)
	b = appendSlogJSONString(b, e.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(e.duration), 10)
	b = append(b, `,"request_id":`...)
	b = appendSlogJSONString(b, e.requestID)
	b = append(b, `,"error_code":`...)
	b = appendSlogJSONString(b, e.errorCode)
	return append(b, "}\n"...)
}

// appendRFC3339Millis is slog's text time: RFC 3339 with exactly three
// digits of milliseconds. The date, the time to the second and the zone
// are formatted once a second (lastStamp), only the milliseconds on every
// line.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	st := lastStamp.Load()
	if st == nil || st.sec != sec || st.loc != loc {
		st = &stamp{sec: sec, loc: loc, head: t.Format("2006-01-02T15:04:05."), zone: t.Format("Z07:00")}
		lastStamp.Store(st)
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, st.head...)
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, st.zone...)
}

// stamp is one second's formatted date, time and zone, in one location.
type stamp struct {
	sec        int64
	loc        *time.Location
	head, zone string
}

var lastStamp atomic.Pointer[stamp]

// jsonSafe reports whether slog writes the ASCII byte c as it is inside a
// JSON string (and, in text, without quoting when it is not a space or '=').
func jsonSafe(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }

// appendTextString is slog's text value of a string: as it is, or quoted
// with strconv when slog would quote it.
func appendTextString(b []byte, s string) []byte {
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c == ' ' || c == '=' || !jsonSafe(c)) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendSlogJSONString is slog's JSON string, quotes included.
func appendSlogJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), `\u202`...)
			b = append(b, hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// logAccess writes one access-log line: by hand when the server's logger
// is a NewLogHandler, through slog otherwise.
func (s *Server) logAccess(ctx context.Context, e *accessEntry) {
	if h, ok := s.log.Handler().(*logHandler); ok {
		if h.Enabled(ctx, e.level) {
			h.writeAccess(e.at, e)
		}
		return
	}
	s.log.LogAttrs(ctx, e.level, "request", // the record's time is slog's own

		slog.String("method", e.method),
		slog.String("path", e.path),
		slog.Int("status", e.status),
		slog.Duration("duration", e.duration),
		slog.String("request_id", e.requestID),
		slog.String("error_code", e.errorCode),
	)
}
