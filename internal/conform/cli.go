package conform

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/osmstub/osmstub/client"
)

// EnvToken is read for -token's default, so that a token need not appear
// on a command line (where other users of the machine can see it).
const EnvToken = "OSM_CONFORM_TOKEN"

// ErrNotConforming: the run finished and some check differs, violates the
// contract, failed or was skipped (without -allow-skip), or the cleanup
// could not restore the state.
var ErrNotConforming = errors.New("the endpoint does not conform")

// Main is the osm-stub conform subcommand: it parses args, runs the
// scenario and writes the report to stdout; usage and errors go to stderr.
// It returns flag.ErrHelp for -h, an error wrapping ErrNotConforming when
// the report is not clean, and ErrInterrupted when ctx ended first (the
// report and its cleanup are written all the same).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, format, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	rep, err := Run(ctx, cfg)
	if rep == nil {
		return err
	}
	if werr := rep.Write(stdout, format); werr != nil {
		return errors.Join(err, werr)
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("%w: %s", ErrNotConforming, rep.Summary())
	}
	return nil
}

func parseArgs(args []string, stderr io.Writer) (Config, string, error) {
	var cfg Config
	var cases, format string
	fs := flag.NewFlagSet("osm-stub conform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "base URL of the implementation to check, e.g. https://osm.ap-southeast-3.myhuaweicloud.com or http://127.0.0.1:8080")
	fs.StringVar(&cfg.Credential.Token, "token", os.Getenv(EnvToken), "IAM token sent as X-Auth-Token (env "+EnvToken+"); without one, requests are signed with the AK/SK in "+client.EnvAK+" and "+client.EnvSK+" (and "+client.EnvDomainID+", "+client.EnvSecurityToken+" when set)")
	if cfg.Credential.Token != "" {
		fs.Lookup("token").DefValue = "xxxxx" // -h: not the token from the environment
	}
	fs.StringVar(&cases, "cases", "", fmt.Sprintf("%d to %d comma-separated IDs of tickets you own; the run only acts on these (how many each check needs is listed above)", Needs[0].Cases, maxCases))
	fs.StringVar(&cfg.Group, "group", "", "group_id to send with creates and deletes (optional)")
	fs.StringVar(&format, "format", "text", "report format: "+strings.Join(Formats, ", "))
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "time limit of each request")
	fs.BoolVar(&cfg.AllowSkip, "allow-skip", false, "exit 0 even when checks were skipped for want of tickets (they are still listed, with the reason)")
	fs.BoolVar(&cfg.AllowCreate, "allow-create", false, "also open ONE REAL TICKET (with a .txt attachment and a message), check it, and cancel it at the end (also on Ctrl-C). "+
		"Against the live service that ticket reaches Huawei's support staff: use it only where that is acceptable. Without it, those checks are skipped and do not fail the run")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: osm-stub conform -endpoint URL [-token TOKEN] -cases ID,ID[,ID,ID,ID] [flags]\n\n"+
			"Runs a safe, self-cleaning scenario against an implementation of the OSM v2 ticket API,\n"+
			"validates every answer against openapi.yaml and compares it with what osm-stub answers.\n"+
			"It acts only on the given tickets and removes every association it created, also on Ctrl-C.\n"+
			"It opens no ticket unless -allow-create is given; then it cancels the one it opened, also on Ctrl-C.\n\n"+
			"Tickets (free of associations) the checks need:\n")
		for _, n := range Needs {
			fmt.Fprintf(stderr, "  %d  %s\n", n.Cases, n.Checks)
		}
		fmt.Fprintf(stderr, "A check that cannot run is SKIPPED, with the reason, and fails the run unless -allow-skip.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	if fs.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if !slices.Contains(Formats, format) {
		return cfg, "", fmt.Errorf("-format %q: want one of %s", format, strings.Join(Formats, ", "))
	}
	if cases != "" {
		for _, id := range strings.Split(cases, ",") {
			cfg.Cases = append(cfg.Cases, strings.TrimSpace(id))
		}
	}
	if cfg.Credential.Token == "" {
		cfg.Credential = Credential{
			AK: os.Getenv(client.EnvAK), SK: os.Getenv(client.EnvSK),
			DomainID: os.Getenv(client.EnvDomainID), SecurityToken: os.Getenv(client.EnvSecurityToken),
		}
	}
	if cfg.Endpoint == "" {
		return cfg, "", errors.New("-endpoint is required")
	}
	return cfg, format, checkConfig(&cfg)
}
