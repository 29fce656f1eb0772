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
	told := make(chan struct{})
	dontTell := context.AfterFunc(ctx, func() {
		defer close(told)
		stop() // the next Ctrl-C gets the default behaviour
		fmt.Fprintln(stderr, "osm-stub conform: interrupted; removing what the run created (Ctrl-C again quits at once)")
	})
	err := conform.Main(ctx, args, stdout, stderr)
	if !dontTell() {
		<-told // its message is written before the caller reads stderr
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
