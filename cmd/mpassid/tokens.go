package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/registry"
)

// stringList collects a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runTokens(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "tokens", "[--config FILE] create --name NAME --group GROUP [--group GROUP...]", `
Creates an API token of the management service and prints it once (only its
hash is stored). This is how an installation gets its first administrator
and how automation (provisioning, the load tool) gets access: a group is a
role of an organisation, e.g. APP_MPASSID_TALLENTAJA_1.2.246.562.10.00000000001
(an editor of the admin organisation may do everything).`)
	configPath := fs.String("config", "", "path of the YAML configuration file")
	name := fs.String("name", "", "what the token is for (shown in the token list)")
	var groups stringList
	fs.Var(&groups, "group", "a role group APP_MPASSID_<kind>_<organisation OID>; repeat for several")
	action, err := parseAction(fs, args)
	if err != nil {
		return err
	}
	if action != "create" {
		return usageError{fmt.Errorf("say create")}
	}
	if *name == "" || len(groups) == 0 {
		return usageError{fmt.Errorf("--name and at least one --group are required")}
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
	api, err := admin.New(admin.Config{PublicURL: cfg.Server.PublicURL},
		admin.Deps{Store: st, Registry: registry.NewRegistry(nil), Sealer: sealer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	info, err := api.CreateToken(ctx, *name, groups, "mpassid tokens (command line)", nil)
	if err != nil {
		return usageError{fmt.Errorf("create token: %w", err)}
	}
	fmt.Fprintln(env.stdout, info.Token)
	fmt.Fprintf(env.stderr, "token %s created for %s; it is shown only now\n", info.ID, strings.Join(groups, ", "))
	return nil
}
