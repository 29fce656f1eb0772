// Package osmstub is the root of the osmstub module: the OSM ticket-association
// contract (openapi.yaml), the Go client generated from it (package client),
// and a contract-validated stub server (package server, binary cmd/osm-stub).
package osmstub

import _ "embed"

// OpenAPI is openapi.yaml exactly as written, for tools that want the
// document itself rather than the parsed copy in package gen. The server
// serves gen.OpenAPI, the same bytes, which `make generate` copies there so
// that importing the server does not import this package (and tools.go).
//
//go:embed openapi.yaml
var OpenAPI []byte
