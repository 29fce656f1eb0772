package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter batches log lines: under load the stub writes one access-log
// line per request, and a write system call for each costs throughput
// (measured in BENCHMARKS.md's history). Lines reach the destination within
// flushEvery, at once for lines logged with Flush, and all of them when
// the stub stops; a SIGKILL may lose the last flushEvery of them.
type logWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const flushEvery = 100 * time.Millisecond

func newLogWriter(out io.Writer) *logWriter {
	l := &logWriter{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go l.flushLoop()
	return l
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Flush writes out what is buffered.
func (l *logWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.w.Flush()
}

func (l *logWriter) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.Flush()
		case <-l.stop:
			l.Flush()
			return
		}
	}
}

// Close flushes and stops the background flushing.
func (l *logWriter) Close() {
	close(l.stop)
	<-l.done
}
