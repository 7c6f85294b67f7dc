package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionCmd prints the version, so a deployed binary can say what it is.
type versionCmd struct{}

// Run prints "bluepoint <version> <go version>".
func (versionCmd) Run(p *Program) error {
	_, err := fmt.Fprintf(p.Stdout, "bluepoint %s %s\n", resolveVersion(p.Version, readBuildInfo()), runtime.Version())
	if err != nil {
		return fmt.Errorf("print version: %w", err)
	}
	return nil
}

func readBuildInfo() *debug.BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return info
}

// resolveVersion returns the link-time version if set, else the VCS revision
// recorded in the build (marked "-dirty" for uncommitted changes), else the
// module version, else "devel".
func resolveVersion(linked string, info *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if info == nil {
		return "devel"
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision != "" {
		if modified == "true" {
			revision += "-dirty"
		}
		return revision
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "devel"
}
