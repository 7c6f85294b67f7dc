// Command bluepoint is the whole Bluepoint backend in one binary: the HTTP
// server, its event store and the tools to run them. See internal/cli for the
// commands and their flags.
package main

import (
	"os"

	"github.com/bluepoint/bluepoint/internal/cli"
)

// version is the release version, set at link time with
// -ldflags "-X main.version=v1.2.3". It is a variable only because the linker
// can set nothing else; unset, the build's VCS revision is reported.
var version string

func main() {
	os.Exit(cli.Program{Version: version, Stdout: os.Stdout, Stderr: os.Stderr}.Main(os.Args[1:]))
}
