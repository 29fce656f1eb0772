package server

import (
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/internal/violation"
)

// Response checks (Options.ValidateResponses): every answer the stub
// itself gives to a contract request is checked against the contract, and
// a broken rule is a violation (GET /_stub/violations), so that a stub bug
// shows at once. Answers forwarded from an upstream are checked by the
// proxy, and injected faults, which break the contract on purpose, are
// not checked.

// checkResponses sits outside the access log, which writes the error
// answers, so that it sees every answer as sent.
func (s *Server) checkResponses(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.validateResponses {
			return next(c)
		}
		w := teePool.Get().(*tee)
		w.ResponseWriter = c.Response().Writer
		c.Response().Writer = w
		defer func() {
			c.Response().Writer = w.ResponseWriter
			w.release()
		}()
		err := next(c)
		route := s.contractRoute(c)
		x := exchangeOf(c.Request().Context())
		if route == nil || x.forwarded || x.injected || !c.Response().Committed {
			return err
		}
		vs := violation.CheckRouteResponse(route, c.Response().Status, c.Response().Header(), w.body)
		for i := range vs {
			vs[i].RequestID = x.id
		}
		s.violations.Add(vs...)
		return err
	}
}

// tee keeps a copy of the body written through it.
type tee struct {
	http.ResponseWriter
	body []byte
}

func (t *tee) Write(p []byte) (int, error) {
	if len(t.body)+len(p) <= maxCheckedBody {
		t.body = append(t.body, p...)
	}
	return t.ResponseWriter.Write(p)
}

func (t *tee) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func (t *tee) release() {
	t.ResponseWriter = nil
	if cap(t.body) <= 16<<10 {
		t.body = t.body[:0]
		teePool.Put(t)
	}
}

// maxCheckedBody caps the copy; the stub's bodies are far smaller.
const maxCheckedBody = 1 << 20

var teePool = sync.Pool{New: func() any { return &tee{body: make([]byte, 0, 512)} }}
