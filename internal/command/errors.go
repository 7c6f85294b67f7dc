package command

import "fmt"

// IdempotencyMismatchError says that an idempotency key was already used for
// a different request (another fingerprint). The client reused a key by
// mistake; nothing was done, and the edge should answer with a client error
// rather than the stored result of someone else's request.
type IdempotencyMismatchError struct {
	Key     string
	Command string
}

func (e *IdempotencyMismatchError) Error() string {
	return fmt.Sprintf("%s: idempotency key %q was already used for a different request", e.Command, e.Key)
}
