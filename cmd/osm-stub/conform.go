package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/osmstub/osmstub/internal/conform"
)

// runConform is the conform subcommand (osm-stub conform -h). Ctrl-C or
// SIGTERM ends the scenario, and the run still removes what it created; a
// second Ctrl-C quits at once.
func runConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
			stop() // the next Ctrl-C gets the default behaviour
			fmt.Fprintln(stderr, "osm-stub conform: interrupted; removing what the run created (Ctrl-C again quits at once)")
		case <-done:
		}
	}()
	err := conform.Main(ctx, args, stdout, stderr)
	close(done)
	<-finished // its message is written before the caller reads stderr
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
