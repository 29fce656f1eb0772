// Package gen holds the server side of the code generated from
// ../openapi.yaml by oapi-codegen: the models, the Echo strict server
// interface and the embedded spec. The client and its own copy of the models
// are in gen/osmclient, so that the client never links the server's
// dependencies. Never edit it by hand: change openapi.yaml and run
// `make generate`.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config models.cfg.yaml ../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config server.cfg.yaml ../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config spec.cfg.yaml ../openapi.yaml
