package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mpassid/mpassid/internal/store/sqlite"
)

func runBackup(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "backup", "--to FILE [--database FILE | --config FILE]", `
Writes a consistent copy of the embedded SQLite database to a new file while
the service keeps running: everything committed before the copy began, in one
compact file (no -wal beside it). It never overwrites a file.

To restore: stop the service, remove the database file and the -wal and -shm
files beside it, put the copy in the database's place, and start the service
with the same master key (without it the copy's signing keys and secrets
cannot be opened). On PostgreSQL, back up with pg_dump or continuous
archiving instead.`)
	to := fs.String("to", "", "the backup file to write (must not exist)")
	database := fs.String("database", "", "the SQLite database file (default: database.dsn of the configuration)")
	configPath := fs.String("config", "", "path of the YAML configuration file, when --database is not given")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageError{errors.New("--to: name the backup file to write")}
	}
	path := *database
	if path == "" {
		if *configPath == "" && !hasDatabaseEnv(env) {
			return usageError{errors.New("--database or --config: say which database to back up (mpassid dev keeps it in ./mpassid-data/mpassid.db)")}
		}
		cfg, err := loadConfig(env, *configPath, "")
		if err != nil {
			return err
		}
		if cfg.Database.Driver != "sqlite" {
			return usageError{fmt.Errorf("the configured database is %s: back it up with pg_dump or continuous archiving; this command copies an embedded SQLite database", cfg.Database.Driver)}
		}
		path = cfg.Database.DSN
	}
	if err := sqlite.Backup(ctx, path, *to); err != nil {
		return err
	}
	size := ""
	if fi, err := os.Stat(*to); err == nil {
		size = fmt.Sprintf(" (%d bytes)", fi.Size())
	}
	fmt.Fprintf(env.stdout, "backed up %s to %s%s\n", path, *to, size)
	return nil
}

// hasDatabaseEnv says whether the environment names a database, so that a
// configuration may come from the environment alone.
func hasDatabaseEnv(env *environment) bool {
	for _, kv := range env.environ {
		if strings.HasPrefix(kv, "MPASSID_DATABASE_DSN=") {
			return true
		}
	}
	return false
}
