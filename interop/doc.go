// Package interop holds tests that drive the stub with Huawei Cloud's
// official Go SDK (services/osm/v2). It is a module of its own so that the
// SDK, a large download, never becomes a dependency of the main module.
package interop
