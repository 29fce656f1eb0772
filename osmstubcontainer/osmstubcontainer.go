// Package osmstubcontainer starts the osm-stub container image for tests in
// any Go project, as the Testcontainers modules for other services do:
//
//	stub, err := osmstubcontainer.Run(ctx)
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer stub.Terminate(ctx)
//	err = stub.Client.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team")
//
// It is a module of its own, so that neither the main module nor a program
// that imports package client pulls in testcontainers-go. Go tests in this
// repository can use package osmstubtest instead, which needs no Docker.
package osmstubcontainer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/osmstub/osmstub/client"
)

// DefaultImage is the image Run starts unless WithImage says otherwise.
const DefaultImage = "osmstub/osm-stub:latest"

// DemoToken is the IAM token of the demo user "demo" in the built-in demo
// data; Container.Client uses it.
const DemoToken = "demo-token"

const port = "8080/tcp"

// Container is a running stub.
type Container struct {
	testcontainers.Container

	// URL is the stub's base URL as seen from the test, such as
	// http://127.0.0.1:32768.
	URL string
	// Client is a client for the demo user (token DemoToken). With
	// WithFixtures, it works only if the fixtures give some user that
	// token.
	Client *client.Client

	controlToken string
	http         *http.Client
}

// Option configures Run. Every testcontainers.ContainerCustomizer is an
// option too (testcontainers.WithEnv, WithLogger...).
type Option = testcontainers.CustomizeRequestOption

// WithImage runs another image than DefaultImage, such as a version tag.
func WithImage(ref string) Option {
	return func(req *testcontainers.GenericContainerRequest) error {
		req.Image = ref
		return nil
	}
}

// WithFixtures starts the stub on the data of a fixtures file (YAML or JSON,
// the format of `osm-stub -fixtures`) instead of the demo data; reset
// restores it.
func WithFixtures(path string) Option {
	return func(req *testcontainers.GenericContainerRequest) error {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("osmstubcontainer: fixtures: %w", err)
		}
		inside := "/fixtures" + strings.ToLower(filepath.Ext(path))
		req.Files = append(req.Files, testcontainers.ContainerFile{HostFilePath: path, ContainerFilePath: inside, FileMode: 0o444})
		req.Env["OSM_STUB_FIXTURES"] = inside
		return nil
	}
}

// Run starts the stub's image, waits until it answers GET /healthz and
// returns it with the control API enabled behind a random token. Terminate
// it when done.
func Run(ctx context.Context, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        DefaultImage,
			ExposedPorts: []string{port},
			Env: map[string]string{
				"OSM_STUB_CONTROL":       "true",
				"OSM_STUB_CONTROL_TOKEN": token,
			},
			WaitingFor: wait.ForHTTP("/healthz").WithPort(port).WithStartupTimeout(60 * time.Second),
		},
		Started: true,
	}
	for _, opt := range opts {
		if err := opt.Customize(&req); err != nil {
			return nil, err
		}
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	c := &Container{Container: ctr, controlToken: token, http: &http.Client{Timeout: 30 * time.Second}}
	if err != nil {
		return c, fmt.Errorf("osmstubcontainer: start %s: %w", req.Image, err)
	}
	if c.URL, err = ctr.PortEndpoint(ctx, port, "http"); err != nil {
		return c, fmt.Errorf("osmstubcontainer: %w", err)
	}
	if c.Client, err = client.New(c.URL, client.WithToken(DemoToken)); err != nil {
		return c, fmt.Errorf("osmstubcontainer: %w", err)
	}
	return c, nil
}

// Terminate stops and removes the container. It does nothing on a nil
// Container or one that was never created, so it can be deferred right after
// Run whatever Run returned.
func (c *Container) Terminate(ctx context.Context, opts ...testcontainers.TerminateOption) error {
	if c == nil {
		return nil
	}
	// TerminateContainer also copes with a typed nil from a failed start.
	return testcontainers.TerminateContainer(c.Container, append([]testcontainers.TerminateOption{testcontainers.StopContext(ctx)}, opts...)...)
}

// Reset restores the data the stub started with (or last loaded with
// LoadFixtures) and clears every fault: POST /_stub/reset.
func (c *Container) Reset(ctx context.Context) error {
	return c.control(ctx, http.MethodPost, "/_stub/reset", nil, nil)
}

// LoadFixtures replaces the whole state with a data set in the JSON form of
// a fixtures file, and makes it what Reset restores: PUT /_stub/fixtures.
func (c *Container) LoadFixtures(ctx context.Context, dataset []byte) error {
	return c.control(ctx, http.MethodPut, "/_stub/fixtures", dataset, nil)
}

// State returns the whole state as JSON, in the form LoadFixtures takes:
// GET /_stub/state.
func (c *Container) State(ctx context.Context) ([]byte, error) {
	var buf bytes.Buffer
	err := c.control(ctx, http.MethodGet, "/_stub/state", nil, &buf)
	return buf.Bytes(), err
}

// ControlToken is the bearer token of the control API, for calls the
// helpers above do not cover (see docs/control-api.md).
func (c *Container) ControlToken() string { return c.controlToken }

func (c *Container) control(ctx context.Context, method, path string, body []byte, out io.Writer) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return fmt.Errorf("osmstubcontainer: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.controlToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("osmstubcontainer: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("osmstubcontainer: %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return &ControlError{Method: method, Path: path, StatusCode: resp.StatusCode, Body: string(data)}
	}
	if out != nil {
		_, err = out.Write(data)
	}
	return err
}

// ControlError is a control API call the stub refused.
type ControlError struct {
	Method, Path string
	StatusCode   int
	Body         string // the stub's error body, which names the field at fault
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("osmstubcontainer: %s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, strings.TrimSpace(e.Body))
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("osmstubcontainer: control token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
