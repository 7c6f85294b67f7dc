// Package domain holds what every aggregate of Bluepoint shares: the typed
// error a rejected command returns.
//
// The domain packages (internal/domain/...) are pure: an aggregate is a
// Decide function (state + command -> events or an error) and an Evolve
// function (state + event -> state). They import the standard library only,
// never storage, transport or the command pipeline, so that the business
// rules can be read, tested and changed without any infrastructure, and so
// that the infrastructure can change without touching a rule.
package domain
