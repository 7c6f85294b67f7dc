package service

import (
	"context"
	"fmt"
	"sort"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// GrantBonus credits bonus points to an account: what an automation does
// when a rule of the platform rewards an event (for example a family's
// first donation). Only staff and automations (which act as staff) may.
func (s *Service) GrantBonus(ctx context.Context, call Call, accountID string, points int64, reason string) (*command.Outcome, error) {
	if !call.Actor.IsStaff() {
		return nil, domain.Forbidden("", "only staff and automations grant bonuses")
	}
	if reason == "" {
		reason = "bonus"
	}
	txID := newID()
	return s.onAccount(ctx, call, "GrantBonus", accountID, func(account.State) any {
		return account.Credit{Points: points, Reason: reason, TxID: txID, At: s.now().UTC()}
	})
}

// commandArgs reads typed arguments of an automation's command.
type commandArgs map[string]any

func (a commandArgs) str(name string) (string, error) {
	v, ok := a[name].(string)
	if !ok || v == "" {
		return "", domain.Invalid("args."+name, "must be a non-empty string")
	}
	return v, nil
}

func (a commandArgs) int(name string) (int64, error) {
	switch v := a[name].(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case float64:
		if v == float64(int64(v)) {
			return int64(v), nil
		}
	case uint64:
		return int64(v), nil
	}
	return 0, domain.Invalid("args."+name, "must be a whole number")
}

// automationCommands are the commands an automation may run, by name.
var automationCommands = map[string]func(s *Service, ctx context.Context, call Call, args commandArgs) (*command.Outcome, error){
	"GrantBonus": func(s *Service, ctx context.Context, call Call, args commandArgs) (*command.Outcome, error) {
		id, err := args.str("account")
		if err != nil {
			return nil, err
		}
		points, err := args.int("points")
		if err != nil {
			return nil, err
		}
		reason, _ := args["reason"].(string)
		return s.GrantBonus(ctx, call, id, points, reason)
	},
}

// CommandNames lists the commands automations may run.
func CommandNames() []string {
	names := make([]string, 0, len(automationCommands))
	for n := range automationCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RunCommand runs a named command for an automation.
func (s *Service) RunCommand(ctx context.Context, call Call, name string, args map[string]any) (*command.Outcome, error) {
	run, ok := automationCommands[name]
	if !ok {
		return nil, fmt.Errorf("unknown command %q; automations may run %v", name, CommandNames())
	}
	return run(s, ctx, call, args)
}
