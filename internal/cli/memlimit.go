package cli

import (
	"fmt"
	"math"
	"runtime/debug"

	"github.com/dustin/go-humanize"
)

// defaultMemoryLimit is serve's soft limit on the Go runtime's memory. Under
// sustained sign-ups the heap is mostly garbage: each argon2id hash
// allocates its 19 MiB afresh, and the embedded NATS server holds 8 MB
// buffers for its busiest blocks. With the collector's default pacing alone
// the embedded default's resident set reached 241-265 MB in a minute of
// workload 1 at 16 clients, past the 250 MB it is held to; with this limit
// it stayed at 216-218 MB for the same CPU a command. The live heap under
// that load is some 50-60 MB, so the limit leaves it twice that and costs
// nothing at rest; the rest of the resident set is the binary's mapped
// pages and SQLite's page caches, which the limit does not count.
const defaultMemoryLimit = "128MiB"

// minMemoryLimit is the least limit taken: serve's heap at rest is about
// half of it, and a limit below the live heap only makes the collector run
// without end.
const minMemoryLimit = 64 << 20

// setMemoryLimit sets the runtime's soft memory limit to size ("128MiB",
// "1GB"; "0" for none) and returns the limit in force. GOMEMLIMIT, which
// the runtime has already read, wins when set: it is the operator's own.
func setMemoryLimit(size, env string) (int64, error) {
	if env != "" {
		return debug.SetMemoryLimit(-1), nil
	}
	n, err := humanize.ParseBytes(size)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: want one such as 128MiB or 1GB, or 0 for none", size)
	}
	if n > 0 && n < minMemoryLimit {
		return 0, fmt.Errorf("%q is less than the least limit, 64MiB (or 0 for none)", size)
	}
	limit := int64(math.MaxInt64) // the runtime's "no limit"
	if n > 0 && n < math.MaxInt64 {
		limit = int64(n)
	}
	debug.SetMemoryLimit(limit)
	return limit, nil
}
