package server

import (
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
		w := &capture{ResponseWriter: c.Response().Writer, limit: maxCheckedBody}
		c.Response().Writer = w
		defer func() { c.Response().Writer = w.ResponseWriter }()
		err := next(c)
		route := s.contractRoute(c)
		x := exchangeOf(c.Request().Context())
		if route == nil || x.forwarded || x.injected || w.truncated || !c.Response().Committed {
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

// maxCheckedBody caps the copy; the stub's bodies are far smaller.
const maxCheckedBody = 1 << 20
