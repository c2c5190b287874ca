package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/keys"
)

func runExport(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "export", "[--config FILE] [--out FILE]", `
Writes every integration (identity providers, services, service sets) as
JSON in the national management service's export shape, for backup, review or
moving to another installation. Secrets are never exported in clear.`)
	configPath := fs.String("config", "", "path of the YAML configuration file")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, _, st, err := openMigrated(ctx, env, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	bundle, err := exchange.Export(ctx, st)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	data, err := json.MarshalIndent(bundle, "", "  ")
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	data = append(data, '\n')
	if *out == "" {
		_, err = env.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(env.stderr, "exported %d identity providers, %d services, %d service sets to %s\n",
		len(bundle.IdentityProviders), len(bundle.Services), len(bundle.IntegrationGroups), *out)
	return nil
}

func runImport(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "import", "[--config FILE] [--dry-run] FILE...", `
Imports integrations from JSON files in the national management service's
export shape (identityProviders, services, integrationGroups; several files
may be given, as the national export splits them by type), keeping their ids.
Every record is checked before anything is written: a bad record changes
nothing. With --dry-run it only reports what would change. Secrets given in
clear are sealed with the master key. Running brokers pick the changes up
within seconds.`)
	configPath := fs.String("config", "", "path of the YAML configuration file")
	dryRun := fs.Bool("dry-run", false, "report what would change, change nothing")
	files, err := parseFlagsWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{fmt.Errorf("name at least one JSON file to import")}
	}
	var bundle exchange.Bundle
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return usageError{fmt.Errorf("read %s: %w", f, err)}
		}
		b, err := exchange.DecodeBundle(data)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", f, err)}
		}
		bundle.IdentityProviders = append(bundle.IdentityProviders, b.IdentityProviders...)
		bundle.Services = append(bundle.Services, b.Services...)
		bundle.ServiceProviders = append(bundle.ServiceProviders, b.ServiceProviders...)
		bundle.IntegrationGroups = append(bundle.IntegrationGroups, b.IntegrationGroups...)
	}
	cfg, _, st, err := openMigrated(ctx, env, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	sealer, err := keys.LoadSealer(cfg.Keys.MasterKeyFile, cfg.Keys.MasterKey)
	if err != nil {
		return err
	}
	report, err := exchange.Import(ctx, st, &bundle, exchange.ImportOptions{DryRun: *dryRun, Actor: "mpassid import", Sealer: sealer})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, c := range report.Changes {
		if c.Action != "unchanged" {
			fmt.Fprintf(env.stdout, "%-9s %s %d %q\n", c.Action, c.Role, c.ID, c.Name)
		}
	}
	for _, w := range report.Warnings {
		fmt.Fprintf(env.stdout, "warning: %s\n", w)
	}
	created, updated, unchanged := report.Counts()
	verb := "imported"
	if *dryRun {
		verb = "dry run, nothing written"
	}
	fmt.Fprintf(env.stdout, "%s: %d created, %d updated, %d unchanged\n", verb, created, updated, unchanged)
	return nil
}
