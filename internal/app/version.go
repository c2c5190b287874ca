package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version describes the running binary from the build information Go embeds
// (module version and VCS revision), so that no release step has to stamp it.
func Version() string {
	version, revision, modified := "devel", "", false
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
	return fmt.Sprintf("%s %s %s/%s", out, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
