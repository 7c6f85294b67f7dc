// Package command runs Bluepoint's commands: the write side of the system.
//
// A command goes through one pipeline, whatever it does:
//
//  1. idempotency: a key seen before returns the stored result (trace
//     "duplicate"); the same key with a different request is refused;
//  2. load: the handler rehydrates the aggregates it needs from their
//     streams (Load), decides with a pure function and emits events (Emit);
//  3. append: events, expected versions of every stream it read, the
//     idempotency record and the trace step go to the store in ONE
//     transaction, so either all of it is recorded or none of it;
//  4. retry: when another command changed one of those streams first, the
//     whole command runs again on fresh state, a bounded number of times.
//
// The transaction boundary stays inside the store: a handler never sees a
// transaction, it only loads and emits. That is why a Handle function may run
// more than once and must not have side effects of its own.
package command
