package oidc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The discovery document is part of the contract with services: any change
// must be deliberate (go test -run Golden -update).
func TestDiscoveryGolden(t *testing.T) {
	doc, err := discoveryDocument("https://mpassid.example")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "discovery.golden.json")
	if *update {
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("discovery document changed; run go test -run Golden -update and review the diff:\n%s", doc)
	}
}

func TestNewChecksConfig(t *testing.T) {
	e := newEnv(t)
	good := Config{Issuer: "https://mpassid.example", PairwiseSalt: make([]byte, 16)}
	deps := Deps{Flow: e.flow, Keys: e.p.keys, Runtime: e.st, OpenSecret: e.p.openSecret, Sealer: e.p.sealer}
	if _, err := New(good, deps); err != nil {
		t.Fatal(err)
	}
	for _, iss := range []string{"", "mpassid.example", "https://mpassid.example/", "https://mpassid.example?x", "ftp://x", "https://u@x"} {
		c := good
		c.Issuer = iss
		if _, err := New(c, deps); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
	c := good
	c.PairwiseSalt = []byte("short")
	if _, err := New(c, deps); err == nil {
		t.Error("short salt accepted")
	}
	c = good
	c.CodeLifetime = -1
	if _, err := New(c, deps); err == nil {
		t.Error("negative lifetime accepted")
	}
	d := deps
	d.Runtime = nil
	if _, err := New(good, d); err == nil {
		t.Error("nil runtime accepted")
	}
}
