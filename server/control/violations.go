package control

import (
	"context"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/violation"
)

// ListViolations implements controlapi.StrictServerInterface.
func (c *API) ListViolations(context.Context, controlapi.ListViolationsRequestObject) (controlapi.ListViolationsResponseObject, error) {
	vs, total := c.s.Violations()
	if vs == nil {
		vs = []violation.Violation{}
	}
	return controlapi.ListViolations200JSONResponse{Body: controlapi.ViolationList{Total: total, Violations: vs}}, nil
}

// ClearViolations implements controlapi.StrictServerInterface.
func (c *API) ClearViolations(context.Context, controlapi.ClearViolationsRequestObject) (controlapi.ClearViolationsResponseObject, error) {
	c.s.ClearViolations()
	return controlapi.ClearViolations204Response{}, nil
}
