package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
)

func TestErrorMessage(t *testing.T) {
	tests := map[string]struct {
		err  *domain.Error
		want string
	}{
		"with field":    {domain.Invalid("email", "%q is not an address", "x"), `email: "x" is not an address (invalid)`},
		"without field": {domain.AccountClosed("account is closed"), "account is closed (account_closed)"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorAsAndIs(t *testing.T) {
	err := fmt.Errorf("open account: %w", domain.Conflict("id", "already open"))

	de := domain.As(err)
	if de == nil || de.Code != domain.CodeConflict || de.Field != "id" {
		t.Fatalf("As = %#v, want the conflict on id", de)
	}
	if !errors.Is(err, &domain.Error{Code: domain.CodeConflict}) {
		t.Error("errors.Is by code = false, want true")
	}
	if !errors.Is(err, &domain.Error{Code: domain.CodeConflict, Field: "id"}) {
		t.Error("errors.Is by code and field = false, want true")
	}
	if errors.Is(err, &domain.Error{Code: domain.CodeConflict, Field: "email"}) {
		t.Error("errors.Is with another field = true, want false")
	}
	if errors.Is(err, &domain.Error{Code: domain.CodeInvalid}) {
		t.Error("errors.Is with another code = true, want false")
	}
	if domain.As(errors.New("disk full")) != nil || domain.As(nil) != nil {
		t.Error("As of a non-domain error is not nil")
	}
}
