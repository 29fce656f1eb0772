// Package gen holds the server side of the code generated from
// ../openapi.yaml by oapi-codegen: the models, the Echo strict server
// interface, the embedded spec and a copy of the document itself (OpenAPI).
// The client and its own copy of the models are in gen/osmclient, so that the
// client never links the server's dependencies. Never edit it by hand: change
// openapi.yaml and run `make generate`.
package gen

import _ "embed"

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config models.cfg.yaml ../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config server.cfg.yaml ../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config spec.cfg.yaml ../openapi.yaml
//go:generate cp ../openapi.yaml openapi.yaml

// OpenAPI is openapi.yaml exactly as written, for GET /openapi.yaml. It is a
// copy (go:embed cannot reach a parent directory) rather than the root
// package's osmstub.OpenAPI, because the root package holds tools.go, and
// importing it would bring the code generator into every user's go.mod.
//
//go:embed openapi.yaml
var OpenAPI []byte
