package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version describes the running binary from the build information Go embeds
// (module version, VCS revision, and whether it was built with
// GOEXPERIMENT=boringcrypto), so that no release step has to stamp it.
func Version() string {
	version, revision, modified, crypto := "devel", "", false, "Go crypto"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "GOEXPERIMENT":
				// Operators need to see which build they run: BoringCrypto
				// signs RSA at about twice the speed (docs/operations.md).
				if strings.Contains(s.Value, "boringcrypto") {
					crypto = "BoringCrypto"
				}
			}
		}
	}
	out := "mpassid " + version
	if revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		out += " (" + revision
		if modified {
			out += ", modified"
		}
		out += ")"
	}
	return fmt.Sprintf("%s %s %s/%s, %s", out, runtime.Version(), runtime.GOOS, runtime.GOARCH, crypto)
}
