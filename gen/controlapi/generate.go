// Package controlapi holds the code generated from ../../server/control/control.openapi.yaml,
// the stub's own control API under /_stub/, by oapi-codegen: the models, the
// Echo strict server interface and the embedded spec. Never edit it by hand:
// change the document and run `make generate`.
package controlapi

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config models.cfg.yaml ../../server/control/control.openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config server.cfg.yaml ../../server/control/control.openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config spec.cfg.yaml ../../server/control/control.openapi.yaml
