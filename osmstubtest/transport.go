package osmstubtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

// ErrDropped is what a client of a NoListener stub sees when a fault drops
// the connection; it wraps io.ErrUnexpectedEOF, as a real dropped
// connection does.
var ErrDropped = fmt.Errorf("osmstubtest: connection dropped by an injected fault: %w", io.ErrUnexpectedEOF)

// handlerTransport sends requests straight to the handler: no socket, no
// goroutines, same answers.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:1"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			resp, err = nil, ErrDropped
		}
	}()
	t.h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp = rec.Result()
	resp.Request = req
	return resp, nil
}
