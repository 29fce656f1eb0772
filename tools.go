//go:build tools

// Package tools pins the code generator so that `make generate` needs nothing
// installed by hand: `go run` resolves it from go.mod.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
