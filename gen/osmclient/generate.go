// Package osmclient holds the models and the HTTP client generated from
// ../../openapi.yaml by oapi-codegen, apart from the server side (package
// gen) so that a program using package client links neither Echo nor
// kin-openapi. Never edit it by hand: change openapi.yaml and run
// `make generate`.
package osmclient

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config models.cfg.yaml ../../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config client.cfg.yaml ../../openapi.yaml
