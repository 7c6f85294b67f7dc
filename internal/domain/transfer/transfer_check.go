package transfer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// Limits on input. Transfers are capped like prices, so that a typo of
// three extra zeros is caught and sums stay far from overflow.
const (
	maxNote   = 280
	maxPoints = 1_000_000
)

// id and at are the domain's shared checks (see package domain).
func id(field, v string) error { return domain.ID(field, v) }

// note trims an optional free text of at most maxNote characters.
func note(field, v string) (string, error) { return domain.Text(field, v, 0, maxNote) }

// amount checks the points a command moves.
func amount(field string, n int64) error {
	if n < 1 || n > maxPoints {
		return domain.Invalid(field, "must be between 1 and %d points, not %d", maxPoints, n)
	}
	return nil
}

func at(t time.Time) error { return domain.At(t) }

// party checks that the account the handler loaded for field (whose id the
// command gives as want) exists, is of one of kinds (any kind when none),
// and may transact. A state of another account is the handler's mistake,
// not the client's, and returns a plain error.
func party(field, want string, s account.State, kinds ...account.Kind) error {
	if !s.Exists() {
		return domain.NotFound(field, "no account %q", want)
	}
	if s.ID != want {
		return fmt.Errorf("transfer: the state of account %q was given for %s %q", s.ID, field, want)
	}
	if len(kinds) > 0 && !slices.Contains(kinds, s.Kind) {
		return domain.Invalid(field, "must be a %s account, not a %s account", or(kinds), s.Kind)
	}
	switch s.Status {
	case account.Closed:
		return domain.New(domain.CodeAccountClosed, field, "the account is closed; it can neither earn nor spend points")
	case account.Pending:
		return domain.New(domain.CodeAccountPending, field, "the account waits for verification by staff; it cannot transact yet")
	}
	return nil
}

// or renders kinds as "charity or family".
func or(kinds []account.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, " or ")
}

// price checks the rules' verdict and returns the points each of parties
// earns, in order.
func price(p Pricing, parties ...string) ([]int64, error) {
	if p.RuleVersion < 1 {
		return nil, domain.Invalid("pricing.rule_version", "must be at least 1, not %d", p.RuleVersion)
	}
	if !p.Allowed {
		reason := strings.TrimSpace(p.Reason)
		if reason == "" {
			reason = "no reason given"
		}
		return nil, domain.New(CodeRuleRefused, "", "the business rules (version %d) refuse this transaction: %s", p.RuleVersion, reason)
	}
	awards := make([]int64, len(parties))
	for i, name := range parties {
		n := p.Points[name]
		if n < 0 || n > maxPoints {
			return nil, domain.Invalid("pricing.points."+name, "must be between 0 and %d points, not %d", maxPoints, n)
		}
		awards[i] = n
	}
	return awards, nil
}

// side is one account of a transaction: its state as the entries decided so
// far leave it, and those entries. Deciding each entry on the state the
// previous one left means a debit and a bonus on one account are checked
// together, exactly as two commands in a row would be.
type side struct {
	field  string
	state  account.State
	events []any
}

// apply decides an account.Credit or account.Debit on the side. A refusal
// is relabelled to name the transaction's own fields: the party's field
// when the account refuses as a whole, and pointsField for the points.
func (s *side) apply(cmd any, pointsField string) error {
	events, err := account.Decide(s.state, cmd)
	if err != nil {
		return relabel(err, map[string]string{"": s.field, "points": pointsField})
	}
	for _, e := range events {
		s.state = account.Evolve(s.state, e)
	}
	s.events = append(s.events, events...)
	return nil
}

// credit credits points when there are any (a party the rules award
// nothing gets no entry); pointsField names the input the points come from.
func (s *side) credit(points int64, pointsField, reason, txID string, when time.Time) error {
	if points == 0 {
		return nil
	}
	return s.apply(account.Credit{Points: points, Reason: reason, TxID: txID, At: when}, pointsField)
}

// debit debits points; pointsField names the input the points come from.
func (s *side) debit(points int64, pointsField, reason, txID string, when time.Time) error {
	return s.apply(account.Debit{Points: points, Reason: reason, TxID: txID, At: when}, pointsField)
}

// append returns the side's stream and entries for an Outcome.
func (s *side) append() StreamEvents {
	return StreamEvents{StreamID: accountStreamID(s.state.ID), Events: s.events}
}

// relabel returns err with its domain.Error field renamed by fields, so
// that a rejection names the transaction's input, not the ledger's. Other
// errors pass unchanged.
func relabel(err error, fields map[string]string) error {
	de := domain.As(err)
	if de == nil {
		return err
	}
	out := *de
	if f, ok := fields[de.Field]; ok {
		out.Field = f
	}
	return &out
}
