package server

import (
	"log/slog"
	"net/http"
	"time"
)

// NewHTTPServer returns the http.Server osm-stub serves h with: limits
// against slow or greedy clients (headers within 5 s, the whole request
// within 30 s, the answer written within 30 s, an idle connection kept
// 120 s, headers of at most 64 KiB) and net/http's own errors logged to log
// at warning level (nil: the standard logger).
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	if log != nil {
		hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return hs
}
