package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"text/tabwriter"

	"github.com/mpassid/mpassid/internal/keys"
)

func runKeys(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "keys", "[--config FILE] list | rotate [--alg RS256|ES256]", `
Lists the signing keys, or takes one rotation step now: publish a new next
key, or (when one is published) make it current and the current one
previous. Instances pick the change up within seconds. The service rotates
on its own every keys.rotation_interval; this is for an operator who needs
it sooner (a suspected key compromise, say).`)
	configPath := fs.String("config", "", "path of the YAML configuration file")
	alg := fs.String("alg", "", "algorithm to rotate: RS256 (SAML and OIDC) or ES256; default both")
	action, err := parseAction(fs, args)
	if err != nil {
		return err
	}
	if action != "list" && action != "rotate" {
		return usageError{fmt.Errorf("say list or rotate")}
	}
	if *alg != "" && *alg != keys.RS256 && *alg != keys.ES256 {
		return usageError{fmt.Errorf("--alg: must be RS256 or ES256")}
	}
	cfg, log, st, err := openMigrated(ctx, env, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	sealer, err := keys.LoadSealer(cfg.Keys.MasterKeyFile, cfg.Keys.MasterKey)
	if err != nil {
		return err
	}
	m, err := keys.NewManager(st, sealer, keys.Options{RSABits: cfg.Keys.RSABits, Locker: st})
	if err != nil {
		return err
	}
	if action == "rotate" {
		algs := keys.Algorithms()
		if *alg != "" {
			algs = []string{*alg}
		}
		for _, a := range algs {
			if err := m.Rotate(ctx, a); err != nil {
				return fmt.Errorf("rotate %s: %w", a, err)
			}
			log.Info("signing key rotation step", "algorithm", a)
		}
	}
	recs, err := st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALGORITHM\tSTATE\tSINCE\tCERTIFICATE EXPIRES")
	for _, k := range recs {
		expires := "-"
		if cert, err := x509.ParseCertificate(k.CertificateDER); err == nil {
			expires = cert.NotAfter.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, k.UpdatedAt.UTC().Format("2006-01-02 15:04"), expires)
	}
	return tw.Flush()
}
