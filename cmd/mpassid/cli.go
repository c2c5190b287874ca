package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes. A configuration or usage error is 2, so that scripts and
// process supervisors can tell "fix the config" from "it failed at run time".
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks an error as the caller's: wrong flags or configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// command is one subcommand.
type command struct {
	name    string
	summary string
	// run parses args with its own FlagSet and does the work.
	run func(ctx context.Context, env *environment, args []string) error
}

// environment is what a subcommand may touch of the outside world; tests
// give their own.
type environment struct {
	environ []string
	stdout  io.Writer
	stderr  io.Writer
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the service in production (PostgreSQL)", run: runServe},
		{name: "dev", summary: "run everything locally on embedded SQLite with demo data", run: runDev},
		{name: "migrate", summary: "bring the database schema up to date", run: runMigrate},
		{name: "backup", summary: "copy the embedded SQLite database consistently while it runs", run: runBackup},
		{name: "orgsync", summary: "synchronise the organisation registry from Organisaatiopalvelu now", run: runOrgsync},
		{name: "loadtest", summary: "drive complete logins against running instances and report capacity", run: runLoadtest},
		{name: "tokens", summary: "create an API token of the management service", run: runTokens},
		{name: "keys", summary: "list the signing keys, or rotate them now", run: runKeys},
		{name: "import", summary: "import integrations from the national export JSON", run: runImport},
		{name: "export", summary: "export integrations as the national export JSON", run: runExport},
		{name: "version", summary: "print the version", run: runVersion},
	}
}

func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) int {
	env := &environment{environ: environ, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			// "mpassid help serve" is "mpassid serve --help".
			return run(ctx, []string{args[1], "--help"}, environ, stdout, stderr)
		}
		printUsage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		}
		fmt.Fprintf(stderr, "mpassid %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
	fmt.Fprintf(stderr, "mpassid: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "mpassid: the MPASSid education identity broker and its management service")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: mpassid <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'mpassid <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Start here: 'mpassid dev' runs the whole system on this machine.")
}

// newFlagSet makes a FlagSet whose usage text names the command and says
// what it does.
func newFlagSet(env *environment, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("mpassid "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := env.stdout
		fmt.Fprintf(w, "Usage: mpassid %s %s\n\n", name, synopsis)
		fmt.Fprintln(w, strings.TrimSpace(description))
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(env.stderr)
	}
	return fs
}

// parseFlagsWithArgs parses args, turning flag errors into usage errors,
// and returns the positional arguments.
func parseFlagsWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	return fs.Args(), nil
}

// parseAction parses "ACTION [flags]" or "[flags] ACTION": the action word
// may come before or after the flags. It returns the action ("" if none).
func parseAction(fs *flag.FlagSet, args []string) (string, error) {
	var action string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	rest, err := parseFlagsWithArgs(fs, args)
	if err != nil {
		return "", err
	}
	if action == "" && len(rest) == 1 {
		action, rest = rest[0], nil
	}
	if len(rest) != 0 {
		return "", usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))}
	}
	return action, nil
}

// parseFlags parses args of a command that takes no positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if _, err := parseFlagsWithArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return nil
}
